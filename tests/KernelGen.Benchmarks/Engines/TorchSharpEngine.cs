using KernelGen.Benchmarks.Native;
using KernelGen.Benchmarks.Shapes;
using TorchSharp;
using static TorchSharp.torch;

namespace KernelGen.Benchmarks.Engines;

/// <summary>
/// TorchSharp's <c>torch.nn.functional.conv_transpose1d</c>, <c>conv_transpose2d</c> or <c>conv_transpose3d</c> (by the shape's rank) under <c>torch.no_grad()</c>, with <c>torch.set_num_threads</c>
/// set to the engine's thread count before each call (a no-op unless another engine changed it). libtorch allocates the
/// output on every call, as it does for any user; the previous output is disposed at the next call.
/// </summary>
/// <remarks>
/// NHWC shapes are given to libtorch as it expects channels-last data: the NHWC buffer viewed as an NCHW tensor with
/// channels-last strides (<c>permute(0, 3, 1, 2)</c>, no copy), so that libtorch picks its channels-last kernels. The
/// suite's 1-D and 3-D shapes are channels-first.
/// </remarks>
public sealed class TorchSharpEngine : IConvolutionEngine
{
    private readonly ShapeData _data;
    private readonly Tensor _inputStorage;
    private readonly Tensor _input;
    private readonly Tensor _weights;
    private readonly long[] _stride, _padding, _outputPadding, _dilation;
    private readonly float[] _outputCopy;
    private readonly int _threads;
    private Tensor? _output;

    /// <summary>Loads TorchSharp (or throws <see cref="EngineUnavailableException"/>) and copies the shape's data into tensors.</summary>
    public TorchSharpEngine(ShapeData data, EngineKind kind)
    {
        if (kind is not (EngineKind.Torch1T or EngineKind.TorchAllCores))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a TorchSharp engine.");
        if (TorchSharpLoader.UnavailableReason is { } reason)
            throw new EngineUnavailableException(kind, reason);
        Kind = kind;
        _data = data;
        _threads = kind.Threads();
        ConvShape shape = data.Shape;
        _inputStorage = tensor(data.Input, shape.InputDimensions);
        if (shape.IsChannelsLast && shape.Rank != 2)
            throw new NotSupportedException($"{shape.Name}: channels-last is benchmarked in 2-D only.");
        _input = shape.IsChannelsLast ? _inputStorage.permute(0, 3, 1, 2) : _inputStorage.alias();
        _weights = tensor(data.Weights, shape.WeightDimensions);
        _stride = shape.PerAxis(shape.Stride);
        _padding = shape.PerAxis(shape.Padding);
        _outputPadding = shape.PerAxis(shape.OutputPadding);
        _dilation = shape.PerAxis(1);
        _outputCopy = new float[shape.OutputLength];
        _outputCopy.AsSpan().Fill(float.NaN);
    }

    /// <inheritdoc/>
    public EngineKind Kind { get; }

    /// <inheritdoc/>
    public ConvShape Shape => _data.Shape;

    /// <inheritdoc/>
    public string Note => Shape.IsChannelsLast ? "channels-last input (NHWC memory viewed as NCHW)" : "";

    /// <inheritdoc/>
    public void Run()
    {
        if (get_num_threads() != _threads)
            set_num_threads(_threads);
        _output?.Dispose();
        using (no_grad())
        {
            _output = Shape.Rank switch
            {
                1 => nn.functional.conv_transpose1d(_input, _weights, null, _stride[0], _padding[0], _outputPadding[0], Shape.Groups, _dilation[0]),
                3 => nn.functional.conv_transpose3d(_input, _weights, null, _stride, _padding, _outputPadding, _dilation, Shape.Groups),
                _ => nn.functional.conv_transpose2d(_input, _weights, null, _stride, _padding, _outputPadding, _dilation, Shape.Groups),
            };
        }
    }

    /// <inheritdoc/>
    public ReadOnlySpan<float> Output
    {
        get
        {
            if (_output is null)
                return _outputCopy;
            // Whatever memory format libtorch chose, read it back in the shape's own layout.
            using Tensor ordered = Shape.IsChannelsLast ? _output.permute(0, 2, 3, 1).contiguous() : _output.contiguous();
            ordered.data<float>().CopyTo(_outputCopy);
            return _outputCopy;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _output?.Dispose();
        _input.Dispose();
        _inputStorage.Dispose();
        _weights.Dispose();
    }
}
