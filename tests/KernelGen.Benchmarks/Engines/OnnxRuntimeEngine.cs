using KernelGen.Benchmarks.Onnx;
using KernelGen.Benchmarks.Shapes;
using Microsoft.ML.OnnxRuntime;

namespace KernelGen.Benchmarks.Engines;

/// <summary>
/// ONNX Runtime's <c>ConvTranspose</c> on a one-node model built in memory (<see cref="OnnxModelBuilder"/>). Input and
/// output are bound once, as <see cref="OrtValue"/>s over pinned arrays, so that a call runs only the kernel and ONNX
/// Runtime's fixed per-call cost (about 2 µs here), never a copy or an allocation of the tensors.
/// </summary>
public sealed class OnnxRuntimeEngine : IConvolutionEngine
{
    private readonly ShapeData _data;
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions;
    private readonly float[] _input;
    private readonly float[] _output;
    private readonly OrtValue _inputValue;
    private readonly OrtValue _outputValue;
    private readonly string[] _inputNames = [OnnxModelBuilder.InputName];
    private readonly string[] _outputNames = [OnnxModelBuilder.OutputName];
    private readonly OrtValue[] _inputValues;
    private readonly OrtValue[] _outputValues;

    /// <summary>Builds the model and the session (sequential execution, the engine's intra-op thread count) and binds the tensors.</summary>
    public OnnxRuntimeEngine(ShapeData data, EngineKind kind)
    {
        if (kind is not (EngineKind.Ort1T or EngineKind.OrtAllCores))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not an ONNX Runtime engine.");
        Kind = kind;
        _data = data;
        ConvShape shape = data.Shape;
        _options = new SessionOptions
        {
            IntraOpNumThreads = kind.Threads(),
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        _session = new InferenceSession(OnnxModelBuilder.Build(shape, data.Weights), _options);
        _runOptions = new RunOptions();

        // Pinned for the engine's lifetime (pinned object heap): ONNX Runtime reads and writes them through raw pointers.
        _input = GC.AllocateArray<float>(shape.InputLength, pinned: true);
        data.Input.CopyTo(_input, 0);
        _output = GC.AllocateArray<float>(shape.OutputLength, pinned: true);
        _output.AsSpan().Fill(float.NaN);
        _inputValue = OrtValue.CreateTensorValueFromMemory(_input, shape.InputDimensions);
        _outputValue = OrtValue.CreateTensorValueFromMemory(_output, shape.OutputDimensions);
        _inputValues = [_inputValue];
        _outputValues = [_outputValue];
    }

    /// <inheritdoc/>
    public EngineKind Kind { get; }

    /// <inheritdoc/>
    public ConvShape Shape => _data.Shape;

    /// <inheritdoc/>
    public string Note => Shape.IsChannelsLast
        ? "ONNX ConvTranspose is NCHW only: the graph is Transpose -> ConvTranspose -> Transpose, all timed"
        : "";

    /// <inheritdoc/>
    public ReadOnlySpan<float> Output => _output;

    /// <inheritdoc/>
    public void Run() => _session.Run(_runOptions, _inputNames, _inputValues, _outputNames, _outputValues);

    /// <inheritdoc/>
    public void Dispose()
    {
        _inputValue.Dispose();
        _outputValue.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _options.Dispose();
    }
}
