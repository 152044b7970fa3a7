using System.Runtime.InteropServices;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Onnx;

/// <summary>
/// Builds, in memory, the ONNX model of one benchmark shape: a single <c>ConvTranspose</c> node whose weights are an
/// initializer (so ONNX Runtime can prepack them once, as it does for any deployed model), IR version 8, opset 17.
/// ONNX <c>ConvTranspose</c> is N-d: a 1-D or 3-D shape is a 1-D or 3-D node with per-axis attributes of its rank.
/// </summary>
/// <remarks>
/// <para>ONNX <c>ConvTranspose</c> is channels-first only. For an NHWC shape the graph is <c>Transpose(0,3,1,2) → ConvTranspose →
/// Transpose(0,2,3,1)</c>, which is what an NHWC user of ONNX Runtime runs; the two transposes are part of its time.</para>
/// <para>Field numbers are those of onnx.proto (ONNX 1.x). Repeated integers are written unpacked, the proto2 default that
/// every parser accepts.</para>
/// </remarks>
public static class OnnxModelBuilder
{
    /// <summary>The graph input's name.</summary>
    public const string InputName = "X";

    /// <summary>The graph output's name.</summary>
    public const string OutputName = "Y";

    private const string WeightsName = "W";
    private const int IrVersion = 8;
    private const int OpsetVersion = 17;
    private const int TensorFloat = 1;

    // AttributeProto.AttributeType
    private const int AttributeInt = 2;
    private const int AttributeInts = 7;
    private const int AttributeString = 3;

    /// <summary>The serialized ModelProto for <paramref name="shape"/> with these weights.</summary>
    public static byte[] Build(ConvShape shape, ReadOnlySpan<float> weights)
    {
        if (weights.Length != shape.WeightsLength)
            throw new ArgumentException($"weights has {weights.Length} elements, but {shape.Name} needs {shape.WeightsLength}.", nameof(weights));
        byte[] rawWeights = MemoryMarshal.AsBytes(weights).ToArray();
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("TensorProto.raw_data is little-endian; this writer copies memory as is.");

        var graph = new ProtoWriter();
        string convInput = InputName, convOutput = OutputName;
        if (shape.IsChannelsLast && shape.Rank != 2)
            throw new NotSupportedException($"{shape.Name}: channels-last is benchmarked in 2-D only.");
        if (shape.IsChannelsLast)
        {
            convInput = "X_nchw";
            convOutput = "Y_nchw";
            graph.Message(GraphNode, Transpose(InputName, convInput, [0, 3, 1, 2]));
        }

        graph.Message(GraphNode, ConvTranspose(shape, convInput, convOutput));
        if (shape.IsChannelsLast)
            graph.Message(GraphNode, Transpose(convOutput, OutputName, [0, 2, 3, 1]));
        graph.String(GraphName, "kernelgen_" + shape.Name)
            .Message(GraphInitializer, t => t
                .Varints(TensorDims, shape.WeightDimensions)
                .Varint(TensorDataType, TensorFloat)
                .String(TensorName, WeightsName)
                .Bytes(TensorRawData, rawWeights))
            .Message(GraphInput, ValueInfo(InputName, shape.InputDimensions))
            .Message(GraphOutput, ValueInfo(OutputName, shape.OutputDimensions));

        return new ProtoWriter()
            .Varint(ModelIrVersion, IrVersion)
            .String(ModelProducerName, "KernelGen.Benchmarks")
            .Message(ModelGraph, graph)
            .Message(ModelOpsetImport, o => o.String(OpsetDomain, "").Varint(OpsetVersionField, OpsetVersion))
            .ToArray();
    }

    /// <summary>
    /// A one-node model of a 1-channel-in NCHW <c>ConvTranspose</c> with ONNX's <c>auto_pad</c> and, if given,
    /// <c>output_shape</c>, and no pads: what ONNX Runtime makes of those attributes is what the auto-pad tests compare with.
    /// </summary>
    public static byte[] BuildAutoPad(int outChannels, (int Height, int Width) input, (int Height, int Width) kernel, (int Height, int Width) stride,
        string autoPad, (int Height, int Width)? outputShape, ReadOnlySpan<float> weights)
    {
        byte[] rawWeights = MemoryMarshal.AsBytes(weights).ToArray();
        var node = new ProtoWriter()
            .String(NodeInput, InputName)
            .String(NodeInput, WeightsName)
            .String(NodeOutput, OutputName)
            .String(NodeName, "conv_transpose")
            .String(NodeOpType, "ConvTranspose")
            .Message(NodeAttribute, Ints("kernel_shape", kernel.Height, kernel.Width))
            .Message(NodeAttribute, Ints("strides", stride.Height, stride.Width))
            .Message(NodeAttribute, a => a.String(AttributeName, "auto_pad").String(AttributeS, autoPad).Varint(AttributeTypeField, AttributeString));
        if (outputShape is { } shape)
            node.Message(NodeAttribute, Ints("output_shape", shape.Height, shape.Width));
        var graph = new ProtoWriter()
            .Message(GraphNode, node)
            .String(GraphName, "kernelgen_auto_pad")
            .Message(GraphInitializer, t => t
                .Varints(TensorDims, [1, outChannels, kernel.Height, kernel.Width])
                .Varint(TensorDataType, TensorFloat)
                .String(TensorName, WeightsName)
                .Bytes(TensorRawData, rawWeights))
            .Message(GraphInput, ValueInfo(InputName, [1, 1, input.Height, input.Width]))
            .Message(GraphOutput, o => o.String(ValueInfoName, OutputName)
                .Message(ValueInfoType, type => type.Message(TypeTensorType, tensor => tensor.Varint(TensorTypeElemType, TensorFloat))));
        return new ProtoWriter()
            .Varint(ModelIrVersion, IrVersion)
            .String(ModelProducerName, "KernelGen.Benchmarks")
            .Message(ModelGraph, graph)
            .Message(ModelOpsetImport, o => o.String(OpsetDomain, "").Varint(OpsetVersionField, OpsetVersion))
            .ToArray();
    }

    private static ProtoWriter ConvTranspose(ConvShape shape, string input, string output) => new ProtoWriter()
        .String(NodeInput, input)
        .String(NodeInput, WeightsName)
        .String(NodeOutput, output)
        .String(NodeName, "conv_transpose")
        .String(NodeOpType, "ConvTranspose")
        .Message(NodeAttribute, Ints("kernel_shape", shape.PerAxis(shape.Kernel)))
        .Message(NodeAttribute, Ints("strides", shape.PerAxis(shape.Stride)))
        // ONNX pads are [begin of each axis..., end of each axis...]: in 2-D [top, left, bottom, right].
        .Message(NodeAttribute, Ints("pads", [.. shape.PerAxis(shape.Padding), .. shape.PerAxis(shape.Padding)]))
        .Message(NodeAttribute, Ints("output_padding", shape.PerAxis(shape.OutputPadding)))
        .Message(NodeAttribute, Ints("dilations", shape.PerAxis(1)))
        .Message(NodeAttribute, a => a.String(AttributeName, "group").Varint(AttributeI, shape.Groups).Varint(AttributeTypeField, AttributeInt));

    private static ProtoWriter Transpose(string input, string output, long[] permutation) => new ProtoWriter()
        .String(NodeInput, input)
        .String(NodeOutput, output)
        .String(NodeName, "transpose_" + output)
        .String(NodeOpType, "Transpose")
        .Message(NodeAttribute, Ints("perm", permutation));

    private static ProtoWriter Ints(string name, params long[] values) => new ProtoWriter()
        .String(AttributeName, name)
        .Varints(AttributeIntsField, values)
        .Varint(AttributeTypeField, AttributeInts);

    private static ProtoWriter ValueInfo(string name, long[] dimensions) => new ProtoWriter()
        .String(ValueInfoName, name)
        .Message(ValueInfoType, type => type
            .Message(TypeTensorType, tensor => tensor
                .Varint(TensorTypeElemType, TensorFloat)
                .Message(TensorTypeShape, tensorShape =>
                {
                    foreach (long dimension in dimensions)
                        tensorShape.Message(ShapeDim, d => d.Varint(DimensionValue, dimension));
                })));

    private static ProtoWriter Varints(this ProtoWriter writer, int field, long[] values)
    {
        foreach (long value in values)
            writer.Varint(field, value);
        return writer;
    }

    // ModelProto
    private const int ModelIrVersion = 1;
    private const int ModelProducerName = 2;
    private const int ModelGraph = 7;
    private const int ModelOpsetImport = 8;

    // OperatorSetIdProto
    private const int OpsetDomain = 1;
    private const int OpsetVersionField = 2;

    // GraphProto
    private const int GraphNode = 1;
    private const int GraphName = 2;
    private const int GraphInitializer = 5;
    private const int GraphInput = 11;
    private const int GraphOutput = 12;

    // NodeProto
    private const int NodeInput = 1;
    private const int NodeOutput = 2;
    private const int NodeName = 3;
    private const int NodeOpType = 4;
    private const int NodeAttribute = 5;

    // AttributeProto
    private const int AttributeName = 1;
    private const int AttributeI = 3;
    private const int AttributeS = 4;
    private const int AttributeIntsField = 8;
    private const int AttributeTypeField = 20;

    // TensorProto
    private const int TensorDims = 1;
    private const int TensorDataType = 2;
    private const int TensorName = 8;
    private const int TensorRawData = 9;

    // ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, TensorShapeProto.Dimension
    private const int ValueInfoName = 1;
    private const int ValueInfoType = 2;
    private const int TypeTensorType = 1;
    private const int TensorTypeElemType = 1;
    private const int TensorTypeShape = 2;
    private const int ShapeDim = 1;
    private const int DimensionValue = 1;
}
