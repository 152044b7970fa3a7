using System.Buffers.Binary;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace KernelGen.IO;

/// <summary>
/// A <c>.safetensors</c> file (the format of <c>safetensors.torch.save_file(model.state_dict(), path)</c>) opened for
/// reading: its tensors' names, element types and shapes, and their values converted to <see cref="float"/>.
/// </summary>
/// <remarks>
/// <para>The format: an 8-byte little-endian header length <c>N</c>, <c>N</c> bytes of JSON that map each tensor name to its
/// <c>dtype</c>, <c>shape</c> and <c>data_offsets</c> (begin and end, relative to the byte after the header; an optional
/// <c>__metadata__</c> maps strings to strings), then the data: every tensor's elements little-endian in C order, the
/// tensors packed without gaps or overlaps.</para>
/// <para><see cref="Open"/> reads and checks only the header; each read then reads only its tensor's bytes (positioned
/// reads, no memory mapping), so getting one tensor out of a large file costs that tensor's size. Reads may run on several
/// threads at once; <see cref="Dispose"/> must not run concurrently with them.</para>
/// <para>A file the format does not allow (a header length past the file, JSON that is not a header, a tensor whose offsets
/// are reversed or outside the data, overlapping tensors, bytes no tensor owns, an unknown dtype, a negative or overflowing
/// dimension, a shape that does not match the byte count, a name given twice) is rejected by <see cref="Open"/> with an
/// <see cref="InvalidDataException"/> naming the file and the tensor.</para>
/// </remarks>
/// <example>
/// <code>
/// using var file = SafeTensorsFile.Open("decoder.safetensors");
/// float[] weights = file.ReadSingle("up1.weight");   // F32, F16, BF16, F64, ... converted
/// int[] shape = file.GetShape("up1.weight");          // e.g. [128, 64, 4, 4]
/// </code>
/// </example>
public sealed class SafeTensorsFile : IDisposable
{
    /// <summary>The reference implementation refuses larger headers; so does this reader (a header is never near that).</summary>
    private const long MaxHeaderLength = 100_000_000;

    private readonly SafeFileHandle _handle;
    private readonly long _dataStart;
    private readonly Dictionary<string, Entry> _entries;
    private bool _disposed;

    private SafeTensorsFile(string path, SafeFileHandle handle)
    {
        Path = path;
        _handle = handle;
        long fileLength = RandomAccess.GetLength(handle);
        if (fileLength < 8)
            throw Malformed($"it has {fileLength} bytes, fewer than the 8 of the header length.");
        Span<byte> lengthBytes = stackalloc byte[8];
        ReadExactly(lengthBytes, 0, "the header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8))
            throw Malformed($"the header length is {headerLength} bytes, past the end of the file ({fileLength - 8} bytes follow the header length).");
        if (headerLength > MaxHeaderLength)
            throw Malformed($"the header length is {headerLength} bytes, more than the format's limit of {MaxHeaderLength}.");
        if (headerLength < 2)
            throw Malformed($"the header length is {headerLength} bytes; the header is a JSON object, at least \"{{}}\".");

        var header = new byte[headerLength];
        ReadExactly(header, 8, "the header");
        _dataStart = 8 + (long)headerLength;
        (_entries, Names, Metadata) = ParseHeader(header, fileLength - _dataStart);
    }

    /// <summary>The path the file was opened with (named in every exception about it).</summary>
    public string Path { get; }

    /// <summary>The tensors' names in ordinal order (as the Python <c>safe_open(...).keys()</c> lists them), without <c>__metadata__</c>.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The header's <c>__metadata__</c> (free-form strings, e.g. <c>{"format": "pt"}</c>); empty if it has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens a <c>.safetensors</c> file and checks its header. Dispose the result to close the file.</summary>
    /// <param name="path">The file's path.</param>
    /// <returns>The open file.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file; the message names the file, the
    /// tensor and what is wrong.</exception>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            return new SafeTensorsFile(path, handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Whether the file has a tensor named <paramref name="name"/>.</summary>
    /// <param name="name">A tensor name, e.g. <c>"up1.weight"</c>.</param>
    public bool Contains(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _entries.ContainsKey(name);
    }

    /// <summary>The element type of tensor <paramref name="name"/> as the file stores it.</summary>
    /// <param name="name">A tensor name.</param>
    /// <exception cref="ArgumentException">The file has no tensor of that name.</exception>
    public SafeTensorsDType GetDType(string name) => Find(name).DType;

    /// <summary>The shape of tensor <paramref name="name"/> (a new array; empty for a scalar).</summary>
    /// <param name="name">A tensor name.</param>
    /// <exception cref="ArgumentException">The file has no tensor of that name.</exception>
    public int[] GetShape(string name) => (int[])Find(name).Shape.Clone();

    /// <summary>The number of elements of tensor <paramref name="name"/>: the product of its shape (1 for a scalar).</summary>
    /// <param name="name">A tensor name.</param>
    /// <exception cref="ArgumentException">The file has no tensor of that name.</exception>
    public long GetElementCount(string name) => Find(name).ElementCount;

    /// <summary>Reads tensor <paramref name="name"/> in C order, converted to <see cref="float"/>.</summary>
    /// <param name="name">A tensor name.</param>
    /// <returns>A new array of <see cref="GetElementCount"/> values.</returns>
    /// <exception cref="ArgumentException">The file has no tensor of that name.</exception>
    /// <exception cref="InvalidOperationException">The tensor has more elements than an array holds.</exception>
    /// <exception cref="InvalidDataException">The file was cut short after it was opened.</exception>
    public float[] ReadSingle(string name)
    {
        Entry entry = Find(name);
        if (entry.ElementCount > Array.MaxLength)
            throw new InvalidOperationException(
                $"Tensor '{name}' of '{Path}' has {entry.ElementCount} elements, more than a float[] holds ({Array.MaxLength}).");
        var values = new float[entry.ElementCount];
        Read(entry, values);
        return values;
    }

    /// <summary>Reads tensor <paramref name="name"/> in C order, converted to <see cref="float"/>, into
    /// <paramref name="destination"/>. Allocates nothing.</summary>
    /// <param name="name">A tensor name.</param>
    /// <param name="destination">Exactly <see cref="GetElementCount"/> values.</param>
    /// <exception cref="ArgumentException">The file has no tensor of that name, or <paramref name="destination"/> has
    /// another length.</exception>
    /// <exception cref="InvalidDataException">The file was cut short after it was opened.</exception>
    public void ReadSingle(string name, Span<float> destination)
    {
        Entry entry = Find(name);
        if (destination.Length != entry.ElementCount)
            throw new ArgumentException(
                $"destination has {destination.Length} values, but tensor '{name}' has {entry.ElementCount} elements (shape [{string.Join(", ", entry.Shape)}]).",
                nameof(destination));
        Read(entry, destination);
    }

    /// <summary>
    /// Reads the batch normalisation PyTorch saves under <paramref name="prefix"/> (<c>BatchNorm1d/2d/3d</c>'s
    /// <c>{prefix}.weight</c>, <c>.bias</c>, <c>.running_mean</c> and <c>.running_var</c>), ready for
    /// <see cref="BatchNormFolding"/>. The epsilon is a constructor argument of the PyTorch layer, not in the file.
    /// </summary>
    /// <param name="prefix">The layer's name in the state dict, e.g. <c>"bn1"</c> or <c>"decoder.3"</c>.</param>
    /// <param name="epsilon">The layer's <c>eps</c> (PyTorch's default: 1e-5).</param>
    /// <exception cref="ArgumentException">A tensor is missing, or the values break a rule of <see cref="BatchNormParameters"/>.</exception>
    public BatchNormParameters ReadBatchNorm(string prefix, float epsilon = 1e-5f)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return new BatchNormParameters(ReadSingle(prefix + ".weight"), ReadSingle(prefix + ".bias"),
            ReadSingle(prefix + ".running_mean"), ReadSingle(prefix + ".running_var"), epsilon);
    }

    /// <summary>Closes the file.</summary>
    public void Dispose()
    {
        _disposed = true;
        _handle.Dispose();
    }

    private Entry Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_entries.TryGetValue(name, out Entry entry))
            throw new ArgumentException($"'{Path}' has no tensor named '{name}' (it has {_entries.Count}: {Preview(Names)}).", nameof(name));
        return entry;
    }

    private void Read(Entry entry, Span<float> destination)
    {
        long start = _dataStart + entry.Begin;
        if (entry.DType == SafeTensorsDType.F32 && BitConverter.IsLittleEndian)
        {
            // The file's bytes are the floats: read them straight into the destination, in pieces a span of bytes can hold.
            const int floatsPerRead = 1 << 28;
            for (int i = 0; i < destination.Length; i += floatsPerRead)
            {
                Span<float> part = destination.Slice(i, Math.Min(floatsPerRead, destination.Length - i));
                ReadExactly(MemoryMarshal.AsBytes(part), start + 4L * i, entry.Name);
            }
            return;
        }

        int size = ElementSize(entry.DType);
        Span<byte> buffer = stackalloc byte[8192];
        int perRead = buffer.Length / size;
        for (int i = 0; i < destination.Length; i += perRead)
        {
            int count = Math.Min(perRead, destination.Length - i);
            Span<byte> bytes = buffer[..(count * size)];
            ReadExactly(bytes, start + (long)i * size, entry.Name);
            Convert(entry.DType, bytes, destination.Slice(i, count));
        }
    }

    private static void Convert(SafeTensorsDType dtype, ReadOnlySpan<byte> bytes, Span<float> values)
    {
        switch (dtype)
        {
            case SafeTensorsDType.F32:
                for (int i = 0; i < values.Length; i++)
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
                break;
            case SafeTensorsDType.F64:
                for (int i = 0; i < values.Length; i++)
                    values[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]);
                break;
            case SafeTensorsDType.F16:
                for (int i = 0; i < values.Length; i++)
                    values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]);
                break;
            case SafeTensorsDType.BF16:
                for (int i = 0; i < values.Length; i++)
                    values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16);
                break;
            case SafeTensorsDType.F8E5M2:
                // The upper byte of an IEEE half: same exponent, two of its mantissa bits.
                for (int i = 0; i < values.Length; i++)
                    values[i] = (float)BitConverter.UInt16BitsToHalf((ushort)(bytes[i] << 8));
                break;
            case SafeTensorsDType.F8E4M3:
                for (int i = 0; i < values.Length; i++)
                    values[i] = Float8E4M3ToSingle(bytes[i]);
                break;
            case SafeTensorsDType.Bool:
                for (int i = 0; i < values.Length; i++)
                    values[i] = bytes[i] != 0 ? 1 : 0;
                break;
            case SafeTensorsDType.U8:
                for (int i = 0; i < values.Length; i++)
                    values[i] = bytes[i];
                break;
            case SafeTensorsDType.I8:
                for (int i = 0; i < values.Length; i++)
                    values[i] = (sbyte)bytes[i];
                break;
            case SafeTensorsDType.I16:
                for (int i = 0; i < values.Length; i++)
                    values[i] = BinaryPrimitives.ReadInt16LittleEndian(bytes[(2 * i)..]);
                break;
            case SafeTensorsDType.U16:
                for (int i = 0; i < values.Length; i++)
                    values[i] = BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]);
                break;
            case SafeTensorsDType.I32:
                for (int i = 0; i < values.Length; i++)
                    values[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]);
                break;
            case SafeTensorsDType.U32:
                for (int i = 0; i < values.Length; i++)
                    values[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(4 * i)..]);
                break;
            case SafeTensorsDType.I64:
                for (int i = 0; i < values.Length; i++)
                    values[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]);
                break;
            case SafeTensorsDType.U64:
                for (int i = 0; i < values.Length; i++)
                    values[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(8 * i)..]);
                break;
            default:
                throw new InvalidOperationException($"No conversion for {dtype}."); // unreachable: the header check admits only the types above
        }
    }

    /// <summary>float8_e4m3fn: bias 7, subnormals, no infinities; S.1111.111 is NaN.</summary>
    internal static float Float8E4M3ToSingle(byte bits)
    {
        int exponent = (bits >> 3) & 0xF, mantissa = bits & 0x7;
        float magnitude = exponent == 0xF && mantissa == 0x7 ? float.NaN
            : exponent == 0 ? mantissa * (1f / 512)                                // 2^(1 - 7) * mantissa / 8
            : (8 + mantissa) * MathF.ScaleB(1, exponent - 10);                    // 2^(exponent - 7) * (1 + mantissa / 8)
        return (bits & 0x80) != 0 ? -magnitude : magnitude;
    }

    private void ReadExactly(Span<byte> destination, long offset, string what)
    {
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(_handle, destination, offset);
            if (read == 0)
                throw new InvalidDataException($"'{Path}' ended while reading {Describe(what)}: the file was cut short after it was opened.");
            destination = destination[read..];
            offset += read;
        }
    }

    private static string Describe(string what) => what.StartsWith("the ", StringComparison.Ordinal) ? what : $"tensor '{what}'";

    private InvalidDataException Malformed(string detail) => new($"'{Path}' is not a valid safetensors file: {detail}");

    private InvalidDataException Malformed(string tensor, string detail) => Malformed($"tensor '{tensor}': {detail}");

    private (Dictionary<string, Entry> Entries, IReadOnlyList<string> Names, IReadOnlyDictionary<string, string> Metadata) ParseHeader(
        byte[] header, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Malformed($"the header is not valid JSON ({e.Message})");
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Malformed($"the header is a JSON {root.ValueKind}, not an object mapping tensor names to their dtype, shape and data_offsets.");

            var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
            var names = new List<string>();
            Dictionary<string, string>? metadata = null;
            foreach (JsonProperty property in root.EnumerateObject())
            {
                string name = property.Name;
                if (name == "__metadata__")
                {
                    if (metadata is not null)
                        throw Malformed("the header has __metadata__ twice.");
                    metadata = ParseMetadata(property.Value);
                    continue;
                }

                if (entries.ContainsKey(name))
                    throw Malformed(name, "the header names it twice.");
                entries.Add(name, ParseEntry(name, property.Value, dataLength));
                names.Add(name);
            }

            CheckDataIsPackedExactly(entries.Values, dataLength);
            names.Sort(StringComparer.Ordinal);
            return (entries, names.AsReadOnly(), new ReadOnlyDictionary<string, string>(metadata ?? []));
        }
    }

    private Dictionary<string, string> ParseMetadata(JsonElement value)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (value.ValueKind == JsonValueKind.Null)
            return metadata;
        if (value.ValueKind != JsonValueKind.Object)
            throw Malformed($"__metadata__ is a JSON {value.ValueKind}, not an object of strings.");
        foreach (JsonProperty item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Malformed($"__metadata__ entry '{item.Name}' is a JSON {item.Value.ValueKind}; the format allows only strings.");
            metadata[item.Name] = item.Value.GetString()!;
        }
        return metadata;
    }

    private Entry ParseEntry(string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Malformed(name, $"its header entry is a JSON {value.ValueKind}, not an object with dtype, shape and data_offsets.");
        if (!value.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Malformed(name, "its header entry has no dtype string.");
        string dtypeName = dtypeElement.GetString()!;
        if (!TryParseDType(dtypeName, out SafeTensorsDType dtype))
            throw Malformed(name, $"unknown dtype \"{dtypeName}\" (known: BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64).");

        if (!value.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Malformed(name, "its header entry has no shape array.");
        var shape = new int[shapeElement.GetArrayLength()];
        long elementCount = 1;
        bool overflow = false;
        int axis = 0;
        foreach (JsonElement dimension in shapeElement.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out long size) || size < 0)
                throw Malformed(name, $"shape[{axis}] is {dimension.GetRawText()}, not an integer 0 or more.");
            if (size > int.MaxValue)
                throw Malformed(name, $"shape[{axis}] is {size}, more than a dimension can have here ({int.MaxValue}).");
            shape[axis++] = (int)size;
            // Once the count is past the data's length the shape cannot match it; stop multiplying before a long overflows.
            if (!overflow)
            {
                overflow = size != 0 && elementCount > dataLength / size;
                if (!overflow)
                    elementCount *= size;
            }
        }
        if (overflow && !shape.Contains(0))
            throw Malformed(name, $"shape [{string.Join(", ", shape)}] has more elements than the file's {dataLength} data bytes hold.");
        if (overflow)
            elementCount = 0;

        if (!value.TryGetProperty("data_offsets", out JsonElement offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw Malformed(name, "its header entry has no data_offsets array of two integers [begin, end].");
        long begin = ReadOffset(name, offsets[0], "begin"), end = ReadOffset(name, offsets[1], "end");
        if (end < begin)
            throw Malformed(name, $"its data_offsets [{begin}, {end}] are reversed: the end is before the begin.");
        if (end > dataLength)
            throw Malformed(name, $"its data_offsets [{begin}, {end}] are outside the data, which has {dataLength} bytes.");
        long byteCount = elementCount * ElementSize(dtype); // elementCount <= dataLength, no overflow
        if (end - begin != byteCount)
            throw Malformed(name,
                $"shape [{string.Join(", ", shape)}] of {dtypeName} takes {elementCount} * {ElementSize(dtype)} = {byteCount} bytes, but its data_offsets [{begin}, {end}] span {end - begin}.");
        return new Entry(name, dtype, shape, elementCount, begin, end);
    }

    private long ReadOffset(string name, JsonElement element, string which)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out long offset) || offset < 0)
            throw Malformed(name, $"its data_offsets {which} is {element.GetRawText()}, not an integer 0 or more.");
        return offset;
    }

    /// <summary>The format requires the tensors to cover the data exactly: no overlaps, no bytes that belong to no tensor.</summary>
    private void CheckDataIsPackedExactly(IEnumerable<Entry> entries, long dataLength)
    {
        Entry[] byOffset = entries.ToArray();
        Array.Sort(byOffset, (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long covered = 0;
        string? previous = null;
        foreach (Entry entry in byOffset)
        {
            if (entry.Begin < covered)
                throw Malformed(entry.Name, $"its data_offsets [{entry.Begin}, {entry.End}] overlap those of tensor '{previous}', which end at {covered}.");
            if (entry.Begin > covered)
                throw Malformed(entry.Name, $"its data begins at {entry.Begin}, but bytes {covered} to {entry.Begin} belong to no tensor (the format allows no gaps).");
            covered = entry.End;
            if (entry.End > entry.Begin)
                previous = entry.Name;
        }
        if (covered != dataLength)
            throw Malformed($"the data has {dataLength} bytes, but its tensors end at {covered}: bytes {covered} to {dataLength} belong to no tensor.");
    }

    private static bool TryParseDType(string name, out SafeTensorsDType dtype)
    {
        dtype = name switch
        {
            "BOOL" => SafeTensorsDType.Bool,
            "U8" => SafeTensorsDType.U8,
            "I8" => SafeTensorsDType.I8,
            "F8_E5M2" => SafeTensorsDType.F8E5M2,
            "F8_E4M3" => SafeTensorsDType.F8E4M3,
            "I16" => SafeTensorsDType.I16,
            "U16" => SafeTensorsDType.U16,
            "F16" => SafeTensorsDType.F16,
            "BF16" => SafeTensorsDType.BF16,
            "I32" => SafeTensorsDType.I32,
            "U32" => SafeTensorsDType.U32,
            "F32" => SafeTensorsDType.F32,
            "F64" => SafeTensorsDType.F64,
            "I64" => SafeTensorsDType.I64,
            "U64" => SafeTensorsDType.U64,
            _ => (SafeTensorsDType)(-1),
        };
        return (int)dtype >= 0;
    }

    private static int ElementSize(SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.Bool or SafeTensorsDType.U8 or SafeTensorsDType.I8 or SafeTensorsDType.F8E5M2 or SafeTensorsDType.F8E4M3 => 1,
        SafeTensorsDType.I16 or SafeTensorsDType.U16 or SafeTensorsDType.F16 or SafeTensorsDType.BF16 => 2,
        SafeTensorsDType.I32 or SafeTensorsDType.U32 or SafeTensorsDType.F32 => 4,
        _ => 8,
    };

    private static string Preview(IReadOnlyList<string> names) =>
        names.Count <= 8 ? string.Join(", ", names) : string.Join(", ", names.Take(8)) + string.Create(CultureInfo.InvariantCulture, $", ... {names.Count - 8} more");

    private readonly record struct Entry(string Name, SafeTensorsDType DType, int[] Shape, long ElementCount, long Begin, long End);
}
