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
        Assert.Equal((height, width), (shape.OutputHeight, shape.OutputWidth));
        var library = new ConvTranspose2D(shape.InChannels, shape.OutChannels, shape.Kernel, shape.Stride, shape.Padding,
            shape.OutputPadding, groups: shape.Groups);
        Assert.Equal((height, width), library.GetOutputSize(shape.InputHeight, shape.InputWidth));
    }

    [Fact]
    public void TheTableHasTheIssuesNineShapesInOrder()
    {
        Assert.Equal(["seed", "small_fixed", "game_up", "mono_up", "unet_up", "dcgan", "depthwise", "stride1", "unet_up_nhwc"],
            ShapeTable.All.Select(s => s.Name));
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

    [Theory]
    [MemberData(nameof(ShapeNames))]
    public void ReferenceAgreesWithTheProjectsNaiveReference(string name)
    {
        ConvShape shape = ShapeTable.Get(name);
        ShapeData data = ShapeData.For(shape);
        var (values, magnitudes) = ReferenceConvolution.Compute(shape, data.Input, data.Weights);
        float[] project = NaiveReference.ConvTranspose2D(data.Input, ConvShape.Batch, shape.InChannels, shape.InputHeight, shape.InputWidth,
            data.Weights, null, shape.OutChannels, (shape.Kernel, shape.Kernel), (shape.Stride, shape.Stride),
            (shape.Padding, shape.Padding, shape.Padding, shape.Padding), (shape.OutputPadding, shape.OutputPadding), (1, 1),
            shape.Groups, channelsLast: shape.IsChannelsLast);

        Assert.Equal(project.Length, values.Length);
        for (int i = 0; i < values.Length; i++)
        {
            // Both accumulate in double and round once; they may differ only in the last float bit.
            Assert.True(Math.Abs(values[i] - project[i]) <= 1e-6 * magnitudes[i] + float.Epsilon, $"{name}[{i}]: {values[i]} vs {project[i]}");
            Assert.True(magnitudes[i] >= Math.Abs(values[i]));
        }
    }
}
