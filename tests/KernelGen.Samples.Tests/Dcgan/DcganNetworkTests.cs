using Dcgan;
using KernelGen.Tests;

namespace KernelGen.Samples.Tests;

/// <summary>
/// The DCGAN sample's network: the generated kernels against the runtime path and against the double-accumulating
/// definition, the shape and range of the image, determinism, and the batch-norm folding against the unfolded math.
/// </summary>
public sealed class DcganNetworkTests
{
    /// <summary>
    /// Float against the double reference, through five layers: each layer's float sums (up to 2048 terms) are off by a few
    /// ulps, and later layers carry that forward. Measured about 1e-6 at the image; this is two orders above.
    /// </summary>
    private const float ReferenceTolerance = 1e-4f;

    private const bool ChannelsLast = DcganKernels.ActivationLayout == TensorLayout.Nhwc;

    // One network for the tests that only read it (drawing 3.6 million parameters takes a moment).
    private static readonly DcganNetwork Network = new(DcganCommand.DefaultSeed);

    [Fact]
    public void Layers_are_DCGANs_and_match_the_generated_kernels_shapes()
    {
        var layers = Network.Layers;
        Assert.Equal(
            [(100, 512, 1, 4), (512, 256, 4, 8), (256, 128, 8, 16), (128, 64, 16, 32), (64, 3, 32, 64)],
            layers.Select(l => (l.InChannels, l.OutChannels, l.InputSize, l.OutputSize)));
        Assert.Equal([1, 2, 2, 2, 2], layers.Select(l => l.Stride));
        Assert.Equal([0, 1, 1, 1, 1], layers.Select(l => l.Padding));
        Assert.Equal([FusedActivation.Relu, FusedActivation.Relu, FusedActivation.Relu, FusedActivation.Relu, FusedActivation.Tanh], layers.Select(l => l.Activation));
        Assert.All(layers.Take(4), l => Assert.NotNull(l.BatchNorm));
        Assert.Null(layers[4].BatchNorm);

        // The generated {Method}Shape constants agree with the layer table, so the buffers fit the kernels.
        (int Input, int Weights, int Bias, int Output)[] shapes =
        [
            (DcganKernels.ProjectLatentShape.InputLength, DcganKernels.ProjectLatentShape.WeightsLength, DcganKernels.ProjectLatentShape.BiasLength, DcganKernels.ProjectLatentShape.OutputLength),
            (DcganKernels.UpsampleTo8Shape.InputLength, DcganKernels.UpsampleTo8Shape.WeightsLength, DcganKernels.UpsampleTo8Shape.BiasLength, DcganKernels.UpsampleTo8Shape.OutputLength),
            (DcganKernels.UpsampleTo16Shape.InputLength, DcganKernels.UpsampleTo16Shape.WeightsLength, DcganKernels.UpsampleTo16Shape.BiasLength, DcganKernels.UpsampleTo16Shape.OutputLength),
            (DcganKernels.UpsampleTo32Shape.InputLength, DcganKernels.UpsampleTo32Shape.WeightsLength, DcganKernels.UpsampleTo32Shape.BiasLength, DcganKernels.UpsampleTo32Shape.OutputLength),
            (DcganKernels.ToImageShape.InputLength, DcganKernels.ToImageShape.WeightsLength, DcganKernels.ToImageShape.BiasLength, DcganKernels.ToImageShape.OutputLength),
        ];
        Assert.Equal(shapes, layers.Select(l => (l.InputLength, l.FoldedWeights.Length, l.FoldedBias.Length, l.OutputLength)));
        Assert.Equal((100, 64 * 64 * 3), (DcganNetwork.LatentLength, DcganNetwork.ImageLength));
    }

    [Fact]
    public void Weights_follow_DCGANs_initialisation()
    {
        // N(0, 0.02²): over 2 million weights, the sample mean and deviation are within a percent of the deviation.
        float[] weights = Network.Layers[1].Weights;
        double mean = weights.Average(w => (double)w);
        double deviation = Math.Sqrt(weights.Average(w => ((double)w - mean) * ((double)w - mean)));
        Assert.InRange(mean, -0.0002, 0.0002);
        Assert.InRange(deviation, 0.0198, 0.0202);
        // DCGAN's hidden convolutions have no bias (the normalisation's shift replaces it); the output layer has one.
        Assert.All(Network.Layers.Take(4), l => Assert.All(l.Bias, b => Assert.Equal(0f, b)));
        Assert.Contains(Network.Layers[4].Bias, b => b != 0);
    }

    [Fact]
    public void Generated_network_equals_the_runtime_network_within_the_stated_tolerance()
    {
        foreach (int latentSeed in new[] { 1, 2, 3 })
        {
            float[] latent = DcganNetwork.CreateLatent(latentSeed);
            var generated = new float[DcganNetwork.ImageLength];
            var runtime = new float[DcganNetwork.ImageLength];
            var runtimeTwoThreads = new float[DcganNetwork.ImageLength];
            Network.RunGenerated(latent, generated);
            Network.RunRuntime(latent, runtime);
            Network.RunRuntime(latent, runtimeTwoThreads, maxDegreeOfParallelism: 2);

            AssertClose(runtime, generated, DcganCommand.AgreementTolerance, $"latent seed {latentSeed}, runtime 1 thread");
            AssertClose(runtimeTwoThreads, generated, DcganCommand.AgreementTolerance, $"latent seed {latentSeed}, runtime 2 threads");
        }
    }

    [Fact]
    public void Generated_network_equals_the_double_reference_layer_after_layer()
    {
        // The whole network by the definition (NaiveReference accumulates in double), with the folded parameters.
        float[] latent = DcganNetwork.CreateLatent(7);
        float[] activation = latent;
        foreach (DcganLayer layer in Network.Layers)
        {
            activation = NaiveReference.ConvTranspose2D(activation, 1, layer.InChannels, layer.InputSize, layer.InputSize,
                layer.FoldedWeights, layer.FoldedBias, layer.OutChannels, (4, 4), (layer.Stride, layer.Stride),
                (layer.Padding, layer.Padding, layer.Padding, layer.Padding), (0, 0), (1, 1), 1, ChannelsLast, layer.Activation);
        }

        var generated = new float[DcganNetwork.ImageLength];
        Network.RunGenerated(latent, generated);
        AssertClose(activation, generated, ReferenceTolerance, "network vs double reference");
    }

    [Fact]
    public void Image_is_64x64x3_with_every_value_in_minus_one_to_one_and_real_contrast()
    {
        var output = new float[DcganNetwork.ImageLength];
        Network.RunGenerated(DcganNetwork.CreateLatent(1), output);
        float[] image = DcganImage.ToInterleavedRgb(output);

        Assert.Equal(64 * 64 * 3, image.Length);
        Assert.All(image, v => Assert.InRange(v, -1f, 1f)); // InRange fails for NaN too
        // Not a flat or dead image: each colour varies over the picture, and the values are not pinned at +-1.
        for (int c = 0; c < 3; c++)
        {
            float[] channel = Enumerable.Range(0, 64 * 64).Select(p => image[p * 3 + c]).ToArray();
            double mean = channel.Average();
            double deviation = Math.Sqrt(channel.Average(v => (v - mean) * (v - mean)));
            Assert.InRange(deviation, 0.02, 0.9);
        }

        Assert.True(image.Count(v => Math.Abs(v) > 0.999f) < image.Length / 100, "tanh saturated");
    }

    [Fact]
    public void Same_seeds_give_the_same_image_and_other_seeds_other_images()
    {
        var first = new float[DcganNetwork.ImageLength];
        var again = new float[DcganNetwork.ImageLength];
        var rebuilt = new float[DcganNetwork.ImageLength];
        var otherLatent = new float[DcganNetwork.ImageLength];
        var otherWeights = new float[DcganNetwork.ImageLength];

        Network.RunGenerated(DcganNetwork.CreateLatent(1), first);
        Network.RunGenerated(DcganNetwork.CreateLatent(1), again);
        new DcganNetwork(DcganCommand.DefaultSeed).RunGenerated(DcganNetwork.CreateLatent(1), rebuilt);
        Network.RunGenerated(DcganNetwork.CreateLatent(2), otherLatent);
        new DcganNetwork(DcganCommand.DefaultSeed + 1).RunGenerated(DcganNetwork.CreateLatent(1), otherWeights);

        Assert.Equal(first, again);    // bit for bit: same inputs, same code
        Assert.Equal(first, rebuilt);  // a network rebuilt from the seed is the same network
        Assert.True(LargestDifference(first, otherLatent) > 0.01f);
        Assert.True(LargestDifference(first, otherWeights) > 0.01f);
        Assert.Equal(DcganNetwork.CreateLatent(5), DcganNetwork.CreateLatent(5));
    }

    [Fact]
    public void Folded_layer_equals_the_convolution_followed_by_batch_norm_and_ReLU()
    {
        // Layer 2 (512 -> 256, 4x4 -> 8x8), checked against the naive math: convolution with the weights as initialised,
        // then (x - mean) / sqrt(var + eps) * gamma + beta per output channel, then ReLU, all but the convolution in double.
        DcganLayer layer = Network.Layers[1];
        BatchNormParameters bn = layer.BatchNorm!;
        var source = new GaussianSource(99);
        float[] input = Enumerable.Range(0, layer.InputLength).Select(_ => Math.Max(0f, source.Next(0, 1))).ToArray(); // post-ReLU-like

        float[] convolved = NaiveReference.ConvTranspose2D(input, 1, 512, 4, 4, layer.Weights, layer.Bias, 256, (4, 4), (2, 2),
            (1, 1, 1, 1), (0, 0), (1, 1), 1, ChannelsLast);
        var expected = new float[convolved.Length];
        for (int i = 0; i < convolved.Length; i++)
        {
            int channel = ChannelsLast ? i % 256 : i / (8 * 8);
            expected[i] = (float)Math.Max(0, bn.Apply(channel, convolved[i]));
        }

        var generated = new float[layer.OutputLength];
        DcganKernels.UpsampleTo8(input, layer.FoldedWeights, layer.FoldedBias, generated);
        AssertClose(expected, generated, 1e-4f, "generated kernel with folded weights vs convolution + batch norm + ReLU");

        // The normalisation matters here (the test would notice a fold that forgot it): it rescales the outputs by about 1.5.
        Assert.True(LargestDifference(expected, convolved.Select(v => Math.Max(0f, v)).ToArray()) > 0.5f);
    }

    [Fact]
    public void Folding_handles_a_convolution_bias_and_every_channel()
    {
        // A small layer with a bias of its own (which DCGAN's hidden layers lack), so that b' = (b - mean) * s + beta is
        // checked in full: 3 -> 5 channels, kernel 3, stride 2, on a 4x5 NCHW input.
        var random = new GaussianSource(5);
        float[] weights = random.NextArray(3 * 5 * 9, 0, 0.5);
        float[] bias = random.NextArray(5, 0, 1);
        var bn = new BatchNormParameters(random.NextArray(5, 1, 0.5), random.NextArray(5, 0, 1), random.NextArray(5, 0, 1),
            Enumerable.Range(0, 5).Select(_ => random.NextUniform(0.1, 3)).ToArray(), epsilon: 1e-3f);
        float[] input = random.NextArray(3 * 4 * 5, 0, 1);

        var (foldedWeights, foldedBias) = BatchNormFolding.Fold(weights, bias, inChannels: 3, outChannels: 5, groups: 1, kernelElementCount: 9, bn);

        float[] convolved = NaiveReference.ConvTranspose2D(input, 1, 3, 4, 5, weights, bias, 5, (3, 3), (2, 2), (0, 0, 0, 0), (0, 0), (1, 1), 1);
        float[] folded = NaiveReference.ConvTranspose2D(input, 1, 3, 4, 5, foldedWeights, foldedBias, 5, (3, 3), (2, 2), (0, 0, 0, 0), (0, 0), (1, 1), 1);
        int plane = convolved.Length / 5;
        for (int i = 0; i < convolved.Length; i++)
        {
            double expected = bn.Apply(i / plane, convolved[i]); // NCHW: the channel is the outermost index
            Assert.True(Math.Abs(expected - folded[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"output {i}: folded {folded[i]}, expected {expected}");
        }

        // The rule itself, on one weight and the bias of one channel: w' = w * gamma / sqrt(var + eps), b' = (b - mean) * s + beta.
        double s2 = bn.Gamma[2] / Math.Sqrt(bn.RunningVariance[2] + (double)bn.Epsilon);
        Assert.Equal(weights[(1 * 5 + 2) * 9 + 4] * (float)s2, foldedWeights[(1 * 5 + 2) * 9 + 4]);
        Assert.Equal((float)((bias[2] - (double)bn.RunningMean[2]) * s2 + bn.Beta[2]), foldedBias[2]);
    }

    [Fact]
    public void Folding_rejects_mismatched_lengths()
    {
        var bn = new BatchNormParameters([1, 1], [0, 0], [0, 0], [1, 1]);
        Assert.Equal("batchNorm", Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(new float[3 * 3 * 4], new float[3], 3, 3, 1, 4, bn)).ParamName);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(new float[2 * 4], new float[3], 1, 2, 1, 4, bn)).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(new float[2 * 4 + 1], new float[2], 1, 2, 1, 4, bn)).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold([], new float[2], 1, 2, 1, 4, bn)).ParamName);
    }

    [Fact]
    public void Runs_allocate_nothing_once_each_path_has_run()
    {
        var network = new DcganNetwork(11);
        float[] latent = DcganNetwork.CreateLatent(1);
        var image = new float[DcganNetwork.ImageLength];
        network.RunGenerated(latent, image);
        network.RunRuntime(latent, image); // prepares (packs) the runtime layers: allowed to allocate

        // The fewest bytes over a few windows: the GC may count a retired allocation context into any one window (the
        // runtime's own allocation tests found single windows flaky), but a real per-run allocation shows in all of them.
        long fewest = long.MaxValue;
        for (int window = 0; window < 5; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            network.RunGenerated(latent, image);
            network.RunRuntime(latent, image);
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
    }

    [Fact]
    public void Network_rejects_a_latent_or_image_of_the_wrong_length()
    {
        var image = new float[DcganNetwork.ImageLength];
        Assert.Equal("latent", Assert.Throws<ArgumentException>(() => Network.RunGenerated(new float[99], image)).ParamName);
        Assert.Equal("image", Assert.Throws<ArgumentException>(() => Network.RunGenerated(new float[100], new float[100])).ParamName);
        Assert.Equal("latent", Assert.Throws<ArgumentException>(() => Network.RunRuntime(new float[101], image)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Network.RunRuntime(new float[100], image, maxDegreeOfParallelism: 0));
        Assert.All(image, v => Assert.Equal(0f, v)); // nothing written
    }

    [Fact]
    public void Gaussian_source_draws_a_standard_normal()
    {
        // Box-Muller check: moments of 200 000 draws (standard errors: mean 0.0022, variance 0.0032, fourth moment 0.02).
        var source = new GaussianSource(3);
        double[] x = Enumerable.Range(0, 200_000).Select(_ => (double)source.Next(0, 1)).ToArray();
        Assert.InRange(x.Average(), -0.01, 0.01);
        Assert.InRange(x.Average(v => v * v), 0.985, 1.015);
        Assert.InRange(x.Average(v => v * v * v * v), 2.9, 3.1); // 3 for a normal; 1.8 for a uniform
        Assert.InRange(x.Count(v => Math.Abs(v) < 1) / (double)x.Length, 0.677, 0.689); // 68.27 %
        Assert.Equal(new GaussianSource(3).NextArray(10, 0, 1), new GaussianSource(3).NextArray(10, 0, 1));
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float difference = Math.Abs(expected[i] - actual[i]);
            Assert.True(difference <= tolerance, $"{what}: element {i} is {actual[i]}, expected {expected[i]} (difference {difference}, tolerance {tolerance})");
        }
    }

    private static float LargestDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
}
