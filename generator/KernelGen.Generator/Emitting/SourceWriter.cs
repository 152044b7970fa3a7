using System;
using System.Text;

namespace KernelGen.Generator.Emitting
{
    /// <summary>Writes indented C# with '\n' line endings whatever the platform, so the output is byte-for-byte deterministic.</summary>
    internal sealed class SourceWriter
    {
        private readonly StringBuilder _text = new();
        private int _indent;

        public void Line(string text)
        {
            if (text.Length > 0) _text.Append(' ', _indent * 4).Append(text);
            _text.Append('\n');
        }

        public void Line() => _text.Append('\n');

        /// <summary>Writes text of several lines (from another writer) at this writer's indentation.</summary>
        public void Lines(string text)
        {
            string[] lines = text.Split('\n');
            int count = lines.Length > 0 && lines[lines.Length - 1].Length == 0 ? lines.Length - 1 : lines.Length;
            for (int i = 0; i < count; i++) Line(lines[i]);
        }

        public void Open(string header)
        {
            Line(header);
            Open();
        }

        public void Open()
        {
            Line("{");
            _indent++;
        }

        public void Close(string suffix = "")
        {
            _indent = Math.Max(0, _indent - 1);
            Line("}" + suffix);
        }

        public override string ToString() => _text.ToString();
    }
}
