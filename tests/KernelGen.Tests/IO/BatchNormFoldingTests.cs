using CsCheck;
using KernelGen.IO;

namespace KernelGen.Tests.IO;

/// <summary>
/// <see cref="BatchNormFolding"/> and <see cref="BatchNormParameters"/>: the weights PyTorch trained-looking layers saved,
/// folded, against PyTorch's own <c>batch_norm(conv_transposeNd(x))</c> in eval mode (2-D through
/// <see cref="ConvTranspose2D"/>, 1-D and 3-D through the naive reference), folded against unfolded for random grouped
/// layers of every rank, and every bad input.
/// </summary>
public sealed class BatchNormFoldingTests
{
    /// <summary>PyTorch computes in float; 1e-4 relative (to at least 1) leaves room for its and our summation orders.</summary>
    private const double PyTorchTolerance = 1e-4;

    [Fact]
    public void Folded2DLayerComputesPyTorchsConvolutionThenBatchNorm()
    {
        // make_io_fixtures.py: ConvTranspose2d(4, 6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0),
        // dilation=(1, 2), groups=2, bias=False), then BatchNorm2d(6, eps=1e-3).
        using var model = SafeTensorsFile.Open(IoFixtures.PathOf("model_f32.safetensors"));
        var conv = new ConvTranspose2D(4, 6, kernelSize: (3, 2), stride: (2, 1), padding: (1, 0), outputPadding: (1, 0), dilation: (1, 2), groups: 2);
        float[] weights = model.ReadSingle("up2.weight");
        Assert.Equal(conv.WeightsLength, weights.Length);
        Assert.False(model.Contains("up2.bias"));
        BatchNormParameters bn = model.ReadBatchNorm("bn2", epsilon: 1e-3f);

        var (foldedWeights, foldedBias) = BatchNormFolding.Fold(conv, weights, ReadOnlySpan<float>.Empty, bn);

        float[] input = NpyFile.ReadSingle(IoFixtures.PathOf("conv2d_input.npy"), out int[] inputShape);
        float[] expected = NpyFile.ReadSingle(IoFixtures.PathOf("conv2d_output.npy"), out int[] outputShape);
        Assert.Equal([2, 4, 3, 4], inputShape);
        (int height, int width) = conv.GetOutputSize(inputShape[2], inputShape[3]);
        Assert.Equal([2, 6, height, width], outputShape);
        var output = new float[expected.Length];
        conv.Compute(input, inputShape[2], inputShape[3], foldedWeights, foldedBias, output);
        IoFixtures.AssertClose(expected, output, PyTorchTolerance, "folded 2-D layer vs PyTorch");

        // Without folding the result is far off: the test sees the normalisation.
        var unfolded = new float[expected.Length];
        conv.Compute(input, inputShape[2], inputShape[3], weights, ReadOnlySpan<float>.Empty, unfolded);
        Assert.Contains(expected.Zip(unfolded), p => Math.Abs(p.First - p.Second) > 0.1);
    }

    [Fact]
    public void AFolded1DLayerRunsOnConvTranspose1DAsPyTorchComputesIt()
    {
        // make_io_fixtures.py's up1 + bn1: kernel 3, stride 2, padding 1, output padding 1, groups 2 (the Theory below).
        using var model = SafeTensorsFile.Open(IoFixtures.PathOf("model_f32.safetensors"));
        int[] shape = model.GetShape("up1.weight");
        var conv = new ConvTranspose1D(shape[0], shape[1] * 2, 3, stride: 2, padding: 1, outputPadding: 1, groups: 2);
        var (weights, bias) = BatchNormFolding.Fold(conv, model.ReadSingle("up1.weight"), model.ReadSingle("up1.bias"), model.ReadBatchNorm("bn1", 1e-5f));
        float[] input = NpyFile.ReadSingle(IoFixtures.PathOf("conv1d_input.npy"), out int[] inputShape);
        float[] expected = NpyFile.ReadSingle(IoFixtures.PathOf("conv1d_output.npy"), out _);
        var output = new float[expected.Length];
        conv.Compute(input, inputShape[2], weights, bias, output);
        IoFixtures.AssertClose(expected, output, PyTorchTolerance, "folded ConvTranspose1D vs PyTorch");
    }

    [Fact]
    public void AFolded3DLayerRunsOnConvTranspose3DAsPyTorchComputesIt()
    {
        // make_io_fixtures.py's up3 + bn3: kernel (2, 3, 2), stride (2, 1, 2), padding (0, 1, 0).
        using var model = SafeTensorsFile.Open(IoFixtures.PathOf("model_f32.safetensors"));
        int[] shape = model.GetShape("up3.weight");
        var conv = new ConvTranspose3D(shape[0], shape[1], (2, 3, 2), stride: (2, 1, 2), padding: (0, 1, 0));
        var (weights, bias) = BatchNormFolding.Fold(conv, model.ReadSingle("up3.weight"), model.ReadSingle("up3.bias"), model.ReadBatchNorm("bn3", 1e-5f));
        float[] input = NpyFile.ReadSingle(IoFixtures.PathOf("conv3d_input.npy"), out int[] inputShape);
        float[] expected = NpyFile.ReadSingle(IoFixtures.PathOf("conv3d_output.npy"), out _);
        var output = new float[expected.Length];
        conv.Compute(input, inputShape[2], inputShape[3], inputShape[4], weights, bias, output);
        IoFixtures.AssertClose(expected, output, PyTorchTolerance, "folded ConvTranspose3D vs PyTorch");
    }

    [Theory]
    [InlineData("conv1d", "up1", "bn1", 1e-5f, new[] { 3 }, new[] { 2 }, new[] { 1 }, new[] { 1 }, new[] { 1 }, 2)]
    [InlineData("conv3d", "up3", "bn3", 1e-5f, new[] { 2, 3, 2 }, new[] { 2, 1, 2 }, new[] { 0, 1, 0 }, new[] { 0, 0, 0 }, new[] { 1, 1, 1 }, 1)]
    public void Folded1DAnd3DLayersComputePyTorchsConvolutionThenBatchNorm(string fixture, string conv, string norm, float epsilon,
        int[] kernel, int[] stride, int[] padding, int[] outputPadding, int[] dilation, int groups)
    {
        using var model = SafeTensorsFile.Open(IoFixtures.PathOf("model_f32.safetensors"));
        float[] weights = model.ReadSingle($"{conv}.weight"), bias = model.ReadSingle($"{conv}.bias");
        int[] weightShape = model.GetShape($"{conv}.weight");
        int inChannels = weightShape[0], outChannels = weightShape[1] * groups;
        Assert.Equal(kernel, weightShape[2..]);
        BatchNormParameters bn = model.ReadBatchNorm(norm, epsilon);

        var (foldedWeights, foldedBias) = BatchNormFolding.Fold(weights, bias, inChannels, outChannels, groups, NaiveConvTranspose.Product(kernel), bn);

        float[] input = NpyFile.ReadSingle(IoFixtures.PathOf($"{fixture}_input.npy"), out int[] inputShape);
        float[] expected = NpyFile.ReadSingle(IoFixtures.PathOf($"{fixture}_output.npy"), out int[] outputShape);
        int[] spatial = inputShape[2..];
        Assert.Equal(NaiveConvTranspose.OutputSize(spatial, kernel, stride, padding, outputPadding, dilation), outputShape[2..]);

        double[] folded = NaiveConvTranspose.Compute(input, inputShape[0], inChannels, spatial, foldedWeights, foldedBias, outChannels,
            kernel, stride, padding, outputPadding, dilation, groups);
        IoFixtures.AssertClose(expected, folded.Select(v => (float)v).ToArray(), PyTorchTolerance, $"folded {fixture} vs PyTorch");

        double[] convolved = NaiveConvTranspose.Compute(input, inputShape[0], inChannels, spatial, weights, bias, outChannels,
            kernel, stride, padding, outputPadding, dilation, groups);
        int plane = NaiveConvTranspose.Product(outputShape[2..]);
        var normalised = convolved.Select((v, i) => (float)bn.Apply(i / plane % outChannels, v)).ToArray();
        IoFixtures.AssertClose(normalised, folded.Select(v => (float)v).ToArray(), 1e-5, $"folded vs unfolded {fixture}");
    }

    [Fact]
    public void FoldingEqualsConvolutionThenNormalisationForRandomGroupedLayersOfEveryRank()
    {
        var layers =
            from rank in Gen.Int[1, 3]
            from groups in Gen.Int[1, 3]
            from inPerGroup in Gen.Int[1, 3]
            from outPerGroup in Gen.Int[1, 3]
            from kernel in Gen.Int[1, 3].Array[rank]
            from stride in Gen.Int[1, 3].Array[rank]
            from size in Gen.Int[1, 4].Array[rank]
            from hasBias in Gen.Bool
            from epsilon in Gen.OneOfConst(0f, 1e-5f, 1e-3f, 0.5f)
            from seed in Gen.Int
            select (rank, groups, inPerGroup, outPerGroup, kernel, stride, size, hasBias, epsilon, seed);

        layers.Sample(c =>
        {
            var random = new Random(c.seed);
            int inChannels = c.groups * c.inPerGroup, outChannels = c.groups * c.outPerGroup, kernelCount = NaiveConvTranspose.Product(c.kernel);
            float[] Values(int n, double scale, double offset = 0) => Enumerable.Range(0, n).Select(_ => (float)(offset + scale * (2 * random.NextDouble() - 1))).ToArray();
            float[] weights = Values(inChannels * c.outPerGroup * kernelCount, 1), bias = c.hasBias ? Values(outChannels, 1) : [];
            var bn = new BatchNormParameters(Values(outChannels, 1, 0.5), Values(outChannels, 1), Values(outChannels, 1),
                Values(outChannels, 0.9, 1), c.epsilon);
            float[] input = Values(2 * inChannels * NaiveConvTranspose.Product(c.size), 1);
            int[] zeros = new int[c.rank], ones = Enumerable.Repeat(1, c.rank).ToArray();

            var (foldedWeights, foldedBias) = BatchNormFolding.Fold(weights, bias, inChannels, outChannels, c.groups, kernelCount, bn);

            double[] folded = NaiveConvTranspose.Compute(input, 2, inChannels, c.size, foldedWeights, foldedBias, outChannels, c.kernel, c.stride, zeros, zeros, ones, c.groups);
            double[] convolved = NaiveConvTranspose.Compute(input, 2, inChannels, c.size, weights, bias, outChannels, c.kernel, c.stride, zeros, zeros, ones, c.groups);
            // The sum of the terms' magnitudes: each folded weight is one float rounding (2^-24 relative) from the exact
            // product, the folded bias one more, and the sums are in double.
            double[] magnitudes = NaiveConvTranspose.Compute(input.Select(Math.Abs).ToArray(), 2, inChannels, c.size, weights.Select(Math.Abs).ToArray(),
                bias.Select(Math.Abs).ToArray(), outChannels, c.kernel, c.stride, zeros, zeros, ones, c.groups);
            int plane = convolved.Length / (2 * outChannels);
            for (int i = 0; i < folded.Length; i++)
            {
                int channel = i / plane % outChannels;
                double expected = bn.Apply(channel, convolved[i]);
                double scale = Math.Abs(bn.GetScale(channel));
                double tolerance = 2.5e-7 * (scale * (magnitudes[i] + Math.Abs(bn.RunningMean[channel])) + Math.Abs(bn.Beta[channel]) + 1e-30);
                Assert.True(Math.Abs(folded[i] - expected) <= tolerance, $"output {i}: folded {folded[i]}, expected {expected}, tolerance {tolerance}");
            }
        }, iter: 200);
    }

    [Fact]
    public void EachFoldedWeightIsTheWeightTimesItsOutputChannelsScale()
    {
        // Grouped: 4 input channels in 2 groups, 6 output channels; input channel 3 (group 1), row 2 feeds output channel 5.
        var bn = new BatchNormParameters([1, 2, 3, 4, 5, 6], [0.5f, 0, 0, 0, 0, -1], [0, 0, 0, 0, 0, 0.25f], [1, 1, 1, 1, 1, 3], epsilon: 1);
        float[] weights = Enumerable.Range(1, 4 * 3 * 5).Select(i => i / 10f).ToArray();
        float[] bias = [1, 2, 3, 4, 5, 6];
        var (folded, foldedBias) = BatchNormFolding.Fold(weights, bias, 4, 6, 2, 5, bn);

        for (int ic = 0; ic < 4; ic++)
        for (int j = 0; j < 3; j++)
        for (int k = 0; k < 5; k++)
        {
            int index = (ic * 3 + j) * 5 + k, oc = ic / 2 * 3 + j;
            Assert.Equal(weights[index] * (float)(bn.Gamma[oc] / Math.Sqrt(bn.RunningVariance[oc] + 1.0)), folded[index]);
        }
        Assert.Equal((float)((6 - 0.25) * 6 / 2.0 - 1), foldedBias[5]);
        Assert.Equal((float)(1 * (1 / Math.Sqrt(2)) + 0.5), foldedBias[0]);
    }

    [Fact]
    public void FoldingInPlaceAndWithoutBiasGiveTheSameAsSeparateArrays()
    {
        var bn = new BatchNormParameters([1.5f, -0.5f], [0.25f, 1], [0.1f, -0.2f], [0.5f, 2]);
        float[] weights = Enumerable.Range(0, 3 * 2 * 4).Select(i => MathF.Sin(i)).ToArray();
        float[] bias = [0.3f, -0.7f];
        var (expectedWeights, expectedBias) = BatchNormFolding.Fold(weights, bias, 3, 2, 1, 4, bn);

        float[] inPlace = (float[])weights.Clone(), inPlaceBias = (float[])bias.Clone();
        BatchNormFolding.Fold(inPlace, inPlaceBias, 3, 2, 1, 4, bn, inPlace, inPlaceBias);
        Assert.Equal(expectedWeights, inPlace);
        Assert.Equal(expectedBias, inPlaceBias);

        var (_, noBias) = BatchNormFolding.Fold(weights, [], 3, 2, 1, 4, bn);
        var (_, zeroBias) = BatchNormFolding.Fold(weights, [0, 0], 3, 2, 1, 4, bn);
        Assert.Equal(zeroBias, noBias);
    }

    [Fact]
    public void Folding2DTakesTheLayersChannelsGroupsAndKernel()
    {
        var conv = new ConvTranspose2D(6, 4, kernelSize: (2, 3), groups: 2);
        var bn = new BatchNormParameters([1, 2, 3, 4], [0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], epsilon: 0);
        float[] weights = Enumerable.Range(0, conv.WeightsLength).Select(i => (float)i).ToArray();
        Assert.Equal(BatchNormFolding.Fold(weights, [], 6, 4, 2, 6, bn).Weights, BatchNormFolding.Fold(conv, weights, [], bn).Weights);
        Assert.Equal("convolution", Assert.Throws<ArgumentNullException>(() => BatchNormFolding.Fold((ConvTranspose2D)null!, weights, [], bn)).ParamName);
        Assert.Equal("batchNorm", Assert.Throws<ArgumentException>(() =>
            BatchNormFolding.Fold(conv, weights, [], new BatchNormParameters([1], [0], [0], [1]))).ParamName);
    }

    [Fact]
    public void EveryBadFoldingInputIsAnArgumentExceptionBeforeAnythingIsWritten()
    {
        var bn = new BatchNormParameters([1, 1], [0, 0], [0, 0], [1, 1]);
        float[] weights = new float[2 * 1 * 3]; // inChannels 2, outChannels 2, groups 2, kernel 3
        float[] foldedWeights = Enumerable.Repeat(-9f, 6).ToArray(), foldedBias = [-9f, -9f];

        AssertRejected("batchNorm", null, () => BatchNormFolding.Fold(weights, [], 2, 2, 2, 3, null!, foldedWeights, foldedBias));
        AssertRejected("inChannels", "at least 1", () => BatchNormFolding.Fold(weights, [], 0, 2, 2, 3, bn, foldedWeights, foldedBias));
        AssertRejected("outChannels", "at least 1", () => BatchNormFolding.Fold(weights, [], 2, -1, 2, 3, bn, foldedWeights, foldedBias));
        AssertRejected("groups", "at least 1", () => BatchNormFolding.Fold(weights, [], 2, 2, 0, 3, bn, foldedWeights, foldedBias));
        AssertRejected("kernelElementCount", "at least 1", () => BatchNormFolding.Fold(weights, [], 2, 2, 2, 0, bn, foldedWeights, foldedBias));
        AssertRejected("inChannels", "multiple of groups", () => BatchNormFolding.Fold(weights, [], 3, 2, 2, 3, bn, foldedWeights, foldedBias));
        AssertRejected("outChannels", "multiple of groups", () => BatchNormFolding.Fold(weights, [], 2, 3, 2, 3, bn, foldedWeights, foldedBias));
        AssertRejected("weights", "2 * 1 * 4 = 8", () => BatchNormFolding.Fold(weights, [], 2, 2, 2, 4, bn, foldedWeights, foldedBias));
        AssertRejected("weights", "= 12", () => BatchNormFolding.Fold(weights, [], 2, 2, 1, 3, bn, foldedWeights, foldedBias));
        AssertRejected("weights", "2147483647 * 1 * 2147483647", () => BatchNormFolding.Fold(weights, [], int.MaxValue, 1, 1, int.MaxValue, new BatchNormParameters([1], [0], [0], [1]), foldedWeights, foldedBias));
        AssertRejected("batchNorm", "2 channels", () => BatchNormFolding.Fold(new float[4 * 2 * 3], [], 4, 4, 2, 3, bn, new float[24], new float[4]));
        AssertRejected("bias", "3 values", () => BatchNormFolding.Fold(weights, [1, 2, 3], 2, 2, 2, 3, bn, foldedWeights, foldedBias));
        AssertRejected("foldedWeights", "5 values", () => BatchNormFolding.Fold(weights, [], 2, 2, 2, 3, bn, foldedWeights.AsSpan(0, 5), foldedBias));
        AssertRejected("foldedBias", "3 values", () => BatchNormFolding.Fold(weights, [], 2, 2, 2, 3, bn, foldedWeights, new float[3]));

        float[] shared = new float[8];
        AssertRejected("foldedWeights", "partly overlaps", () => BatchNormFolding.Fold(shared.AsSpan(0, 6), [], 2, 2, 2, 3, bn, shared.AsSpan(1, 6), foldedBias));
        AssertRejected("foldedBias", "overlaps weights", () => BatchNormFolding.Fold(shared.AsSpan(0, 6), [], 2, 2, 2, 3, bn, foldedWeights, shared.AsSpan(4, 2)));
        AssertRejected("foldedBias", "partly overlaps", () => BatchNormFolding.Fold(weights, shared.AsSpan(0, 2), 2, 2, 2, 3, bn, foldedWeights, shared.AsSpan(1, 2)));
        AssertRejected("foldedWeights", "overlaps bias", () => BatchNormFolding.Fold(weights, shared.AsSpan(0, 2), 2, 2, 2, 3, bn, shared.AsSpan(1, 6), foldedBias));

        Assert.All(foldedWeights, v => Assert.Equal(-9f, v));
        Assert.All(foldedBias, v => Assert.Equal(-9f, v));
        Assert.All(shared, v => Assert.Equal(0f, v));

        // The allocating overload checks the same rules.
        AssertRejected("weights", "= 8", () => BatchNormFolding.Fold(weights, [], 2, 2, 2, 4, bn));
    }

    [Fact]
    public void EveryBadNormalisationIsAnArgumentException()
    {
        AssertRejected("gamma", "0 values", () => _ = new BatchNormParameters([], [], [], []));
        AssertRejected("beta", "beta has 1 values, but gamma has 2", () => _ = new BatchNormParameters([1, 1], [0], [0, 0], [1, 1]));
        AssertRejected("runningMean", "runningMean has 3 values", () => _ = new BatchNormParameters([1, 1], [0, 0], [0, 0, 0], [1, 1]));
        AssertRejected("runningVariance", "runningVariance has 1 values", () => _ = new BatchNormParameters([1, 1], [0, 0], [0, 0], [1]));
        AssertRejected("epsilon", "-1E-05", () => _ = new BatchNormParameters([1], [0], [0], [1], -1e-5f));
        AssertRejected("epsilon", "NaN", () => _ = new BatchNormParameters([1], [0], [0], [1], float.NaN));
        AssertRejected("epsilon", "Infinity", () => _ = new BatchNormParameters([1], [0], [0], [1], float.PositiveInfinity));
        AssertRejected("runningVariance", "runningVariance[1] is -1E-05", () => _ = new BatchNormParameters([1, 1], [0, 0], [0, 0], [1, -1e-5f], 1e-5f));
        AssertRejected("runningVariance", "runningVariance[0] is 0", () => _ = new BatchNormParameters([1], [0], [0], [0], 0));
        AssertRejected("runningVariance", "runningVariance[0] is NaN", () => _ = new BatchNormParameters([1], [0], [0], [float.NaN]));

        // Allowed: a zero epsilon with a positive variance, a negative variance that epsilon makes positive.
        Assert.Equal(1, new BatchNormParameters([1], [0], [0], [0.5f], 0).Channels);
        Assert.Equal(2, new BatchNormParameters([1, 1], [0, 0], [0, 0], [1, -1e-6f], 1e-5f).Channels);
    }

    [Fact]
    public void TheParametersAreCopied()
    {
        float[] gamma = [2], beta = [1], mean = [0.5f], variance = [4];
        var bn = new BatchNormParameters(gamma, beta, mean, variance, 0);
        gamma[0] = beta[0] = mean[0] = variance[0] = 100;
        Assert.Equal(2f, bn.Gamma[0]);
        Assert.Equal(1f, bn.Beta[0]);
        Assert.Equal(0.5f, bn.RunningMean[0]);
        Assert.Equal(4f, bn.RunningVariance[0]);
        Assert.Equal(1.0, bn.GetScale(0));
        Assert.Equal((3 - 0.5) * 1 + 1, bn.Apply(0, 3));
    }

    private static void AssertRejected(string parameter, string? fragment, Action action)
    {
        var error = Assert.ThrowsAny<ArgumentException>(action);
        Assert.Equal(parameter, error.ParamName);
        if (fragment is not null)
            Assert.Contains(fragment, error.Message);
    }
}
