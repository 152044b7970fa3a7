using KernelGen.Simd;

namespace KernelGen.Tests;

/// <summary>
/// Tests that change process-wide state (<see cref="VectorWidths.MaximumOverride"/>) or that need the worker pool to
/// themselves (a call only splits its work when no other call holds the pool) run in this collection, alone: xUnit runs
/// it after every parallel collection, with nothing beside it.
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
