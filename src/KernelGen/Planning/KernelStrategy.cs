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

/// <summary>Picks the strategy from the channel geometry alone, so that weights are packed once for any input size.</summary>
internal static class StrategyChooser
{
    /// <summary>Output channels per group from which vectors over channels are full enough to beat vectors over width.</summary>
    public const int MinChannelsForChannelVectors = 8;

    public static KernelStrategy Choose(int inChannelsPerGroup, int outChannelsPerGroup) =>
        outChannelsPerGroup >= MinChannelsForChannelVectors ? KernelStrategy.ChannelVectorized : KernelStrategy.WidthVectorized;
}
