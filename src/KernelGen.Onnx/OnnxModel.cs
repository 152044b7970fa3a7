using System.Buffers.Binary;
using System.Globalization;
using Google.Protobuf;
using Onnx;

namespace KernelGen.Onnx;

/// <summary>
/// An ONNX model as KernelGen reads it: its floating-point initializers by name (as <see cref="float"/> arrays with their
/// shapes) and every <c>ConvTranspose</c> node of the main graph as a ready KernelGen layer with its weights and bias bound.
/// </summary>
/// <remarks>
/// <para>Initializers of type float, float16, bfloat16 and double are converted to <see cref="float"/>, whether they are stored in
/// <c>raw_data</c>, in the typed fields or as external data (<c>data_location = EXTERNAL</c>: a file named by <c>location</c>,
/// relative to the model's folder, with optional <c>offset</c> and <c>length</c>). Other initializers (integers, strings)
/// are not listed. Outputs of <c>Constant</c> nodes count as initializers.</para>
/// <para>Loading checks everything first: a malformed file, external data outside the model's folder or past the end of its
/// file, or a <c>ConvTranspose</c> node KernelGen cannot compute throws an <see cref="OnnxModelException"/> that names the
/// file or the node.</para>
/// </remarks>
public sealed class OnnxModel
{
    private OnnxModel(string? path, ModelProto model, Dictionary<string, OnnxTensor> initializers, List<OnnxConvTransposeNode> nodes)
    {
        Path = path;
        IrVersion = model.IrVersion;
        ProducerName = model.ProducerName;
        ProducerVersion = model.ProducerVersion;
        OpsetVersion = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        Initializers = initializers;
        ConvTransposeNodes = nodes;
        InputNames = model.Graph.Input.Select(i => i.Name).Where(n => !initializers.ContainsKey(n)).ToArray();
        OutputNames = model.Graph.Output.Select(o => o.Name).ToArray();
    }

    /// <summary>The file the model was loaded from, or null if it was read from a stream.</summary>
    public string? Path { get; }

    /// <summary>The ONNX IR version the file declares.</summary>
    public long IrVersion { get; }

    /// <summary>The operator set version of the default (<c>ai.onnx</c>) domain, or 0 if none is declared.</summary>
    public long OpsetVersion { get; }

    /// <summary>The tool that wrote the model (e.g. <c>pytorch</c>), or empty.</summary>
    public string ProducerName { get; }

    /// <summary>The version of the tool that wrote the model, or empty.</summary>
    public string ProducerVersion { get; }

    /// <summary>The floating-point initializers and <c>Constant</c> outputs by name, converted to <see cref="float"/>.</summary>
    public IReadOnlyDictionary<string, OnnxTensor> Initializers { get; }

    /// <summary>Every <c>ConvTranspose</c> node of the main graph, in the graph's (topological) order.</summary>
    public IReadOnlyList<OnnxConvTransposeNode> ConvTransposeNodes { get; }

    /// <summary>The graph's inputs that are not initializers (what a caller feeds).</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>The graph's outputs.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>Loads an <c>.onnx</c> file; external data is read relative to the file's folder.</summary>
    /// <param name="path">The model's path.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="OnnxModelException">The file is not a valid ONNX model, its external data is outside its folder or cut
    /// short, or a <c>ConvTranspose</c> node cannot be computed; the message names the file or the node.</exception>
    public static OnnxModel Load(string path) => Load(path, null);

    /// <summary>Loads an <c>.onnx</c> file with fixed shapes for some of its inputs (where the graph leaves sizes open, or to
    /// resolve <c>auto_pad</c> and <c>output_shape</c> for another size); external data is read relative to the file's folder.</summary>
    /// <param name="path">The model's path.</param>
    /// <param name="inputShapes">Full shapes (N, C, spatial...) by graph input name, replacing the graph's; or null.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty, or a shape names no graph input or has a
    /// dimension below 1.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="OnnxModelException">The file is not a valid ONNX model, its external data is outside its folder or cut
    /// short, or a <c>ConvTranspose</c> node cannot be computed; the message names the file or the node.</exception>
    public static OnnxModel Load(string path, IReadOnlyDictionary<string, int[]>? inputShapes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        foreach (var (name, shape) in inputShapes ?? new Dictionary<string, int[]>())
        {
            if (shape is null || shape.Length == 0 || shape.Any(d => d < 1))
                throw new ArgumentException($"inputShapes['{name}'] is [{string.Join(", ", shape ?? [])}], but each shape needs one or more dimensions, each at least 1.", nameof(inputShapes));
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        string full = System.IO.Path.GetFullPath(path);
        return Load(stream, System.IO.Path.GetDirectoryName(full) ?? full, path, inputShapes);
    }

    /// <summary>Reads an ONNX model from a stream.</summary>
    /// <param name="stream">The model's bytes (read to the end; not closed).</param>
    /// <param name="externalDataDirectory">The folder external data is relative to (the model file's folder), or null for a
    /// model without external data.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="OnnxModelException">The bytes are not a valid ONNX model, it has external data and no folder was given
    /// (or the data is outside it or cut short), or a <c>ConvTranspose</c> node cannot be computed.</exception>
    public static OnnxModel Load(Stream stream, string? externalDataDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Load(stream, externalDataDirectory is null ? null : System.IO.Path.GetFullPath(externalDataDirectory), null, null);
    }

    private static OnnxModel Load(Stream stream, string? directory, string? path, IReadOnlyDictionary<string, int[]>? inputShapes)
    {
        string source = path is null ? "The ONNX stream" : $"'{path}'";
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxModelException($"{source} is not a valid ONNX model: {e.Message}", null, e);
        }

        if (model.Graph is null)
            throw new OnnxModelException($"{source} is not a valid ONNX model: it has no graph (an empty or unrelated file parses as a model without one).");
        foreach (var name in inputShapes?.Keys ?? [])
        {
            if (!model.Graph.Input.Any(i => i.Name == name))
                throw new ArgumentException($"inputShapes names '{name}', but the graph's inputs are {string.Join(", ", model.Graph.Input.Select(i => $"'{i.Name}'"))}.", nameof(inputShapes));
        }

        var reader = new TensorReader(source, directory);
        var initializers = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var otherTypes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tensor in model.Graph.Initializer)
            Add(reader.Read(tensor, $"initializer '{tensor.Name}'"), tensor);
        foreach (var node in model.Graph.Node)
        {
            if (node.OpType != "Constant" || node.Domain is not ("" or "ai.onnx") || node.Output.Count != 1) continue;
            var value = node.Attribute.FirstOrDefault(a => a.Name == "value" && a.T is not null);
            if (value is null) continue;
            var constant = value.T.Clone();
            constant.Name = node.Output[0];
            Add(reader.Read(constant, $"Constant node '{node.Name}' output '{constant.Name}'"), constant);
        }

        var nodes = OnnxGraphReader.ReadConvTransposeNodes(source, model, initializers, otherTypes, inputShapes);
        return new OnnxModel(path, model, initializers, nodes);

        void Add(OnnxTensor? converted, TensorProto tensor)
        {
            if (converted is not null) initializers[tensor.Name] = converted;
            else otherTypes[tensor.Name] = TensorReader.TypeName(tensor.DataType);
        }
    }

    /// <summary>Converts tensors to float, checking every size against the bytes that hold them.</summary>
    private sealed class TensorReader(string source, string? directory)
    {
        public OnnxTensor? Read(TensorProto tensor, string what)
        {
            var type = (TensorProto.Types.DataType)tensor.DataType;
            int elementSize = type switch
            {
                TensorProto.Types.DataType.Float => 4,
                TensorProto.Types.DataType.Double => 8,
                TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16 => 2,
                _ => 0,
            };
            if (elementSize == 0) return null;
            if (tensor.Segment is not null)
                throw Bad(what, "it is segmented (TensorProto.segment), which KernelGen does not read");

            var shape = new int[tensor.Dims.Count];
            long count = 1;
            for (int i = 0; i < shape.Length; i++)
            {
                long dim = tensor.Dims[i];
                if (dim < 0 || dim > Array.MaxLength)
                    throw Bad(what, $"dims[{i}] is {dim}, but each dimension must be between 0 and {Array.MaxLength}");
                shape[i] = (int)dim;
                count = dim == 0 ? 0 : count;
                if (count != 0 && count > Array.MaxLength / dim)
                    throw Bad(what, $"its dims [{string.Join(", ", tensor.Dims)}] hold more than {Array.MaxLength} elements, more than an array holds");
                count *= dim;
            }

            var values = new float[count];
            string name = TypeName(tensor.DataType);
            if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
            {
                ReadExternal(tensor, what, elementSize, type, values);
            }
            else if (!tensor.RawData.IsEmpty)
            {
                if (tensor.RawData.Length != count * elementSize)
                    throw Bad(what, $"raw_data has {tensor.RawData.Length} bytes, but {count} {name} elements take {count * elementSize}");
                ConvertBytes(tensor.RawData.Span, type, values);
            }
            else
            {
                int typedCount = type switch
                {
                    TensorProto.Types.DataType.Float => tensor.FloatData.Count,
                    TensorProto.Types.DataType.Double => tensor.DoubleData.Count,
                    _ => tensor.Int32Data.Count,
                };
                if (typedCount != count)
                    throw Bad(what, $"it has {typedCount} values in its typed field, but its dims [{string.Join(", ", tensor.Dims)}] need {count}");
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = type switch
                    {
                        TensorProto.Types.DataType.Float => tensor.FloatData[i],
                        TensorProto.Types.DataType.Double => (float)tensor.DoubleData[i],
                        // float16 and bfloat16 values are kept in int32_data, one 16-bit pattern per element.
                        TensorProto.Types.DataType.Float16 => (float)BitConverter.UInt16BitsToHalf((ushort)tensor.Int32Data[i]),
                        _ => BitConverter.Int32BitsToSingle((tensor.Int32Data[i] & 0xFFFF) << 16),
                    };
                }
            }

            return new OnnxTensor(tensor.Name, shape, values, name);
        }

        private void ReadExternal(TensorProto tensor, string what, int elementSize, TensorProto.Types.DataType type, float[] values)
        {
            string? location = null;
            long offset = 0, length = -1;
            foreach (var entry in tensor.ExternalData)
            {
                switch (entry.Key)
                {
                    case "location":
                        location = entry.Value;
                        break;
                    case "offset":
                        offset = ParseLength(entry.Value, "offset", what);
                        break;
                    case "length":
                        length = ParseLength(entry.Value, "length", what);
                        break;
                }
            }

            if (string.IsNullOrEmpty(location))
                throw Bad(what, "its data is EXTERNAL but external_data has no 'location'");
            if (directory is null)
                throw Bad(what, $"its data is in the external file '{location}', but the model was read from a stream without a folder to find it in (pass externalDataDirectory)");
            string root = System.IO.Path.TrimEndingDirectorySeparator(directory) + System.IO.Path.DirectorySeparatorChar;
            string file = System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, location));
            if (System.IO.Path.IsPathRooted(location) || !file.StartsWith(root, StringComparison.Ordinal))
                throw Bad(what, $"its external data location '{location}' is outside the model's folder '{directory}'; ONNX external data must lie in or under it");
            if (!File.Exists(file))
                throw Bad(what, $"its external data file '{location}' does not exist in '{directory}'");

            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read);
            long expectedBytes = (long)values.Length * elementSize;
            long available = stream.Length - offset;
            if (length < 0) length = Math.Max(available, 0);
            if (length != expectedBytes)
                throw Bad(what, $"its external data length is {length} bytes, but its {values.Length} {TypeName(tensor.DataType)} elements take {expectedBytes}");
            if (offset > stream.Length || length > available)
                throw Bad(what, $"its external data ({length} bytes at offset {offset}) runs past the end of '{location}' ({stream.Length} bytes): the file is truncated");

            // In chunks: a tensor of a few GB does not fit in one byte array, and its floats need no second copy.
            stream.Position = offset;
            var chunk = new byte[Math.Min(expectedBytes, 1 << 20) / elementSize * elementSize];
            for (int done = 0; done < values.Length;)
            {
                int elements = (int)Math.Min(values.Length - done, chunk.Length / elementSize);
                try
                {
                    stream.ReadExactly(chunk, 0, elements * elementSize);
                }
                catch (EndOfStreamException e)
                {
                    throw new OnnxModelException($"{source}: {what} cannot be read: '{location}' was cut short while it was read.", null, e);
                }

                ConvertBytes(chunk.AsSpan(0, elements * elementSize), type, values.AsSpan(done, elements));
                done += elements;
            }
        }

        private long ParseLength(string text, string key, string what) =>
            long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value)
                ? value
                : throw Bad(what, $"its external data '{key}' is '{text}', but it must be a whole number of bytes, 0 or more");

        private OnnxModelException Bad(string what, string rule) => new($"{source}: {what} cannot be read: {rule}.");

        private static void ConvertBytes(ReadOnlySpan<byte> bytes, TensorProto.Types.DataType type, Span<float> values)
        {
            // ONNX stores raw_data and external data little-endian, whatever the machine.
            switch (type)
            {
                case TensorProto.Types.DataType.Float:
                    for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
                    break;
                case TensorProto.Types.DataType.Double:
                    for (int i = 0; i < values.Length; i++) values[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]);
                    break;
                case TensorProto.Types.DataType.Float16:
                    for (int i = 0; i < values.Length; i++) values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]);
                    break;
                default:
                    for (int i = 0; i < values.Length; i++) values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16);
                    break;
            }
        }

        public static string TypeName(int dataType) => dataType switch
        {
            1 => "FLOAT", 2 => "UINT8", 3 => "INT8", 4 => "UINT16", 5 => "INT16", 6 => "INT32", 7 => "INT64", 8 => "STRING",
            9 => "BOOL", 10 => "FLOAT16", 11 => "DOUBLE", 12 => "UINT32", 13 => "UINT64", 14 => "COMPLEX64", 15 => "COMPLEX128",
            16 => "BFLOAT16",
            _ => "data type " + dataType.ToString(CultureInfo.InvariantCulture),
        };
    }
}
