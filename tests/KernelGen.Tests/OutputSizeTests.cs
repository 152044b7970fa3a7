namespace KernelGen.Tests;

/// <summary>
/// A requested output size: PyTorch's <c>output_size</c> (<see cref="ConvTranspose2D.ForOutputSize"/>) and ONNX's
/// <c>auto_pad</c> / <c>output_shape</c> (<see cref="ConvTranspose2D.FromOnnx"/>), checked against the numbers PyTorch and
/// the ONNX specification give (ONNX Runtime's own placement is checked in KernelGen.Benchmarks.Tests).
/// </summary>
public class OutputSizeTests
{
    private static readonly float[] CourseInput = [2, 1, 3, 2];
    private static readonly float[] CourseFilter = [1, 2, 1, 2, 0, 1, 0, 2, 1];

    private static float[] Run(ConvTranspose2D layer, float[] input, int height, int width, float[] weights)
    {
        var (outH, outW) = layer.GetOutputSize(height, width);
        var output = new float[layer.OutChannels * outH * outW];
        layer.Compute(input, height, width, weights, ReadOnlySpan<float>.Empty, output);
        return output;
    }

    [Fact]
    public void PyTorchOutputSizeDerivesTheCourseExamplesOutputPadding()
    {
        var layer = ConvTranspose2D.ForOutputSize(1, 1, 3, inputSize: (2, 2), outputSize: (4, 4), stride: 2, padding: 1);
        Assert.Equal(new Size2D(1, 1), layer.OutputPadding);
        Assert.Equal([0, 4, 0, 1, 10, 7, 6, 3, 0, 7, 0, 2, 6, 3, 4, 2], Run(layer, CourseInput, 2, 2, CourseFilter));
    }

    [Fact]
    public void PyTorchOutputSizeMayDifferPerAxis()
    {
        var layer = ConvTranspose2D.ForOutputSize(1, 1, 3, inputSize: (2, 2), outputSize: (3, 4), stride: 2, padding: 1);
        Assert.Equal(new Size2D(0, 1), layer.OutputPadding);
        Assert.Equal([0, 4, 0, 1, 10, 7, 6, 3, 0, 7, 0, 2], Run(layer, CourseInput, 2, 2, CourseFilter));
    }

    [Theory]
    [InlineData(2, 4, "outputSize", "outputSize.Height is 2, but for an input of 2 it must be between 3 and 4")]
    [InlineData(4, 5, "outputSize", "outputSize.Width is 5, but for an input of 2 it must be between 3 and 4")]
    public void PyTorchOutputSizeOutsideItsRangeIsRejected(int height, int width, string parameter, string message)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ConvTranspose2D.ForOutputSize(1, 1, 3, inputSize: (2, 2), outputSize: (height, width), stride: 2, padding: 1));
        Assert.Equal(parameter, error.ParamName);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    /// <summary>ONNX's backend test test_convtranspose_output_shape: a 3x3 input of 0..8, two 3x3 filters of ones, strides (3, 2), output_shape (10, 8).</summary>
    [Fact]
    public void OnnxOutputShapeLargerThanTheUncroppedOutputAddsCellsAtTheEnd()
    {
        float[] input = [0, 1, 2, 3, 4, 5, 6, 7, 8];
        float[] weights = Enumerable.Repeat(1f, 18).ToArray();
        var layer = ConvTranspose2D.FromOnnx(1, 2, 3, inputSize: (3, 3), outputShape: (10, 8), stride: (3, 2));
        Assert.Equal(new Padding2D(0, 0, 0, 0), layer.Padding);
        Assert.Equal(new Size2D(1, 1), layer.OutputPadding);

        float[] row0 = [0, 0, 1, 1, 3, 2, 2, 0], row1 = [3, 3, 7, 4, 9, 5, 5, 0], row2 = [6, 6, 13, 7, 15, 8, 8, 0], zeros = new float[8];
        float[][] channel = [row0, row0, row0, row1, row1, row1, row2, row2, row2, zeros];
        float[] expected = [.. channel.SelectMany(r => r), .. channel.SelectMany(r => r)];
        Assert.Equal(expected, Run(layer, input, 3, 3, weights));
    }

    [Theory]
    // Width: k3 s2 on 3 is 7 uncropped; SAME's 6 leaves one cell to crop: at the end for SAME_UPPER, at the beginning otherwise.
    [InlineData(OnnxAutoPad.SameUpper, 0, 0, 1)]
    [InlineData(OnnxAutoPad.SameLower, 0, 1, 0)]
    [InlineData(OnnxAutoPad.Valid, 0, 0, 0)]
    // With an output shape 4 wide, three to crop, the odd one as above; NOTSET and VALID place it as SAME_LOWER does.
    [InlineData(OnnxAutoPad.SameUpper, 4, 1, 2)]
    [InlineData(OnnxAutoPad.SameLower, 4, 2, 1)]
    [InlineData(OnnxAutoPad.NotSet, 4, 2, 1)]
    [InlineData(OnnxAutoPad.Valid, 4, 2, 1)]
    public void OnnxAutoPadPlacesTheOddCellAsTheSpecificationSays(OnnxAutoPad autoPad, int outputWidth, int expectedLeft, int expectedRight)
    {
        // Height: k4 s2 on 3 is 8 uncropped: SAME's 6 or the shape's 4 leave even totals, split evenly.
        Size2D? shape = outputWidth == 0 ? null : (4, outputWidth);
        var layer = ConvTranspose2D.FromOnnx(1, 1, (4, 3), inputSize: (3, 3), autoPad, shape, stride: 2);
        int heightTotal = 8 - (shape?.Height ?? (autoPad == OnnxAutoPad.Valid ? 8 : 6));
        Assert.Equal(new Padding2D(heightTotal / 2, expectedLeft, heightTotal / 2, expectedRight), layer.Padding);
        var (height, width) = layer.GetOutputSize(3, 3);
        Assert.Equal(shape ?? (autoPad == OnnxAutoPad.Valid ? new Size2D(8, 7) : new Size2D(6, 6)), new Size2D(height, width));
    }

    [Fact]
    public void OnnxNotSetWithoutAnOutputShapeUsesTheExplicitPads()
    {
        var layer = ConvTranspose2D.FromOnnx(1, 1, 3, inputSize: (2, 2), pads: Padding2D.Asymmetric(1, 1, 1, 1), outputPadding: 1, stride: 2);
        Assert.Equal([0, 4, 0, 1, 10, 7, 6, 3, 0, 7, 0, 2, 6, 3, 4, 2], Run(layer, CourseInput, 2, 2, CourseFilter));
    }

    [Fact]
    public void OnnxPadsWithAnAutoPadAreRejected()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            ConvTranspose2D.FromOnnx(1, 1, 3, inputSize: (2, 2), OnnxAutoPad.SameUpper, pads: 1, stride: 2));
        Assert.Equal("pads", error.ParamName);
    }

    [Fact]
    public void OnnxOutputShapeTooLargeForOutputPaddingIsRejected()
    {
        // Uncropped 7 wide (k3 s2 on 3); 9 needs 2 extra cells, but output padding must stay below the stride (2).
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ConvTranspose2D.FromOnnx(1, 1, 3, inputSize: (3, 3), outputShape: (7, 9), stride: 2));
        Assert.Equal("outputShape", error.ParamName);
        Assert.Contains("outputShape.Width is 9", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUndefinedAutoPadIsRejected() =>
        Assert.Equal("autoPad", Assert.Throws<ArgumentOutOfRangeException>(() => ConvTranspose2D.FromOnnx(1, 1, 3, (2, 2), (OnnxAutoPad)9)).ParamName);
}
