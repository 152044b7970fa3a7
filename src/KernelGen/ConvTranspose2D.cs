using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Geometry;
using KernelGen.Planning;

namespace KernelGen;

/// <summary>
/// A 2-D transposed convolution ("deconvolution") for shapes known only at run time, with the semantics of PyTorch's
/// <c>torch.nn.functional.conv_transpose2d</c> and ONNX <c>ConvTranspose</c> (including ONNX's asymmetric pads).
/// </summary>
/// <remarks>
/// <para>Weights are in the PyTorch/ONNX layout <c>(inChannels, outChannels / groups, kernelHeight, kernelWidth)</c>;
/// the optional bias has <c>outChannels</c> elements. Activations are NCHW unless <see cref="Layout"/> says NHWC; the batch
/// size is inferred from the input length.</para>
/// <para>Per axis, the output size is <c>(in - 1) * stride - padBegin - padEnd + dilation * (kernel - 1) + outputPadding + 1</c>.</para>
/// <para>An instance is immutable and may be used from several threads at once. <see cref="Compute"/> packs the weights on every
/// call; to pack them once and run many times, call <see cref="Prepare"/>.</para>
/// </remarks>
public sealed partial class ConvTranspose2D
{
    private PreparedConvTranspose2D? _scratch;

    /// <summary>Creates a transposed convolution and checks its geometry.</summary>
    /// <param name="inChannels">Input channels (<c>Cin</c>), at least 1.</param>
    /// <param name="outChannels">Output channels (<c>Cout</c>), at least 1.</param>
    /// <param name="kernelSize">Kernel height and width, each at least 1.</param>
    /// <param name="stride">Stride per axis, each at least 1 (default 1).</param>
    /// <param name="padding">Cells cropped from each side of the full output, each 0 or more (default 0). Use
    /// <see cref="Padding2D.Asymmetric"/> for ONNX-style pads.</param>
    /// <param name="outputPadding">Cells added at the bottom and right of the output, each 0 or more and smaller than the
    /// stride or the dilation of its axis (default 0).</param>
    /// <param name="dilation">Spacing between kernel taps per axis, each at least 1 (default 1).</param>
    /// <param name="groups">Channel groups, at least 1, dividing both channel counts (default 1; <c>groups == inChannels</c> is depthwise).</param>
    /// <exception cref="ArgumentException">A parameter breaks a rule; the message names the parameter, its value and the rule.</exception>
    public ConvTranspose2D(int inChannels, int outChannels, Size2D kernelSize, Size2D? stride = null, Padding2D? padding = null,
        Size2D? outputPadding = null, Size2D? dilation = null, int groups = 1)
    {
        Size2D s = stride ?? 1, op = outputPadding ?? 0, d = dilation ?? 1;
        Padding2D p = padding ?? 0;
        (AxisGeometry height, AxisGeometry width) = CheckGeometry(inChannels, outChannels, kernelSize, s, p, op, d, groups);
        InChannels = inChannels;
        OutChannels = outChannels;
        Groups = groups;
        KernelSize = kernelSize;
        Stride = s;
        Padding = p;
        OutputPadding = op;
        Dilation = d;
        HeightAxis = height;
        WidthAxis = width;
    }

    /// <summary>
    /// The constructor's checks (each failure an <see cref="ArgumentException"/> naming the parameter, its value and the
    /// rule) and the two axes they pass, without a layer: a 3-D layer checks its (height, width) geometry by them before its
    /// init-only properties, which its 2-D layer needs, are set.
    /// </summary>
    internal static (AxisGeometry Height, AxisGeometry Width) CheckGeometry(int inChannels, int outChannels, Size2D kernelSize, Size2D s,
        Padding2D p, Size2D op, Size2D d, int groups)
    {
        ThrowIfViolated(ConvTransposeRules.CheckChannels(inChannels, outChannels, groups, nameof(inChannels), nameof(outChannels), nameof(groups)));
        var height = new AxisGeometry(kernelSize.Height, s.Height, p.Top, p.Bottom, op.Height, d.Height);
        var width = new AxisGeometry(kernelSize.Width, s.Width, p.Left, p.Right, op.Width, d.Width);
        AxisParameterNames heightNames = AxisNames(".Height", ".Top", ".Bottom"), widthNames = AxisNames(".Width", ".Left", ".Right");
        ThrowIfViolated(ConvTransposeRules.CheckAxis(height, heightNames));
        ThrowIfViolated(ConvTransposeRules.CheckAxis(width, widthNames));
        ThrowIfViolated(ConvTransposeRules.CheckKernelExtent(height, heightNames));
        ThrowIfViolated(ConvTransposeRules.CheckKernelExtent(width, widthNames));
        // WeightsLength and every weights span are indexed by Int32, and the weights are packed into arrays: a larger
        // layer could never be given its weights. (Four factors below 2^31: their product may not even fit in a long or a decimal.)
        var weightsLength = (BigInteger)inChannels * (outChannels / groups) * kernelSize.Height * kernelSize.Width;
        if (weightsLength > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels,
                $"inChannels is {inChannels}, but inChannels * (outChannels / groups) * kernelHeight * kernelWidth = {inChannels} * {outChannels / groups} * {kernelSize.Height} * {kernelSize.Width} = {weightsLength} weights must fit in an Int32 array (at most {Array.MaxLength}).");
        return (height, width);
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Channel groups.</summary>
    public int Groups { get; }

    /// <summary>Kernel height and width.</summary>
    public Size2D KernelSize { get; }

    /// <summary>Stride per axis.</summary>
    public Size2D Stride { get; }

    /// <summary>Padding (cropping of the full output) per side.</summary>
    public Padding2D Padding { get; }

    /// <summary>Output padding per axis (added at the bottom and right).</summary>
    public Size2D OutputPadding { get; }

    /// <summary>Dilation per axis.</summary>
    public Size2D Dilation { get; }

    /// <summary>Memory order of the input and output (NCHW by default). Weights are always <c>(Cin, Cout/groups, kH, kW)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="TensorLayout"/>.</exception>
    public TensorLayout Layout
    {
        get => _layout;
        init => _layout = LayerValidation.Defined(value, nameof(Layout));
    }

    private readonly TensorLayout _layout = TensorLayout.Nchw;

    /// <summary>
    /// Choices a test forces on the planner for this layer (vector width, exact-kernel threshold, relayout chunks); the
    /// public API never sets it. Per layer rather than static, so that tests forcing different choices may run at once.
    /// </summary>
    internal PlanOptions PlanOptions { get; init; } = PlanOptions.Default;

    /// <summary>An activation applied to every output after the bias (none by default).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="FusedActivation"/>.</exception>
    public FusedActivation Activation
    {
        get => _activation;
        init => _activation = LayerValidation.Defined(value, nameof(Activation));
    }

    private readonly FusedActivation _activation = FusedActivation.None;

    /// <summary>The negative slope of <see cref="FusedActivation.LeakyRelu"/> (default 0.01, as in PyTorch): any finite number.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite (the generator rejects the same values).</exception>
    public float LeakyReluSlope
    {
        get => _leakyReluSlope;
        init => _leakyReluSlope = LayerValidation.LeakyReluSlope(value);
    }

    private readonly float _leakyReluSlope = 0.01f;

    /// <summary>
    /// The most threads one call may use (default: <see cref="Environment.ProcessorCount"/>). 1 runs every call on the
    /// calling thread. Must be at least 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        init => _maxDegreeOfParallelism = LayerValidation.MaxDegreeOfParallelism(value);
    }

    private readonly int _maxDegreeOfParallelism = Environment.ProcessorCount;

    /// <summary>Number of weights: <c>inChannels * (outChannels / groups) * kernelHeight * kernelWidth</c>.</summary>
    public int WeightsLength => checked(InChannels * (OutChannels / Groups) * KernelSize.Height * KernelSize.Width);

    internal AxisGeometry HeightAxis { get; }

    internal AxisGeometry WidthAxis { get; }

    /// <summary>The output height and width for an input of the given size.</summary>
    /// <param name="inputHeight">Input height, at least 1.</param>
    /// <param name="inputWidth">Input width, at least 1.</param>
    /// <returns>The output size; each is at least 1.</returns>
    /// <exception cref="ArgumentException">A size is below 1, or the padding crops the whole output away.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public (int Height, int Width) GetOutputSize(int inputHeight, int inputWidth)
    {
        ThrowIfViolated(ConvTransposeRules.CheckInputSize(inputHeight, nameof(inputHeight)));
        ThrowIfViolated(ConvTransposeRules.CheckInputSize(inputWidth, nameof(inputWidth)));
        ThrowIfViolated(ConvTransposeRules.CheckOutputSize(HeightAxis, inputHeight, nameof(inputHeight)));
        ThrowIfViolated(ConvTransposeRules.CheckOutputSize(WidthAxis, inputWidth, nameof(inputWidth)));
        return ((int)HeightAxis.OutputLength(inputHeight), (int)WidthAxis.OutputLength(inputWidth));
    }

    /// <summary>Number of input elements for <paramref name="batch"/> samples of the given size.</summary>
    /// <param name="batch">Samples, 0 or more (an empty batch is a valid call that writes nothing).</param>
    /// <param name="inputHeight">Input height, at least 1.</param>
    /// <param name="inputWidth">Input width, at least 1.</param>
    /// <returns><c>batch * inChannels * inputHeight * inputWidth</c>.</returns>
    /// <exception cref="ArgumentException">A size is out of range, the padding crops the whole output away, or a length
    /// does not fit in an <see cref="int"/>.</exception>
    public int GetInputLength(int batch, int inputHeight, int inputWidth)
    {
        var sizes = GetSampleSizes(inputHeight, inputWidth);
        return LayerValidation.BatchLength(batch, sizes.InputSample, "inChannels * inputHeight * inputWidth");
    }

    /// <summary>Number of output elements for <paramref name="batch"/> samples of the given input size.</summary>
    /// <param name="batch">Samples, 0 or more (an empty batch is a valid call that writes nothing).</param>
    /// <param name="inputHeight">Input height, at least 1.</param>
    /// <param name="inputWidth">Input width, at least 1.</param>
    /// <returns><c>batch * outChannels * outputHeight * outputWidth</c>.</returns>
    /// <exception cref="ArgumentException">A size is out of range, the padding crops the whole output away, or a length
    /// does not fit in an <see cref="int"/>.</exception>
    public int GetOutputLength(int batch, int inputHeight, int inputWidth)
    {
        var sizes = GetSampleSizes(inputHeight, inputWidth);
        return LayerValidation.BatchLength(batch, sizes.OutputSample, "outChannels * outputHeight * outputWidth");
    }

    /// <summary>
    /// Computes the transposed convolution of <paramref name="input"/> into <paramref name="output"/>. The weights are
    /// packed on every call (into a buffer reused across calls); use <see cref="Prepare"/> to pack them once.
    /// </summary>
    /// <param name="input">Zero or more samples of <c>inChannels * inputHeight * inputWidth</c> elements, in <see cref="Layout"/>
    /// (empty: a valid call that writes nothing).</param>
    /// <param name="inputHeight">Input height, at least 1.</param>
    /// <param name="inputWidth">Input width, at least 1.</param>
    /// <param name="weights">Exactly <see cref="WeightsLength"/> weights, <c>(Cin, Cout/groups, kH, kW)</c>.</param>
    /// <param name="bias">Empty, or exactly <see cref="OutChannels"/> values.</param>
    /// <param name="output">At least <c>batch * outChannels * outputHeight * outputWidth</c> elements; the first that many are written.</param>
    /// <exception cref="ArgumentException">A size or span length is wrong, or spans overlap; nothing has been written.</exception>
    public void Compute(ReadOnlySpan<float> input, int inputHeight, int inputWidth, ReadOnlySpan<float> weights,
        ReadOnlySpan<float> bias, Span<float> output)
    {
        // Validate everything before packing, so that a bad call leaves the reusable buffer and the output untouched.
        var shape = ValidateCall(input, inputHeight, inputWidth, output);
        // Only the part of the output that will be written must be separate from the weights and bias.
        ValidateParameters(weights, bias, output[..(shape.Batch * OutChannels * shape.OutputHeight * shape.OutputWidth)]);
        // An empty batch (PyTorch and ONNX Runtime accept it) writes nothing, so it needs no packing either.
        if (shape.Batch == 0) return;
        var prepared = Interlocked.Exchange(ref _scratch, null) ?? new PreparedConvTranspose2D(this);
        try
        {
            prepared.Pack(weights, bias);
            prepared.ComputeValidated(input, shape, output);
        }
        finally
        {
            Volatile.Write(ref _scratch, prepared);
        }
    }

    /// <summary>Packs the weights and bias once into the layout the fast kernels read, for many calls without allocation.</summary>
    /// <param name="weights">Exactly <see cref="WeightsLength"/> weights, <c>(Cin, Cout/groups, kH, kW)</c>.</param>
    /// <param name="bias">Empty, or exactly <see cref="OutChannels"/> values.</param>
    /// <returns>A prepared convolution (a copy: later changes to <paramref name="weights"/> do not affect it).</returns>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public PreparedConvTranspose2D Prepare(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias = default)
    {
        ValidateParameters(weights, bias, default);
        var prepared = new PreparedConvTranspose2D(this);
        prepared.Pack(weights, bias);
        return prepared;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"ConvTranspose2D({InChannels} -> {OutChannels}, kernel {KernelSize}, stride {Stride}, padding {Padding}, output padding {OutputPadding}, dilation {Dilation}, groups {Groups}, {Layout}, {Activation})";

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal CallShape ValidateCall(ReadOnlySpan<float> input, int inputHeight, int inputWidth, Span<float> output)
    {
        var sizes = GetSampleSizes(inputHeight, inputWidth);
        if (input.Length % sizes.InputSample != 0)
            throw new ArgumentException(
                $"input has {input.Length} elements, but it must hold a whole number of samples of inChannels * inputHeight * inputWidth = {sizes.InputSample} elements.",
                nameof(input));
        int batch = input.Length / sizes.InputSample;
        long needed = (long)batch * sizes.OutputSample;
        if (needed > int.MaxValue)
            throw new ArgumentException(
                $"input has {input.Length} elements ({batch} samples), but their output, {batch} * {sizes.OutputSample} = {needed} elements, must fit in an Int32.", nameof(input));
        if (output.Length < needed)
            throw new ArgumentException(
                $"output has {output.Length} elements, but it must have at least batch * outChannels * outputHeight * outputWidth = {batch} * {OutChannels} * {sizes.OutputHeight} * {sizes.OutputWidth} = {needed}.",
                nameof(output));
        if (Kernels.FloatSpans.Overlap(input, output[..(int)needed]))
            throw new ArgumentException("input overlaps output; they must be separate memory.", nameof(output));
        return new CallShape(batch, inputHeight, inputWidth, sizes.OutputHeight, sizes.OutputWidth);
    }

    /// <summary>
    /// The output size and the lengths of one input and one output sample, every rule checked: each length must fit in an
    /// <see cref="int"/> (the spans are indexed by int), else an <see cref="ArgumentException"/> names the input size. The
    /// last valid input size's are kept (see <see cref="LastInputSize{TInputSize, TSizes}"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private SampleSizes GetSampleSizes(int inputHeight, int inputWidth)
    {
        var inputSize = new Size2D(inputHeight, inputWidth);
        if (_lastSampleSizes.TryGet(inputSize, out SampleSizes sizes))
            return sizes;
        sizes = ComputeSampleSizes(inputHeight, inputWidth);
        _lastSampleSizes.Remember(inputSize, sizes);
        return sizes;
    }

    /// <summary>The sample sizes of the last valid input size (see <see cref="GetSampleSizes"/>).</summary>
    private LastInputSize<Size2D, SampleSizes> _lastSampleSizes;

    private SampleSizes ComputeSampleSizes(int inputHeight, int inputWidth)
    {
        var (outputHeight, outputWidth) = GetOutputSize(inputHeight, inputWidth);
        int inputSample = LayerValidation.SampleLength([InChannels, inputHeight, inputWidth], "inChannels * inputHeight * inputWidth", "input",
            nameof(inputHeight), inputHeight, nameof(inputWidth), inputWidth);
        int outputSample = LayerValidation.SampleLength([OutChannels, outputHeight, outputWidth], "outChannels * outputHeight * outputWidth", "output",
            nameof(inputHeight), inputHeight, nameof(inputWidth), inputWidth);
        return new SampleSizes(outputHeight, outputWidth, inputSample, outputSample);
    }

    private readonly record struct SampleSizes(int OutputHeight, int OutputWidth, int InputSample, int OutputSample);

    internal void ValidateParameters(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output) =>
        LayerValidation.ValidateParameters(weights, bias, output, WeightsLength, OutChannels, "inChannels * (outChannels / groups) * kernelHeight * kernelWidth",
            [InChannels, OutChannels / Groups, KernelSize.Height, KernelSize.Width]);

    private static AxisParameterNames AxisNames(string axis, string padBegin, string padEnd) =>
        new("kernelSize" + axis, "stride" + axis, "padding" + padBegin, "padding" + padEnd, "outputPadding" + axis, "dilation" + axis);

    internal static void ThrowIfViolated(RuleViolation? violation)
    {
        if (violation is { } v)
        {
            // "kernelSize.Width" names the component in the message; the exception's ParamName is the C# parameter.
            int dot = v.Parameter.IndexOf('.');
            throw new ArgumentOutOfRangeException(dot < 0 ? v.Parameter : v.Parameter[..dot], v.Value, v.Message);
        }
    }
}

/// <summary>The sizes of one call, after validation.</summary>
internal readonly record struct CallShape(int Batch, int InputHeight, int InputWidth, int OutputHeight, int OutputWidth);
