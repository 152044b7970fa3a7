using KernelGen.CompilerServices;

namespace KernelGen.Tests;

/// <summary>
/// The library entry point that delegating generated methods call (<see cref="DelegatedConvTranspose2D"/> and its 1-D and 3-D
/// siblings): bit for bit the prepared kernel, weights compared on every call, per thread, no allocation after a thread's
/// first call. The generator's side (the emitted method, its exceptions against the unrolled one's) is in the generator tests.
/// </summary>
public class DelegatedLayerTests
{
    private static ConvTranspose2D Dcgan(int maxDegreeOfParallelism = 1) =>
        new(16, 24, 4, stride: 2, padding: 1) { Activation = FusedActivation.Relu, MaxDegreeOfParallelism = maxDegreeOfParallelism };

    private static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    private static float[] Prepared(ConvTranspose2D layer, float[] input, int size, float[] weights, float[] bias)
    {
        var output = new float[layer.GetOutputLength(input.Length / (layer.InChannels * size * size), size, size)];
        layer.Prepare(weights, bias).Compute(input, size, size, output);
        return output;
    }

    private static void AssertBits(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"element {i}: {expected[i]} against {actual[i]}");
    }

    [Fact]
    public void ItComputesThePreparedKernelsResultBitForBitAndFollowsChangedWeights()
    {
        var definition = Dcgan();
        var layer = new DelegatedConvTranspose2D(definition, 5, 5, "input", "weights", "bias", "output");
        float[] input = Values(2 * 16 * 25, 1), weights = Values(definition.WeightsLength, 2), bias = Values(24, 3);
        var output = new float[2 * 24 * 10 * 10];

        layer.Compute(input, weights, bias, output);
        AssertBits(Prepared(definition, input, 5, weights, bias), output);

        // The same array with other values: the copy, not the span's address, decides.
        float[] first = (float[])output.Clone();
        float kept = weights[7];
        weights[7] += 0.5f;
        layer.Compute(input, weights, bias, output);
        AssertBits(Prepared(definition, input, 5, weights, bias), output);
        Assert.NotEqual(first, output);

        bias[3] = -bias[3];
        layer.Compute(input, weights, bias, output);
        AssertBits(Prepared(definition, input, 5, weights, bias), output);

        // Back to the first weights: their result again.
        weights[7] = kept;
        bias[3] = -bias[3];
        layer.Compute(input, weights, bias, output);
        AssertBits(first, output);
    }

    [Fact]
    public void NaNAndInfiniteWeightsGiveThePreparedKernelsResult()
    {
        var definition = Dcgan();
        var layer = new DelegatedConvTranspose2D(definition, 5, 5, "x", "w", "b", "y");
        float[] input = Values(16 * 25, 4), weights = Values(definition.WeightsLength, 5), bias = Values(24, 6);
        var output = new float[24 * 100];
        layer.Compute(input, weights, bias, output);
        weights[0] = float.NaN;
        weights[100] = float.PositiveInfinity;
        layer.Compute(input, weights, bias, output);
        AssertBits(Prepared(definition, input, 5, weights, bias), output);
    }

    [Fact]
    public void OneDimensionalAndThreeDimensionalLayersGiveTheirPreparedKernelsResult()
    {
        var oneD = new ConvTranspose1D(8, 12, 4, stride: 2, padding: 1) { Activation = FusedActivation.Tanh, MaxDegreeOfParallelism = 1 };
        var layer1D = new DelegatedConvTranspose1D(oneD, 9, "input", "weights", null, "output");
        float[] input = Values(2 * 8 * 9, 7), weights = Values(oneD.WeightsLength, 8);
        var output = new float[oneD.GetOutputLength(2, 9)];
        var expected = new float[output.Length];
        layer1D.Compute(input, weights, default, output);
        oneD.Prepare(weights).Compute(input, 9, expected);
        AssertBits(expected, output);

        var threeD = new ConvTranspose3D(4, 8, 3, stride: 2, padding: 1) { Activation = FusedActivation.LeakyRelu, LeakyReluSlope = 0.2f, MaxDegreeOfParallelism = 1 };
        var layer3D = new DelegatedConvTranspose3D(threeD, 3, 4, 5, "input", "weights", "bias", "output");
        input = Values(4 * 3 * 4 * 5, 9);
        weights = Values(threeD.WeightsLength, 10);
        float[] bias = Values(8, 11);
        output = new float[threeD.GetOutputLength(1, 3, 4, 5)];
        expected = new float[output.Length];
        layer3D.Compute(input, weights, bias, output);
        threeD.Prepare(weights, bias).Compute(input, 3, 4, 5, expected);
        AssertBits(expected, output);
    }

    [Fact]
    public void AfterAThreadsFirstCallNothingIsAllocatedEvenWhenTheWeightsChange()
    {
        var definition = Dcgan();
        var layer = new DelegatedConvTranspose2D(definition, 5, 5, "input", "weights", "bias", "output");
        float[] input = Values(16 * 25, 12), weights = Values(definition.WeightsLength, 13), bias = Values(24, 14);
        var output = new float[24 * 100];
        layer.Compute(input, weights, bias, output);
        layer.Compute(input, weights, bias, output);
        Assert.Equal(0, Allocations.FewestBytes(() => layer.Compute(input, weights, bias, output)));
        Assert.Equal(0, Allocations.FewestBytes(() =>
        {
            weights[1] += 1f;
            layer.Compute(input, weights, bias, output);
        }));
    }

    [Fact]
    public void EachThreadKeepsItsOwnWeights()
    {
        var definition = Dcgan();
        var layer = new DelegatedConvTranspose2D(definition, 5, 5, "input", "weights", "bias", "output");
        float[] input = Values(16 * 25, 15), bias = Values(24, 16);
        float[][] weights = [Values(definition.WeightsLength, 17), Values(definition.WeightsLength, 18)];
        float[][] expected = [Prepared(definition, input, 5, weights[0], bias), Prepared(definition, input, 5, weights[1], bias)];
        Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, t =>
        {
            var output = new float[24 * 100];
            for (int round = 0; round < 20; round++)
            {
                layer.Compute(input, weights[t], bias, output);
                AssertBits(expected[t], output);
            }
        });
    }

    [Fact]
    public void AnEmptyBatchWritesNothing()
    {
        var layer = new DelegatedConvTranspose2D(Dcgan(), 5, 5, "input", "weights", "bias", "output");
        var output = new float[] { 42f };
        layer.Compute([], new float[Dcgan().WeightsLength], new float[24], output);
        Assert.Equal(42f, output[0]);
    }

    [Fact]
    public void BadCallsThrowNamingTheGeneratedMethodsParameters()
    {
        var definition = Dcgan();
        var layer = new DelegatedConvTranspose2D(definition, 5, 5, "x", "w", "b", "y");
        float[] weights = new float[definition.WeightsLength], bias = new float[24];

        var e = Assert.Throws<ArgumentException>(() => layer.Compute(new float[399], weights, bias, new float[2400]));
        Assert.Equal(("x", "x has 399 elements, but it must hold a whole number of samples of inChannels * inputHeight * inputWidth = 16 * 5 * 5 = 400 elements. (Parameter 'x')"),
            (e.ParamName, e.Message));
        e = Assert.Throws<ArgumentException>(() => layer.Compute(new float[400], new float[5], bias, new float[2400]));
        Assert.Equal(("w", "w has 5 elements, but it must have exactly inChannels * (outChannels / groups) * kernelHeight * kernelWidth = 16 * 24 * 4 * 4 = 6144. (Parameter 'w')"),
            (e.ParamName, e.Message));
        e = Assert.Throws<ArgumentException>(() => layer.Compute(new float[400], weights, [], new float[2400]));
        Assert.Equal(("b", "b has 0 elements, but it must have exactly outChannels = 24. (Parameter 'b')"), (e.ParamName, e.Message));
        e = Assert.Throws<ArgumentException>(() => layer.Compute(new float[800], weights, bias, new float[2400]));
        Assert.Equal(("y", "y has 2400 elements, but it must have at least batch * outChannels * outputHeight * outputWidth = 2 * 24 * 10 * 10 = 4800. (Parameter 'y')"),
            (e.ParamName, e.Message));
        var buffer = new float[3000];
        e = Assert.Throws<ArgumentException>(() => layer.Compute(buffer.AsSpan(0, 400), weights, bias, buffer.AsSpan(300, 2400)));
        Assert.Equal(("y", "x overlaps y; they must be separate memory. (Parameter 'y')"), (e.ParamName, e.Message));

        Assert.Equal("definition", Assert.Throws<ArgumentException>(() => new DelegatedConvTranspose2D(Dcgan(2), 5, 5, "x", "w", "b", "y")).ParamName);
    }
}
