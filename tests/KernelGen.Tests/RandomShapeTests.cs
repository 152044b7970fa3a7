using CsCheck;
using KernelGen.Simd;

namespace KernelGen.Tests;

/// <summary>A random transposed-convolution case: geometry, layout, activation and data.</summary>
public sealed record ConvCase(
    int Batch, int InChannels, int OutChannels, int Groups, int InputHeight, int InputWidth,
    (int H, int W) Kernel, (int H, int W) Stride, (int Top, int Left, int Bottom, int Right) Padding,
    (int H, int W) OutputPadding, (int H, int W) Dilation, bool ChannelsLast, bool HasBias,
    FusedActivation Activation, int Seed, float LeakyReluSlope = 0.01f)
{
    internal ConvTranspose2D Create(int maxThreads = 1, KernelGen.Planning.PlanOptions? options = null) =>
        new(InChannels, OutChannels, (Kernel.H, Kernel.W), (Stride.H, Stride.W),
            Padding2D.Asymmetric(Padding.Top, Padding.Left, Padding.Bottom, Padding.Right),
            (OutputPadding.H, OutputPadding.W), (Dilation.H, Dilation.W), Groups)
        {
            Layout = ChannelsLast ? TensorLayout.Nhwc : TensorLayout.Nchw,
            Activation = Activation,
            LeakyReluSlope = LeakyReluSlope,
            MaxDegreeOfParallelism = maxThreads,
            PlanOptions = options ?? KernelGen.Planning.PlanOptions.Default,
        };

    public float[] Input() => Values(Batch * InChannels * InputHeight * InputWidth, Seed);

    public float[] Weights() => Values(InChannels * (OutChannels / Groups) * Kernel.H * Kernel.W, Seed + 1);

    public float[]? Bias() => HasBias ? Values(OutChannels, Seed + 2) : null;

    public float[] Expected() => NaiveReference.ConvTranspose2D(Input(), Batch, InChannels, InputHeight, InputWidth,
        Weights(), Bias(), OutChannels, Kernel, Stride, Padding, OutputPadding, Dilation, Groups, ChannelsLast, Activation, LeakyReluSlope);

    /// <summary>
    /// Tolerance against the double reference: <c>1e-5 * (4 + n)</c> with <c>n = Cin/G * kH * kW</c>, the most products summed
    /// into one output. Inputs, weights and bias lie in [-1, 1], so each product and the bias are at most 1 in magnitude, and
    /// a float sum of <c>n + 1</c> such terms, in any order, fused or not, is off by at most about <c>(n + 1)^2 * 2^-24</c>;
    /// the reference's rounding to float and the activations (leaky slopes of magnitude at most 1, sigmoid and tanh 1-Lipschitz) add about
    /// <c>(n + 1) * 2^-24</c>. That worst case stays below the tolerance up to <c>n</c> = 160, which covers every random case
    /// (<c>n</c> &lt;= 4 * 5 * 5 = 100), so a correct kernel cannot fail by rounding. Typical errors are far smaller: over
    /// 3000 random cases the largest seen was under 1% of the tolerance (3e-6), while one missing or doubled tap moves an
    /// output by a product of two values in [-1, 1], 0.25 on average.
    /// </summary>
    public float Tolerance => 1e-5f * (4 + InChannels / Groups * Kernel.H * Kernel.W);

    public static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    public static readonly Gen<ConvCase> Generator =
        from kernelH in Gen.Int[1, 5]
        from kernelW in Gen.Int[1, 5]
        from strideH in Gen.Int[1, 4]
        from strideW in Gen.Int[1, 4]
        from dilationH in Gen.Int[1, 3]
        from dilationW in Gen.Int[1, 3]
        from groups in Gen.Int[1, 4]
        from inPerGroup in Gen.Int[1, 4]
        from outPerGroup in Gen.OneOf(Gen.Int[1, 4], Gen.Int[7, 20])
        from inputH in Gen.Int[1, 9]
        from inputW in Gen.Int[1, 40]
        from pads in Gen.Int[0, 4].Array[4]
        from opH in Gen.Int[0, Math.Max(strideH, dilationH) - 1]
        from opW in Gen.Int[0, Math.Max(strideW, dilationW) - 1]
        from batch in Gen.Int[1, 2]
        from channelsLast in Gen.Bool
        from hasBias in Gen.Bool
        from activation in Gen.Enum<FusedActivation>()
        from seed in Gen.Int
        let c = new ConvCase(batch, groups * inPerGroup, groups * outPerGroup, groups, inputH, inputW,
            (kernelH, kernelW), (strideH, strideW), (pads[0], pads[1], pads[2], pads[3]), (opH, opW),
            (dilationH, dilationW), channelsLast, hasBias, activation, seed)
        where c.OutputHeight >= 1 && c.OutputWidth >= 1
        select c;

    public int OutputHeight => (InputHeight - 1) * Stride.H - Padding.Top - Padding.Bottom + Dilation.H * (Kernel.H - 1) + OutputPadding.H + 1;

    public int OutputWidth => (InputWidth - 1) * Stride.W - Padding.Left - Padding.Right + Dilation.W * (Kernel.W - 1) + OutputPadding.W + 1;
}

// The narrower-width test changes the process-wide vector width cap, so the class runs alone.
[Collection(ProcessWideSettingsCollection.Name)]
public class RandomShapeTests
{
    internal static void AssertMatchesReference(ConvCase c, int maxThreads = 1, bool prepared = false, KernelGen.Planning.PlanOptions? options = null)
    {
        var conv = c.Create(maxThreads, options);
        var output = new float[c.Batch * c.OutChannels * c.OutputHeight * c.OutputWidth];
        if (prepared)
            conv.Prepare(c.Weights(), c.Bias()).Compute(c.Input(), c.InputHeight, c.InputWidth, output);
        else
            conv.Compute(c.Input(), c.InputHeight, c.InputWidth, c.Weights(), c.Bias(), output);
        var expected = c.Expected();
        for (int i = 0; i < output.Length; i++)
        {
            if (!(Math.Abs(output[i] - expected[i]) <= c.Tolerance))
                throw new Xunit.Sdk.XunitException($"{c}: output[{i}] = {output[i]}, expected {expected[i]} (tolerance {c.Tolerance})");
        }
    }

    [Fact]
    public void RandomGeometriesMatchTheNaiveReference() =>
        ConvCase.Generator.Sample(c => AssertMatchesReference(c), iter: 400);

    [Fact]
    public void RandomGeometriesMatchTheNaiveReferenceWhenPrepared() =>
        ConvCase.Generator.Sample(c => AssertMatchesReference(c, prepared: true), iter: 100);

    [Fact]
    public void RandomGeometriesMatchTheNaiveReferenceOnEveryThreadCount() =>
        ConvCase.Generator.Sample(c => AssertMatchesReference(c, maxThreads: 2), iter: 100);

    /// <summary>
    /// The channel kernel writes NCHW output (and NHWC output with padding lanes) through a per-thread buffer of a few
    /// rows, relayouted chunk by chunk, and reads a per-thread copy of just the (zero-bordered) input rows of the chunk.
    /// The default buffer holds every row of most random cases; a budget of 1 to 2000 floats makes chunks of one or
    /// several rows, so that a chunk's rows must land at the right output rows and read the right input rows (including
    /// rows shared with the neighbouring chunks and border rows).
    /// </summary>
    [Fact]
    public void RandomGeometriesMatchWhenTheChannelKernelRelayoutsInSmallChunks() =>
        Gen.Select(ConvCase.Generator, Gen.Int[1, 2000], Gen.Int[1, 2]).Sample((c, chunkFloats, threads) =>
        {
            AssertMatchesReference(c, maxThreads: threads, prepared: true, options: Force.RelayoutChunk(chunkFloats));
        }, iter: 200, threads: 1);

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    public void RandomGeometriesMatchAtNarrowerVectorWidths(int lanes) =>
        ConvCase.Generator.Sample(c => AssertMatchesReference(c, options: Force.Lanes(lanes)), iter: 150, threads: 1);
}
