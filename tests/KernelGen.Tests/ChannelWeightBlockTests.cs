using CsCheck;

namespace KernelGen.Tests;

/// <summary>
/// The channel kernel's packed weights come in blocks of 32 output channels (<c>KernelShapes.ChannelWeightBlock</c>), each
/// with its own row stride; the random geometries of <see cref="RandomShapeTests"/> have at most 20 output channels per
/// group, so one block. These have 33 to 80: two or three blocks, the last narrower, at every vector width (whose kernel
/// blocks of 2, 8, 16 or 32 channels must each find their block and its stride), in the SIMD kernels and in the exact
/// kernel that recomputes edge cells from the same packing when a weight is infinite.
/// </summary>
[Collection(ProcessWideSettingsCollection.Name)]
public class ChannelWeightBlockTests
{
    private static readonly Gen<ConvCase> ManyChannels =
        from kernel in Gen.Int[1, 4]
        from stride in Gen.Int[1, 3]
        from groups in Gen.Int[1, 2]
        from inPerGroup in Gen.Int[1, 4]
        from outPerGroup in Gen.Int[33, 80]
        from inputH in Gen.Int[1, 4]
        from inputW in Gen.Int[1, 24]
        from padding in Gen.Int[0, 1]
        from channelsLast in Gen.Bool
        from hasBias in Gen.Bool
        from seed in Gen.Int
        let c = new ConvCase(1, groups * inPerGroup, groups * outPerGroup, groups, inputH, inputW, (kernel, kernel), (stride, stride),
            (padding, padding, padding, padding), (0, 0), (1, 1), channelsLast, hasBias, FusedActivation.None, seed)
        where c.OutputHeight >= 1 && c.OutputWidth >= 1
        select c;

    [Theory]
    [MemberData(nameof(Force.AllWidths), MemberType = typeof(Force))]
    public void ManyChannelsPerGroupMatchTheNaiveReferenceAtEveryWidth(int? lanes) =>
        ManyChannels.Sample(c => RandomShapeTests.AssertMatchesReference(c, prepared: true, options: Force.SimdKernels(Force.Lanes(lanes))),
            iter: 60, threads: 1);

    /// <summary>
    /// The Vector256 path cuts a phase row into blocks of 6 and 4 pixels (a remainder of 2 as two blocks of 4, an odd one
    /// as a last block of 4 partly past the row's end): every row length from 1 to 40, at stride 1 and 2 (one phase row
    /// of the input's width, or two of about half), must match the reference.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void EveryPhaseRowLengthOfTheVector256BlocksMatchesTheNaiveReference(int stride)
    {
        for (int width = 1; width <= 40; width++)
        {
            var c = new ConvCase(1, 5, 40, 1, 2, width, (3, 3), (stride, stride), (1, 1, 1, 1), (0, 0), (1, 1), width % 2 == 0, true,
                FusedActivation.None, width);
            RandomShapeTests.AssertMatchesReference(c, prepared: true, options: Force.SimdKernels(Force.Lanes(8)));
        }
    }

    /// <summary>
    /// The Vector256 path runs two output rows of one row phase that read consecutive padded rows together (3 + 3 pixel
    /// blocks, and a last 2 + 2 block) when their phase rows are not a multiple of 6 pixels long and not 3k + 1: random
    /// heights (so odd rows left alone), widths, strides, dilations and thread counts, with output rows relayouted in
    /// chunks of one or a few rows (so that a pair's partner may fall in the next chunk), must match the reference.
    /// </summary>
    [Fact]
    public void RowPairsOfTheVector256BlocksMatchTheNaiveReference()
    {
        var rowPairs =
            from kernel in Gen.Int[1, 4]
            from stride in Gen.Int[1, 3]
            from dilation in Gen.Int[1, 2]
            from inChannels in Gen.Int[1, 5]
            from outChannels in Gen.Int[9, 40]
            from inputH in Gen.Int[1, 7]
            from inputW in Gen.Int[1, 20]
            from padding in Gen.Int[0, 2]
            from channelsLast in Gen.Bool
            from activation in Gen.OneOfConst(FusedActivation.None, FusedActivation.Relu)
            from seed in Gen.Int
            let c = new ConvCase(1, inChannels, outChannels, 1, inputH, inputW, (kernel, kernel), (stride, stride),
                (padding, padding, padding, padding), (0, 0), (dilation, dilation), channelsLast, true, activation, seed)
            where c.OutputHeight >= 1 && c.OutputWidth >= 1
            select c;
        Gen.Select(rowPairs, Gen.Int[1, 3], Gen.Int[0, 2]).Sample((c, threads, chunk) =>
        {
            var options = Force.SimdKernels(Force.Lanes(8));
            if (chunk > 0)
                options = Force.RelayoutChunk(chunk * c.OutputWidth * 48, options);
            var prepared = c.Create(threads, options).Prepare(c.Weights(), c.Bias());
            prepared.ForcedThreads = threads;
            var output = new float[c.OutChannels * c.OutputHeight * c.OutputWidth];
            prepared.Compute(c.Input(), c.InputHeight, c.InputWidth, output);
            float[] expected = c.Expected();
            for (int i = 0; i < output.Length; i++)
                Assert.True(Math.Abs(output[i] - expected[i]) <= c.Tolerance, $"{c}, {threads} threads: output[{i}] = {output[i]}, expected {expected[i]}");
        }, iter: 300, threads: 1);
    }

    [Theory]
    [MemberData(nameof(Force.AllWidths), MemberType = typeof(Force))]
    public void AnInfiniteWeightInALaterChannelBlockGivesTheReferencesInfinities(int? lanes)
    {
        // 4 -> 72 channels, k3 s2 p1 on 5 x 9: the weight of input channel 1 to output channel 70 (third block), tap (1, 2)
        // is +Inf. The edge cells are then recomputed by the exact kernel from the blocked packing.
        var c = new ConvCase(1, 4, 72, 1, 5, 9, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), (1, 1), false, true, FusedActivation.None, 7);
        float[] weights = c.Weights();
        weights[((1 * 72 + 70) * 3 + 1) * 3 + 2] = float.PositiveInfinity;
        float[] expected = NaiveReference.ConvTranspose2D(c.Input(), 1, 4, 5, 9, weights, c.Bias(), 72, c.Kernel, c.Stride, c.Padding,
            c.OutputPadding, c.Dilation, 1);
        var output = new float[72 * c.OutputHeight * c.OutputWidth];
        c.Create(options: Force.SimdKernels(Force.Lanes(lanes))).Prepare(weights, c.Bias()).Compute(c.Input(), 5, 9, output);

        Assert.Contains(expected, float.IsInfinity);
        for (int i = 0; i < output.Length; i++)
        {
            if (float.IsNaN(expected[i]) || float.IsInfinity(expected[i]))
                Assert.Equal(expected[i], output[i]);
            else
                Assert.True(Math.Abs(output[i] - expected[i]) <= c.Tolerance, $"output[{i}] = {output[i]}, expected {expected[i]}");
        }
    }
}
