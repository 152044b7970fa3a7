namespace KernelGen.Tests;

/// <summary>
/// Hand-picked geometries at the edges of the phase decomposition and of both kernels, each checked against
/// <see cref="NaiveReference"/> at every vector width and in both layouts. The random property tests rarely reach some of
/// these (inputs wide enough for the widest unrolled blocks, many channels, depthwise with 32 groups, threads that really
/// split the work), so they are spelled out here.
/// </summary>
/// <remarks>
/// Which kernel runs depends on the output channels per group (see RuntimeStrategy): fewer than 8 vectorise along the
/// output width (WidthVectorizedKernel, or the scalar TapListKernel for calls of a few thousand multiply-adds) unless,
/// with 4 to 7, the phase rows are too short for it and the layer is not NCHW with a width stride of 2; 8 or more along the output channels (ChannelVectorizedKernel), except
/// NCHW layers with a width stride of 2, up to 16 channels and phase rows of 16 or more (the width kernel's blocked paired
/// path; see WidthPairedKernelTests).
/// Cases come in pairs across that line, and each runs through the SIMD kernels
/// and through the tap-list kernel whatever its size. Widths and the tap-list threshold are process-wide settings, so the
/// class runs alone. The tolerance is <see cref="ConvCase.Tolerance"/>; with many input channels per group it is no longer
/// a worst-case bound, but still far above the typical rounding error, which grows with the square root of the number of
/// products.
/// </remarks>
[Collection(ProcessWideSettingsCollection.Name)]
public class EdgeCaseTests
{
    /// <summary>Below this many multiply-adds per part, the runtime does not hand work to another thread.</summary>
    private const long MultiplyAddsPerPart = 1L << 18;

    private static readonly Dictionary<string, ConvCase> Cases = new()
    {
        // k = 1: each input cell lands on one output cell.
        ["k1"] = Make(3, 5, 5, 7, kernel: (1, 1)),
        ["k1-channels"] = Make(16, 24, 4, 9, kernel: (1, 1)),
        // k = 1 with stride 3: two of every three rows and columns have no tap at all, so they hold only the bias.
        ["k1-stride3-bias-only"] = Make(3, 5, 4, 6, kernel: (1, 1), stride: (3, 3)),
        ["k1-stride3-bias-only-channels"] = Make(3, 12, 4, 6, kernel: (1, 1), stride: (3, 3)),
        // Stride larger than the kernel: some phases have no taps.
        ["stride-above-kernel"] = Make(2, 3, 4, 5, kernel: (2, 3), stride: (3, 4)),
        ["stride-above-kernel-channels"] = Make(4, 16, 3, 7, kernel: (2, 2), stride: (3, 5), padding: (1, 2, 0, 1)),
        // Padding that makes the output smaller than the input.
        ["padding-shrinks"] = Make(2, 3, 6, 9, kernel: (3, 3), padding: (2, 2, 2, 2)),
        ["padding-shrinks-channels"] = Make(4, 12, 5, 6, kernel: (3, 3), padding: (2, 2, 2, 2)),
        // Asymmetric padding larger than a phase's first cells, with stride: phases start at different positions.
        ["asymmetric-padding-with-stride"] = Make(3, 2, 5, 8, kernel: (4, 4), stride: (2, 2), padding: (3, 0, 1, 4)),
        ["asymmetric-padding-with-stride-channels"] = Make(3, 8, 5, 8, kernel: (4, 5), stride: (2, 3), padding: (0, 4, 3, 1)),
        // Dilation together with stride: taps of one phase come from non-adjacent kernel cells.
        ["dilation-with-stride"] = Make(2, 3, 5, 6, kernel: (3, 3), stride: (2, 3), dilation: (2, 2)),
        ["dilation-with-stride-channels"] = Make(3, 10, 4, 7, kernel: (3, 2), stride: (2, 2), outputPadding: (1, 1), dilation: (3, 2)),
        // Output padding not below the stride but below the dilation (PyTorch allows it).
        ["output-padding-dilation-above-stride"] = Make(2, 3, 5, 6, kernel: (3, 3), outputPadding: (2, 1), dilation: (3, 2)),
        ["output-padding-dilation-above-stride-channels"] = Make(3, 9, 4, 5, kernel: (2, 3), stride: (2, 1), outputPadding: (2, 1), dilation: (3, 2)),
        // Depthwise: one input and one output channel per group.
        ["depthwise-32"] = Make(32, 32, 9, 21, kernel: (4, 4), stride: (2, 2), padding: (1, 1, 1, 1), groups: 32),
        // Depthwise with a channel multiplier of 8: one input channel per group, the channel kernel.
        ["depthwise-multiplier-8"] = Make(8, 64, 5, 9, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1), groups: 8),
        // The conv2: 8 -> 4 in 2 groups, kernel (3, 5), stride (2, 1), padding (1, 2), output padding (1, 0).
        ["issue-conv2-groups-2"] = Make(8, 4, 6, 7, kernel: (3, 5), stride: (2, 1), padding: (1, 2, 1, 2), outputPadding: (1, 0), groups: 2),
        ["groups-2-channels"] = Make(6, 32, 5, 6, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1), groups: 2),
        // 9 output channels per group round up to whole vectors, so each group's channels and bias start at a padded offset.
        ["groups-3-padded-lanes"] = Make(6, 27, 4, 7, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1), groups: 3),
        // 1x1 and one-row inputs: every output cell is an edge cell, phases narrower than any vector.
        ["input-1x1"] = Make(3, 4, 1, 1, kernel: (3, 3), stride: (2, 2)),
        ["input-1x1-channels"] = Make(5, 16, 1, 1, kernel: (4, 4), stride: (2, 2), padding: (1, 1, 1, 1)),
        ["input-1x1-k1"] = Make(2, 3, 1, 1, kernel: (1, 1)),
        ["input-1x37"] = Make(2, 3, 1, 37, kernel: (3, 3), stride: (2, 2)),
        // Wide inputs: phase rows of 100-200 cells, so that the 4-vector register blocks run at 16 lanes too (64 cells).
        ["wide-stride2"] = Make(2, 3, 3, 150, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1), outputPadding: (1, 1)),
        ["wide-stride1"] = Make(2, 2, 2, 200, kernel: (5, 5), padding: (2, 2, 2, 2)),
        ["wide-stride3"] = Make(1, 1, 2, 181, kernel: (4, 5), stride: (1, 3), padding: (0, 1, 0, 1)),
        ["wide-channels"] = Make(4, 32, 2, 130, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1)),
        ["wide-channels-stride1"] = Make(3, 8, 2, 111, kernel: (3, 4), padding: (1, 1, 1, 2)),
        // Many channels: several channel vectors per pixel; 24 and 13 per group leave padding lanes in the last vector.
        ["many-channels-64-48"] = Make(64, 48, 3, 9, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1), outputPadding: (1, 1)),
        ["many-channels-40-24"] = Make(40, 24, 4, 6, kernel: (4, 4), stride: (2, 2), padding: (1, 1, 1, 1)),
        ["odd-channels-5-13"] = Make(5, 13, 3, 11, kernel: (3, 3), stride: (2, 2)),
        // Batches: samples must not bleed into each other.
        ["batch-3"] = Make(3, 4, 5, 6, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1), outputPadding: (1, 1), batch: 3),
        ["batch-3-channels"] = Make(3, 20, 4, 5, kernel: (3, 3), stride: (2, 2), batch: 3),
        ["batch-3-no-bias"] = Make(2, 9, 3, 4, kernel: (2, 2), stride: (2, 2), batch: 3, bias: false),
    };

    public static TheoryData<string, TensorLayout> CasesInBothLayouts()
    {
        var data = new TheoryData<string, TensorLayout>();
        foreach (string name in Cases.Keys)
        {
            data.Add(name, TensorLayout.Nchw);
            data.Add(name, TensorLayout.Nhwc);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CasesInBothLayouts))]
    public void MatchesTheReferenceInEveryKernelAndAtEveryVectorWidth(string name, TensorLayout layout) =>
        AssertMatchesInEveryKernel(Cases[name] with { ChannelsLast = layout == TensorLayout.Nhwc });

    /// <summary>
    /// The SIMD kernels at each vector width (even for calls small enough for the tap-list kernel), then the tap-list
    /// kernel (for calls it may take), then whatever the runtime picks, unprepared and prepared.
    /// </summary>
    private static void AssertMatchesInEveryKernel(ConvCase c)
    {
        foreach (int? lanes in new int?[] { 1, 4, 8, null })
            RandomShapeTests.AssertMatchesReference(c, options: Force.Lanes(lanes, Force.SimdKernels()));

        RandomShapeTests.AssertMatchesReference(c, options: Force.ExactKernel());

        RandomShapeTests.AssertMatchesReference(c);
        RandomShapeTests.AssertMatchesReference(c, prepared: true);
    }

    /// <summary>Outputs that no tap reaches get exactly the bias (then the activation).</summary>
    [Theory]
    [InlineData(3, TensorLayout.Nchw)]
    [InlineData(3, TensorLayout.Nhwc)]
    [InlineData(12, TensorLayout.Nchw)]
    [InlineData(12, TensorLayout.Nhwc)]
    public void CellsThatNoTapReachesHoldOnlyTheBias(int outChannels, TensorLayout layout)
    {
        var c = Make(3, outChannels, 4, 6, kernel: (2, 1), stride: (3, 4)) with { ChannelsLast = layout == TensorLayout.Nhwc };
        float[] output = Run(c, c.Create(options: Force.SimdKernels()));
        AssertOnlyBiasWhereNoTapReaches(c, output);
        output = Run(c, c.Create(options: Force.ExactKernel()));
        AssertOnlyBiasWhereNoTapReaches(c, output);
    }

    private static void AssertOnlyBiasWhereNoTapReaches(ConvCase c, float[] output)
    {
        var bias = c.Bias()!;
        int outChannels = c.OutChannels;
        int outH = c.OutputHeight, outW = c.OutputWidth;
        int biasOnly = 0;
        for (int oc = 0; oc < outChannels; oc++)
        for (int y = 0; y < outH; y++)
        for (int x = 0; x < outW; x++)
        {
            // Rows with y mod 3 == 2 and columns with x mod 4 != 0 lie between the footprints of input cells.
            if (y % 3 != 2 && x % 4 == 0) continue;
            int index = c.ChannelsLast ? (y * outW + x) * outChannels + oc : (oc * outH + y) * outW + x;
            Assert.Equal(bias[oc], output[index]);
            biasOnly++;
        }

        Assert.True(biasOnly > outChannels * outH * outW / 2, "most cells are bias-only in this geometry");
    }

    public static TheoryData<FusedActivation, float, int, TensorLayout> Activations()
    {
        var data = new TheoryData<FusedActivation, float, int, TensorLayout>();
        foreach (var activation in Enum.GetValues<FusedActivation>())
        foreach (int outChannels in new[] { 3, 16 })
        foreach (var layout in new[] { TensorLayout.Nchw, TensorLayout.Nhwc })
        {
            data.Add(activation, 0.01f, outChannels, layout);
            if (activation == FusedActivation.LeakyRelu)
            {
                data.Add(activation, 0.2f, outChannels, layout);
                data.Add(activation, -0.5f, outChannels, layout);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void EveryActivationMatchesTheReference(FusedActivation activation, float slope, int outChannels, TensorLayout layout)
    {
        // Wide enough for the unrolled blocks, with 4 input channels and a bias so that sums straddle zero.
        var c = Make(4, outChannels, 3, 70, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1), outputPadding: (1, 1),
            batch: 2, activation: activation, slope: slope) with { ChannelsLast = layout == TensorLayout.Nhwc };
        AssertMatchesInEveryKernel(c);
    }

    /// <summary>The slope is read: a leaky ReLU with slope 0.2 differs from the default 0.01 on negative outputs.</summary>
    [Fact]
    public void LeakyReluUsesItsSlope()
    {
        var output = new float[1];
        foreach (var options in new[] { Force.SimdKernels(), Force.ExactKernel() })
        {
            var slope = new ConvTranspose2D(1, 1, kernelSize: 1) { Activation = FusedActivation.LeakyRelu, LeakyReluSlope = 0.2f, PlanOptions = options };
            var defaultSlope = new ConvTranspose2D(1, 1, kernelSize: 1) { Activation = FusedActivation.LeakyRelu, PlanOptions = options };
            Assert.Equal(0.01f, defaultSlope.LeakyReluSlope);
            slope.Compute([-2f], 1, 1, [3f], ReadOnlySpan<float>.Empty, output);
            Assert.Equal(-1.2f, output[0], 1e-6f);
            defaultSlope.Compute([-2f], 1, 1, [3f], ReadOnlySpan<float>.Empty, output);
            Assert.Equal(-0.06f, output[0], 1e-6f);
        }
    }

    public static TheoryData<string> LargeCases => new() { "width-nchw", "width-nhwc", "channels-nchw", "channels-nhwc", "depthwise-nchw", "depthwise-nhwc" };

    /// <summary>
    /// Shapes well above the threshold at which a call splits its rows across the worker pool: two threads must give
    /// bit-for-bit the results of one (every output is computed by the same code whichever thread runs it).
    /// </summary>
    [Theory]
    [MemberData(nameof(LargeCases))]
    public void TwoThreadsGiveExactlyTheResultsOfOne(string name)
    {
        bool channelsLast = name.EndsWith("nhwc", StringComparison.Ordinal);
        var c = (name[..name.IndexOf('-')] switch
        {
            "width" => Make(4, 4, 64, 64, kernel: (4, 4), stride: (2, 2), padding: (1, 1, 1, 1), batch: 2, activation: FusedActivation.Relu),
            "channels" => Make(16, 16, 32, 32, kernel: (4, 4), stride: (2, 2), padding: (1, 1, 1, 1), activation: FusedActivation.Tanh),
            _ => Make(32, 32, 48, 64, kernel: (4, 4), stride: (2, 2), padding: (1, 1, 1, 1), groups: 32),
        }) with { ChannelsLast = channelsLast };
        long multiplyAdds = (long)c.Batch * c.InChannels * (c.OutChannels / c.Groups) * c.InputHeight * c.InputWidth * c.Kernel.H * c.Kernel.W;
        Assert.True(multiplyAdds >= 4 * MultiplyAddsPerPart, $"{multiplyAdds} multiply-adds: too few for the pool to split the work");

        var oneThread = Run(c, c.Create(maxThreads: 1));
        var twoThreads = Run(c, c.Create(maxThreads: 2));
        var twoThreadsPrepared = new float[twoThreads.Length];
        c.Create(maxThreads: 2).Prepare(c.Weights(), c.Bias()).Compute(c.Input(), c.InputHeight, c.InputWidth, twoThreadsPrepared);
        Assert.Equal(oneThread, twoThreads);
        Assert.Equal(oneThread, twoThreadsPrepared);
        AssertClose(c, c.Expected(), oneThread);
    }

    private static readonly (int Batch, int Height, int Width)[] InputSizes =
        [(1, 3, 4), (2, 7, 2), (1, 1, 1), (1, 3, 4), (3, 5, 9), (1, 2, 70), (2, 7, 2)];

    /// <summary>One instance, called with one input size after another (each size needs its own plan).</summary>
    [Theory]
    [InlineData(3, TensorLayout.Nchw)]
    [InlineData(3, TensorLayout.Nhwc)]
    [InlineData(12, TensorLayout.Nchw)]
    [InlineData(12, TensorLayout.Nhwc)]
    public void OneInstanceServesDifferentInputSizesInTurn(int outChannels, TensorLayout layout)
    {
        var template = Make(2, outChannels, 1, 1, kernel: (3, 4), stride: (2, 3), padding: (1, 1, 0, 2), outputPadding: (1, 2))
            with { ChannelsLast = layout == TensorLayout.Nhwc };
        var conv = template.Create();
        var prepared = conv.Prepare(template.Weights(), template.Bias());
        foreach (var (batch, height, width) in InputSizes)
        {
            // Same seed: the weights are the template's (the input's values depend on the seed and its length).
            var c = template with { Batch = batch, InputHeight = height, InputWidth = width };
            var expected = c.Expected();
            AssertClose(c, expected, Run(c, conv));
            var output = new float[expected.Length];
            prepared.Compute(c.Input(), height, width, output);
            AssertClose(c, expected, output);
        }
    }

    /// <summary>Many threads share one instance and one prepared instance, with different input sizes, and two threads per call.</summary>
    [Theory]
    [InlineData(3, TensorLayout.Nchw)]
    [InlineData(3, TensorLayout.Nhwc)]
    [InlineData(12, TensorLayout.Nchw)]
    [InlineData(12, TensorLayout.Nhwc)]
    public void ConcurrentCallsOnOneInstanceAreIndependent(int outChannels, TensorLayout layout)
    {
        var template = Make(4, outChannels, 1, 1, kernel: (4, 4), stride: (2, 2), padding: (1, 1, 1, 1))
            with { ChannelsLast = layout == TensorLayout.Nhwc };
        var conv = template.Create(maxThreads: 2);
        var prepared = conv.Prepare(template.Weights(), template.Bias());
        (int Batch, int Height, int Width)[] sizes = [.. InputSizes, (1, 48, 64), (2, 40, 40)];
        var cases = Enumerable.Range(0, 48)
            .Select(i => sizes[i % sizes.Length])
            .Select(s => template with { Batch = s.Batch, InputHeight = s.Height, InputWidth = s.Width })
            .ToArray();
        var expected = cases.Select(c => c.Expected()).ToArray();

        Parallel.For(0, cases.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var c = cases[i];
            AssertClose(c, expected[i], Run(c, conv));
            var output = new float[expected[i].Length];
            prepared.Compute(c.Input(), c.InputHeight, c.InputWidth, output);
            AssertClose(c, expected[i], output);
        });
    }

    private static float[] Run(ConvCase c, ConvTranspose2D conv)
    {
        var output = new float[c.Batch * c.OutChannels * c.OutputHeight * c.OutputWidth];
        conv.Compute(c.Input(), c.InputHeight, c.InputWidth, c.Weights(), c.Bias(), output);
        return output;
    }

    private static void AssertClose(ConvCase c, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(actual[i] - expected[i]) <= c.Tolerance))
                Assert.Fail($"{c}: output[{i}] = {actual[i]}, expected {expected[i]} (tolerance {c.Tolerance})");
        }
    }

    private static ConvCase Make(int inChannels, int outChannels, int inputHeight, int inputWidth, (int H, int W) kernel,
        (int H, int W)? stride = null, (int Top, int Left, int Bottom, int Right)? padding = null, (int H, int W)? outputPadding = null,
        (int H, int W)? dilation = null, int groups = 1, int batch = 1, bool bias = true,
        FusedActivation activation = FusedActivation.None, float slope = 0.01f) =>
        new(batch, inChannels, outChannels, groups, inputHeight, inputWidth, kernel, stride ?? (1, 1), padding ?? (0, 0, 0, 0),
            outputPadding ?? (0, 0), dilation ?? (1, 1), ChannelsLast: false, HasBias: bias, activation,
            Seed: inChannels * 7919 + outChannels * 104729 + inputWidth, LeakyReluSlope: slope);
}
