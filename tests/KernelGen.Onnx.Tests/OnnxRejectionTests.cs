using Google.Protobuf;
using Onnx;

namespace KernelGen.Onnx.Tests;

/// <summary>
/// Every model KernelGen cannot read or compute is refused with an <see cref="OnnxModelException"/> that names the file or the
/// node and the rule; the models are built here with the protobuf types generated from onnx.proto.
/// </summary>
public sealed class OnnxRejectionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("kernelgen-onnx-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static TensorProto Floats(string name, int[] shape, float seed = 0.25f)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(shape.Select(d => (long)d));
        tensor.FloatData.AddRange(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(i => seed * (i % 7 - 3)));
        return tensor;
    }

    private static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims)
            shape.Dim.Add(d > 0 ? new TensorShapeProto.Types.Dimension { DimValue = d } : new TensorShapeProto.Types.Dimension { DimParam = "n" });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static AttributeProto Text(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>x (1, 2, 3, 3) -> ConvTranspose "up" with weights w (2, 3, 3, 3) and bias b (3) -> y.</summary>
    private static ModelProto Model(Action<NodeProto, GraphProto>? change = null)
    {
        var node = new NodeProto { Name = "up", OpType = "ConvTranspose" };
        node.Input.AddRange(["x", "w", "b"]);
        node.Output.Add("y");
        node.Attribute.Add(Ints("strides", 2, 2));
        var graph = new GraphProto { Name = "g" };
        graph.Node.Add(node);
        graph.Input.Add(Value("x", 1, 2, 3, 3));
        graph.Output.Add(Value("y", 1, 3, 7, 7));
        graph.Initializer.Add(Floats("w", [2, 3, 3, 3]));
        graph.Initializer.Add(Floats("b", [3]));
        change?.Invoke(node, graph);
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model;
    }

    private static OnnxModel Load(ModelProto model) => OnnxModel.Load(new MemoryStream(model.ToByteArray()));

    private static OnnxModelException NodeError(Action<NodeProto, GraphProto> change, params string[] phrases)
    {
        var error = Assert.Throws<OnnxModelException>(() => Load(Model(change)));
        Assert.Equal("up", error.NodeName);
        Assert.Contains("'up'", error.Message, StringComparison.Ordinal);
        foreach (var phrase in phrases)
        {
            if (!error.Message.Contains(phrase, StringComparison.Ordinal))
                Assert.Fail($"The message does not say \"{phrase}\": {error.Message}");
        }

        return error;
    }

    [Fact]
    public void TheBaseModelLoads()
    {
        var node = Assert.Single(Load(Model()).ConvTransposeNodes);
        Assert.Equal([7, 7], node.OutputSize);
        Assert.Equal("up", node.Name);
    }

    [Fact]
    public void AMalformedFileIsRefusedNamingIt()
    {
        string garbage = Path.Combine(_folder, "garbage.onnx");
        File.WriteAllBytes(garbage, [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2, 3]);
        var error = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(garbage));
        Assert.Contains(garbage, error.Message, StringComparison.Ordinal);
        Assert.Null(error.NodeName);

        string cut = Path.Combine(_folder, "cut.onnx");
        byte[] whole = Model().ToByteArray();
        File.WriteAllBytes(cut, whole[..(whole.Length - 10)]);
        Assert.Contains("not a valid ONNX model", Assert.Throws<OnnxModelException>(() => OnnxModel.Load(cut)).Message, StringComparison.Ordinal);

        string empty = Path.Combine(_folder, "empty.onnx");
        File.WriteAllBytes(empty, []);
        Assert.Contains("no graph", Assert.Throws<OnnxModelException>(() => OnnxModel.Load(empty)).Message, StringComparison.Ordinal);

        Assert.Throws<FileNotFoundException>(() => OnnxModel.Load(Path.Combine(_folder, "missing.onnx")));
        Assert.Throws<ArgumentException>(() => OnnxModel.Load(""));
        Assert.Throws<ArgumentNullException>(() => OnnxModel.Load((Stream)null!));
    }

    [Fact]
    public void TensorsWhoseBytesDisagreeWithTheirShapeAreRefused()
    {
        var error = Assert.Throws<OnnxModelException>(() => Load(Model((_, g) =>
        {
            g.Initializer[1] = new TensorProto { Name = "b", DataType = 1, RawData = ByteString.CopyFrom(new byte[10]) };
            g.Initializer[1].Dims.Add(3);
        })));
        Assert.Contains("initializer 'b'", error.Message, StringComparison.Ordinal);
        Assert.Contains("raw_data has 10 bytes, but 3 FLOAT elements take 12", error.Message, StringComparison.Ordinal);

        error = Assert.Throws<OnnxModelException>(() => Load(Model((_, g) => g.Initializer[1].FloatData.Add(1))));
        Assert.Contains("4 values in its typed field", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<OnnxModelException>(() => Load(Model((_, g) => g.Initializer[1].Dims[0] = -3)));
        Assert.Contains("dims[0] is -3", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<OnnxModelException>(() => Load(Model((_, g) => g.Initializer[1].Segment = new TensorProto.Types.Segment { Begin = 0, End = 1 })));
        Assert.Contains("segmented", error.Message, StringComparison.Ordinal);
    }

    private string SaveWithExternalBias(string location, long? offset, long? length, int fileBytes)
    {
        File.WriteAllBytes(Path.Combine(_folder, "bias.bin"), new byte[fileBytes]);
        var model = Model((_, g) =>
        {
            var bias = new TensorProto { Name = "b", DataType = 1, DataLocation = TensorProto.Types.DataLocation.External };
            bias.Dims.Add(3);
            bias.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            if (offset is { } o) bias.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = o.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            if (length is { } l) bias.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = l.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            g.Initializer[1] = bias;
        });
        string path = Path.Combine(_folder, "model.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    [Fact]
    public void ExternalDataIsReadAtItsOffset()
    {
        string path = SaveWithExternalBias("bias.bin", 4, 12, 16);
        var bytes = File.ReadAllBytes(Path.Combine(_folder, "bias.bin"));
        BitConverter.GetBytes(2.5f).CopyTo(bytes, 8);
        File.WriteAllBytes(Path.Combine(_folder, "bias.bin"), bytes);
        Assert.Equal(new[] { 0f, 2.5f, 0f }, OnnxModel.Load(path).Initializers["b"].Data);
        // Without a length: the rest of the file.
        Assert.Equal(new float[3], OnnxModel.Load(SaveWithExternalBias("bias.bin", 4, null, 16)).Initializers["b"].Data);
    }

    [Fact]
    public void ALargeExternalTensorIsReadWhole()
    {
        // 300,000 doubles: 2.4 MB, read in several chunks.
        const int count = 300_000;
        var bytes = new byte[8 + count * 8];
        for (int i = 0; i < count; i++) BitConverter.GetBytes(i * 0.5).CopyTo(bytes, 8 + 8 * i);
        File.WriteAllBytes(Path.Combine(_folder, "big.bin"), bytes);
        var model = Model((_, g) =>
        {
            var big = new TensorProto { Name = "big", DataType = (int)TensorProto.Types.DataType.Double, DataLocation = TensorProto.Types.DataLocation.External };
            big.Dims.AddRange([3, count / 3]);
            big.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "big.bin" });
            big.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "8" });
            g.Initializer.Add(big);
        });
        string path = Path.Combine(_folder, "big.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        var data = OnnxModel.Load(path).Initializers["big"].Data;
        Assert.Equal(count, data.Length);
        for (int i = 0; i < count; i++)
        {
            if (data[i] != i * 0.5f) Assert.Fail($"big[{i}] is {data[i]}, expected {i * 0.5f}.");
        }
    }

    [Theory]
    [InlineData("../bias.bin", 0L, 12L, 12, "outside the model's folder")]
    [InlineData("/etc/passwd", 0L, 12L, 12, "outside the model's folder")]
    [InlineData("sub/../../bias.bin", 0L, 12L, 12, "outside the model's folder")]
    [InlineData("bias.bin", 8L, 12L, 16, "truncated")]
    [InlineData("bias.bin", 20L, 12L, 16, "truncated")]
    [InlineData("bias.bin", 0L, 8L, 16, "length is 8 bytes")]
    [InlineData("bias.bin", 0L, null, 16, "length is 16 bytes")]
    [InlineData("nothere.bin", 0L, 12L, 12, "does not exist")]
    [InlineData("", 0L, 12L, 12, "no 'location'")]
    public void BadExternalDataIsRefused(string location, long? offset, long? length, int fileBytes, string phrase)
    {
        string path = SaveWithExternalBias(location, offset, length, fileBytes);
        var error = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path));
        Assert.Contains(phrase, error.Message, StringComparison.Ordinal);
        Assert.Contains("initializer 'b'", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANonNumericOffsetIsRefused()
    {
        string path = SaveWithExternalBias("bias.bin", null, null, 12);
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        model.Graph.Initializer[1].ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "-4" });
        File.WriteAllBytes(path, model.ToByteArray());
        Assert.Contains("'offset' is '-4'", Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NodesKernelGenCannotComputeAreRefusedNamingTheNode()
    {
        NodeError((n, _) => n.Attribute.Add(Ints("kernel_shape", 3, 2)), "kernel_shape [3, 2] disagrees with its weights 'w'");
        NodeError((_, g) => g.Initializer.RemoveAt(0), "weights (W) 'w' are not an initializer");
        NodeError((_, g) => { g.Initializer.RemoveAt(0); g.Input.Add(Value("w", 2, 3, 3, 3)); }, "not values computed by the graph or fed as inputs");
        NodeError((_, g) =>
        {
            var ints = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Int64 };
            ints.Dims.AddRange([2, 3, 3, 3]);
            ints.Int64Data.AddRange(new long[54]);
            g.Initializer[0] = ints;
        }, "'w' are INT64");
        NodeError((_, g) => g.Initializer[0] = Floats("w", [2, 3, 1, 1, 1, 1]), "rank 6");
        NodeError((_, g) => g.Initializer[0] = Floats("w", [2, 3]), "rank 2");
        NodeError((n, _) => n.Attribute.Add(Ints("kernel", 3, 3)), "'kernel'");
        NodeError((n, _) => n.Attribute.Add(Text("auto_pad", "SAME")), "auto_pad is 'SAME'");
        NodeError((n, _) => n.Attribute[0] = Ints("strides", 2, 2, 2), "strides has 3 values");
        NodeError((n, _) => n.Attribute[0] = Ints("strides", 2, 0), "strides[1] is 0");
        NodeError((n, _) => n.Attribute[0] = Ints("strides", 2, 5_000_000_000), "strides[1] is 5000000000");
        NodeError((n, _) => n.Attribute.Add(Ints("pads", 1, 1)), "pads has 2 values");
        NodeError((n, _) => n.Attribute.Add(Ints("pads", 4, 4, 4, 4)), "inputHeight is 3", "would be -1");
        NodeError((n, _) => n.Attribute.Add(Ints("output_padding", 2, 0)), "outputPadding");
        NodeError((n, _) => n.Attribute.Add(Ints("output_shape", 7)), "output_shape has 1 values");
        NodeError((n, _) => n.Attribute.Add(Ints("output_shape", 20, 7)), "outputShape.Height");
        NodeError((n, _) => n.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = 0 }), "group is 0");
        NodeError((n, g) => { n.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = 3 }); g.Initializer[1] = Floats("b", [9]); },
            "groups");
        NodeError((n, _) => n.Attribute.Add(Text("dilations", "2")), "'dilations' is of type String");
        NodeError((_, g) => g.Initializer[1] = Floats("b", [4]), "bias 'b' has shape [4]", "[3]");
        NodeError((_, g) => g.Input[0] = Value("x", 1, 5, 3, 3), "has 5 channels");
        NodeError((_, g) => g.Input[0] = Value("x", 1, 2, 3), "has rank 3");
        NodeError((n, g) => { n.Attribute.Add(Text("auto_pad", "SAME_UPPER")); g.Input[0] = Value("x", 1, 2, 0, 3); }, "no fixed size for its input 'x'");
        NodeError((n, _) => { n.Input.RemoveAt(2); n.Input.RemoveAt(1); }, "ConvTranspose takes X, W and an optional B");
        NodeError((_, g) => g.Output[0] = Value("y", 1, 3, 8, 7), "the graph says its output 'y' has spatial size [8, 7], but its attributes give [7, 7]");
    }

    [Fact]
    public void ANamelessNodeIsNamedByItsPlaceAndOutput()
    {
        var error = Assert.Throws<OnnxModelException>(() => Load(Model((n, _) => { n.Name = ""; n.Attribute.Add(Ints("kernel_shape", 1, 1)); })));
        Assert.Equal("#0 (output 'y')", error.NodeName);
        Assert.Contains("#0 (output 'y')", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShapesFollowThroughLayersAndActivationsAndDynamicSizesAreAcceptedWhereThePadsAreExplicit()
    {
        var model = Load(Model((n, g) =>
        {
            n.Attribute.Add(Text("auto_pad", "SAME_UPPER"));
            var relu = new NodeProto { Name = "act", OpType = "Relu" };
            relu.Input.Add("y");
            relu.Output.Add("r");
            var second = new NodeProto { Name = "up2", OpType = "ConvTranspose" };
            second.Input.AddRange(["r", "w2"]);
            second.Output.Add("z");
            second.Attribute.Add(Ints("strides", 2, 2));
            second.Attribute.Add(Text("auto_pad", "SAME_LOWER"));
            g.Node.Add(relu);
            g.Node.Add(second);
            g.Initializer.Add(Floats("w2", [3, 1, 3, 3]));
            g.Output[0] = Value("z", 1, 1, 12, 12);
        }));
        Assert.Equal([6, 6], model.ConvTransposeNodes[0].OutputSize);
        Assert.Equal([6, 6], model.ConvTransposeNodes[1].InputSize);
        Assert.Equal([12, 12], model.ConvTransposeNodes[1].OutputSize);
        Assert.Equal(FusedActivation.Relu, model.ConvTransposeNodes[0].FollowedBy!.Activation);
        Assert.Null(model.ConvTransposeNodes[1].FollowedBy); // its output is the graph's

        var dynamic = Assert.Single(Load(Model((_, g) => g.Input[0] = Value("x", 0, 2, 0, 0))).ConvTransposeNodes);
        Assert.Null(dynamic.InputSize);
        Assert.Null(dynamic.OutputSize);
        Assert.Equal([9, 11], dynamic.GetOutputSize([4, 5]));
        // Explicit pads that would crop a 1-cell input away are fine when the size is left open.
        var padded = Assert.Single(Load(Model((n, g) => { g.Input[0] = Value("x", 0, 2, 0, 0); n.Attribute.Add(Ints("pads", 2, 2, 2, 2)); })).ConvTransposeNodes);
        Assert.Equal([5, 5], padded.GetOutputSize([4, 4]));
    }

    [Fact]
    public void OnlyASoleFusableReaderIsReported()
    {
        NodeProto Reader(string op, string name, string input)
        {
            var node = new NodeProto { Name = name, OpType = op };
            node.Input.Add(input);
            node.Output.Add(name + "_out");
            return node;
        }

        Assert.Null(Single(g => { g.Node.Add(Reader("Relu", "a", "y")); g.Node.Add(Reader("Relu", "b", "y")); }).FollowedBy);
        Assert.Null(Single(g => g.Node.Add(Reader("Softmax", "s", "y"))).FollowedBy);
        Assert.Equal("Sigmoid", Single(g => { g.Node.Add(Reader("Sigmoid", "s", "y")); g.Output[0] = Value("s_out"); }).FollowedBy!.OpType);
        var leaky = Reader("LeakyRelu", "l", "y");
        Assert.Equal(0.01f, Single(g => g.Node.Add(leaky)).FollowedBy!.LeakyReluAlpha);
        // A batch norm with non-constant parameters is not fusable.
        var bn = Reader("BatchNormalization", "bn", "y");
        bn.Input.AddRange(["s", "bb", "m", "v"]);
        Assert.Null(Single(g => { g.Node.Add(bn); g.Initializer.Add(Floats("s", [3])); g.Initializer.Add(Floats("bb", [3])); g.Initializer.Add(Floats("m", [3])); }).FollowedBy);

        OnnxConvTransposeNode Single(Action<GraphProto> change)
        {
            var model = Model((_, g) =>
            {
                g.Output[0] = Value("other");
                change(g);
            });
            return Assert.Single(Load(model).ConvTransposeNodes);
        }
    }
}
