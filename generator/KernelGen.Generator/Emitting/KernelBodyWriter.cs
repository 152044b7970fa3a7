using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using KernelGen.Generator.Model;
using KernelGen.Generator.Strategy;
using KernelGen.Planning;

namespace KernelGen.Generator.Emitting
{
    /// <summary>
    /// Writes the body of one path (one vector width) of a kernel for one sample, or, without a writer, counts the
    /// statements it would write (declarations, loads, multiply-adds, stores: the lines that make the source and the IL grow). Both walk the same code, so the unroll budget is measured exactly; uniform
    /// ranges (interior rows, blocks, channels) are counted by multiplication rather than visited, so counting is cheap even
    /// for shapes far too large to unroll.
    /// </summary>
    /// <remarks>
    /// Index arithmetic is <see cref="Affine"/>: with everything unrolled each index is one literal; where loops are kept an
    /// index is a short expression of the loop variables. Loads and stores go through small helpers of the kernel class
    /// (<c>Load256</c>, <c>Store256</c>, <c>MultiplyAdd</c>, ...) that the JIT inlines into single instructions.
    /// </remarks>
    /// <summary>
    /// How a plane computation of a 3-D kernel meets the output slice it adds to. A 3-D output slice is the sum of one 2-D plane
    /// per (input slice, depth tap) pair: the first pair sets the slice (bias plus its sum), later ones add onto the stored
    /// partial sums, and only the last applies the activation. A 1-D or 2-D kernel is one plane that sets and finishes
    /// (<see cref="Complete"/>).
    /// </summary>
    /// <param name="FromOutput">Accumulate onto the output's stored partial sums instead of starting from the bias.</param>
    /// <param name="Final">The sum is complete: apply the activation on the store.</param>
    internal readonly record struct PlaneMode(bool FromOutput, bool Final)
    {
        public static PlaneMode Complete => new(false, true);
    }

    internal sealed partial class KernelBodyWriter
    {
        private readonly KernelSpec _spec;
        private readonly AxisPlan _rows, _columns;
        private readonly KernelStrategy _strategy;
        private readonly UnrollLevel _level;
        private readonly int _lanes;
        private readonly SourceWriter? _writer;
        private readonly SortedSet<string> _helpers;
        private readonly PlaneMode _mode;
        private readonly HashSet<string> _declared = new(StringComparer.Ordinal);
        private long _count, _multiplier = 1;

        /// <summary>Floats of the kernel class's per-thread buffer of packed weights (see <see cref="PackedWeightsFloats"/>); only read when writing.</summary>
        private int _packedWeightsFloats;

        /// <summary>Floats of the kernel class's per-thread copy of a tap tile's weights (see <see cref="TapWeightsFloats"/>); only read when writing.</summary>
        private int _tapWeightsFloats;

        /// <summary>A staged 3-D plane copies its input slice only when its <c>stage</c> argument asks (see <see cref="KernelEmitter.SharesStagedSlices"/>); only read when writing.</summary>
        private bool _stagesOnRequest;

        private KernelBodyWriter(KernelSpec spec, AxisPlan rows, AxisPlan columns, KernelStrategy strategy, UnrollLevel level, int lanes,
            SourceWriter? writer, SortedSet<string> helpers, PlaneMode mode)
        {
            _mode = mode;
            _spec = spec;
            _rows = rows;
            _columns = columns;
            _strategy = strategy;
            _level = level;
            _lanes = lanes;
            _writer = writer;
            _helpers = helpers;
        }

        private bool RollSpatial => _level >= UnrollLevel.SpatialLoops;

        private bool RollChannels => _level >= UnrollLevel.ChannelLoops;

        private bool RollReduction => _level >= UnrollLevel.ReductionLoops;

        /// <summary>Statements (declarations, loads, multiply-adds, stores) one path (or one plane variant of a 3-D kernel's path) would contain.</summary>
        public static long CountStatements(KernelSpec spec, AxisPlan rows, AxisPlan columns, KernelStrategy strategy, UnrollLevel level, int lanes,
            PlaneMode? mode = null)
        {
            var counter = new KernelBodyWriter(spec, rows, columns, strategy, level, lanes, null, new SortedSet<string>(StringComparer.Ordinal), mode ?? PlaneMode.Complete);
            counter.WriteBody();
            return counter._count;
        }

        /// <summary>Writes one path's statements; records the helpers they call in <paramref name="helpers"/>. Returns the statements written.</summary>
        public static long Write(KernelPlan plan, int lanes, SourceWriter writer, SortedSet<string> helpers, PlaneMode? mode = null)
        {
            var body = new KernelBodyWriter(plan.Spec, plan.Rows, plan.Columns, plan.Strategy, plan.Level, lanes, writer, helpers, mode ?? PlaneMode.Complete)
            {
                _packedWeightsFloats = plan.Strategy == KernelStrategy.ChannelVectorized ? PackedWeightsFloats(plan) : 0,
                _tapWeightsFloats = UsesTapVectors(plan.Spec, plan.Strategy) ? TapWeightsFloats(plan.Spec, plan.Level, plan.PathWidths) : 0,
                _stagesOnRequest = plan.Spec.Rank == 3 && KernelEmitter.SharesStagedSlices(plan, lanes),
            };
            body.WriteBody();
            return body._count;
        }

        public static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

        private static long SaturatingMultiply(long a, long b) => b != 0 && a > long.MaxValue / b ? long.MaxValue : a * b;

        private void WriteBody()
        {
            if (_strategy == KernelStrategy.WidthVectorized) WriteWidthVectorized();
            else if (UsesTapVectors(_spec, _strategy)) WriteTapVectorized();
            else WriteChannelVectorized();
        }

        // ----- Loops or unrolled copies -----

        /// <summary>
        /// <paramref name="count"/> iterations of <paramref name="body"/> for <c>first, first + step, ...</c>: a loop over
        /// <paramref name="variable"/> when <paramref name="roll"/> (and there is more than one), else copies with literal indices.
        /// The body must write the same number of statements for every value (true of every range this is used for).
        /// </summary>
        private void Repeat(string variable, int first, int count, int step, bool roll, Action<Affine> body)
        {
            if (count <= 0) return;
            if (roll && count > 1)
            {
                if (_writer is { } w)
                {
                    int end = first + count * step;
                    string increment = step == 1 ? variable + "++" : variable + " += " + Text(step);
                    w.Open("for (int " + variable + " = " + Text(first) + "; " + variable + " < " + Text(end) + "; " + increment + ")");
                    var saved = new HashSet<string>(_declared, StringComparer.Ordinal);
                    body(Affine.Var(variable));
                    _declared.Clear();
                    _declared.UnionWith(saved);
                    w.Close();
                }
                else
                {
                    body(Affine.Var(variable));
                }

                return;
            }

            if (_writer is null)
            {
                long saved = _multiplier;
                _multiplier = SaturatingMultiply(_multiplier, count);
                body(Affine.Of(first));
                _multiplier = saved;
                return;
            }

            for (int i = 0; i < count; i++)
                body(Affine.Of(first + (long)i * step));
        }

        /// <summary>
        /// A loop of <paramref name="count"/> iterations over <paramref name="variable"/> = <paramref name="first"/>, first + step,
        /// ... where <paramref name="first"/> is itself an outer loop's index (one iteration: the body once, at first).
        /// </summary>
        private void RepeatFrom(string variable, Affine first, int count, int step, Action<Affine> body)
        {
            if (count <= 0) return;
            if (count == 1 || _writer is null)
            {
                body(count == 1 ? first : Affine.Var(variable));
                return;
            }

            string increment = step == 1 ? variable + "++" : variable + " += " + Text(step);
            _writer.Open("for (int " + variable + " = " + first + "; " + variable + " < " + (first + (long)count * step) + "; " + increment + ")");
            var saved = new HashSet<string>(_declared, StringComparer.Ordinal);
            body(Affine.Var(variable));
            _declared.Clear();
            _declared.UnionWith(saved);
            _writer.Close();
        }

        // ----- Phases, rows and taps -----

        private readonly struct Tap
        {
            public Tap(int kernelIndex, int offset, bool guarded = false)
            {
                KernelIndex = kernelIndex;
                Offset = offset;
                Guarded = guarded;
            }

            /// <summary>The kernel index (ky or kx).</summary>
            public int KernelIndex { get; }

            /// <summary>The input read is <c>q - Offset</c>.</summary>
            public int Offset { get; }

            /// <summary>In a loop over edge positions: the tap reads a real input cell for some positions only, so it is checked.</summary>
            public bool Guarded { get; }
        }

        private static Tap[] Taps(AxisPhase phase)
        {
            var taps = new Tap[phase.KernelTaps.Length];
            for (int t = 0; t < taps.Length; t++) taps[t] = new Tap(phase.KernelTaps[t], phase.TapOffsets[t]);
            return taps;
        }

        /// <summary>The taps of position <paramref name="q"/> that read a real input cell (on an edge some fall off).</summary>
        private static Tap[] Valid(Tap[] taps, int q, int inputLength)
        {
            var valid = new List<Tap>();
            foreach (var tap in taps)
            {
                int input = q - tap.Offset;
                if (input >= 0 && input < inputLength) valid.Add(tap);
            }

            return valid.ToArray();
        }

        /// <summary>
        /// The taps of positions <c>[first, end)</c> looped over as one range: those valid everywhere as they are, those valid
        /// somewhere guarded by a bounds check, those valid nowhere dropped.
        /// </summary>
        private static Tap[] Guarded(Tap[] taps, int first, int end, int inputLength)
        {
            var result = new List<Tap>();
            foreach (var tap in taps)
            {
                bool everywhere = first - tap.Offset >= 0 && end - 1 - tap.Offset < inputLength;
                bool somewhere = false;
                for (int q = first; q < end && !somewhere; q++)
                    somewhere = q - tap.Offset >= 0 && q - tap.Offset < inputLength;
                if (everywhere) result.Add(tap);
                else if (somewhere) result.Add(new Tap(tap.KernelIndex, tap.Offset, guarded: true));
            }

            return result.ToArray();
        }

        /// <summary>
        /// The edge positions <c>[first, end)</c> of a phase, whose taps partly fall off the input: one by one with their exact
        /// taps when unrolling, else one loop whose partial taps are bounds-checked (edges are a thin share of the work).
        /// </summary>
        private void ForEachEdge(string variable, int first, int end, Tap[] all, int inputLength, Action<Affine, Tap[]> body)
        {
            if (end - first > 1 && RollSpatial)
            {
                var taps = Guarded(all, first, end, inputLength);
                Repeat(variable, first, end - first, 1, roll: true, position => body(position, taps));
                return;
            }

            for (int q = first; q < end; q++)
                body(Affine.Of(q), Valid(all, q, inputLength));
        }

        /// <summary>Writes <paramref name="body"/> under <c>if (condition)</c> when there is one (its locals scoped to that block).</summary>
        private void WithGuard(string? condition, Action body)
        {
            if (condition is null || _writer is null)
            {
                body();
                return;
            }

            _writer.Open("if (" + condition + ")");
            var saved = new HashSet<string>(_declared, StringComparer.Ordinal);
            body();
            _declared.Clear();
            _declared.UnionWith(saved);
            _writer.Close();
        }

        private static string? Guard(Tap tap, Affine position, int inputLength) =>
            tap.Guarded ? "(uint)(" + (position - tap.Offset) + ") < " + Text(inputLength) + "u" : null;

        /// <summary>Every output row of a height phase: edge rows one by one (their own taps), interior rows as one uniform range.</summary>
        private void ForEachRow(AxisPhase phase, Action<Affine, Tap[]> body)
        {
            var all = Taps(phase);
            ForEachEdge("qh", phase.FirstQ, phase.InteriorFirstQ, all, _spec.InputHeight, body);
            Repeat("qh", phase.InteriorFirstQ, phase.InteriorEndQ - phase.InteriorFirstQ, 1, RollSpatial, qh => body(qh, all));
            ForEachEdge("qh", Math.Max(phase.InteriorEndQ, phase.InteriorFirstQ), phase.EndQ, all, _spec.InputHeight, body);
        }

        private Affine OutputRow(AxisPhase phase, Affine qh) => qh * _spec.StrideHeight + (phase.Residue - _spec.PaddingTop);

        private Affine OutputColumn(AxisPhase phase, Affine q) => q * _spec.StrideWidth + (phase.Residue - _spec.PaddingLeft);

        /// <summary>The narrower vector widths used for what is left of a run after whole vectors of <see cref="_lanes"/> (scalars follow).</summary>
        private IEnumerable<int> NarrowerVectorWidths()
        {
            foreach (int width in new[] { 8, 4 })
            {
                if (width < _lanes) yield return width;
            }
        }

        // ----- Memory layout -----

        // A 3-D kernel's plane code reads its slices in place: x, w and y point at the input slice, the depth tap's weights and
        // the output slice, and only the channel strides differ from a 2-D kernel's (NCDHW: a channel holds every slice; the
        // weights of one channel pair hold every depth tap). NDHWC slices are NHWC images as they lie.

        private Affine InputIndex(Affine channel, Affine row, Affine column) => _spec.ChannelsLast
            ? (row * _spec.InputWidth + column) * _spec.InChannels + channel
            : _spec.Rank == 3
                ? channel * ((long)_spec.InputDepth * _spec.InputPlane) + (row * _spec.InputWidth + column)
                : (channel * _spec.InputHeight + row) * _spec.InputWidth + column;

        private Affine OutputIndex(Affine channel, Affine row, Affine column) => _spec.ChannelsLast
            ? (row * _spec.OutputWidth + column) * _spec.OutChannels + channel
            : _spec.Rank == 3
                ? channel * ((long)_spec.OutputDepth * _spec.OutputPlane) + (row * _spec.OutputWidth + column)
                : (channel * _spec.OutputHeight + row) * _spec.OutputWidth + column;

        /// <summary>Elements between consecutive output channels of the output (1 channels-last).</summary>
        private int OutputChannelStep => _spec.ChannelsLast ? 1 : _spec.OutputDepth * _spec.OutputPlane;

        /// <summary>
        /// PyTorch weights <c>(Cin, Cout/groups, [kD,] kH, kW)</c> as the caller passes them (the channel-vectorised path may first
        /// pack a copy), or in a staged 3-D plane the path's repacked copy, <c>[kd][kH][Cin][Cout/groups][kW]</c> from the depth
        /// tap's start (<see cref="PacksStagedWeights"/>).
        /// </summary>
        private Affine WeightIndex(Affine inputChannel, Affine outputChannelInGroup, int ky, int kx) => _spec.Rank == 3 && Staged
            ? ((inputChannel + ky * _spec.InChannels) * _spec.OutPerGroup + outputChannelInGroup) * _spec.KernelWidth + kx
            : _spec.Rank == 3
            ? (inputChannel * _spec.OutPerGroup + outputChannelInGroup) * _spec.KernelVolume + (ky * _spec.KernelWidth + kx)
            : ((inputChannel * _spec.OutPerGroup + outputChannelInGroup) * _spec.KernelHeight + ky) * _spec.KernelWidth + kx;

        /// <summary>Whether the stores apply the activation: the kernel has one and this plane finishes its output slice.</summary>
        private bool Activates => _mode.Final && _spec.Activation != KernelActivation.None;

        /// <summary>The width path adds the stored partial sums at its stores (its accumulators start from zero, not the bias).</summary>
        private bool AddsOnStore => _mode.FromOutput && _strategy == KernelStrategy.WidthVectorized;

        /// <summary>Statements of one store: one, or one per lane when the lanes land apart (plus the activation, computed first).</summary>
        private int StoreStatements(int width, int step) =>
            (AddsOnStore ? 1 : 0) + (width == 1 || step == 1 ? 1 : width + (Activates ? 1 : 0));

        /// <summary>How many copies of the reduction body are written: one when its loop is kept, one per input channel when unrolled.</summary>
        private long ReductionCopies() => RollReduction || _spec.InPerGroup == 1 ? 1 : _spec.InPerGroup;

        private void AddCount(long statements) => _count = SaturatingAdd(_count, SaturatingMultiply(_multiplier, statements));

        private static string Accumulator(int pixel, int vector) => "a" + Text(pixel) + Text(vector);

        // ----- Statements -----
        // Intrinsics are written out in place (through the short aliases of the kernel's namespace), not called through helper
        // methods: the JIT inlines nothing more into a method once it holds about 920 locals and temporaries (0.9 x
        // JitMaxLocalsToTrack, whatever AggressiveInlining says), and an inlined call costs it a temporary or two, so a helper
        // per multiply-add would reach that in a large kernel. The lane shuffles and the scattered stores are the exceptions
        // (far fewer calls, see WriteLaneHelpers and WriteScatterHelpers): their IsSupported checks or per-lane statements in
        // place were much of what the trim analyzer spent on a kernel, and every one of their calls is inlined
        // (docs/build-time.md).

        private static string Suffix(int width) => width switch
        {
            16 => "512",
            8 => "256",
            4 => "128",
            _ => "",
        };

        private string Use(string alias)
        {
            _helpers.Add(alias);
            return alias;
        }

        private string VectorClass(int width) => Use("V" + Suffix(width));

        private string VectorType(int width) => Use("Vec" + Suffix(width));

        private static string Offset(Affine index) => index.IsConstant ? index.ToString() : "(nuint)(" + index + ")";

        private string Element(string source, Affine index) => Use("Unsafe") + ".Add(ref " + source + ", " + index + ")";

        /// <summary>
        /// A call storing each lane of <paramref name="accumulator"/> alone, <paramref name="step"/> elements apart from
        /// <paramref name="index"/> on (see <see cref="WriteScatterHelpers"/>). The budget still counts a statement per
        /// lane: the inlined helper's machine code is the lane stores.
        /// </summary>
        private string ScatterStore(int width, int step, Affine index, string accumulator) =>
            Use(ScatterHelper(width, step)) + "(" + accumulator + ", ref " + (IsZero(index) ? "y" : Element("y", index)) + ");";

        private const string ScatterPrefix = "StoreLanes";

        private static string ScatterHelper(int width, int step) => ScatterPrefix + Suffix(width) + "Every" + Text(step);

        /// <summary>
        /// The scattered stores the paths used, one inlined helper per vector width and distance: the lanes of a sum are
        /// output elements <c>step</c> apart (NCHW channels a plane apart, in channel-vectorised kernels), so each is stored
        /// alone. In the path they were a statement per lane, which the trim analyzer (IsAotCompatible) walks with every
        /// index's arithmetic, sweep after sweep: about half the calls of a large channel-vectorised kernel
        /// (docs/build-time.md). One call per sum here; the JIT inlines it into the same stores.
        /// </summary>
        public static void WriteScatterHelpers(SourceWriter w, SortedSet<string> used)
        {
            bool first = true;
            var names = new List<string>();
            foreach (string name in used)
            {
                if (name.StartsWith(ScatterPrefix, StringComparison.Ordinal)) names.Add(name);
            }

            foreach (string name in names)
            {
                int every = name.IndexOf("Every", StringComparison.Ordinal);
                int step = int.Parse(name.Substring(every + 5), CultureInfo.InvariantCulture);
                int width = name.Substring(ScatterPrefix.Length, every - ScatterPrefix.Length) switch
                {
                    "512" => 16,
                    "256" => 8,
                    _ => 4,
                };
                if (first)
                {
                    w.Line();
                    w.Line("// Scattered stores: a sum's lanes are output elements a fixed distance apart, each stored alone. One call per sum in");
                    w.Line("// the paths rather than a statement per lane, because analysers walk every statement of a method (the trim analyzer");
                    w.Line("// of IsAotCompatible projects spent about a quarter of a large kernel's analysis on them); inlined, the same stores.");
                    first = false;
                }

                string v = "V" + Suffix(width);
                used.Add(v);
                used.Add("Vec" + Suffix(width));
                used.Add("Unsafe");
                w.Line(KernelEmitter.InlinedAndOptimized);
                w.Open("private static void " + name + "(Vec" + Suffix(width) + " v, ref float y)");
                w.Line("y = " + v + ".GetElement(v, 0);");
                for (int k = 1; k < width; k++)
                    w.Line("Unsafe.Add(ref y, " + Text((long)k * step) + ") = " + v + ".GetElement(v, " + Text(k) + ");");
                w.Close();
            }
        }

        /// <summary><paramref name="width"/> elements <paramref name="step"/> apart (one element when scalar).</summary>
        private string Load(int width, string source, Affine index, int step)
        {
            if (width == 1) return Element(source, index);
            if (step == 1) return VectorClass(width) + ".LoadUnsafe(ref " + source + ", " + Offset(index) + ")";
            var lanes = new string[width];
            for (int k = 0; k < width; k++) lanes[k] = Element(source, index + (long)k * step);
            return VectorClass(width) + ".Create(" + string.Join(", ", lanes) + ")";
        }

        private string Broadcast(int width, string source, Affine index) =>
            width == 1 ? Element(source, index) : VectorClass(width) + ".Create(" + Element(source, index) + ")";

        private string Zero(int width) => width == 1 ? "0f" : VectorType(width) + ".Zero";

        private void Declare(string name, string value)
        {
            _count = SaturatingAdd(_count, _multiplier);
            _declared.Add(name);
            _writer?.Line("var " + name + " = " + value + ";");
        }

        /// <summary>
        /// Declares a temporary at the top of a block, without a value: it is assigned inside loops and bounds checks, and C#
        /// forbids declaring it there and again further down the block.
        /// </summary>
        private void Predeclare(string name, int width)
        {
            _count = SaturatingAdd(_count, _multiplier);
            _declared.Add(name);
            _writer?.Line((width == 1 ? "float" : VectorType(width)) + " " + name + ";");
        }

        private void Assign(string name, string value)
        {
            _count = SaturatingAdd(_count, _multiplier);
            if (_declared.Add(name)) _writer?.Line("var " + name + " = " + value + ";");
            else _writer?.Line(name + " = " + value + ";");
        }

        /// <summary><c>accumulator += a * b</c>, fused where the hardware has FMA (the IsSupported checks are JIT-time constants).</summary>
        private void MultiplyAdd(int width, string accumulator, string a, string b)
        {
            _count = SaturatingAdd(_count, _multiplier);
            if (_writer is null) return;
            if (width > 1 && _spec.MultiplyAddEstimate)
            {
                // The same instruction as the conditional below (FMA where supported, else a multiply and an add), without
                // the conditional's branches: the trim analyzer walks every branch of a method's control-flow graph, and
                // a kernel has thousands of multiply-adds (docs/build-time.md).
                _writer.Line(accumulator + " = " + VectorClass(width) + ".MultiplyAddEstimate(" + a + ", " + b + ", " + accumulator + ");");
                return;
            }

            // Operands are simple expressions or, at a vector edge, a conditional: parenthesise those so "a * b + acc" parses as meant.
            string plain = Operand(a) + " * " + Operand(b) + " + " + accumulator;
            string fused = width switch
            {
                1 => "",
                16 => Use("Avx512F") + ".IsSupported ? Avx512F.FusedMultiplyAdd(" + a + ", " + b + ", " + accumulator + ") : " + plain,
                8 => Use("Fma") + ".IsSupported ? Fma.MultiplyAdd(" + a + ", " + b + ", " + accumulator + ") : " + plain,
                _ => Use("Fma") + ".IsSupported ? Fma.MultiplyAdd(" + a + ", " + b + ", " + accumulator + ") : "
                    + Use("AdvSimd") + ".IsSupported ? AdvSimd.FusedMultiplyAdd(" + accumulator + ", " + a + ", " + b + ") : " + plain,
            };
            _writer.Line(width == 1 ? accumulator + " += " + a + " * " + b + ";" : accumulator + " = " + fused + ";");
        }

        private static string Operand(string expression) =>
            expression.IndexOf('?') >= 0 && !IsParenthesised(expression) ? "(" + expression + ")" : expression;

        /// <summary>Whether the whole expression is one parenthesised group (its first '(' closes at its last character).</summary>
        private static bool IsParenthesised(string expression)
        {
            if (expression.Length < 2 || expression[0] != '(') return false;
            int depth = 0;
            for (int i = 0; i < expression.Length; i++)
            {
                if (expression[i] == '(') depth++;
                else if (expression[i] == ')' && --depth == 0) return i == expression.Length - 1;
            }

            return false;
        }

        /// <summary>The fused activation of an accumulator, written in place where it is a vector instruction or two.</summary>
        private string Activated(int width, string value)
        {
            switch (Activates ? _spec.Activation : KernelActivation.None)
            {
                case KernelActivation.None:
                    return value;
                case KernelActivation.Relu:
                    // x < 0 ? 0 : x, as PyTorch: NaN stays NaN (the Max of .NET 8, x86's maxps, would return the 0).
                    return width == 1
                        ? "(" + value + " < 0f ? 0f : " + value + ")"
                        : VectorClass(width) + ".ConditionalSelect(" + VectorClass(width) + ".LessThan(" + value + ", " + Zero(width) + "), " + Zero(width) + ", " + value + ")";
                case KernelActivation.LeakyRelu:
                    string slope = KernelEmitter.FloatLiteral(_spec.LeakyReluSlope);
                    return width == 1
                        ? "(" + value + " >= 0f ? " + value + " : " + value + " * " + slope + ")"
                        : VectorClass(width) + ".ConditionalSelect(" + VectorClass(width) + ".GreaterThanOrEqual(" + value + ", " + Zero(width) + "), "
                            + value + ", " + value + " * " + slope + ")";
                default:
                    // Sigmoid and tanh call MathF.Exp or MathF.Tanh per element anyway (.NET 8 has no vector versions).
                    Use("Activate");
                    if (width > 1) Use("MathF");
                    return width == 1 ? "Activate(" + value + ")" : Use("Activate" + Suffix(width)) + "(" + value + ")";
            }
        }

        /// <summary>Stores an accumulator, the fused activation applied on the way.</summary>
        private void Store(int width, Affine index, int step, string accumulator)
        {
            _count = SaturatingAdd(_count, SaturatingMultiply(_multiplier, StoreStatements(width, step)));
            if (_writer is null) return;
            if (AddsOnStore)
                _writer.Line(accumulator + " = " + accumulator + " + " + Load(width, "y", index, step) + ";");
            string value = Activated(width, accumulator);
            if (width == 1)
            {
                _writer.Line(Element("y", index) + " = " + value + ";");
            }
            else if (step == 1)
            {
                _writer.Line(VectorClass(width) + ".StoreUnsafe(" + value + ", ref y, " + Offset(index) + ");");
            }
            else
            {
                // Lanes land step elements apart: one scalar store per lane (the cost of one store per many FMAs).
                if (value != accumulator) _writer.Line(accumulator + " = " + value + ";");
                _writer.Line(ScatterStore(width, step, index, accumulator));
            }
        }

        // ----- Comments -----

        private static string ChannelRange(Affine first, int count) =>
            count == 1 ? "oc " + first : first.IsConstant ? "oc " + first + "-" + Text(first.Constant + count - 1) : "oc " + first + " (+" + Text(count - 1) + ")";

        private static string Positions(Affine first, int count, int stride) =>
            count == 1 ? first.ToString() : first + " + " + (stride == 1 ? "" : Text(stride) + "*") + "lane (" + Text(count) + " lanes)";

        private static string TapList(string axis, Tap[] taps)
        {
            if (taps.Length == 0) return axis + " {}";
            var text = new StringBuilder(axis).Append(" {");
            for (int t = 0; t < taps.Length; t++)
            {
                if (t > 0) text.Append(", ");
                text.Append(Text(taps[t].KernelIndex));
            }

            return text.Append('}').ToString();
        }

        private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
