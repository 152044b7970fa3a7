using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace KernelGen.IO;

/// <summary>
/// Reads and writes NumPy's <c>.npy</c> files (<c>numpy.save</c> / <c>numpy.load</c>) of floating-point arrays, the format
/// people keep test vectors in.
/// </summary>
/// <remarks>
/// <para>The format: the magic <c>\x93NUMPY</c>, a version (1.0, 2.0 or 3.0), a little-endian header length (2 bytes in
/// version 1, 4 after), a header that is a Python dict literal such as
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c>, then the elements.</para>
/// <para><see cref="ReadSingle(string, out int[])"/> reads float16, float32 and float64 (<c>f2</c>, <c>f4</c>, <c>f8</c>) in
/// either byte order (<c>&lt;</c> little, <c>&gt;</c> big, <c>=</c> or <c>|</c> the reading machine's, as NumPy reads them)
/// and converts them to <see cref="float"/>. Arrays in Fortran (column-major) order, other element types and structured
/// arrays are rejected with an <see cref="InvalidDataException"/> that says why. Bytes after the array are ignored, as
/// NumPy ignores them (several arrays may be saved one after another into one file).</para>
/// <para><see cref="Write(string, ReadOnlySpan{float}, int[])"/> writes what <c>numpy.save</c> writes for a C-order
/// float32 array, byte for byte: version 1.0, <c>'&lt;f4'</c>, the header padded with spaces so that the data starts at
/// a multiple of 64 bytes.</para>
/// </remarks>
public static class NpyFile
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Arrays are aligned to this many bytes from the start of the file (NumPy's <c>ARRAY_ALIGN</c>).</summary>
    private const int ArrayAlign = 64;

    /// <summary>NumPy leaves room for the first dimension to grow to this many digits (<c>GROWTH_AXIS_MAX_DIGITS</c>).</summary>
    private const int GrowthAxisMaxDigits = 21;

    /// <summary>Headers longer than this are refused: NumPy's own reader refuses more than 10,000 bytes by default.</summary>
    private const int MaxHeaderLength = 1 << 20;

    /// <summary>Reads a <c>.npy</c> file of float16, float32 or float64 values in C order as <see cref="float"/>.</summary>
    /// <param name="path">The file's path.</param>
    /// <param name="shape">The array's shape (empty for a 0-d array, which has one value).</param>
    /// <returns>The values in C (row-major) order.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a <c>.npy</c> file this reader takes (not one at all, a
    /// version other than 1.0, 2.0 or 3.0, Fortran order, an element type other than f2/f4/f8, a malformed header, or
    /// fewer data bytes than the shape needs); the message names the file and the reason.</exception>
    public static float[] ReadSingle(string path, out int[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        return Read(stream, $"'{path}'", out shape);
    }

    /// <summary>Reads a <c>.npy</c> array of float16, float32 or float64 values in C order from <paramref name="stream"/>,
    /// which is left just after the array.</summary>
    /// <param name="stream">A readable stream at the start of the array's magic.</param>
    /// <param name="shape">The array's shape (empty for a 0-d array, which has one value).</param>
    /// <returns>The values in C (row-major) order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="InvalidDataException">The stream does not hold a <c>.npy</c> array this reader takes; see
    /// <see cref="ReadSingle(string, out int[])"/>.</exception>
    public static float[] ReadSingle(Stream stream, out int[] shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Read(stream, "the stream", out shape);
    }

    /// <summary>
    /// Writes <paramref name="data"/> as a C-order float32 <c>.npy</c> file of shape <paramref name="shape"/>, as
    /// <c>numpy.save</c> does (replacing any file at <paramref name="path"/>).
    /// </summary>
    /// <param name="path">The file's path.</param>
    /// <param name="data">The values in C (row-major) order.</param>
    /// <param name="shape">The shape: each dimension 0 or more, their product (1 for an empty shape, a 0-d array) equal to
    /// the length of <paramref name="data"/>.</param>
    /// <exception cref="ArgumentException">A parameter breaks a rule (checked before the file is created); the message names
    /// the parameter, its value and the rule.</exception>
    public static void Write(string path, ReadOnlySpan<float> data, int[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] header = CreateHeader(data.Length, shape);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1);
        WriteArray(stream, header, data);
    }

    /// <summary>Writes <paramref name="data"/> as a C-order float32 <c>.npy</c> array to <paramref name="stream"/>, as
    /// <c>numpy.save</c> does.</summary>
    /// <param name="stream">A writable stream.</param>
    /// <param name="data">The values in C (row-major) order.</param>
    /// <param name="shape">The shape; see <see cref="Write(string, ReadOnlySpan{float}, int[])"/>.</param>
    /// <exception cref="ArgumentException">A parameter breaks a rule (checked before anything is written).</exception>
    public static void Write(Stream stream, ReadOnlySpan<float> data, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] header = CreateHeader(data.Length, shape);
        WriteArray(stream, header, data);
    }

    private static byte[] CreateHeader(int dataLength, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long product = 1;
        for (int axis = 0; axis < shape.Length; axis++)
        {
            if (shape[axis] < 0)
                throw new ArgumentException($"shape[{axis}] is {shape[axis]}, but every dimension must be 0 or more.", nameof(shape));
            // Capped past any span's length, so that the product never overflows and still differs from data.Length.
            product = Math.Min(product * shape[axis], (long)int.MaxValue + 1);
        }
        if (product != dataLength)
            throw new ArgumentException(
                $"shape [{string.Join(", ", shape)}] has {(product > int.MaxValue ? $"more than {int.MaxValue}" : product.ToString(CultureInfo.InvariantCulture))} elements, but data has {dataLength} values: the product of the dimensions must equal the length of data.",
                nameof(shape));

        // Exactly numpy.lib.format._write_array_header: the dict's repr with sorted keys, room for the first dimension to
        // grow, then spaces and a newline up to the next multiple of 64 (a full 64 when already there).
        var text = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': (");
        text.AppendJoin(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        text.Append(shape.Length == 1 ? ",), }" : "), }");
        if (shape.Length > 0)
            text.Append(' ', GrowthAxisMaxDigits - shape[0].ToString(CultureInfo.InvariantCulture).Length);

        int headerLength = text.Length + 1; // with the newline
        bool version1 = true;
        int prefixLength = Magic.Length + 2 + 2;
        int padding = ArrayAlign - (prefixLength + headerLength) % ArrayAlign;
        if (headerLength + padding > ushort.MaxValue)
        {
            version1 = false; // as NumPy: version 2.0 only when the header does not fit version 1.0's 2-byte length
            prefixLength = Magic.Length + 2 + 4;
            padding = ArrayAlign - (prefixLength + headerLength) % ArrayAlign;
        }
        text.Append(' ', padding).Append('\n');

        var bytes = new byte[prefixLength + text.Length];
        Magic.CopyTo(bytes);
        bytes[6] = version1 ? (byte)1 : (byte)2;
        bytes[7] = 0;
        if (version1)
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)text.Length);
        else
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)text.Length);
        Encoding.Latin1.GetBytes(text.ToString(), bytes.AsSpan(prefixLength));
        return bytes;
    }

    private static void WriteArray(Stream stream, byte[] header, ReadOnlySpan<float> data)
    {
        stream.Write(header);
        if (BitConverter.IsLittleEndian)
        {
            const int floatsPerWrite = 1 << 28; // a span of bytes holds at most 2^31 - 1
            for (int i = 0; i < data.Length; i += floatsPerWrite)
                stream.Write(MemoryMarshal.AsBytes(data.Slice(i, Math.Min(floatsPerWrite, data.Length - i))));
            return;
        }

        Span<byte> buffer = stackalloc byte[8192];
        for (int i = 0; i < data.Length; i += buffer.Length / 4)
        {
            int count = Math.Min(buffer.Length / 4, data.Length - i);
            for (int j = 0; j < count; j++)
                BinaryPrimitives.WriteSingleLittleEndian(buffer[(4 * j)..], data[i + j]);
            stream.Write(buffer[..(4 * count)]);
        }
    }

    private static float[] Read(Stream stream, string source, out int[] shape)
    {
        Span<byte> prefix = stackalloc byte[12];
        ReadExactly(stream, prefix[..8], source, "the magic and version");
        if (!prefix[..6].SequenceEqual(Magic))
            throw Invalid(source, "it does not start with the magic \\x93NUMPY of a .npy file.");
        int major = prefix[6], minor = prefix[7];
        if (major is < 1 or > 3 || minor != 0)
            throw Invalid(source, $"it is format version {major}.{minor}; this reader takes versions 1.0, 2.0 and 3.0.");

        long headerLength;
        if (major == 1)
        {
            ReadExactly(stream, prefix.Slice(8, 2), source, "the header length");
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]);
        }
        else
        {
            ReadExactly(stream, prefix.Slice(8, 4), source, "the header length");
            headerLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        }
        if (headerLength > MaxHeaderLength)
            throw Invalid(source, $"its header length is {headerLength} bytes, more than this reader's limit of {MaxHeaderLength}.");

        var headerBytes = new byte[headerLength];
        ReadExactly(stream, headerBytes, source, "the header");
        string header;
        try
        {
            // Versions 1 and 2 are Latin-1, version 3 UTF-8 (for field names of structured types, which are refused anyway).
            header = major == 3 ? new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        }
        catch (DecoderFallbackException)
        {
            throw Invalid(source, "its version 3.0 header is not valid UTF-8.");
        }

        var (descr, fortranOrder, dimensions) = new HeaderParser(header, source).ParseDictionary();
        var (elementSize, bigEndian) = ParseDescr(descr, source);
        if (fortranOrder && dimensions.Length > 0)
            throw Invalid(source,
                $"its array (shape ({string.Join(", ", dimensions)})) is in Fortran (column-major) order; this reader takes only C (row-major) order: save numpy.ascontiguousarray(a) instead.");

        long count = 1;
        foreach (long dimension in dimensions)
        {
            if (dimension > int.MaxValue)
                throw Invalid(source, $"its shape ({string.Join(", ", dimensions)}) has a dimension of more than {int.MaxValue}.");
            count = Math.Min(count * dimension, (long)Array.MaxLength + 1); // capped: no overflow, still too many
        }
        if (count > Array.MaxLength)
            throw Invalid(source, $"its shape ({string.Join(", ", dimensions)}) has more elements than a float[] holds ({Array.MaxLength}).");

        var values = new float[count];
        ReadValues(stream, values, elementSize, bigEndian, source);
        shape = dimensions.Select(d => (int)d).ToArray();
        return values;
    }

    private static (int ElementSize, bool BigEndian) ParseDescr(string descr, string source)
    {
        ReadOnlySpan<char> type = descr;
        bool bigEndian = !BitConverter.IsLittleEndian; // '=', '|' and no order: the reading machine's, as numpy.dtype reads them
        if (type.Length > 0 && type[0] is '<' or '>' or '=' or '|')
        {
            if (type[0] == '<')
                bigEndian = false;
            else if (type[0] == '>')
                bigEndian = true;
            type = type[1..];
        }
        int size = type switch
        {
            "f2" => 2,
            "f4" => 4,
            "f8" => 8,
            _ => 0,
        };
        if (size == 0)
            throw Invalid(source, $"its element type is '{descr}'; this reader takes float16, float32 and float64 ('<f2', '<f4', '<f8', either byte order).");
        return (size, bigEndian);
    }

    private static void ReadValues(Stream stream, Span<float> values, int elementSize, bool bigEndian, string source)
    {
        if (elementSize == 4 && bigEndian != BitConverter.IsLittleEndian)
        {
            const int floatsPerRead = 1 << 28;
            for (int i = 0; i < values.Length; i += floatsPerRead)
                ReadData(stream, MemoryMarshal.AsBytes(values.Slice(i, Math.Min(floatsPerRead, values.Length - i))), source, 4L * i, 4L * values.Length);
            return;
        }

        Span<byte> buffer = stackalloc byte[8192];
        int perRead = buffer.Length / elementSize;
        for (int i = 0; i < values.Length; i += perRead)
        {
            int count = Math.Min(perRead, values.Length - i);
            Span<byte> bytes = buffer[..(count * elementSize)];
            ReadData(stream, bytes, source, (long)i * elementSize, (long)values.Length * elementSize);
            Span<float> part = values.Slice(i, count);
            for (int j = 0; j < count; j++)
            {
                ReadOnlySpan<byte> element = bytes[(j * elementSize)..];
                part[j] = (elementSize, bigEndian) switch
                {
                    (2, false) => (float)BinaryPrimitives.ReadHalfLittleEndian(element),
                    (2, true) => (float)BinaryPrimitives.ReadHalfBigEndian(element),
                    (4, false) => BinaryPrimitives.ReadSingleLittleEndian(element),
                    (4, true) => BinaryPrimitives.ReadSingleBigEndian(element),
                    (_, false) => (float)BinaryPrimitives.ReadDoubleLittleEndian(element),
                    (_, true) => (float)BinaryPrimitives.ReadDoubleBigEndian(element),
                };
            }
        }
    }

    private static void ReadData(Stream stream, Span<byte> destination, string source, long offset, long total)
    {
        int read = stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        if (read < destination.Length)
            throw Invalid(source, $"it ends after {offset + read} of the {total} data bytes its header's shape and type need.");
    }

    private static void ReadExactly(Stream stream, Span<byte> destination, string source, string what)
    {
        if (stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false) < destination.Length)
            throw Invalid(source, $"it ends inside {what}.");
    }

    private static InvalidDataException Invalid(string source, string reason) => new($"Cannot read {source} as a .npy array: {reason}");

    /// <summary>
    /// The header dict as NumPy writes it (and its <c>ast.literal_eval</c> reads it): string keys, values that are strings,
    /// <c>True</c>/<c>False</c> or tuples of integers, whitespace anywhere between tokens, trailing commas allowed.
    /// </summary>
    private sealed class HeaderParser(string text, string source)
    {
        private int _position;

        public (string Descr, bool FortranOrder, long[] Shape) ParseDictionary()
        {
            string? descr = null;
            bool? fortranOrder = null;
            long[]? shape = null;
            Expect('{');
            while (true)
            {
                SkipWhitespace();
                if (TryTake('}'))
                    break;
                string key = ParseString();
                Expect(':');
                SkipWhitespace();
                switch (key)
                {
                    case "descr" when descr is null:
                        if (Peek() is '[')
                            throw Fail("its element type is a structured dtype (a list of fields); this reader takes float16, float32 and float64 arrays.");
                        descr = ParseString();
                        break;
                    case "fortran_order" when fortranOrder is null:
                        fortranOrder = ParseBoolean();
                        break;
                    case "shape" when shape is null:
                        shape = ParseShape();
                        break;
                    default:
                        throw Fail(key is "descr" or "fortran_order" or "shape"
                            ? $"its header has the key '{key}' twice."
                            : $"its header has the key '{key}'; a .npy header has exactly 'descr', 'fortran_order' and 'shape'.");
                }
                SkipWhitespace();
                if (TryTake('}'))
                    break;
                Expect(',');
            }
            SkipWhitespace();
            if (_position != text.Length)
                throw Fail($"its header has '{text[_position]}' after the dict's closing brace.");
            if (descr is null || fortranOrder is null || shape is null)
                throw Fail($"its header lacks '{(descr is null ? "descr" : fortranOrder is null ? "fortran_order" : "shape")}'; a .npy header has exactly 'descr', 'fortran_order' and 'shape'.");
            return (descr, fortranOrder.Value, shape);
        }

        private string ParseString()
        {
            SkipWhitespace();
            char quote = Peek();
            if (quote is not ('\'' or '"'))
                throw Fail($"its header has {Describe()} where a quoted string belongs.");
            int end = text.IndexOf(quote, _position + 1);
            if (end < 0)
                throw Fail("its header has a string without its closing quote.");
            string value = text.Substring(_position + 1, end - _position - 1);
            _position = end + 1;
            return value;
        }

        private bool ParseBoolean()
        {
            if (TryTakeWord("True"))
                return true;
            if (TryTakeWord("False"))
                return false;
            throw Fail($"its header's 'fortran_order' is {Describe()}, not True or False.");
        }

        private long[] ParseShape()
        {
            Expect('(');
            var dimensions = new List<long>();
            while (true)
            {
                SkipWhitespace();
                if (TryTake(')'))
                    break;
                dimensions.Add(ParseDimension(dimensions.Count));
                SkipWhitespace();
                if (TryTake(')'))
                    break;
                Expect(',');
            }
            return [.. dimensions];
        }

        private long ParseDimension(int axis)
        {
            int start = _position;
            while (_position < text.Length && char.IsAsciiDigit(text[_position]))
                _position++;
            if (_position == start)
                throw Fail($"its header's shape has {Describe()} at axis {axis}, where a dimension (an integer 0 or more) belongs.");
            if (!long.TryParse(text.AsSpan(start, _position - start), NumberStyles.None, CultureInfo.InvariantCulture, out long value))
                throw Fail($"its header's shape has dimension {text[start.._position]} at axis {axis}, too large.");
            if (_position < text.Length && text[_position] is 'L' or 'l') // Python 2's long literals
                _position++;
            return value;
        }

        private bool TryTakeWord(string word)
        {
            if (string.CompareOrdinal(text, _position, word, 0, word.Length) != 0)
                return false;
            _position += word.Length;
            return true;
        }

        private bool TryTake(char c)
        {
            if (_position < text.Length && text[_position] == c)
            {
                _position++;
                return true;
            }
            return false;
        }

        private void Expect(char c)
        {
            SkipWhitespace();
            if (!TryTake(c))
                throw Fail($"its header has {Describe()} where '{c}' belongs.");
        }

        private char Peek() => _position < text.Length ? text[_position] : '\0';

        private string Describe() => _position < text.Length ? $"'{text[_position]}' (at {_position})" : "its end";

        private void SkipWhitespace()
        {
            while (_position < text.Length && char.IsWhiteSpace(text[_position]))
                _position++;
        }

        private InvalidDataException Fail(string reason) => Invalid(source, reason + $" The header: {text.TrimEnd()}");
    }
}
