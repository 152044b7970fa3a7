namespace KernelGen.Benchmarks.Engines;

/// <summary>Every engine of the suite, each at one thread count. The names are BenchmarkDotNet's parameter values.</summary>
public enum EngineKind
{
    /// <summary>A plain float scatter loop in C#, one thread: the floor every engine should clear.</summary>
    Naive,

    /// <summary>KernelGen's runtime (<see cref="PreparedConvTranspose1D"/>, <see cref="PreparedConvTranspose2D"/> or <see cref="PreparedConvTranspose3D"/>), one thread.</summary>
    KernelGen1T,

    /// <summary>KernelGen's runtime with <see cref="Environment.ProcessorCount"/> threads.</summary>
    KernelGenAllCores,

    /// <summary>The kernel the source generator emits for the shape (<see cref="GeneratedConvTranspose2DAttribute"/>), one thread.</summary>
    Generated1T,

    /// <summary>ONNX Runtime's <c>ConvTranspose</c>, one intra-op thread.</summary>
    Ort1T,

    /// <summary>ONNX Runtime's <c>ConvTranspose</c>, <see cref="Environment.ProcessorCount"/> intra-op threads.</summary>
    OrtAllCores,

    /// <summary>TorchSharp's <c>conv_transpose1d/2d/3d</c>, <c>torch.set_num_threads(1)</c>.</summary>
    Torch1T,

    /// <summary>TorchSharp's <c>conv_transpose1d/2d/3d</c>, <c>torch.set_num_threads(ProcessorCount)</c>.</summary>
    TorchAllCores,
}

/// <summary>What the suite needs to know about each <see cref="EngineKind"/>.</summary>
public static class EngineKinds
{
    /// <summary>Every engine, in report order.</summary>
    public static IReadOnlyList<EngineKind> All { get; } = Enum.GetValues<EngineKind>();

    /// <summary>The threads the engine may use: 1, or every core the process sees.</summary>
    public static int Threads(this EngineKind kind) => kind switch
    {
        EngineKind.KernelGenAllCores or EngineKind.OrtAllCores or EngineKind.TorchAllCores => Environment.ProcessorCount,
        _ => 1,
    };

    /// <summary>Whether this is one of the project's own engines (the runtime or a generated kernel).</summary>
    public static bool IsKernelGen(this EngineKind kind) =>
        kind is EngineKind.KernelGen1T or EngineKind.KernelGenAllCores or EngineKind.Generated1T;

    /// <summary>The ONNX Runtime engine with the same thread count, the baseline of the issue's targets.</summary>
    public static EngineKind OrtCounterpart(this EngineKind kind) =>
        kind.Threads() == 1 ? EngineKind.Ort1T : EngineKind.OrtAllCores;

    /// <summary>The TorchSharp engine with the same thread count.</summary>
    public static EngineKind TorchCounterpart(this EngineKind kind) =>
        kind.Threads() == 1 ? EngineKind.Torch1T : EngineKind.TorchAllCores;

    /// <summary>A short label for tables and plots.</summary>
    public static string Label(this EngineKind kind) => kind switch
    {
        EngineKind.Naive => "naive C#",
        EngineKind.KernelGen1T => "KernelGen 1T",
        EngineKind.KernelGenAllCores => "KernelGen all",
        EngineKind.Generated1T => "generated 1T",
        EngineKind.Ort1T => "ORT 1T",
        EngineKind.OrtAllCores => "ORT all",
        EngineKind.Torch1T => "Torch 1T",
        EngineKind.TorchAllCores => "Torch all",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not an engine."),
    };

    /// <summary>Parses a comma-separated list of engine names (case-insensitive), as given on the command line.</summary>
    /// <exception cref="ArgumentException">A name is not an engine.</exception>
    public static IReadOnlyList<EngineKind> Parse(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            // By name only: Enum.TryParse would also take "7".
            .Select(name => All.Cast<EngineKind?>().FirstOrDefault(kind => string.Equals(kind.ToString(), name, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"'{name}' is not an engine; the engines are {string.Join(", ", All)}.", nameof(list)))
            .Distinct()
            .ToArray();
}
