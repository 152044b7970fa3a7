using KernelGen.Planning;

namespace KernelGen.Tests;

/// <summary>
/// Layers whose input size decides between the kernels pack the layouts only some sizes read when a plan first needs
/// them (from the width kernel's packing). A prepared layer must then give the reference at every size in any order, and
/// an unprepared layer, which packs on every call, must pack those layouts again with each call's weights.
/// </summary>
public class LazyPackingTests
{
    // 16 -> 8 channels, NCHW, stride 2: wide rows take the blocked paired width kernel, narrow ones the channel kernel.
    private static ConvCase Case(int inputWidth, int seed) =>
        new(1, 16, 8, 1, 5, inputWidth, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), (1, 1), ChannelsLast: false, HasBias: true,
            FusedActivation.None, seed);

    [Fact]
    public void TheCasesTakeBothKernels()
    {
        var wide = Plans.Of(Case(64, 1).Create(), 5, 64);
        var narrow = Plans.Of(Case(6, 1).Create(), 5, 6);
        Assert.Equal(KernelStrategy.WidthVectorized, wide.Strategy);
        Assert.True(wide.BlocksChannels);
        Assert.Equal(KernelStrategy.ChannelVectorized, narrow.Strategy);
    }

    [Fact]
    public void APreparedLayerMatchesTheReferenceAtEverySizeInAnyOrder()
    {
        var first = Case(64, 7);
        var prepared = first.Create().Prepare(first.Weights(), first.Bias());
        foreach (int width in new[] { 6, 64, 6, 40, 3, 64 })
        {
            var c = Case(width, 7);
            var output = new float[c.OutChannels * c.OutputHeight * c.OutputWidth];
            prepared.Compute(c.Input(), c.InputHeight, c.InputWidth, output);
            AssertClose(c, output);
        }
    }

    [Fact]
    public void AnUnpreparedLayerPacksTheLayoutsMadeOnFirstUseWithEachCallsWeights()
    {
        var conv = Case(64, 0).Create(options: PlanOptions.Default with { ExactKernelMaxMultiplyAdds = -1 });
        foreach (var (width, seed) in new[] { (64, 1), (6, 2), (64, 3), (6, 4), (64, 5) })
        {
            var c = Case(width, seed);
            var output = new float[c.OutChannels * c.OutputHeight * c.OutputWidth];
            conv.Compute(c.Input(), c.InputHeight, c.InputWidth, c.Weights(), c.Bias(), output);
            AssertClose(c, output);
        }
    }

    private static void AssertClose(ConvCase c, float[] output)
    {
        var expected = c.Expected();
        for (int i = 0; i < output.Length; i++)
        {
            if (!(Math.Abs(output[i] - expected[i]) <= c.Tolerance))
                throw new Xunit.Sdk.XunitException($"{c}: output[{i}] = {output[i]}, expected {expected[i]}");
        }
    }
}
