using System.Runtime.CompilerServices;

namespace KernelGen.Planning;

/// <summary>
/// The register blocks and buffers of the runtime's kernels, as the planner must know them to size the zero border and
/// prove every unchecked access in bounds: the kernels take their block sizes from here, so the two cannot disagree.
/// The part the generated kernels share (registers per width, the channel kernel's blocks) is KernelShapes.Registers.cs.
/// </summary>
internal static partial class KernelShapes
{
    /// <summary>Vectors of phase positions the unpaired width kernel accumulates at once, per phase.</summary>
    public const int WidthBlockVectors = 4;

    /// <summary>Output channels per group rounded up to whole vectors of <paramref name="width"/>: the channel kernel's packed and scratch stride.</summary>
    public static int PaddedChannels(int outPerGroup, Simd.VectorWidth width) => (outPerGroup + (int)width - 1) / (int)width * (int)width;

    /// <summary>
    /// Output channels per block of the channel kernel's packed weights: two Vector512 of float, the widest block the kernel
    /// computes. The weights of one block are contiguous per (tap, input channel), so that a kernel block streams them
    /// sequentially instead of a slice of every <see cref="PaddedChannels"/>-wide row (which the hardware prefetchers follow
    /// poorly once the weights outgrow the L2 cache). Every narrower kernel block (2 x 256-bit, 2 x 128-bit, one vector)
    /// starts at a multiple of its width and so lies inside one packed block.
    /// </summary>
    public const int ChannelWeightBlock = 2 * MaxLanes;

    /// <summary>
    /// Where the packed weights of output channel <paramref name="channel"/> (of a group) start, relative to the group's tap 0,
    /// and the floats between its weights of consecutive input channels (the width of its <see cref="ChannelWeightBlock"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (int Offset, int RowStride) ChannelWeightPosition(int channel, int paddedChannels, int taps, int inPerGroup)
    {
        int blockStart = channel / ChannelWeightBlock * ChannelWeightBlock;
        int rowStride = Math.Min(ChannelWeightBlock, paddedChannels - blockStart);
        return (blockStart * taps * inPerGroup + channel - blockStart, rowStride);
    }

    /// <summary>Output channels the blocked paired width kernel computes at once (its vectors per block: <see cref="ExecutionPlan.BlockedPairVectors"/>).</summary>
    public const int PairedBlockChannels = 4;

    /// <summary>
    /// Floats of the window into which the paired width kernel pads the input rows a run of output rows reads, when it
    /// reads unpadded input: 48 KiB, so the window stays in the L1 or L2 cache while the rows that read it are computed. The
    /// caller keeps one per thread and reuses it across calls (it was a <c>stackalloc</c>, which crashed threads with 64 KiB
    /// of stack).
    /// </summary>
    public const int PairedWindowFloats = 12 * 1024;
}
