using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Engines;

/// <summary>KernelGen's runtime path: weights packed once by <see cref="ConvTranspose2D.Prepare"/>, then <see cref="PreparedConvTranspose2D.Compute"/>.</summary>
public sealed class KernelGenRuntimeEngine : IConvolutionEngine
{
    private readonly ShapeData _data;
    private readonly PreparedConvTranspose2D _prepared;
    private readonly float[] _output;

    /// <summary>Packs the shape's weights for the given thread cap.</summary>
    public KernelGenRuntimeEngine(ShapeData data, EngineKind kind)
    {
        if (kind is not (EngineKind.KernelGen1T or EngineKind.KernelGenAllCores))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a KernelGen runtime engine.");
        Kind = kind;
        _data = data;
        ConvShape shape = data.Shape;
        var definition = new ConvTranspose2D(shape.InChannels, shape.OutChannels, shape.Kernel, shape.Stride, shape.Padding,
            shape.OutputPadding, dilation: 1, groups: shape.Groups)
        {
            Layout = shape.Layout,
            MaxDegreeOfParallelism = kind.Threads(),
        };
        _prepared = definition.Prepare(data.Weights);
        _output = new float[shape.OutputLength];
        _output.AsSpan().Fill(float.NaN);
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
    public void Run() => _prepared.Compute(_data.Input, _data.Shape.InputHeight, _data.Shape.InputWidth, _output);

    /// <inheritdoc/>
    public void Dispose()
    {
    }
}
