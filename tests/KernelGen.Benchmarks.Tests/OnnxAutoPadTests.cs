using KernelGen.Benchmarks.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace KernelGen.Benchmarks.Tests;

/// <summary>
/// Where ONNX Runtime puts the odd padding cell of <c>auto_pad</c> and <c>output_shape</c>, against
/// <see cref="ConvTranspose2D.FromOnnx"/> (which follows the current ONNX specification): the README and
/// <see cref="ConvTranspose2D.FromOnnx"/>'s remarks say which KernelGen mode reproduces ONNX Runtime, and this checks it.
/// </summary>
public sealed class OnnxAutoPadTests
{
    private static readonly (int, int) Input = (3, 3), Kernel = (3, 4), Stride = (2, 2);

    /// <summary>ONNX Runtime's output for the attributes, and KernelGen's for <paramref name="mode"/>.</summary>
    private static (float[] Ort, float[] KernelGen) Outputs(string ortAutoPad, (int, int)? outputShape, OnnxAutoPad mode)
    {
        var (ort, kernelGen, _) = Compare(ortAutoPad, outputShape, mode, mode);
        return (ort, kernelGen);
    }

    /// <summary>As <see cref="Outputs"/>, with KernelGen's output for a second mode: the cases must tell the two apart.</summary>
    private static (float[] Ort, float[] KernelGen, float[] Other) Compare(string ortAutoPad, (int, int)? outputShape, OnnxAutoPad mode, OnnxAutoPad other)
    {
        var x = Enumerable.Range(1, 9).Select(v => (float)v).ToArray();
        var w = Enumerable.Range(0, 12).Select(v => (float)(v * 0.25 - 1)).ToArray();
        using var session = new InferenceSession(OnnxModelBuilder.BuildAutoPad(1, Input, Kernel, Stride, ortAutoPad, outputShape, w));
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxModelBuilder.InputName, new DenseTensor<float>(x, [1, 1, 3, 3]))]);
        var ort = results.Single().AsTensor<float>();

        float[] Run(OnnxAutoPad autoPad)
        {
            var layer = ConvTranspose2D.FromOnnx(1, 1, Kernel, Input, autoPad, outputShape, Stride);
            var (height, width) = layer.GetOutputSize(3, 3);
            Assert.Equal([1, 1, height, width], ort.Dimensions.ToArray());
            var output = new float[height * width];
            layer.Compute(x, 3, 3, w, ReadOnlySpan<float>.Empty, output);
            return output;
        }

        return (ort.ToArray(), Run(mode), Run(other));
    }

    [Theory]
    // Without an output shape (rows 7 -> 6: an odd total) and with one (4 x 7 of an uncropped 7 x 8: odd totals on both
    // axes), ONNX Runtime 1.31 follows the current specification: SAME_UPPER crops the odd cell at the end, NOTSET and
    // SAME_LOWER at the beginning. (ONNX Runtime's own unit tests, and the specification's wording before 2021, place it
    // the other way round: that is the other SAME mode here.)
    [InlineData("SAME_UPPER", false, OnnxAutoPad.SameUpper, OnnxAutoPad.SameLower)]
    [InlineData("SAME_LOWER", false, OnnxAutoPad.SameLower, OnnxAutoPad.SameUpper)]
    [InlineData("SAME_UPPER", true, OnnxAutoPad.SameUpper, OnnxAutoPad.SameLower)]
    [InlineData("SAME_LOWER", true, OnnxAutoPad.SameLower, OnnxAutoPad.SameUpper)]
    [InlineData("NOTSET", true, OnnxAutoPad.NotSet, OnnxAutoPad.SameUpper)]
    public void OnnxRuntimePlacesTheOddCellAsKernelGenDoes(string ortAutoPad, bool withOutputShape, OnnxAutoPad mode, OnnxAutoPad other)
    {
        var (ort, kernelGen, otherMode) = Compare(ortAutoPad, withOutputShape ? (4, 7) : null, mode, other);
        Assert.Equal(ort, kernelGen);
        Assert.NotEqual(ort, otherMode); // the case tells the two placements apart
    }

    [Theory]
    [InlineData("VALID", null)]
    [InlineData("NOTSET", 8)]   // one cell larger than the uncropped 7 x 8 on both axes: added at the end
    public void ValidCropsNothingAndALargerOutputShapeGrowsAtTheEnd(string ortAutoPad, int? size)
    {
        var (ort, kernelGen) = Outputs(ortAutoPad, size is { } s ? (s, s + 1) : null, ortAutoPad == "VALID" ? OnnxAutoPad.Valid : OnnxAutoPad.NotSet);
        Assert.Equal(ort, kernelGen);
    }
}
