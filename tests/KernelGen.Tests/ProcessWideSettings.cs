using KernelGen.Kernels;
using KernelGen.Simd;

namespace KernelGen.Tests;

/// <summary>
/// Tests that change process-wide state (<see cref="VectorWidths.MaximumOverride"/>, <see cref="TapListKernel.MaxMultiplyAdds"/>)
/// or that need the worker pool to themselves (a call only splits its work when no other call holds the pool) run in this
/// collection, alone: xUnit runs it after every parallel collection, with nothing beside it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideSettingsCollection
{
    public const string Name = "Process-wide settings";
}

/// <summary>Caps the kernels' vector width until disposed (only inside <see cref="ProcessWideSettingsCollection"/>).</summary>
public sealed class VectorWidthCap : IDisposable
{
    private readonly VectorWidth? _previous;

    public VectorWidthCap(int? lanes)
    {
        _previous = VectorWidths.MaximumOverride;
        VectorWidths.MaximumOverride = lanes is { } l ? (VectorWidth)l : null;
    }

    /// <summary>Every width the kernels are compiled for, as lanes (null: the hardware's widest), for theory data.</summary>
    public static TheoryData<int?> AllWidths => new() { 1, 4, 8, null };

    public void Dispose() => VectorWidths.MaximumOverride = _previous;
}

/// <summary>
/// Sets the per-thread buffer of the channel kernel's fused relayout (<see cref="PreparedConvTranspose2D.FusedRelayoutChunkFloats"/>)
/// until disposed (only inside <see cref="ProcessWideSettingsCollection"/>): small values split a call into many chunks.
/// </summary>
public sealed class FusedRelayoutChunk : IDisposable
{
    private readonly int _previous;

    public FusedRelayoutChunk(int floats)
    {
        _previous = PreparedConvTranspose2D.FusedRelayoutChunkFloats;
        PreparedConvTranspose2D.FusedRelayoutChunkFloats = floats;
    }

    public void Dispose() => PreparedConvTranspose2D.FusedRelayoutChunkFloats = _previous;
}

/// <summary>
/// Sets which calls take the scalar tap-list kernel (those of at most this many multiply-adds, for NCHW-style layers with
/// few channels per group) until disposed (only inside <see cref="ProcessWideSettingsCollection"/>).
/// </summary>
public sealed class TapListThreshold : IDisposable
{
    private readonly long _previous;

    private TapListThreshold(long multiplyAdds)
    {
        _previous = TapListKernel.MaxMultiplyAdds;
        TapListKernel.MaxMultiplyAdds = multiplyAdds;
    }

    /// <summary>Every call takes the SIMD kernels, however small.</summary>
    public static TapListThreshold Never() => new(-1);

    /// <summary>Every call that may take the tap-list kernel does, however large.</summary>
    public static TapListThreshold Always() => new(long.MaxValue);

    public void Dispose() => TapListKernel.MaxMultiplyAdds = _previous;
}
