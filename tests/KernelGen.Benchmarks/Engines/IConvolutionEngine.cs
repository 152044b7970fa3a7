using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Engines;

/// <summary>
/// One engine prepared for one shape: everything that can be done once (packing weights, building a session, binding
/// buffers) is done by the factory; <see cref="Run"/> is the part that is timed.
/// </summary>
public interface IConvolutionEngine : IDisposable
{
    /// <summary>Which engine this is.</summary>
    EngineKind Kind { get; }

    /// <summary>The shape it was prepared for.</summary>
    ConvShape Shape { get; }

    /// <summary>Anything a reader of the results must know about how this engine runs the shape (may be empty).</summary>
    string Note { get; }

    /// <summary>Computes the shape's output from its input once.</summary>
    void Run();

    /// <summary>
    /// The output of the last <see cref="Run"/>, in the shape's layout. Engines that allocate their output per call copy it
    /// out here, outside the timed part.
    /// </summary>
    ReadOnlySpan<float> Output { get; }
}

/// <summary>An engine that cannot run here (a native library that will not load, a build without the generator).</summary>
public sealed class EngineUnavailableException(EngineKind kind, string reason, Exception? inner = null)
    : Exception($"{kind} is unavailable: {reason}", inner)
{
    /// <summary>The engine.</summary>
    public EngineKind Kind { get; } = kind;

    /// <summary>Why it cannot run.</summary>
    public string Reason { get; } = reason;
}
