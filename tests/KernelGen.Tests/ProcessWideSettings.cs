using KernelGen.Planning;
using KernelGen.Simd;

namespace KernelGen.Tests;

/// <summary>
/// Tests that need the worker pool to themselves (a call only splits its work when no other call holds the pool) run in
/// this collection, alone: xUnit runs it after every parallel collection, with nothing beside it.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideSettingsCollection
{
    public const string Name = "Process-wide settings";
}

/// <summary>
/// Plan options that force a choice on a test's own layer (<c>ConvTranspose2D.PlanOptions</c>): no process-wide state, so
/// tests forcing different choices never see each other's.
/// </summary>
internal static class Force
{
    /// <summary>Every width the kernels are compiled for, as lanes (null: the hardware's widest), for theory data.</summary>
    public static TheoryData<int?> AllWidths => new() { 1, 4, 8, null };

    /// <summary>The kernels at no more than <paramref name="lanes"/> lanes (null: the hardware's widest).</summary>
    public static PlanOptions Lanes(int? lanes, PlanOptions? options = null) =>
        (options ?? PlanOptions.Default) with { MaxVectorWidth = lanes is { } l ? (VectorWidth)l : null };

    /// <summary>Every call takes the SIMD kernels, however small (the exact kernel only where a plan is <see cref="ExecutionPlan.Exact"/>).</summary>
    public static PlanOptions SimdKernels(PlanOptions? options = null) => (options ?? PlanOptions.Default) with { ExactKernelMaxMultiplyAdds = -1 };

    /// <summary>Every call that may take the exact tap-list kernel does, however large.</summary>
    public static PlanOptions ExactKernel(PlanOptions? options = null) => (options ?? PlanOptions.Default) with { ExactKernelMaxMultiplyAdds = long.MaxValue };

    /// <summary>The same layer (geometry, layout, activation, thread cap), planned with <paramref name="options"/>.</summary>
    public static ConvTranspose2D With(this ConvTranspose2D conv, PlanOptions options) =>
        new(conv.InChannels, conv.OutChannels, conv.KernelSize, conv.Stride, conv.Padding, conv.OutputPadding, conv.Dilation, conv.Groups)
        {
            Layout = conv.Layout,
            Activation = conv.Activation,
            LeakyReluSlope = conv.LeakyReluSlope,
            MaxDegreeOfParallelism = conv.MaxDegreeOfParallelism,
            PlanOptions = options,
        };

    /// <summary>The channel kernel's fused relayout through a buffer of <paramref name="floats"/> floats: small values split a call into many chunks.</summary>
    public static PlanOptions RelayoutChunk(int floats, PlanOptions? options = null) => (options ?? PlanOptions.Default) with { FusedRelayoutChunkFloats = floats };
}
