namespace KernelGen.Tests;

/// <summary>
/// <see cref="ConvTranspose3D.FromOnnx"/>: each axis resolves <c>auto_pad</c> / <c>output_shape</c> exactly as the 1-D layer
/// does for that axis alone (ONNX's rule is per axis), the pads land on the right sides, and every bad input is named.
/// </summary>
public class ConvTranspose3DFromOnnxTests
{
    [Theory]
    [InlineData(OnnxAutoPad.SameUpper)]
    [InlineData(OnnxAutoPad.SameLower)]
    [InlineData(OnnxAutoPad.Valid)]
    [InlineData(OnnxAutoPad.NotSet)]
    public void EachAxisResolvesAsThe1DLayerDoes(OnnxAutoPad autoPad)
    {
        Size3D kernel = (3, 2, 4), stride = (2, 3, 1), dilation = (1, 2, 1), input = (5, 4, 3);
        var conv = ConvTranspose3D.FromOnnx(4, 6, kernel, input, autoPad, stride: stride, dilation: dilation, groups: 2);

        var depth = ConvTranspose1D.FromOnnx(4, 6, kernel.Depth, input.Depth, autoPad, stride: stride.Depth, dilation: dilation.Depth, groups: 2);
        var height = ConvTranspose1D.FromOnnx(4, 6, kernel.Height, input.Height, autoPad, stride: stride.Height, dilation: dilation.Height, groups: 2);
        var width = ConvTranspose1D.FromOnnx(4, 6, kernel.Width, input.Width, autoPad, stride: stride.Width, dilation: dilation.Width, groups: 2);
        Assert.Equal(Padding3D.Asymmetric(depth.Padding.Begin, height.Padding.Begin, width.Padding.Begin, depth.Padding.End, height.Padding.End, width.Padding.End),
            conv.Padding);
        Assert.Equal(new Size3D(depth.OutputPadding, height.OutputPadding, width.OutputPadding), conv.OutputPadding);
        Assert.Equal((depth.GetOutputSize(5), height.GetOutputSize(4), width.GetOutputSize(3)), conv.GetOutputSize(5, 4, 3));
        Assert.Equal((2, 6), (conv.Groups, conv.OutChannels));
    }

    [Fact]
    public void SamePaddingGivesInputTimesStrideWithTheOddCellOnTheDocumentedSide()
    {
        // Kernel 3, stride 2: total padding (in - 1) * 2 + 3 - in * 2 = 1 cell per axis, at the end for SAME_UPPER.
        var upper = ConvTranspose3D.FromOnnx(1, 1, 3, (2, 3, 4), OnnxAutoPad.SameUpper, stride: 2);
        Assert.Equal(Padding3D.Asymmetric(0, 0, 0, 1, 1, 1), upper.Padding);
        Assert.Equal((4, 6, 8), upper.GetOutputSize(2, 3, 4));
        var lower = ConvTranspose3D.FromOnnx(1, 1, 3, (2, 3, 4), OnnxAutoPad.SameLower, stride: 2);
        Assert.Equal(Padding3D.Asymmetric(1, 1, 1, 0, 0, 0), lower.Padding);
        // VALID crops nothing: (in - 1) * 2 + 3.
        Assert.Equal((5, 7, 9), ConvTranspose3D.FromOnnx(1, 1, 3, (2, 3, 4), OnnxAutoPad.Valid, stride: 2).GetOutputSize(2, 3, 4));
    }

    [Fact]
    public void AnOutputShapeIsReachedExactlyAndExplicitPadsAreKept()
    {
        // Uncropped (in - 1) * 2 + 3 = 5, 7, 9; shapes 4 (crop 1, at the beginning), 7 (none), 10 (one cell of output padding).
        var shaped = ConvTranspose3D.FromOnnx(1, 1, 3, (2, 3, 4), outputShape: (4, 7, 10), stride: 2);
        Assert.Equal((4, 7, 10), shaped.GetOutputSize(2, 3, 4));
        Assert.Equal(Padding3D.Asymmetric(1, 0, 0, 0, 0, 0), shaped.Padding);
        Assert.Equal(new Size3D(0, 0, 1), shaped.OutputPadding);

        var explicitPads = ConvTranspose3D.FromOnnx(1, 1, 3, (2, 2, 2), pads: Padding3D.Asymmetric(1, 0, 2, 0, 1, 0), outputPadding: (1, 0, 1), stride: 2);
        Assert.Equal(Padding3D.Asymmetric(1, 0, 2, 0, 1, 0), explicitPads.Padding);
        Assert.Equal(new Size3D(1, 0, 1), explicitPads.OutputPadding);
        Assert.Equal((5, 4, 4), explicitPads.GetOutputSize(2, 2, 2));
    }

    [Fact]
    public void EveryBadInputIsRejectedNamingTheParameter()
    {
        Assert.Equal("pads", Assert.Throws<ArgumentException>(() =>
            ConvTranspose3D.FromOnnx(1, 1, 3, (2, 2, 2), OnnxAutoPad.SameUpper, pads: 1, stride: 2)).ParamName);
        Assert.Equal("pads", Assert.Throws<ArgumentException>(() =>
            ConvTranspose3D.FromOnnx(1, 1, 3, (2, 2, 2), outputShape: (4, 4, 4), pads: 1, stride: 2)).ParamName);
        Assert.Equal("autoPad", Assert.Throws<ArgumentOutOfRangeException>(() => ConvTranspose3D.FromOnnx(1, 1, 3, (2, 2, 2), (OnnxAutoPad)9)).ParamName);
        // 2 cells past the uncropped 5 with stride 2: output padding 2 is not below the stride.
        var tooDeep = Assert.Throws<ArgumentOutOfRangeException>(() => ConvTranspose3D.FromOnnx(1, 1, 3, (2, 2, 2), outputShape: (7, 4, 4), stride: 2));
        // The exception names the C# parameter; its message names the axis.
        Assert.Equal("outputShape", tooDeep.ParamName);
        Assert.Contains("outputShape.Depth is 7", tooDeep.Message, StringComparison.Ordinal);
        var empty = Assert.Throws<ArgumentOutOfRangeException>(() => ConvTranspose3D.FromOnnx(1, 1, 3, (2, 2, 2), outputShape: (4, 4, 0), stride: 2));
        Assert.Equal("outputShape", empty.ParamName);
        Assert.Contains("outputShape.Width is 0", empty.Message, StringComparison.Ordinal);
        var noHeight = Assert.Throws<ArgumentOutOfRangeException>(() => ConvTranspose3D.FromOnnx(1, 1, 3, (2, 0, 2), OnnxAutoPad.SameUpper));
        Assert.Equal("inputSize", noHeight.ParamName);
        Assert.Contains("inputSize.Height is 0", noHeight.Message, StringComparison.Ordinal);
        Assert.Equal("groups", Assert.Throws<ArgumentOutOfRangeException>(() => ConvTranspose3D.FromOnnx(3, 2, 3, (2, 2, 2), groups: 2)).ParamName);
    }
}
