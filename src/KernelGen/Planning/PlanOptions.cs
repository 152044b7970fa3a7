using KernelGen.Simd;

namespace KernelGen.Planning;

/// <summary>
/// Choices the planner makes by itself that a test may force, so that every kernel path runs in one process whatever a
/// call's size and the hardware (the CI also reruns the suite with AVX-512 and all intrinsics switched off). Internal:
/// the public API always plans with <see cref="Default"/>. A layer holds its options (<c>ConvTranspose2D.PlanOptions</c>),
/// so that tests force a choice on their own layers and may run in parallel.
/// </summary>
internal sealed record PlanOptions
{
    /// <summary>Calls of at most this many multiply-adds take the exact scalar kernel by default.</summary>
    public const long DefaultExactKernelMaxMultiplyAdds = 4096;

    /// <summary>
    /// Floats of the per-thread buffer the channel kernel writes when a relayout must follow it (8192 = 32 KiB): the
    /// kernel fills a few output rows, which are relayouted into the user's output while still in the L1 cache, instead
    /// of a whole-output scratch that goes out to memory and is read back by a second pass (measured 10 % of a 128 -> 64
    /// channel NCHW layer). The input rows those output rows read are copied into a second per-thread buffer just before,
    /// likewise (measured 2 % more).
    /// </summary>
    public const int DefaultFusedRelayoutChunkFloats = 8192;

    private readonly int _fusedRelayoutChunkFloats = DefaultFusedRelayoutChunkFloats;

    /// <summary>What the public API plans with.</summary>
    public static PlanOptions Default { get; } = new();

    /// <summary>The widest vectors the kernels may use (null: the widest the hardware accelerates).</summary>
    public VectorWidth? MaxVectorWidth { get; init; }

    /// <summary>
    /// Calls of at most this many multiply-adds (for layers whose SIMD kernel would be the width kernel) take the exact
    /// scalar kernel, which needs no zero-bordered copy. Tests set -1 (never) or <see cref="long.MaxValue"/> (always).
    /// </summary>
    public long ExactKernelMaxMultiplyAdds { get; init; } = DefaultExactKernelMaxMultiplyAdds;

    /// <summary>
    /// Whether plans that may run the exact kernel list each output cell's taps (<see cref="ExecutionPlan.SmallCallRowTaps"/>)
    /// for its row path. Tests switch it off to compare that path, bit for bit, with the per-cell path it replaces.
    /// </summary>
    public bool ExactKernelCellTaps { get; init; } = true;

    /// <summary>The per-thread output buffer of the channel kernel's fused relayout, in floats (see <see cref="DefaultFusedRelayoutChunkFloats"/>); tests lower it so that small cases run in several chunks per part.</summary>
    public int FusedRelayoutChunkFloats
    {
        get => _fusedRelayoutChunkFloats;
        init => _fusedRelayoutChunkFloats = value >= 1 ? value
            : throw new ArgumentOutOfRangeException(nameof(FusedRelayoutChunkFloats), value, $"FusedRelayoutChunkFloats is {value}, but it must be at least 1.");
    }

    /// <summary>
    /// Whether NCHW 2 x 2 stride-2 layers may run <see cref="Kernels.WidthUpsampleKernel"/> (see
    /// <see cref="ExecutionPlan.UpsamplesByWidth"/>). Tests switch it off to compare it with the channel kernel bit for bit.
    /// </summary>
    public bool WidthUpsampleKernel { get; init; } = true;

    /// <summary>The widest vectors for data of <paramref name="extent"/> lanes under these options (see <see cref="VectorWidths.For"/>).</summary>
    public VectorWidth VectorsFor(int extent) => VectorWidths.For(extent, MaxVectorWidth);
}
