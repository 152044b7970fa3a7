using KernelGen.Benchmarks.Onnx;
using KernelGen.Benchmarks.Shapes;
using Microsoft.ML.OnnxRuntime;

namespace KernelGen.Benchmarks.Tests;

/// <summary>The minimal protobuf writer encodes as protobuf does, and ONNX Runtime accepts the models built with it.</summary>
public sealed class OnnxModelTests
{
    // Golden encodings from the protobuf encoding guide.
    [Fact]
    public void VarintFieldMatchesTheProtobufGuide() =>
        Assert.Equal([0x08, 0x96, 0x01], new ProtoWriter().Varint(1, 150).ToArray());

    [Fact]
    public void StringFieldMatchesTheProtobufGuide() =>
        Assert.Equal([0x12, 0x07, (byte)'t', (byte)'e', (byte)'s', (byte)'t', (byte)'i', (byte)'n', (byte)'g'],
            new ProtoWriter().String(2, "testing").ToArray());

    [Fact]
    public void NestedMessageIsLengthDelimited() =>
        Assert.Equal([0x1a, 0x03, 0x08, 0x96, 0x01], new ProtoWriter().Message(3, m => m.Varint(1, 150)).ToArray());

    [Fact]
    public void NegativeVarintTakesTenBytes() =>
        Assert.Equal([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], new ProtoWriter().Varint(1, -1).ToArray());

    [Fact]
    public void FloatIsFixed32LittleEndian() =>
        Assert.Equal([0x0d, 0x00, 0x00, 0x80, 0x3f], new ProtoWriter().Float(1, 1.0f).ToArray());

    [Fact]
    public void LargeFieldNumbersTakeTwoByteTags() =>
        // AttributeProto.type is field 20: tag (20 << 3) | 0 = 160 = 0xa0 0x01.
        Assert.Equal([0xa0, 0x01, 0x07], new ProtoWriter().Varint(20, 7).ToArray());

    [Theory]
    [InlineData("dcgan")]
    [InlineData("depthwise")]
    [InlineData("unet_up_nhwc")]
    [InlineData("vocoder_up")]
    [InlineData("volume_k3")]
    public void OnnxRuntimeLoadsTheModelWithTheShapesDeclared(string name)
    {
        ConvShape shape = ShapeTable.Get(name);
        using var session = new InferenceSession(OnnxModelBuilder.Build(shape, ShapeData.For(shape).Weights));

        var input = Assert.Single(session.InputMetadata);
        Assert.Equal(OnnxModelBuilder.InputName, input.Key);
        Assert.Equal(shape.InputDimensions, input.Value.Dimensions.Select(d => (long)d));
        var output = Assert.Single(session.OutputMetadata);
        Assert.Equal(OnnxModelBuilder.OutputName, output.Key);
        Assert.Equal(shape.OutputDimensions, output.Value.Dimensions.Select(d => (long)d));
    }

    [Fact]
    public void RejectsWeightsOfTheWrongLength() =>
        Assert.Throws<ArgumentException>(() => OnnxModelBuilder.Build(ShapeTable.Get("seed"), new float[8]));
}
