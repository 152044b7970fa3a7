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
        float[] input = data.Input, output = _output;
        // One closure per engine, built here: a delegate call costs about a nanosecond, far below the smallest layer's time.
        switch (shape.Rank)
        {
            case 1:
                PreparedConvTranspose1D oneD = Prepare1D(shape, data.Weights, kind);
                _run = () => oneD.Compute(input, shape.InputWidth, output);
                break;
            case 3:
                PreparedConvTranspose3D threeD = Prepare3D(shape, data.Weights, kind);
                _run = () => threeD.Compute(input, shape.InputDepth, shape.InputHeight, shape.InputWidth, output);
                break;
            default:
                PreparedConvTranspose2D twoD = Prepare2D(shape, data.Weights, kind);
                _run = () => twoD.Compute(input, shape.InputHeight, shape.InputWidth, output);
                break;
        }
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

    private static PreparedConvTranspose1D Prepare1D(ConvShape shape, float[] weights, EngineKind kind) =>
        new ConvTranspose1D(shape.InChannels, shape.OutChannels, shape.Kernel, shape.Stride, shape.Padding, shape.OutputPadding,
            dilation: 1, groups: shape.Groups)
        {
            Layout = shape.Layout,
            MaxDegreeOfParallelism = kind.Threads(),
        }.Prepare(weights);

    private static PreparedConvTranspose2D Prepare2D(ConvShape shape, float[] weights, EngineKind kind) =>
        new ConvTranspose2D(shape.InChannels, shape.OutChannels, shape.Kernel, shape.Stride, shape.Padding, shape.OutputPadding,
            dilation: 1, groups: shape.Groups)
        {
            Layout = shape.Layout,
            MaxDegreeOfParallelism = kind.Threads(),
        }.Prepare(weights);

    private static PreparedConvTranspose3D Prepare3D(ConvShape shape, float[] weights, EngineKind kind) =>
        new ConvTranspose3D(shape.InChannels, shape.OutChannels, shape.Kernel, shape.Stride, shape.Padding, shape.OutputPadding,
            dilation: 1, groups: shape.Groups)
        {
            Layout = shape.Layout,
            MaxDegreeOfParallelism = kind.Threads(),
        }.Prepare(weights);
}
