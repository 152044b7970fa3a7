namespace KernelGen.Planning;

/// <summary>
/// The register blocks and buffers of the runtime's kernels, as the planner must know them to size the zero border and
/// prove every unchecked access in bounds: the kernels take their block sizes from here, so the two cannot disagree.
/// </summary>
internal static class KernelShapes
{
    /// <summary>The most lanes a vector has (Vector512 of float).</summary>
    public const int MaxLanes = 16;

    /// <summary>Vectors of phase positions the unpaired width kernel accumulates at once, per phase.</summary>
    public const int WidthBlockVectors = 4;

    /// <summary>Pixels of one register block of the channel kernel.</summary>
    public const int ChannelBlockPixels = 8;

    /// <summary>Output channels per group rounded up to whole vectors of <paramref name="width"/>: the channel kernel's packed and scratch stride.</summary>
    public static int PaddedChannels(int outPerGroup, Simd.VectorWidth width) => (outPerGroup + (int)width - 1) / (int)width * (int)width;

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
