using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CsCheck;
using KernelGen.Kernels;
using KernelGen.Planning;
using KernelGen.Simd;

namespace KernelGen.Tests;

/// <summary>
/// <see cref="WidthUpsampleKernel"/>: NCHW 2 x 2 stride-2 layers where the channel kernel would run Vector256 (forced
/// with <see cref="Force.Lanes"/> 8, so that AVX-512 machines run it too) or Vector512 (lanes 16, where AVX-512 is on).
/// Random channel counts (blocks of 3 with 1 or 2 left over, several packed blocks of 32), groups, widths of one or more
/// pairs of vectors of columns and a last single vector (at Vector512 at least one pair),
/// bias, activations, batches, threads and chunk sizes (chunks of an odd number of output rows split an input row's two
/// output rows between chunks), against the naive reference and, bit for bit, against the channel kernel with its relayouts.
/// </summary>
public class WidthUpsampleKernelTests
{
    /// <summary>Whether this machine runs the kernel at all (Vector256 with FMA; else every layer takes the channel kernel).</summary>
    private static bool Runs => Vector256.IsHardwareAccelerated && Fma.IsSupported;

    /// <summary>The lanes the kernel runs with when the channel kernel is capped at <paramref name="lanes"/> (16 needs AVX-512).</summary>
    private static int RunLanes(int lanes) => lanes == 16 && Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? 16 : 8;

    private static Gen<(ConvCase Case, int ChunkFloats, int Threads)> Cases(int lanes) =>
        from groups in Gen.Int[1, 3]
        from inPerGroup in Gen.Int[1, 12]
        from outPerGroup in Gen.OneOf(Gen.Int[8, 40], Gen.Int[64, 70])
        from inputH in Gen.Int[1, 5]
        from widthVectors in Gen.Int[lanes == 16 ? 2 : 1, 5]
        from batch in Gen.Int[1, 2]
        from hasBias in Gen.Bool
        from activation in Gen.Enum<FusedActivation>()
        from seed in Gen.Int
        from chunkFloats in Gen.OneOf(Gen.Const(PlanOptions.DefaultFusedRelayoutChunkFloats), Gen.Int[1, 3000])
        from threads in Gen.Int[1, 2]
        select (new ConvCase(batch, groups * inPerGroup, groups * outPerGroup, groups, inputH, lanes * widthVectors,
            (2, 2), (2, 2), (0, 0, 0, 0), (0, 0), (1, 1), ChannelsLast: false, hasBias, activation, seed), chunkFloats, threads);

    private static PlanOptions Options(int chunkFloats, bool upsample, int lanes = 8) =>
        Force.RelayoutChunk(chunkFloats, Force.Lanes(lanes)) with { WidthUpsampleKernel = upsample };

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void MatchesTheNaiveReferenceAndTheChannelKernelBitForBit(int lanes) =>
        Cases(RunLanes(lanes)).Sample(t =>
        {
            (ConvCase c, int chunkFloats, int threads) = t;
            float[] upsampled = Compute(c, Options(chunkFloats, upsample: true, lanes), threads);
            float[] channel = Compute(c, Options(chunkFloats, upsample: false, lanes), threads);
            float[] expected = c.Expected();
            for (int i = 0; i < upsampled.Length; i++)
            {
                if (!(Math.Abs(upsampled[i] - expected[i]) <= c.Tolerance))
                    throw new Xunit.Sdk.XunitException($"{c}, chunk {chunkFloats}, {threads} threads: output[{i}] = {upsampled[i]}, expected {expected[i]}");
                if (BitConverter.SingleToInt32Bits(upsampled[i]) != BitConverter.SingleToInt32Bits(channel[i]))
                    throw new Xunit.Sdk.XunitException($"{c}, chunk {chunkFloats}, {threads} threads: output[{i}] = {upsampled[i]}, the channel kernel's {channel[i]}");
            }
        }, iter: 150, threads: 1);

    /// <summary>
    /// A group's last block of 1 or 2 output channels (64 = 21 x 3 + 1, 65 = 21 x 3 + 2) runs its own narrower blocks (1
    /// channel over 4 vectors of columns, 2 channels over 2), then the 3-channel blocks for the columns left: every width
    /// from 1 to 6 vectors, one and two groups, against the reference and the channel kernel bit for bit.
    /// </summary>
    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void LastBlocksOfOneAndTwoChannelsMatchTheReferenceAndTheChannelKernel(int lanes)
    {
        int run = RunLanes(lanes);
        foreach (int outPerGroup in new[] { 1, 2, 4, 5, 64, 65 })
        {
            foreach (int groups in new[] { 1, 2 })
            {
                for (int vectors = run == 16 ? 2 : 1; vectors <= 6; vectors++)
                {
                    var c = new ConvCase(1, groups * 9, groups * outPerGroup, groups, 3, run * vectors, (2, 2), (2, 2), (0, 0, 0, 0), (0, 0), (1, 1),
                        ChannelsLast: false, HasBias: true, FusedActivation.None, outPerGroup * 100 + vectors);
                    if (outPerGroup >= 64)
                        Assert.Equal(Runs, Plans.Of(c.Create(1, Options(PlanOptions.DefaultFusedRelayoutChunkFloats, upsample: true, lanes)), c.InputHeight, c.InputWidth).UpsamplesByWidth);
                    float[] upsampled = Compute(c, Options(PlanOptions.DefaultFusedRelayoutChunkFloats, upsample: true, lanes), 1);
                    float[] channel = Compute(c, Options(PlanOptions.DefaultFusedRelayoutChunkFloats, upsample: false, lanes), 1);
                    float[] expected = c.Expected();
                    for (int i = 0; i < upsampled.Length; i++)
                    {
                        Assert.True(Math.Abs(upsampled[i] - expected[i]) <= c.Tolerance, $"{c}: output[{i}] = {upsampled[i]}, expected {expected[i]}");
                        Assert.Equal(BitConverter.SingleToInt32Bits(channel[i]), BitConverter.SingleToInt32Bits(upsampled[i]));
                    }
                }
            }
        }
    }

    /// <summary>The cases above do run the kernel where the hardware has it (else they would only test the channel kernel twice).</summary>
    [Fact]
    public void PlansChooseItForTwoByTwoStrideTwoNchwLayersOfWholeVectorWidths()
    {
        // At Vector512 (where AVX-512 is on): widths of whole 16-column vectors only.
        var wide = new ConvTranspose2D(128, 64, 2, 2) { PlanOptions = Force.Lanes(16) };
        Assert.Equal(Runs, Plans.Of(wide, 32, 32).UpsamplesByWidth);
        Assert.Equal(Runs && RunLanes(16) == 8, Plans.Of(wide, 3, 8).UpsamplesByWidth);
        Assert.Equal(Runs && RunLanes(16) == 8, Plans.Of(wide, 16, 16).UpsamplesByWidth);   // one Vector512: the channel kernel is faster
        Assert.Equal(Runs, Plans.Of(wide, 16, 48).UpsamplesByWidth);

        var layer = new ConvTranspose2D(128, 64, 2, 2) { PlanOptions = Force.Lanes(8) };
        Assert.Equal(Runs, Plans.Of(layer, 32, 32).UpsamplesByWidth);
        Assert.Equal(Runs, Plans.Of(layer, 3, 8).UpsamplesByWidth);
        // Not for a width of no whole vectors, other geometries, NHWC, or with the option off.
        Assert.False(Plans.Of(layer, 32, 12).UpsamplesByWidth);
        Assert.False(Plans.Of(new ConvTranspose2D(128, 64, 4, 2, 1) { PlanOptions = Force.Lanes(8) }, 16, 16).UpsamplesByWidth);
        Assert.False(Plans.Of(new ConvTranspose2D(128, 64, 2, 2, 0, 1) { PlanOptions = Force.Lanes(8) }, 16, 16).UpsamplesByWidth);
        Assert.False(Plans.Of(new ConvTranspose2D(128, 64, 2, 2) { PlanOptions = Force.Lanes(8), Layout = TensorLayout.Nhwc }, 16, 16).UpsamplesByWidth);
        Assert.False(Plans.Of(new ConvTranspose2D(128, 64, 2, 2) { PlanOptions = Force.Lanes(8) with { WidthUpsampleKernel = false } }, 16, 16).UpsamplesByWidth);
        // With 128-bit vectors the channel kernel keeps the layer.
        Assert.False(Plans.Of(new ConvTranspose2D(128, 64, 2, 2) { PlanOptions = Force.Lanes(4) }, 16, 16).UpsamplesByWidth);
    }

    [Fact]
    public void APreparedCallAllocatesNothing()
    {
        var c = new ConvCase(1, 16, 24, 1, 4, 24, (2, 2), (2, 2), (0, 0, 0, 0), (0, 0), (1, 1), false, true, FusedActivation.Relu, 7);
        var prepared = c.Create(1, Options(PlanOptions.DefaultFusedRelayoutChunkFloats, upsample: true)).Prepare(c.Weights(), c.Bias());
        float[] input = c.Input(), output = new float[c.OutChannels * c.OutputHeight * c.OutputWidth];
        prepared.Compute(input, c.InputHeight, c.InputWidth, output);
        long before = GC.GetAllocatedBytesForCurrentThread();
        prepared.Compute(input, c.InputHeight, c.InputWidth, output);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    /// <summary>
    /// <see cref="PreparedConvTranspose2D.ComputeChannelPlanes"/> refuses, before writing anything, a slice its plan does not
    /// fit: a size whose plan runs the channel kernel (which would read the staged rows as one NCHW sample), a bias not
    /// padded for the plan, output planes closer than a plane, and spans too short for the staged rows or the last channel's plane.
    /// </summary>
    [Fact]
    public void ComputeChannelPlanesRefusesASliceThePlanDoesNotFitAndWritesNothing()
    {
        if (!Runs) return;
        var c = new ConvCase(1, 8, 32, 1, 2, 8, (2, 2), (2, 2), (0, 0, 0, 0), (0, 0), (1, 1), false, true, FusedActivation.None, 3);
        var prepared = c.Create(1, Options(PlanOptions.DefaultFusedRelayoutChunkFloats, upsample: true)).Prepare(c.Weights(), c.Bias());
        Assert.True(Plans.Of(prepared.Definition, 2, 8).UpsamplesByWidth);
        int outPlane = 3 * 4 * 16; // a depth of 3 slices per channel
        float[] staged = ConvCase.Values(c.InChannels * 2 * 8, 5), bias = new float[prepared.PaddedBiasLength];
        prepared.PadBias(c.Bias(), bias);
        var output = new float[c.OutChannels * outPlane];

        // The valid call writes its slice (so the refusals below are the guard's, not something else's).
        prepared.ComputeChannelPlanes(staged, 2, 8, output, outPlane, bias, FusedActivation.None, 0f);
        Assert.Contains(output, v => v != 0f);

        void Refused(int stagedLength, int height, int width, int outputLength, int outputPlane, float[] paddedBias)
        {
            var untouched = new float[outputLength];
            untouched.AsSpan().Fill(42f);
            float[] rows = staged[..stagedLength];
            Assert.Throws<ArgumentException>(() =>
                prepared.ComputeChannelPlanes(rows, height, width, untouched, outputPlane, paddedBias, FusedActivation.None, 0f));
            Assert.All(untouched, v => Assert.Equal(42f, v));
        }

        Refused(staged.Length, 1, 12, output.Length, outPlane, bias);                         // 12 columns: the channel kernel's plan
        Refused(staged.Length, 2, 8, output.Length, outPlane, new float[bias.Length + 1]);    // a bias not padded for the plan
        Refused(staged.Length, 2, 8, output.Length, 4 * 16 - 1, bias);                        // output planes overlap
        Refused(staged.Length - 1, 2, 8, output.Length, outPlane, bias);                      // the staged rows cut short
        Refused(staged.Length, 2, 8, (c.OutChannels - 1) * outPlane + 4 * 16 - 1, outPlane, bias); // the last output plane cut short
    }

    private static float[] Compute(ConvCase c, PlanOptions options, int threads)
    {
        var output = new float[c.Batch * c.OutChannels * c.OutputHeight * c.OutputWidth];
        c.Create(threads, options).Prepare(c.Weights(), c.Bias()).Compute(c.Input(), c.InputHeight, c.InputWidth, output);
        return output;
    }
}
