using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace KernelGen.Generator.Emitting
{
    /// <summary>
    /// An integer index <c>constant + Σ coefficient · variable</c> over the loop variables of an emitted kernel. Fully
    /// unrolled code has no variables, so every index prints as one literal; where loops are kept, the index prints as
    /// the fewest terms (<c>qh * 40 + q + 7</c>). Printed with the invariant culture.
    /// </summary>
    internal sealed class Affine
    {
        /// <summary>The loop variables, in the order their terms print (largest strides first, as in the tensor layouts).</summary>
        private static readonly string[] Order = { "g", "ob", "ic", "qh", "q" };

        private readonly KeyValuePair<string, long>[] _terms;

        private Affine(long constant, KeyValuePair<string, long>[] terms)
        {
            Constant = constant;
            _terms = terms;
        }

        public long Constant { get; }

        public bool IsConstant => _terms.Length == 0;

        public static Affine Of(long constant) => new(constant, Array.Empty<KeyValuePair<string, long>>());

        public static Affine Var(string name) => new(0, new[] { new KeyValuePair<string, long>(name, 1) });

        public static Affine operator +(Affine a, long b) => new(a.Constant + b, a._terms);

        public static Affine operator -(Affine a, long b) => new(a.Constant - b, a._terms);

        public static Affine operator *(Affine a, long k)
        {
            if (k == 0) return Of(0);
            var terms = new KeyValuePair<string, long>[a._terms.Length];
            for (int i = 0; i < terms.Length; i++) terms[i] = new KeyValuePair<string, long>(a._terms[i].Key, a._terms[i].Value * k);
            return new Affine(a.Constant * k, terms);
        }

        public static Affine operator +(Affine a, Affine b)
        {
            var sum = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var term in a._terms) sum[term.Key] = term.Value;
            foreach (var term in b._terms) sum[term.Key] = (sum.TryGetValue(term.Key, out long c) ? c : 0) + term.Value;
            var terms = new List<KeyValuePair<string, long>>();
            foreach (var pair in sum)
            {
                if (pair.Value != 0) terms.Add(pair);
            }

            terms.Sort((x, y) => Rank(x.Key) != Rank(y.Key) ? Rank(x.Key).CompareTo(Rank(y.Key)) : string.CompareOrdinal(x.Key, y.Key));
            return new Affine(a.Constant + b.Constant, terms.ToArray());
        }

        private static int Rank(string name)
        {
            int rank = Array.IndexOf(Order, name);
            return rank < 0 ? Order.Length : rank;
        }

        public override string ToString()
        {
            var text = new StringBuilder();
            foreach (var term in _terms)
            {
                long coefficient = term.Value;
                if (text.Length == 0)
                {
                    if (coefficient < 0) text.Append('-');
                }
                else
                {
                    text.Append(coefficient < 0 ? " - " : " + ");
                }

                text.Append(term.Key);
                long magnitude = Math.Abs(coefficient);
                if (magnitude != 1) text.Append(" * ").Append(magnitude.ToString(CultureInfo.InvariantCulture));
            }

            if (text.Length == 0) return Constant.ToString(CultureInfo.InvariantCulture);
            if (Constant > 0) text.Append(" + ").Append(Constant.ToString(CultureInfo.InvariantCulture));
            else if (Constant < 0) text.Append(" - ").Append((-Constant).ToString(CultureInfo.InvariantCulture));
            return text.ToString();
        }
    }
}
