using KernelGen.Benchmarks.Correctness;
using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Shapes;
using KernelGen.Tests;

namespace KernelGen.Benchmarks.Tests;

/// <summary>The shape table is the issue's, and the reference every engine is judged by is right.</summary>
public sealed class ShapeAndReferenceTests
{
    public static TheoryData<string> ShapeNames => new(ShapeTable.All.Select(s => s.Name));

    [Theory]
    [InlineData("seed", 4, 4)]
    [InlineData("small_fixed", 16, 16)]
    [InlineData("game_up", 128, 128)]
    [InlineData("mono_up", 512, 512)]
    [InlineData("unet_up", 64, 64)]
    [InlineData("dcgan", 32, 32)]
    [InlineData("depthwise", 128, 128)]
    [InlineData("stride1", 32, 32)]
    [InlineData("unet_up_nhwc", 64, 64)]
    public void OutputSizesAreTheIssues(string name, int height, int width)
    {
        ConvShape shape = ShapeTable.Get(name);
        Assert.Equal(2, shape.Rank);
        Assert.Equal((height, width), (shape.OutputHeight, shape.OutputWidth));
        var library = new ConvTranspose2D(shape.InChannels, shape.OutChannels, shape.Kernel, shape.Stride, shape.Padding,
            shape.OutputPadding, groups: shape.Groups);
        Assert.Equal((height, width), library.GetOutputSize(shape.InputHeight, shape.InputWidth));
    }

    [Theory]
    [InlineData("vocoder_up", 256)]
    [InlineData("vocoder_up2", 4096)]
    public void OneDimensionalOutputLengthsAreTheIssues(string name, int length)
    {
        ConvShape shape = ShapeTable.Get(name);
        Assert.Equal((1, 1, 1, length), (shape.Rank, shape.OutputDepth, shape.OutputHeight, shape.OutputWidth));
        Assert.Equal([1L, shape.OutChannels, length], shape.OutputDimensions);
        Assert.Equal([(long)shape.InChannels, shape.OutChannels, shape.Kernel], shape.WeightDimensions);
        var library = new ConvTranspose1D(shape.InChannels, shape.OutChannels, shape.Kernel, shape.Stride, shape.Padding,
            shape.OutputPadding, groups: shape.Groups);
        Assert.Equal(length, library.GetOutputSize(shape.InputWidth));
        Assert.StartsWith("1-D ", shape.Describe());
        Assert.Contains($"L {shape.InputWidth} -> {length}", shape.Describe());
    }

    [Theory]
    [InlineData("volume_up", 32)]
    [InlineData("volume_k3", 16)]
    public void ThreeDimensionalOutputSizesAreTheIssues(string name, int side)
    {
        ConvShape shape = ShapeTable.Get(name);
        Assert.Equal((3, side, side, side), (shape.Rank, shape.OutputDepth, shape.OutputHeight, shape.OutputWidth));
        Assert.Equal([1L, shape.OutChannels, side, side, side], shape.OutputDimensions);
        Assert.Equal([(long)shape.InChannels, shape.OutChannels, shape.Kernel, shape.Kernel, shape.Kernel], shape.WeightDimensions);
        var library = new ConvTranspose3D(shape.InChannels, shape.OutChannels, shape.Kernel, shape.Stride, shape.Padding,
            shape.OutputPadding, groups: shape.Groups);
        Assert.Equal((side, side, side), library.GetOutputSize(shape.InputDepth, shape.InputHeight, shape.InputWidth));
        Assert.Contains($"-> {side}x{side}x{side}", shape.Describe());
    }

    [Fact]
    public void TheTableHasTheIssuesShapesInOrder()
    {
        Assert.Equal(["seed", "small_fixed", "game_up", "mono_up", "unet_up", "dcgan", "depthwise", "stride1", "unet_up_nhwc",
                "vocoder_up", "vocoder_up2", "volume_up", "volume_k3"],
            ShapeTable.All.Select(s => s.Name));
        Assert.Equal(ShapeTable.Get("vocoder_up"), ConvShape.OneD("vocoder_up", 512, 256, 32, 16, 8, 4, 0, 1));
        Assert.Equal(ShapeTable.Get("vocoder_up2"), ConvShape.OneD("vocoder_up2", 128, 64, 2048, 4, 2, 1, 0, 1));
        Assert.Equal(ShapeTable.Get("volume_up"), ConvShape.ThreeD("volume_up", 64, 32, 16, 16, 16, 2, 2, 0, 0, 1));
        Assert.Equal(ShapeTable.Get("volume_k3"), ConvShape.ThreeD("volume_k3", 32, 16, 8, 8, 8, 3, 2, 1, 1, 1));
        ConvShape unet = ShapeTable.Get("unet_up"), nhwc = ShapeTable.Get("unet_up_nhwc");
        Assert.Equal(unet with { Name = nhwc.Name, Layout = TensorLayout.Nhwc }, nhwc);
        Assert.Equal(32, ShapeTable.Get("depthwise").Groups);
        Assert.Throws<ArgumentException>(() => ShapeTable.Get("no_such_shape"));
    }

    [Fact]
    public void FlopsFollowTheIssuesFormula()
    {
        // 2 * N * Cin * H * W * (Cout / groups) * kH * kW
        Assert.Equal(2L * 128 * 32 * 32 * 64 * 2 * 2, ShapeTable.Get("unet_up").Flops);
        Assert.Equal(2L * 32 * 64 * 64 * 1 * 4 * 4, ShapeTable.Get("depthwise").Flops);
        Assert.Equal(2L * 1 * 2 * 2 * 1 * 3 * 3, ShapeTable.Get("seed").Flops);
        // Every rank: 2 * N * Cin * spatial * (Cout / groups) * prod(k).
        Assert.Equal(2L * 512 * 32 * 256 * 16, ShapeTable.Get("vocoder_up").Flops);
        Assert.Equal(2L * 128 * 2048 * 64 * 4, ShapeTable.Get("vocoder_up2").Flops);
        Assert.Equal(2L * 64 * 16 * 16 * 16 * 32 * 2 * 2 * 2, ShapeTable.Get("volume_up").Flops);
        Assert.Equal(2L * 32 * 8 * 8 * 8 * 16 * 3 * 3 * 3, ShapeTable.Get("volume_k3").Flops);
    }

    [Fact]
    public void DataIsDeterministicAndInRange()
    {
        ShapeData first = ShapeData.For(ShapeTable.Get("dcgan")), second = ShapeData.For(ShapeTable.Get("dcgan"));
        Assert.Equal(first.Input, second.Input);
        Assert.Equal(first.Weights, second.Weights);
        Assert.All(first.Input, v => Assert.InRange(v, -1f, 1f));
        Assert.NotEqual(ShapeData.For(ShapeTable.Get("unet_up")).Input, ShapeData.For(ShapeTable.Get("unet_up_nhwc")).Input);
        // The seed is a fixed function of the name, not string.GetHashCode (randomised per process).
        Assert.Equal(ShapeData.StableSeed("dcgan"), ShapeData.StableSeed("dcgan"));
        Assert.Equal(unchecked((int)((((2166136261u ^ 'a') * 16777619u)) & int.MaxValue)), ShapeData.StableSeed("a"));
    }

    [Fact]
    public void ReferenceAndNaiveLoopReproduceTheCourseExample()
    {
        ConvShape seed = ShapeTable.Get("seed");
        float[] input = [2, 1, 3, 2];
        float[] weights = [1, 2, 1, 2, 0, 1, 0, 2, 1];
        float[] expected = [0, 4, 0, 1, 10, 7, 6, 3, 0, 7, 0, 2, 6, 3, 4, 2];

        Assert.Equal(expected, ReferenceConvolution.Compute(seed, input, weights).Values);
        var naive = new float[seed.OutputLength];
        NaiveEngine.Scatter(seed, input, weights, naive);
        Assert.Equal(expected, naive);
    }

    [Fact]
    public void ReferenceAndNaiveLoopReproduceA1DExampleWorkedByHand()
    {
        // x = [1, 2, 3], w = [1, 10, 100], stride 2, padding 1: the full output is
        // [1, 10, 100+2, 20, 200+3, 30, 300] (length 7); padding crops one cell from each end.
        ConvShape shape = ConvShape.OneD("hand_1d", 1, 1, 3, 3, 2, 1, 0, 1);
        float[] expected = [10, 102, 20, 203, 30];
        Assert.Equal(expected, ReferenceConvolution.Compute(shape, [1, 2, 3], [1, 10, 100]).Values);
        var naive = new float[shape.OutputLength];
        NaiveEngine.Scatter(shape, [1, 2, 3], [1, 10, 100], naive);
        Assert.Equal(expected, naive);
    }

    [Fact]
    public void ReferenceAndNaiveLoopReproduceA3DExampleWorkedByHand()
    {
        // A 2x1x1 input x = [1, 2] (depth-major), a 2x2x2 kernel, stride 1: w[kz, ky, kx] is 3 for kz = 0 and 5 for kz = 1.
        // Output slice oz receives x[iz] * w[oz - iz] on all four of its cells (each (ky, kx) reaches one of them).
        ConvShape shape = ConvShape.ThreeD("hand_3d", 1, 1, 2, 1, 1, 2, 1, 0, 0, 1);
        float[] input = [1, 2];
        float[] weights = [3, 3, 3, 3, 5, 5, 5, 5];
        // Output 3x2x2: slice 0 = 1*3, slice 1 = 1*5 + 2*3, slice 2 = 2*5.
        float[] expected = [3, 3, 3, 3, 11, 11, 11, 11, 10, 10, 10, 10];
        Assert.Equal(expected, ReferenceConvolution.Compute(shape, input, weights).Values);
        var naive = new float[shape.OutputLength];
        NaiveEngine.Scatter(shape, input, weights, naive);
        Assert.Equal(expected, naive);
    }

    [Theory]
    [MemberData(nameof(ShapeNames))]
    public void ReferenceAgreesWithTheProjectsNaiveReference(string name)
    {
        // The project's reference is 2-D: a 1-D shape is its height-1 image with a (1, k) kernel, and a 3-D shape is, per
        // output slice, the sum over the (input slice, depth tap) pairs that reach it of 2-D layers on that tap's weights.
        ConvShape shape = ShapeTable.Get(name);
        ShapeData data = ShapeData.For(shape);
        var (values, magnitudes) = ReferenceConvolution.Compute(shape, data.Input, data.Weights);
        float[] project = ProjectReference(shape, data.Input, data.Weights);

        Assert.Equal(project.Length, values.Length);
        for (int i = 0; i < values.Length; i++)
        {
            // Both accumulate in double and round once; they may differ only in the last float bit.
            Assert.True(Math.Abs(values[i] - project[i]) <= 1e-6 * magnitudes[i] + float.Epsilon, $"{name}[{i}]: {values[i]} vs {project[i]}");
            Assert.True(magnitudes[i] >= Math.Abs(values[i]));
        }
    }

    private static float[] ProjectReference(ConvShape shape, float[] input, float[] weights)
    {
        float[] Plane(float[] planeInput, float[] planeWeights) => NaiveReference.ConvTranspose2D(planeInput, ConvShape.Batch,
            shape.InChannels, shape.InputHeight, shape.InputWidth, planeWeights, null, shape.OutChannels, (shape.KernelHeight, shape.Kernel),
            (shape.StrideHeight, shape.Stride), (shape.PaddingHeight, shape.Padding, shape.PaddingHeight, shape.Padding),
            (shape.Rank >= 2 ? shape.OutputPadding : 0, shape.OutputPadding), (1, 1), shape.Groups, channelsLast: shape.IsChannelsLast);
        if (shape.Rank < 3)
            return Plane(input, weights);

        Assert.False(shape.IsChannelsLast);
        int inPlane = shape.InputHeight * shape.InputWidth, outPlane = shape.OutputHeight * shape.OutputWidth;
        int tapPlane = shape.KernelHeight * shape.Kernel, outputDepth = shape.OutputDepth;
        var result = new float[shape.OutputLength];
        for (int iz = 0; iz < shape.InputDepth; iz++)
        for (int kz = 0; kz < shape.KernelDepth; kz++)
        {
            int oz = iz * shape.StrideDepth + kz - shape.PaddingDepth;
            if ((uint)oz >= (uint)outputDepth) continue;
            var slice = new float[shape.InChannels * inPlane];
            for (int c = 0; c < shape.InChannels; c++)
                Array.Copy(input, (c * shape.InputDepth + iz) * inPlane, slice, c * inPlane, inPlane);
            var tap = new float[shape.InChannels * shape.OutPerGroup * tapPlane];
            for (int pair = 0; pair < shape.InChannels * shape.OutPerGroup; pair++)
                Array.Copy(weights, (pair * shape.KernelDepth + kz) * tapPlane, tap, pair * tapPlane, tapPlane);
            float[] plane = Plane(slice, tap);
            for (int c = 0; c < shape.OutChannels; c++)
            for (int i = 0; i < outPlane; i++)
                result[(c * outputDepth + oz) * outPlane + i] += plane[c * outPlane + i];
        }

        return result;
    }
}
