using KernelGen.Benchmarks.Native;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Engines;

/// <summary>Prepares any engine for any shape, and says which engines can run in this process.</summary>
public static class EngineFactory
{
    /// <summary>
    /// Whether this build contains the generated kernels (MSBuild property <c>BenchmarkGeneratedKernels</c>, true by default
    /// when the generator project exists; see the project file).
    /// </summary>
    public static bool HasGeneratedKernels { get; } =
#if GENERATED_KERNELS
        true;
#else
        false;
#endif

    /// <summary>Null when <paramref name="kind"/> can run here, else why not (printed by the suite, never hidden).</summary>
    public static string? UnavailableReason(EngineKind kind) => kind switch
    {
        EngineKind.Torch1T or EngineKind.TorchAllCores => TorchSharpLoader.UnavailableReason,
        EngineKind.Generated1T when !HasGeneratedKernels =>
            "this build does not reference the source generator (built with -p:BenchmarkGeneratedKernels=false, or generator/KernelGen.Generator is missing)",
        _ => null,
    };

    /// <summary>Prepares <paramref name="kind"/> for the shape of <paramref name="data"/>.</summary>
    /// <exception cref="EngineUnavailableException">The engine cannot run in this process.</exception>
    public static IConvolutionEngine Create(EngineKind kind, ShapeData data)
    {
        if (UnavailableReason(kind) is { } reason)
            throw new EngineUnavailableException(kind, reason);
        return kind switch
        {
            EngineKind.Naive => new NaiveEngine(data),
            EngineKind.KernelGen1T or EngineKind.KernelGenAllCores => new KernelGenRuntimeEngine(data, kind),
            EngineKind.Generated1T => CreateGenerated(data),
            EngineKind.Ort1T or EngineKind.OrtAllCores => new OnnxRuntimeEngine(data, kind),
            EngineKind.Torch1T or EngineKind.TorchAllCores => new TorchSharpEngine(data, kind),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not an engine."),
        };
    }

    private static IConvolutionEngine CreateGenerated(ShapeData data) =>
#if GENERATED_KERNELS
        new Generated.GeneratedEngine(data);
#else
        throw new EngineUnavailableException(EngineKind.Generated1T, UnavailableReason(EngineKind.Generated1T)!);
#endif
}
