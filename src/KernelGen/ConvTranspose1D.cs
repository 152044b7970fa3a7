using System.Runtime.CompilerServices;
using KernelGen.Geometry;

namespace KernelGen;

/// <summary>
/// A 1-D transposed convolution for shapes known only at run time (the up-sampling layer of neural vocoders and audio
/// decoders), with the semantics of PyTorch's <c>torch.nn.functional.conv_transpose1d</c> and ONNX <c>ConvTranspose</c>
/// (including ONNX's asymmetric pads).
/// </summary>
/// <remarks>
/// <para>Weights are in the PyTorch/ONNX layout <c>(inChannels, outChannels / groups, kernelSize)</c>; the optional bias has
/// <c>outChannels</c> elements. Activations are NCL unless <see cref="Layout"/> says <see cref="TensorLayout.Nlc"/>; the
/// batch size is inferred from the input length.</para>
/// <para>The output length is <c>(in - 1) * stride - padBegin - padEnd + dilation * (kernel - 1) + outputPadding + 1</c>.</para>
/// <para>A sequence of length <c>L</c> is laid out in memory exactly as a 2-D image of height 1 and width <c>L</c> (NCL as NCHW,
/// NLC as NHWC), so the layer runs on the 2-D kernels with a unit height axis, as ONNX Runtime and XNNPACK run 1-D layers:
/// nothing is copied and no tap of the unit axis is wasted. Its checks and messages are its own, in 1-D terms.</para>
/// <para>An instance is immutable and may be used from several threads at once. <see cref="Compute"/> packs the weights on every
/// call; to pack them once and run many times, call <see cref="Prepare"/>.</para>
/// </remarks>
public sealed class ConvTranspose1D
{
    private readonly AxisGeometry _axis;
    private ConvTranspose2D? _plane;

    /// <summary>Creates a 1-D transposed convolution and checks its geometry.</summary>
    /// <param name="inChannels">Input channels (<c>Cin</c>), at least 1.</param>
    /// <param name="outChannels">Output channels (<c>Cout</c>), at least 1.</param>
    /// <param name="kernelSize">Kernel length, at least 1.</param>
    /// <param name="stride">Stride, at least 1 (default 1).</param>
    /// <param name="padding">Cells cropped from each end of the full output, each 0 or more (default 0). Use
    /// <see cref="Padding1D.Asymmetric"/> for ONNX-style pads.</param>
    /// <param name="outputPadding">Cells added at the end of the output, 0 or more and smaller than the stride or the dilation (default 0).</param>
    /// <param name="dilation">Spacing between kernel taps, at least 1 (default 1).</param>
    /// <param name="groups">Channel groups, at least 1, dividing both channel counts (default 1; <c>groups == inChannels</c> is depthwise).</param>
    /// <exception cref="ArgumentException">A parameter breaks a rule; the message names the parameter, its value and the rule.</exception>
    public ConvTranspose1D(int inChannels, int outChannels, int kernelSize, int stride = 1, Padding1D padding = default,
        int outputPadding = 0, int dilation = 1, int groups = 1)
    {
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckChannels(inChannels, outChannels, groups, nameof(inChannels), nameof(outChannels), nameof(groups)));
        var axis = new AxisGeometry(kernelSize, stride, padding.Begin, padding.End, outputPadding, dilation);
        var names = new AxisParameterNames(nameof(kernelSize), nameof(stride), "padding.Begin", "padding.End", nameof(outputPadding), nameof(dilation));
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckAxis(axis, names));
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckKernelExtent(axis, names));
        // Three factors below 2^31 may not fit in a long; a decimal holds their product exactly.
        decimal exactWeights = (decimal)inChannels * (outChannels / groups) * kernelSize;
        if (exactWeights > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels,
                $"inChannels is {inChannels}, but inChannels * (outChannels / groups) * kernelSize = {inChannels} * {outChannels / groups} * {kernelSize} = {exactWeights} weights must fit in an Int32 array (at most {Array.MaxLength}).");

        InChannels = inChannels;
        OutChannels = outChannels;
        Groups = groups;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        OutputPadding = outputPadding;
        Dilation = dilation;
        WeightsLength = (int)exactWeights;
        _axis = axis;
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Channel groups.</summary>
    public int Groups { get; }

    /// <summary>Kernel length.</summary>
    public int KernelSize { get; }

    /// <summary>Stride.</summary>
    public int Stride { get; }

    /// <summary>Padding (cropping of the full output) at each end.</summary>
    public Padding1D Padding { get; }

    /// <summary>Output padding (added at the end).</summary>
    public int OutputPadding { get; }

    /// <summary>Dilation.</summary>
    public int Dilation { get; }

    /// <summary>Memory order of the input and output: <see cref="TensorLayout.Ncl"/> (default) or <see cref="TensorLayout.Nlc"/>.
    /// Weights are always <c>(Cin, Cout/groups, k)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="TensorLayout"/>.</exception>
    public TensorLayout Layout
    {
        get => _layout;
        init => _layout = LayerValidation.Defined(value, nameof(Layout));
    }

    private readonly TensorLayout _layout = TensorLayout.Ncl;

    /// <summary>An activation applied to every output after the bias (none by default).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="FusedActivation"/>.</exception>
    public FusedActivation Activation
    {
        get => _activation;
        init => _activation = LayerValidation.Defined(value, nameof(Activation));
    }

    private readonly FusedActivation _activation = FusedActivation.None;

    /// <summary>The negative slope of <see cref="FusedActivation.LeakyRelu"/> (default 0.01, as in PyTorch): any finite number.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or infinite.</exception>
    public float LeakyReluSlope
    {
        get => _leakyReluSlope;
        init => _leakyReluSlope = LayerValidation.LeakyReluSlope(value);
    }

    private readonly float _leakyReluSlope = 0.01f;

    /// <summary>The most threads one call may use (default: <see cref="Environment.ProcessorCount"/>); at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        init => _maxDegreeOfParallelism = LayerValidation.MaxDegreeOfParallelism(value);
    }

    private readonly int _maxDegreeOfParallelism = Environment.ProcessorCount;

    /// <summary>The planner's forced choices (tests only; see <see cref="Planning.PlanOptions"/>), passed on to the plane.</summary>
    internal Planning.PlanOptions PlanOptions { get; init; } = Planning.PlanOptions.Default;

    /// <summary>Number of weights: <c>inChannels * (outChannels / groups) * kernelSize</c>.</summary>
    public int WeightsLength { get; }

    /// <summary>
    /// The same layer as a 2-D one of height 1, built on first use (the init-only properties are set after the constructor).
    /// Two threads racing here build two equal layers, one of which is dropped: harmless, since a layer is immutable.
    /// </summary>
    internal ConvTranspose2D Plane => Volatile.Read(ref _plane) ?? CreatePlane();

    private ConvTranspose2D CreatePlane()
    {
        var plane = new ConvTranspose2D(InChannels, OutChannels, (1, KernelSize), (1, Stride), Padding2D.Asymmetric(0, Padding.Begin, 0, Padding.End),
            (0, OutputPadding), (1, Dilation), Groups)
        {
            Layout = Layout,
            Activation = Activation,
            LeakyReluSlope = LeakyReluSlope,
            MaxDegreeOfParallelism = MaxDegreeOfParallelism,
            PlanOptions = PlanOptions,
        };
        return Interlocked.CompareExchange(ref _plane, plane, null) ?? plane;
    }

    /// <summary>The output length for an input of the given length.</summary>
    /// <param name="inputLength">Input length, at least 1.</param>
    /// <returns>The output length, at least 1.</returns>
    /// <exception cref="ArgumentException">The length is below 1, or the padding crops the whole output away.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetOutputSize(int inputLength)
    {
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckInputSize(inputLength, nameof(inputLength)));
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckOutputSize(_axis, inputLength, nameof(inputLength)));
        return (int)_axis.OutputLength(inputLength);
    }

    /// <summary>Number of input elements for <paramref name="batch"/> samples of the given length.</summary>
    /// <param name="batch">Samples, 0 or more (an empty batch is a valid call that writes nothing).</param>
    /// <param name="inputLength">Input length, at least 1.</param>
    /// <returns><c>batch * inChannels * inputLength</c>.</returns>
    /// <exception cref="ArgumentException">A size is out of range, the padding crops the whole output away, or a length does not fit in an <see cref="int"/>.</exception>
    public int GetInputLength(int batch, int inputLength)
    {
        var sizes = GetSampleSizes(inputLength);
        return LayerValidation.BatchLength(batch, sizes.InputSample, "inChannels * inputLength");
    }

    /// <summary>Number of output elements for <paramref name="batch"/> samples of the given input length.</summary>
    /// <param name="batch">Samples, 0 or more (an empty batch is a valid call that writes nothing).</param>
    /// <param name="inputLength">Input length, at least 1.</param>
    /// <returns><c>batch * outChannels * outputLength</c>.</returns>
    /// <exception cref="ArgumentException">A size is out of range, the padding crops the whole output away, or a length does not fit in an <see cref="int"/>.</exception>
    public int GetOutputLength(int batch, int inputLength)
    {
        var sizes = GetSampleSizes(inputLength);
        return LayerValidation.BatchLength(batch, sizes.OutputSample, "outChannels * outputLength");
    }

    /// <summary>
    /// Computes the transposed convolution of <paramref name="input"/> into <paramref name="output"/>. The weights are packed
    /// on every call (into a buffer reused across calls); use <see cref="Prepare"/> to pack them once.
    /// </summary>
    /// <param name="input">Zero or more samples of <c>inChannels * inputLength</c> elements, in <see cref="Layout"/> (empty: a valid call that writes nothing).</param>
    /// <param name="inputLength">Input length, at least 1.</param>
    /// <param name="weights">Exactly <see cref="WeightsLength"/> weights, <c>(Cin, Cout/groups, k)</c>.</param>
    /// <param name="bias">Empty, or exactly <see cref="OutChannels"/> values.</param>
    /// <param name="output">At least <c>batch * outChannels * outputLength</c> elements; the first that many are written.</param>
    /// <exception cref="ArgumentException">A size or span length is wrong, or spans overlap; nothing has been written.</exception>
    public void Compute(ReadOnlySpan<float> input, int inputLength, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output)
    {
        int needed = ValidateCall(input, inputLength, output);
        ValidateParameters(weights, bias, output[..needed]);
        Plane.Compute(input, 1, inputLength, weights, bias, output);
    }

    /// <summary>Packs the weights and bias once into the layout the fast kernels read, for many calls without allocation.</summary>
    /// <param name="weights">Exactly <see cref="WeightsLength"/> weights, <c>(Cin, Cout/groups, k)</c>.</param>
    /// <param name="bias">Empty, or exactly <see cref="OutChannels"/> values.</param>
    /// <returns>A prepared convolution (a copy: later changes to <paramref name="weights"/> do not affect it).</returns>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public PreparedConvTranspose1D Prepare(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias = default)
    {
        ValidateParameters(weights, bias, default);
        return new PreparedConvTranspose1D(this, Plane.Prepare(weights, bias));
    }

    /// <summary>
    /// PyTorch's <c>ConvTranspose1d.forward(input, output_size=...)</c>: the layer whose output padding makes an input of
    /// <paramref name="inputLength"/> give exactly <paramref name="outputLength"/>, which must lie between the length with no
    /// output padding and that length plus <c>stride - 1</c>, as in PyTorch.
    /// </summary>
    /// <param name="inChannels">Input channels (<c>Cin</c>), at least 1.</param>
    /// <param name="outChannels">Output channels (<c>Cout</c>), at least 1.</param>
    /// <param name="kernelSize">Kernel length, at least 1.</param>
    /// <param name="inputLength">The input's length, at least 1 (the layer is for this length).</param>
    /// <param name="outputLength">The output's length.</param>
    /// <param name="stride">Stride, at least 1 (default 1).</param>
    /// <param name="padding">Cells cropped from each end of the full output (default 0).</param>
    /// <param name="dilation">Spacing between kernel taps, at least 1 (default 1).</param>
    /// <param name="groups">Channel groups (default 1).</param>
    /// <returns>The layer, with <see cref="OutputPadding"/> set; <see cref="GetOutputSize"/> of <paramref name="inputLength"/> is <paramref name="outputLength"/>.</returns>
    /// <exception cref="ArgumentException">A parameter breaks a rule, or no output padding reaches the requested length.</exception>
    public static ConvTranspose1D ForOutputSize(int inChannels, int outChannels, int kernelSize, int inputLength, int outputLength,
        int stride = 1, Padding1D padding = default, int dilation = 1, int groups = 1)
    {
        var layer = new ConvTranspose1D(inChannels, outChannels, kernelSize, stride, padding, 0, dilation, groups);
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckInputSize(inputLength, nameof(inputLength)));
        ConvTranspose2D.ThrowIfViolated(OutputSizeRules.ForOutputSize(layer._axis, inputLength, outputLength, nameof(outputLength), out var resolved));
        return new ConvTranspose1D(inChannels, outChannels, kernelSize, stride, padding, resolved.OutputPadding, dilation, groups);
    }

    /// <summary>
    /// An ONNX <c>ConvTranspose</c> node's 1-D geometry, with its <c>auto_pad</c> and <c>output_shape</c> resolved into padding
    /// for an input of <paramref name="inputLength"/>, by the same rules as <see cref="ConvTranspose2D.FromOnnx"/>
    /// (<see cref="OnnxAutoPad.SameUpper"/> puts the odd padding cell at the end, the other modes at the beginning).
    /// </summary>
    /// <param name="inChannels">Input channels (<c>Cin</c>), at least 1.</param>
    /// <param name="outChannels">Output channels (<c>Cout</c>), at least 1.</param>
    /// <param name="kernelSize">ONNX <c>kernel_shape</c>.</param>
    /// <param name="inputLength">The input's length (the layer is for this length).</param>
    /// <param name="autoPad">ONNX <c>auto_pad</c>.</param>
    /// <param name="outputShape">ONNX <c>output_shape</c>, or null.</param>
    /// <param name="stride">ONNX <c>strides</c> (default 1).</param>
    /// <param name="pads">ONNX <c>pads</c> (used with <see cref="OnnxAutoPad.NotSet"/> and no output shape; must be zero otherwise).</param>
    /// <param name="outputPadding">ONNX <c>output_padding</c> (default 0).</param>
    /// <param name="dilation">ONNX <c>dilations</c> (default 1).</param>
    /// <param name="groups">ONNX <c>group</c> (default 1).</param>
    /// <returns>The layer with explicit padding and output padding.</returns>
    /// <exception cref="ArgumentException">A parameter breaks a rule, or the output shape cannot be reached.</exception>
    public static ConvTranspose1D FromOnnx(int inChannels, int outChannels, int kernelSize, int inputLength, OnnxAutoPad autoPad = OnnxAutoPad.NotSet,
        int? outputShape = null, int stride = 1, Padding1D pads = default, int outputPadding = 0, int dilation = 1, int groups = 1)
    {
        if (!Enum.IsDefined(autoPad)) throw LayerValidation.UndefinedEnumValue(nameof(autoPad), autoPad);
        bool explicitPads = autoPad == OnnxAutoPad.NotSet && outputShape is null;
        if (!explicitPads && pads != default)
        {
            throw new ArgumentException(
                $"pads is {pads}, but with auto_pad {autoPad} or an output shape the pads are derived, so they must be zero (ONNX does not allow both).", nameof(pads));
        }

        var layer = new ConvTranspose1D(inChannels, outChannels, kernelSize, stride, explicitPads ? pads : default, outputPadding, dilation, groups);
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckInputSize(inputLength, nameof(inputLength)));
        ConvTranspose2D.ThrowIfViolated(OutputSizeRules.ForOnnx(layer._axis, inputLength, (AutoPadMode)autoPad, outputShape, nameof(outputShape), out var axis));
        var resolved = new ConvTranspose1D(inChannels, outChannels, kernelSize, stride, Padding1D.Asymmetric(axis.PadBegin, axis.PadEnd), axis.OutputPadding, dilation, groups);
        resolved.GetOutputSize(inputLength); // the derived pads may still crop everything: say so now
        return resolved;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"ConvTranspose1D({InChannels} -> {OutChannels}, kernel {KernelSize}, stride {Stride}, padding {Padding}, output padding {OutputPadding}, dilation {Dilation}, groups {Groups}, {(Layout == TensorLayout.Nlc ? "NLC" : "NCL")}, {Activation})";

    /// <summary>Checks one call's sizes and spans (in 1-D terms) and returns the number of output elements it writes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal int ValidateCall(ReadOnlySpan<float> input, int inputLength, Span<float> output)
    {
        var sizes = GetSampleSizes(inputLength);
        if (input.Length % sizes.InputSample != 0)
            throw new ArgumentException(
                $"input has {input.Length} elements, but it must hold a whole number of samples of inChannels * inputLength = {sizes.InputSample} elements.",
                nameof(input));
        int batch = input.Length / sizes.InputSample;
        long needed = (long)batch * sizes.OutputSample;
        if (needed > int.MaxValue)
            throw new ArgumentException(
                $"input has {input.Length} elements ({batch} samples), but their output, {batch} * {sizes.OutputSample} = {needed} elements, must fit in an Int32.", nameof(input));
        if (output.Length < needed)
            throw new ArgumentException(
                $"output has {output.Length} elements, but it must have at least batch * outChannels * outputLength = {batch} * {OutChannels} * {sizes.OutputLength} = {needed}.",
                nameof(output));
        if (Kernels.FloatSpans.Overlap(input, output[..(int)needed]))
            throw new ArgumentException("input overlaps output; they must be separate memory.", nameof(output));
        return (int)needed;
    }

    private void ValidateParameters(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output) =>
        LayerValidation.ValidateParameters(weights, bias, output, WeightsLength, OutChannels, "inChannels * (outChannels / groups) * kernelSize",
            [InChannels, OutChannels / Groups, KernelSize]);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private SampleSizes GetSampleSizes(int inputLength)
    {
        int outputLength = GetOutputSize(inputLength);
        return new SampleSizes(outputLength,
            LayerValidation.SampleLength([InChannels, inputLength], "inChannels * inputLength", "input", nameof(inputLength), inputLength),
            LayerValidation.SampleLength([OutChannels, outputLength], "outChannels * outputLength", "output", nameof(inputLength), inputLength));
    }

    private readonly record struct SampleSizes(int OutputLength, int InputSample, int OutputSample);
}
