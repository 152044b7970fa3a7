namespace KernelGen.Planning;

/// <summary>
/// The runtime's choice of kernel for one input size. It refines <see cref="StrategyChooser"/> (which sees only the
/// channels, as a generated kernel must): with 4 to 7 output channels per group both kernels are candidates, and the
/// width kernel wins when a phase row is long enough to fill its register block of 4 vectors, or when its blocked
/// stride-2 form can run (NCHW, width stride 2). For NCHW layers with
/// a stride-2 width axis and up to <see cref="MaxChannelsForBlockedWidthPairs"/> output channels per group, the width
/// kernel computing blocks of output channels together (<see cref="Kernels.WidthPairedKernel.BlockChannels"/>) beats the
/// channel kernel, which needs NCHW/NHWC relayouts and has few channel lanes to fill.
/// </summary>
internal static class RuntimeStrategy
{
    /// <summary>With fewer output channels per group than this, a channel vector (4 lanes at least) would be mostly empty.</summary>
    public const int MinChannelsForChannelVectorsOnNarrowRows = 4;

    /// <summary>Phase rows shorter than this leave most of the width kernel's 4 x 4-lane block idle.</summary>
    public const int MinPhaseRowForWidthVectors = 16;

    /// <summary>
    /// Output channels per group up to which the blocked paired width kernel runs NCHW stride-2 layers instead of the
    /// channel kernel (measured on game_up, 16 to 8 channels at 64 x 64: about 1.8x faster than the channel kernel; also faster at 12 and
    /// 16 channels per group).
    /// </summary>
    public const int MaxChannelsForBlockedWidthPairs = 16;

    /// <summary>Whether the channel kernel may run for this layer at some input size (so its packed weights are needed).</summary>
    public static bool MayUseChannelKernel(int outChannelsPerGroup) => outChannelsPerGroup >= MinChannelsForChannelVectorsOnNarrowRows;

    /// <summary>Whether the width kernel may run for this layer at some input size.</summary>
    public static bool MayUseWidthKernel(int inChannelsPerGroup, int outChannelsPerGroup, bool channelsLast, int widthStride) =>
        StrategyChooser.Choose(inChannelsPerGroup, outChannelsPerGroup) == KernelStrategy.WidthVectorized
        || PrefersBlockedWidthPairs(outChannelsPerGroup, channelsLast, widthStride);

    /// <summary>Whether the width kernel, when it runs, may compute blocks of output channels together (so their packed weights are needed).</summary>
    public static bool MayBlockWidthPairs(int outChannelsPerGroup, int widthStride) =>
        widthStride == 2 && outChannelsPerGroup >= Kernels.WidthPairedKernel.BlockChannels;

    /// <param name="inChannelsPerGroup">Input channels per group.</param>
    /// <param name="outChannelsPerGroup">Output channels per group.</param>
    /// <param name="widestPhaseRow">The longest run of one width phase.</param>
    /// <param name="channelsLast">The layout is NHWC.</param>
    /// <param name="pairedWidth">The width axis has stride 2 and both phases (the paired width kernel's case).</param>
    public static KernelStrategy Choose(int inChannelsPerGroup, int outChannelsPerGroup, int widestPhaseRow, bool channelsLast, bool pairedWidth)
    {
        KernelStrategy byChannels = StrategyChooser.Choose(inChannelsPerGroup, outChannelsPerGroup);
        // Narrow rows: the channel kernel, unless the blocked paired width kernel can take the layer (NCHW, width stride 2),
        // which stages a short row in one vector and measured faster (small_fixed, 4 -> 4 at 8 x 8: 0.9 against 1.2 µs).
        if (byChannels == KernelStrategy.WidthVectorized && MayUseChannelKernel(outChannelsPerGroup) && widestPhaseRow < MinPhaseRowForWidthVectors
            && !(pairedWidth && PrefersBlockedWidthPairs(outChannelsPerGroup, channelsLast, 2)))
            return KernelStrategy.ChannelVectorized;
        if (byChannels == KernelStrategy.ChannelVectorized && pairedWidth && widestPhaseRow >= MinPhaseRowForWidthVectors
            && PrefersBlockedWidthPairs(outChannelsPerGroup, channelsLast, 2))
            return KernelStrategy.WidthVectorized;
        return byChannels;
    }

    private static bool PrefersBlockedWidthPairs(int outChannelsPerGroup, bool channelsLast, int widthStride) =>
        !channelsLast && MayBlockWidthPairs(outChannelsPerGroup, widthStride) && outChannelsPerGroup <= MaxChannelsForBlockedWidthPairs;
}
