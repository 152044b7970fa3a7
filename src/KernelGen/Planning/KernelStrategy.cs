// This file is compiled into both the runtime library and the source generator (netstandard2.0): the two kernel
// families, and the thresholds both choosers start from. The runtime and the generator do NOT choose by one rule: the
// runtime starts from Choose and refines it per input size (Planning/PlanBuilder.cs); the generator, which reads the
// caller's layout in place, uses ChooseForFixedShape. Keep it free of APIs newer than netstandard2.0.
namespace KernelGen.Planning;

/// <summary>How a prepared convolution computes its outputs.</summary>
internal enum KernelStrategy
{
    /// <summary>
    /// Per output channel and output row, each phase is a small dense correlation vectorised along the output width
    /// (NCHW). Wins when there are few output channels per group (single-channel images, depthwise, tiny layers),
    /// where vectors over channels would be mostly empty.
    /// </summary>
    WidthVectorized,

    /// <summary>
    /// Per output pixel, a dot product over input channels and taps vectorised along the output channels (NHWC), register
    /// blocked over pixels and channel vectors: the implicit-GEMM ("subconvolution") form XNNPACK uses. Wins with many
    /// channels.
    /// </summary>
    ChannelVectorized,
}

/// <summary>The channel-geometry rules the runtime's and the generator's choosers start from (see the file's header).</summary>
internal static class StrategyChooser
{
    /// <summary>Output channels per group from which vectors over channels are full enough to beat vectors over width.</summary>
    public const int MinChannelsForChannelVectors = 8;

    /// <summary>The narrowest vector (128-bit, 4 floats) worth emitting: below it a kernel runs scalar code.</summary>
    public const int MinVectorLanes = 4;

    /// <summary>
    /// The strategy by the channels alone: the runtime's starting point, which <c>PlanBuilder</c> refines with the input
    /// size (4 to 7 output channels per group on narrow phase rows take the channel kernel; NCHW layers with a width
    /// stride of 2 and 8 to 16 take the blocked paired width kernel on wide ones).
    /// </summary>
    public static KernelStrategy Choose(int inChannelsPerGroup, int outChannelsPerGroup) =>
        outChannelsPerGroup >= MinChannelsForChannelVectors ? KernelStrategy.ChannelVectorized : KernelStrategy.WidthVectorized;

    /// <summary>
    /// The strategy of a kernel generated for one fixed shape. The runtime relayouts activations into scratch memory so
    /// that its strategy's axis is contiguous; a generated kernel allocates nothing and reads the caller's layout as it is,
    /// so it vectorises along the axis that layout keeps contiguous (width in NCHW, channels in NHWC). It switches to the
    /// other axis only where the contiguous one cannot fill even a 128-bit vector and the other fills the runtime's
    /// threshold for channel vectors (a 1x1 input with many channels in NCHW, say).
    /// </summary>
    /// <param name="channelsLast">The layout is NHWC.</param>
    /// <param name="outChannelsPerGroup">Output channels per group (the extent of channel vectors).</param>
    /// <param name="widestPhaseRow">The longest interior run of one width phase (the extent of width vectors).</param>
    /// <param name="weightsLength">Floats of the weights. Above <see cref="MaxWidthKernelWeights"/> an NCHW layer with
    /// channel vectors to fill takes them too: the width kernel sweeps the whole weights once per width phase, through
    /// broadcasts, which larger weights than the L2 cache turn into a memory-bound loop (a 512 -> 256 vocoder layer with
    /// kernel 16 and stride 8, 8 MB of weights, ran 25 times slower than with channel vectors).</param>
    public static KernelStrategy ChooseForFixedShape(bool channelsLast, int outChannelsPerGroup, int widestPhaseRow, long weightsLength = 0)
    {
        KernelStrategy natural = channelsLast ? KernelStrategy.ChannelVectorized : KernelStrategy.WidthVectorized;
        KernelStrategy other = channelsLast ? KernelStrategy.WidthVectorized : KernelStrategy.ChannelVectorized;
        int naturalExtent = channelsLast ? outChannelsPerGroup : widestPhaseRow;
        int otherExtent = channelsLast ? widestPhaseRow : outChannelsPerGroup;
        if (!channelsLast && weightsLength > MaxWidthKernelWeights && outChannelsPerGroup >= MinChannelsForChannelVectors)
            return KernelStrategy.ChannelVectorized;
        return naturalExtent < MinVectorLanes && otherExtent >= MinChannelsForChannelVectors ? other : natural;
    }

    /// <summary>The most weights (floats: 1 MB, a typical per-core L2 cache) for which a generated NCHW kernel keeps width vectors.</summary>
    public const long MaxWidthKernelWeights = 256 * 1024;
}
