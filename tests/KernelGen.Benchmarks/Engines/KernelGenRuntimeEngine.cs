using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Engines;

/// <summary>
/// KernelGen's runtime path for the shape's rank: weights packed once by <see cref="ConvTranspose1D.Prepare"/>,
/// <see cref="ConvTranspose2D.Prepare"/> or <see cref="ConvTranspose3D.Prepare"/>, then the prepared layer's <c>Compute</c>.
/// </summary>
public sealed class KernelGenRuntimeEngine : IConvolutionEngine
{
    private readonly ShapeData _data;
    private readonly Action _run;
    private readonly float[] _output;

    /// <summary>Packs the shape's weights for the given thread cap.</summary>
    public KernelGenRuntimeEngine(ShapeData data, EngineKind kind)
    {
        if (kind is not (EngineKind.KernelGen1T or EngineKind.KernelGenAllCores))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a KernelGen runtime engine.");
        Kind = kind;
        _data = data;
        ConvShape shape = data.Shape;
        _output = new float[shape.OutputLength];
        _output.AsSpan().Fill(float.NaN);
        // One closure per engine, built here: a delegate call costs about a nanosecond, far below the smallest layer's time.
        _run = RuntimeLayer.Bind(data, kind.Threads(), _output).Call;
    }

    /// <inheritdoc/>
    public EngineKind Kind { get; }

    /// <inheritdoc/>
    public ConvShape Shape => _data.Shape;

    /// <inheritdoc/>
    public string Note => "";

    /// <inheritdoc/>
    public ReadOnlySpan<float> Output => _output;

    /// <inheritdoc/>
    public void Run() => _run();

    /// <inheritdoc/>
    public void Dispose()
    {
    }
}
