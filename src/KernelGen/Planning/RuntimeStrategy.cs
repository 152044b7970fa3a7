namespace KernelGen.Planning;

/// <summary>
/// The runtime's choice of kernel for one input size. It refines <see cref="StrategyChooser"/> (which sees only the
/// channels, as a generated kernel must): with 4 to 7 output channels per group both kernels are candidates, and the
/// width kernel wins only when a phase row is long enough to fill its register block of 4 vectors.
/// </summary>
internal static class RuntimeStrategy
{
    /// <summary>With fewer output channels per group than this, a channel vector (4 lanes at least) would be mostly empty.</summary>
    public const int MinChannelsForChannelVectorsOnNarrowRows = 4;

    /// <summary>Phase rows shorter than this leave most of the width kernel's 4 x 4-lane block idle.</summary>
    public const int MinPhaseRowForWidthVectors = 16;

    /// <summary>Whether the channel kernel may run for this layer at some input size (so its packed weights are needed).</summary>
    public static bool MayUseChannelKernel(int outChannelsPerGroup) => outChannelsPerGroup >= MinChannelsForChannelVectorsOnNarrowRows;

    /// <summary>Whether the width kernel may run for this layer at some input size.</summary>
    public static bool MayUseWidthKernel(int inChannelsPerGroup, int outChannelsPerGroup) =>
        StrategyChooser.Choose(inChannelsPerGroup, outChannelsPerGroup) == KernelStrategy.WidthVectorized;

    public static KernelStrategy Choose(int inChannelsPerGroup, int outChannelsPerGroup, int widestPhaseRow)
    {
        KernelStrategy byChannels = StrategyChooser.Choose(inChannelsPerGroup, outChannelsPerGroup);
        if (byChannels == KernelStrategy.WidthVectorized && MayUseChannelKernel(outChannelsPerGroup) && widestPhaseRow < MinPhaseRowForWidthVectors)
            return KernelStrategy.ChannelVectorized;
        return byChannels;
    }
}
