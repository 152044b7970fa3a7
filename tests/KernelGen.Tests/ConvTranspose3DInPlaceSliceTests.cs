using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CsCheck;

namespace KernelGen.Tests;

/// <summary>
/// NCDHW layers whose (height, width) plane is a 2 x 2 stride-2 layer the up-sampling kernel fits, and whose depth taps never
/// meet in one output slice, run each output slice's one tap straight from the input's channel planes into the output's
/// (<see cref="PreparedConvTranspose3D.ComputesSlicesInPlace"/>): against the naive reference (random depth geometry, with
/// slices no tap reaches, groups, bias, activations, batches, threads, widths the kernel takes and widths it does not),
/// bit for bit against the NDHWC layer (the channel kernel on NHWC slices) without a bias, with weights that are not
/// finite, and where the path is taken.
/// </summary>
public class ConvTranspose3DInPlaceSliceTests
{
    /// <summary>Whether this machine runs the up-sampling kernel at all (Vector256 with FMA).</summary>
    private static bool Runs => Vector256.IsHardwareAccelerated && Fma.IsSupported;

    private static readonly Gen<(Case3D Case, int Threads)> Cases =
        from groups in Gen.Int[1, 2]
        from inPerGroup in Gen.Int[4, 20]
        from outPerGroup in Gen.OneOf(Gen.Int[8, 16], Gen.Int[17, 40]) // up to 16: the blocked width kernel may take NCHW rows
        from kernelD in Gen.Int[1, 3]
        from strideD in Gen.Int[1, 3]
        from dilationD in Gen.Int[1, 3]
        from inputD in Gen.Int[1, 4]
        from padFront in Gen.Int[0, 1]
        from padBack in Gen.Int[0, 1]
        from outputPaddingD in Gen.Int[0, 2]
        from inputH in Gen.Int[1, 3]
        from width in Gen.OneOf(Gen.Int[1, 4].Select(v => 8 * v), Gen.Int[1, 20])
        from batch in Gen.Int[1, 2]
        from hasBias in Gen.Bool
        from activation in Gen.Enum<FusedActivation>()
        from seed in Gen.Int
        from threads in Gen.Int[1, 2]
        let c = new Case3D(batch, groups * inPerGroup, groups * outPerGroup, groups, (inputD, inputH, width), (kernelD, 2, 2), (strideD, 2, 2),
            (padFront, 0, 0), (padBack, 0, 0), (Math.Min(outputPaddingD, Math.Max(strideD, dilationD) - 1), 0, 0), (dilationD, 1, 1),
            ChannelsLast: false, hasBias, activation, seed)
        where c.OutputSize.D >= 1
        select (c, threads);

    [Fact]
    public void MatchesTheNaiveReference() =>
        Cases.Sample(t =>
        {
            (Case3D c, int threads) = t;
            var conv = c.Create(threads);
            var expected = c.Expected();
            var prepared = conv.Prepare(c.Weights(), c.Bias());
            foreach (bool isPrepared in new[] { true, false })
            {
                var output = new float[expected.Length + 3];
                output.AsSpan().Fill(42f);
                if (isPrepared) prepared.Compute(c.Input(), c.Size.D, c.Size.H, c.Size.W, output);
                else conv.Compute(c.Input(), c.Size.D, c.Size.H, c.Size.W, c.Weights(), c.Bias(), output);
                for (int i = 0; i < expected.Length; i++)
                {
                    if (!(Math.Abs(expected[i] - output[i]) <= c.Tolerance))
                        throw new Xunit.Sdk.XunitException($"{c}, {threads} threads, prepared {isPrepared}, in place " +
                            $"{prepared.ComputesSlicesInPlace(c.Size.H, c.Size.W)}: output[{i}] = {output[i]}, expected {expected[i]}");
                }

                Assert.All(output[expected.Length..], v => Assert.Equal(42f, v));
            }
        }, iter: 120, threads: 1);

    /// <summary>
    /// Without a bias, each output is the same chain of multiply-adds as the channel kernel's on NHWC slices (the NDHWC
    /// layer's), from 0 and through the input channels in order, and the same activation: the same bits.
    /// </summary>
    [Fact]
    public void WithoutABiasMatchesTheChannelsLastLayerBitForBit() =>
        Cases.Sample(t =>
        {
            (Case3D c, int threads) = t;
            c = c with { HasBias = false };
            var output = new float[c.Expected().Length];
            c.Create(threads).Prepare(c.Weights()).Compute(c.Input(), c.Size.D, c.Size.H, c.Size.W, output);

            var channelsLast = c with { ChannelsLast = true };
            var input = ToChannelsLast(c.Input(), c.Batch, c.InChannels, c.Size.D * c.Size.H * c.Size.W);
            var last = new float[output.Length];
            channelsLast.Create(threads).Prepare(c.Weights()).Compute(input, c.Size.D, c.Size.H, c.Size.W, last);
            var (od, oh, ow) = c.OutputSize;
            var expected = FromChannelsLast(last, c.Batch, c.OutChannels, od * oh * ow);
            for (int i = 0; i < output.Length; i++)
            {
                if (BitConverter.SingleToInt32Bits(output[i]) != BitConverter.SingleToInt32Bits(expected[i]))
                    throw new Xunit.Sdk.XunitException($"{c}, {threads} threads: output[{i}] = {output[i]}, the NDHWC layer's {expected[i]}");
            }
        }, iter: 60, threads: 1);

    [Fact]
    public void WeightsThatAreNotFiniteGiveTheReferencesSpecialValues()
    {
        var c = new Case3D(1, 8, 32, 1, (3, 2, 32), (2, 2, 2), (2, 2, 2), (0, 0, 0), (0, 0, 0), (0, 0, 0), (1, 1, 1), ChannelsLast: false,
            HasBias: true, FusedActivation.None, Seed: 5);
        var weights = c.Weights();
        SpecialValues.Sprinkle(weights, 6, new Random(3));
        var expected = NaiveReference3D.ConvTranspose3D(c.Input(), weights, c.Bias(), c.Batch, c.InChannels, c.OutChannels, c.Groups, c.Size,
            c.OutputSize, c.Kernel, c.Stride, c.PadBegin, c.Dilation, channelsLast: false, c.Activation, 0.01f);
        var output = new float[expected.Length];
        var prepared = c.Create(1).Prepare(weights, c.Bias());
        prepared.Compute(c.Input(), c.Size.D, c.Size.H, c.Size.W, output);
        Assert.Equal(Runs, prepared.ComputesSlicesInPlace(c.Size.H, c.Size.W));
        SpecialValues.AssertSame(expected, output, c.Tolerance, c.ToString());
    }

    /// <summary>
    /// The cases above do take the path where the hardware has the kernel (else they would only test the other paths): 32
    /// output channels (with 16 or fewer the blocked width kernel takes long NCHW rows), 32 columns (whole vectors at
    /// Vector256 and a pair at Vector512).
    /// </summary>
    [Fact]
    public void RunsWhereThePlaneFitsAndEachSliceHasOneTap()
    {
        float[] Weights(ConvTranspose3D conv) => ConvCase.Values(conv.WeightsLength, 1);
        var volumeUp = new ConvTranspose3D(16, 32, 2, 2);
        var prepared = volumeUp.Prepare(Weights(volumeUp));
        Assert.Equal(Runs, prepared.ComputesSlicesInPlace(4, 32));
        Assert.False(prepared.ComputesSlicesInPlace(4, 12)); // not whole vectors of columns: the NHWC slices
        // A depth kernel of 3 at stride 2: taps 0 and 2 meet in every other slice.
        var meeting = new ConvTranspose3D(16, 32, (3, 2, 2), 2);
        Assert.False(meeting.Prepare(Weights(meeting)).ComputesSlicesInPlace(4, 32));
        // Dilation 3, kernel 2, stride 2: never.
        var dilated = new ConvTranspose3D(16, 32, (2, 2, 2), 2, dilation: (3, 1, 1));
        Assert.Equal(Runs, dilated.Prepare(Weights(dilated)).ComputesSlicesInPlace(4, 32));
        var channelsLast = new ConvTranspose3D(16, 32, 2, 2) { Layout = TensorLayout.Ndhwc };
        Assert.False(channelsLast.Prepare(Weights(channelsLast)).ComputesSlicesInPlace(4, 32));
    }

    /// <summary>
    /// The plane taps of the in-place slices are packed on the first call that runs them: not by Prepare, nor by calls of
    /// a width the slices do not take in place (those run the NHWC slices).
    /// </summary>
    [Fact]
    public void PacksThePlaneTapsOnFirstUse()
    {
        var c = VolumeCase(width: 12, seed: 1);
        var prepared = c.Create(1).Prepare(c.Weights(), c.Bias());
        Assert.False(prepared.PacksPlaneTaps);
        var output = new float[c.Expected().Length];
        prepared.Compute(c.Input(), c.Size.D, c.Size.H, c.Size.W, output);
        Assert.False(prepared.PacksPlaneTaps);

        var wide = VolumeCase(width: 32, seed: 1);
        output = new float[wide.Expected().Length];
        prepared.Compute(wide.Input(), wide.Size.D, wide.Size.H, wide.Size.W, output);
        Assert.Equal(Runs, prepared.PacksPlaneTaps);
        AssertClose(wide, output);
    }

    /// <summary>
    /// An unprepared layer packs its weights on every call: plane taps packed by an earlier call must be packed again with
    /// the next call's weights (each call against its own reference, widths in place and not, in turn).
    /// </summary>
    [Fact]
    public void AnUnpreparedLayerPacksThePlaneTapsAgainWithEachCallsWeights()
    {
        var conv = VolumeCase(32, 0).Create(1);
        foreach (var (width, seed) in new[] { (32, 1), (12, 2), (32, 3), (32, 4), (12, 5), (32, 6) })
        {
            var c = VolumeCase(width, seed);
            var output = new float[c.Expected().Length];
            conv.Compute(c.Input(), c.Size.D, c.Size.H, c.Size.W, c.Weights(), c.Bias(), output);
            AssertClose(c, output);
        }
    }

    /// <summary>16 -> 32 channels, 2 x 2 x 2 at stride 2, with bias: in place at whole vectors of columns, NHWC slices at 12.</summary>
    private static Case3D VolumeCase(int width, int seed) =>
        new(1, 16, 32, 1, (3, 2, width), (2, 2, 2), (2, 2, 2), (0, 0, 0), (0, 0, 0), (0, 0, 0), (1, 1, 1), ChannelsLast: false,
            HasBias: true, FusedActivation.None, seed);

    private static void AssertClose(Case3D c, float[] output)
    {
        var expected = c.Expected();
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(expected[i] - output[i]) <= c.Tolerance))
                throw new Xunit.Sdk.XunitException($"{c}: output[{i}] = {output[i]}, expected {expected[i]}");
        }
    }

    private static float[] ToChannelsLast(float[] values, int batch, int channels, int pixels)
    {
        var result = new float[values.Length];
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < pixels; p++)
                    result[(n * pixels + p) * channels + c] = values[(n * channels + c) * pixels + p];
        return result;
    }

    private static float[] FromChannelsLast(float[] values, int batch, int channels, int pixels)
    {
        var result = new float[values.Length];
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < pixels; p++)
                    result[(n * channels + c) * pixels + p] = values[(n * pixels + p) * channels + c];
        return result;
    }
}
