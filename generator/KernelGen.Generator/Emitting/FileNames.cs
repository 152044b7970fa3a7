using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Text;
using KernelGen.Generator.Model;

namespace KernelGen.Generator.Emitting
{
    /// <summary>One declaration's generated file name.</summary>
    internal sealed record FileName(string Key, string HintName);

    /// <summary>
    /// Names the generated files. A name must be a valid hint name (a small set of characters) and unique in the
    /// compilation ignoring case (two types may differ only in case, or in characters a hint name cannot hold: <c>Outer_1</c>
    /// and <c>Outer&lt;T&gt;</c>), or <c>AddSource</c> throws and the whole generator's output is lost. Names read as
    /// <c>Namespace.Outer+Inner.Method.g.cs</c>; where two would clash, the later in ordinal order of their keys gets a
    /// suffix <c>_2</c>, <c>_3</c>, ...
    /// </summary>
    internal static class FileNames
    {
        private const string Extension = ".g.cs";

        /// <summary>What identifies a declaration among all of the compilation: its type chain, name and signature.</summary>
        public static string Key(KernelTarget target) => target.FullName + "|" + target.Declaration;

        public static EquatableArray<FileName> Assign(ImmutableArray<string> keys)
        {
            var sorted = new List<string>(keys);
            sorted.Sort(StringComparer.Ordinal);
            var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var names = new List<FileName>(sorted.Count);
            string? previous = null;
            foreach (string key in sorted)
            {
                if (key == previous) continue; // two identical declarations: the compiler reports the duplicate member
                previous = key;
                string stem = Readable(key.Substring(0, key.IndexOf('|')));
                string name = stem;
                for (int suffix = 2; !taken.Add(name); suffix++)
                    name = stem + "_" + suffix.ToString(System.Globalization.CultureInfo.InvariantCulture);
                names.Add(new FileName(key, name + Extension));
            }

            return new EquatableArray<FileName>(names);
        }

        public static string Find(EquatableArray<FileName> names, string key)
        {
            foreach (var name in names)
            {
                if (name.Key == key) return name.HintName;
            }

            throw new InvalidOperationException("No file name was assigned to " + key + ".");
        }

        /// <summary>Letters, digits, '_', '.' and '+' stay; anything else (a generic arity's '`', the '&lt;' of a compiler-named type) becomes '_'.</summary>
        private static string Readable(string fullName)
        {
            var text = new StringBuilder(fullName.Length);
            foreach (char c in fullName)
                text.Append(c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '.' or '+' ? c : '_');
            return text.ToString();
        }
    }
}
