using System.Runtime.CompilerServices;
using KernelGen.Geometry;

namespace KernelGen;

/// <summary>
/// A 3-D transposed convolution for shapes known only at run time (the up-sampling step of volumetric U-Net decoders), with
/// the semantics of PyTorch's <c>torch.nn.functional.conv_transpose3d</c> and ONNX <c>ConvTranspose</c> (including ONNX's
/// asymmetric pads).
/// </summary>
/// <remarks>
/// <para>Weights are in the PyTorch/ONNX layout <c>(inChannels, outChannels / groups, kernelDepth, kernelHeight, kernelWidth)</c>;
/// the optional bias has <c>outChannels</c> elements. Activations are NCDHW unless <see cref="Layout"/> says
/// <see cref="TensorLayout.Ndhwc"/>; the batch size is inferred from the input length.</para>
/// <para>Per axis, the output size is <c>(in - 1) * stride - padBegin - padEnd + dilation * (kernel - 1) + outputPadding + 1</c>.</para>
/// <para>How it runs: the phase decomposition of the depth axis. Output slice <c>od</c> receives input slice <c>id</c> through
/// depth tap <c>kd</c> exactly when <c>id * strideD + kd * dilationD - padFront = od</c>, and each such pair is a 2-D transposed
/// convolution of the slice with the weights' <c>kd</c>-th (height, width) plane. So the layer is a sum of 2-D layers, one per
/// depth tap, run on the 2-D kernels (packed once per tap by <see cref="Prepare"/>); only the pairs that exist are computed (the
/// stride's zero slices never are), and for a kernel no larger than its stride (the usual 2, 2 up-sampling) each output slice has
/// exactly one. Bias and activation follow once per finished slice.</para>
/// <para>An instance is immutable and may be used from several threads at once. <see cref="Compute"/> packs the weights on every
/// call; to pack them once and run many times, call <see cref="Prepare"/>.</para>
/// </remarks>
public sealed class ConvTranspose3D
{
    private readonly AxisGeometry _depth, _height, _width;
    private PreparedConvTranspose3D? _scratch;
    private ConvTranspose2D? _plane;

    /// <summary>Creates a 3-D transposed convolution and checks its geometry.</summary>
    /// <param name="inChannels">Input channels (<c>Cin</c>), at least 1.</param>
    /// <param name="outChannels">Output channels (<c>Cout</c>), at least 1.</param>
    /// <param name="kernelSize">Kernel depth, height and width, each at least 1 (one int for all three).</param>
    /// <param name="stride">Stride per axis, each at least 1 (default 1).</param>
    /// <param name="padding">Cells cropped from each side of the full output, each 0 or more (default 0). Use
    /// <see cref="Padding3D.Asymmetric"/> for ONNX-style pads.</param>
    /// <param name="outputPadding">Cells added at the back, bottom and right of the output, each 0 or more and smaller than the
    /// stride or the dilation of its axis (default 0).</param>
    /// <param name="dilation">Spacing between kernel taps per axis, each at least 1 (default 1).</param>
    /// <param name="groups">Channel groups, at least 1, dividing both channel counts (default 1; <c>groups == inChannels</c> is depthwise).</param>
    /// <exception cref="ArgumentException">A parameter breaks a rule; the message names the parameter, its value and the rule.</exception>
    public ConvTranspose3D(int inChannels, int outChannels, Size3D kernelSize, Size3D? stride = null, Padding3D? padding = null,
        Size3D? outputPadding = null, Size3D? dilation = null, int groups = 1)
    {
        Size3D s = stride ?? 1, op = outputPadding ?? 0, d = dilation ?? 1;
        Padding3D p = padding ?? 0;
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckChannels(inChannels, outChannels, groups, nameof(inChannels), nameof(outChannels), nameof(groups)));
        var depth = new AxisGeometry(kernelSize.Depth, s.Depth, p.Front, p.Back, op.Depth, d.Depth);
        var names = new AxisParameterNames("kernelSize.Depth", "stride.Depth", "padding.Front", "padding.Back", "outputPadding.Depth", "dilation.Depth");
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckAxis(depth, names));
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckKernelExtent(depth, names));
        // The height and width axes are checked by the rules of the 2-D layer they run on: same rules, same parameter names.
        (_height, _width) = ConvTranspose2D.CheckGeometry(inChannels, outChannels, (kernelSize.Height, kernelSize.Width), (s.Height, s.Width),
            Padding2D.Asymmetric(p.Top, p.Left, p.Bottom, p.Right), (op.Height, op.Width), (d.Height, d.Width), groups);
        decimal weights = (decimal)inChannels * (outChannels / groups) * kernelSize.Depth * kernelSize.Height * kernelSize.Width;
        if (weights > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels,
                $"inChannels is {inChannels}, but inChannels * (outChannels / groups) * kernelDepth * kernelHeight * kernelWidth = {inChannels} * {outChannels / groups} * {kernelSize.Depth} * {kernelSize.Height} * {kernelSize.Width} = {weights} weights must fit in an Int32 array (at most {Array.MaxLength}).");

        InChannels = inChannels;
        OutChannels = outChannels;
        Groups = groups;
        KernelSize = kernelSize;
        Stride = s;
        Padding = p;
        OutputPadding = op;
        Dilation = d;
        WeightsLength = (int)weights;
        _depth = depth;
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Channel groups.</summary>
    public int Groups { get; }

    /// <summary>Kernel depth, height and width.</summary>
    public Size3D KernelSize { get; }

    /// <summary>Stride per axis.</summary>
    public Size3D Stride { get; }

    /// <summary>Padding (cropping of the full output) per side.</summary>
    public Padding3D Padding { get; }

    /// <summary>Output padding per axis (added at the back, bottom and right).</summary>
    public Size3D OutputPadding { get; }

    /// <summary>Dilation per axis.</summary>
    public Size3D Dilation { get; }

    /// <summary>Memory order of the input and output: <see cref="TensorLayout.Ncdhw"/> (default) or <see cref="TensorLayout.Ndhwc"/>.
    /// Weights are always <c>(Cin, Cout/groups, kD, kH, kW)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="TensorLayout"/>.</exception>
    public TensorLayout Layout
    {
        get => _layout;
        init => _layout = LayerValidation.Defined(value, nameof(Layout));
    }

    private readonly TensorLayout _layout = TensorLayout.Ncdhw;

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

    /// <summary>Number of weights: <c>inChannels * (outChannels / groups) * kernelDepth * kernelHeight * kernelWidth</c>.</summary>
    public int WeightsLength { get; }

    /// <summary>
    /// The (height, width) layer every depth tap runs on: the slices' layout (<see cref="SlicesChannelsLast"/>), this layer's
    /// thread cap, no bias and no activation (those follow per finished slice). Built on first use, once the init-only
    /// properties are set (the constructor runs before them), so that one layer serves every prepared copy's taps. Two
    /// threads racing here build two equal layers, one of which is dropped: harmless, since a layer is immutable.
    /// </summary>
    internal ConvTranspose2D Plane => Volatile.Read(ref _plane) ?? CreatePlane();

    /// <summary>
    /// Whether the depth slices run as NHWC images: NDHWC layers always, NCDHW ones when the planner prefers it for their
    /// channels (see <see cref="Planning.PlanBuilder.PrefersChannelsLastSlices"/>).
    /// </summary>
    internal bool SlicesChannelsLast => Layout == TensorLayout.Ndhwc || Planning.PlanBuilder.PrefersChannelsLastSlices(InChannels / Groups, OutChannels / Groups);

    /// <summary>
    /// The (height, width) layer in NCHW, as <see cref="Plane"/> otherwise: for the up-sampling kernel, which reads and
    /// writes an NCDHW volume's slices in place (see <see cref="PreparedConvTranspose3D"/>). The plane itself when it is
    /// NCHW; else built on first use, once per definition.
    /// </summary>
    internal ConvTranspose2D ChannelsFirstPlane =>
        Plane.Layout == TensorLayout.Nchw ? Plane : Volatile.Read(ref _channelsFirstPlane) ?? CreatePlane(TensorLayout.Nchw, ref _channelsFirstPlane);

    private ConvTranspose2D? _channelsFirstPlane;

    private ConvTranspose2D CreatePlane() => CreatePlane(SlicesChannelsLast ? TensorLayout.Nhwc : TensorLayout.Nchw, ref _plane);

    private ConvTranspose2D CreatePlane(TensorLayout layout, ref ConvTranspose2D? field)
    {
        var plane = new ConvTranspose2D(InChannels, OutChannels, (KernelSize.Height, KernelSize.Width), (Stride.Height, Stride.Width),
            Padding2D.Asymmetric(Padding.Top, Padding.Left, Padding.Bottom, Padding.Right), (OutputPadding.Height, OutputPadding.Width),
            (Dilation.Height, Dilation.Width), Groups)
        {
            Layout = layout,
            MaxDegreeOfParallelism = MaxDegreeOfParallelism,
        };
        return Interlocked.CompareExchange(ref field, plane, null) ?? plane;
    }

    internal AxisGeometry DepthAxis => _depth;

    /// <summary>The output depth, height and width for an input of the given size.</summary>
    /// <param name="inputDepth">Input depth, at least 1.</param>
    /// <param name="inputHeight">Input height, at least 1.</param>
    /// <param name="inputWidth">Input width, at least 1.</param>
    /// <returns>The output size; each is at least 1.</returns>
    /// <exception cref="ArgumentException">A size is below 1, or the padding crops the whole output away.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public (int Depth, int Height, int Width) GetOutputSize(int inputDepth, int inputHeight, int inputWidth)
    {
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckInputSize(inputDepth, nameof(inputDepth)));
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckOutputSize(_depth, inputDepth, nameof(inputDepth)));
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckInputSize(inputHeight, nameof(inputHeight)));
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckInputSize(inputWidth, nameof(inputWidth)));
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckOutputSize(_height, inputHeight, nameof(inputHeight)));
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckOutputSize(_width, inputWidth, nameof(inputWidth)));
        return ((int)_depth.OutputLength(inputDepth), (int)_height.OutputLength(inputHeight), (int)_width.OutputLength(inputWidth));
    }

    /// <summary>Number of input elements for <paramref name="batch"/> samples of the given size.</summary>
    /// <param name="batch">Samples, 0 or more (an empty batch is a valid call that writes nothing).</param>
    /// <param name="inputDepth">Input depth, at least 1.</param>
    /// <param name="inputHeight">Input height, at least 1.</param>
    /// <param name="inputWidth">Input width, at least 1.</param>
    /// <returns><c>batch * inChannels * inputDepth * inputHeight * inputWidth</c>.</returns>
    /// <exception cref="ArgumentException">A size is out of range, the padding crops the whole output away, or a length does not fit in an <see cref="int"/>.</exception>
    public int GetInputLength(int batch, int inputDepth, int inputHeight, int inputWidth) =>
        LayerValidation.BatchLength(batch, GetSampleSizes(inputDepth, inputHeight, inputWidth).InputSample, "inChannels * inputDepth * inputHeight * inputWidth");

    /// <summary>Number of output elements for <paramref name="batch"/> samples of the given input size.</summary>
    /// <param name="batch">Samples, 0 or more (an empty batch is a valid call that writes nothing).</param>
    /// <param name="inputDepth">Input depth, at least 1.</param>
    /// <param name="inputHeight">Input height, at least 1.</param>
    /// <param name="inputWidth">Input width, at least 1.</param>
    /// <returns><c>batch * outChannels * outputDepth * outputHeight * outputWidth</c>.</returns>
    /// <exception cref="ArgumentException">A size is out of range, the padding crops the whole output away, or a length does not fit in an <see cref="int"/>.</exception>
    public int GetOutputLength(int batch, int inputDepth, int inputHeight, int inputWidth) =>
        LayerValidation.BatchLength(batch, GetSampleSizes(inputDepth, inputHeight, inputWidth).OutputSample, "outChannels * outputDepth * outputHeight * outputWidth");

    /// <summary>
    /// Computes the transposed convolution of <paramref name="input"/> into <paramref name="output"/>. The weights are packed on
    /// every call (into buffers reused across calls); use <see cref="Prepare"/> to pack them once.
    /// </summary>
    /// <param name="input">Zero or more samples of <c>inChannels * inputDepth * inputHeight * inputWidth</c> elements, in
    /// <see cref="Layout"/> (empty: a valid call that writes nothing).</param>
    /// <param name="inputDepth">Input depth, at least 1.</param>
    /// <param name="inputHeight">Input height, at least 1.</param>
    /// <param name="inputWidth">Input width, at least 1.</param>
    /// <param name="weights">Exactly <see cref="WeightsLength"/> weights, <c>(Cin, Cout/groups, kD, kH, kW)</c>.</param>
    /// <param name="bias">Empty, or exactly <see cref="OutChannels"/> values.</param>
    /// <param name="output">At least <c>batch * outChannels * outputDepth * outputHeight * outputWidth</c> elements; the first that many are written.</param>
    /// <exception cref="ArgumentException">A size or span length is wrong, or spans overlap; nothing has been written.</exception>
    public void Compute(ReadOnlySpan<float> input, int inputDepth, int inputHeight, int inputWidth, ReadOnlySpan<float> weights,
        ReadOnlySpan<float> bias, Span<float> output)
    {
        var shape = ValidateCall(input, inputDepth, inputHeight, inputWidth, output);
        ValidateParameters(weights, bias, output[..(shape.Batch * shape.OutputSample)]);
        if (shape.Batch == 0) return;
        var prepared = Interlocked.Exchange(ref _scratch, null) ?? new PreparedConvTranspose3D(this);
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
    /// <param name="weights">Exactly <see cref="WeightsLength"/> weights, <c>(Cin, Cout/groups, kD, kH, kW)</c>.</param>
    /// <param name="bias">Empty, or exactly <see cref="OutChannels"/> values.</param>
    /// <returns>A prepared convolution (a copy: later changes to <paramref name="weights"/> do not affect it).</returns>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public PreparedConvTranspose3D Prepare(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias = default)
    {
        ValidateParameters(weights, bias, default);
        var prepared = new PreparedConvTranspose3D(this);
        prepared.Pack(weights, bias);
        return prepared;
    }

    /// <summary>
    /// An ONNX <c>ConvTranspose</c> node's 3-D geometry, with its <c>auto_pad</c> and <c>output_shape</c> resolved into padding
    /// for an input of <paramref name="inputSize"/>, by the same rules as <see cref="ConvTranspose2D.FromOnnx"/>
    /// (<see cref="OnnxAutoPad.SameUpper"/> puts the odd padding cell at the end: back, bottom, right; the other modes at the
    /// beginning).
    /// </summary>
    /// <param name="inChannels">Input channels (<c>Cin</c>), at least 1.</param>
    /// <param name="outChannels">Output channels (<c>Cout</c>), at least 1 (the weights' second axis times <paramref name="groups"/>).</param>
    /// <param name="kernelSize">ONNX <c>kernel_shape</c>.</param>
    /// <param name="inputSize">The input's depth, height and width (the layer is for this size).</param>
    /// <param name="autoPad">ONNX <c>auto_pad</c>.</param>
    /// <param name="outputShape">ONNX <c>output_shape</c> (depth, height, width), or null.</param>
    /// <param name="stride">ONNX <c>strides</c> (default 1).</param>
    /// <param name="pads">ONNX <c>pads</c> (used with <see cref="OnnxAutoPad.NotSet"/> and no output shape; must be zero otherwise).</param>
    /// <param name="outputPadding">ONNX <c>output_padding</c> (default 0).</param>
    /// <param name="dilation">ONNX <c>dilations</c> (default 1).</param>
    /// <param name="groups">ONNX <c>group</c> (default 1).</param>
    /// <returns>The layer with explicit padding and output padding; <see cref="GetOutputSize"/> of <paramref name="inputSize"/> is the ONNX output shape.</returns>
    /// <exception cref="ArgumentException">A parameter breaks a rule, or the output shape cannot be reached; the message names the parameter, its value and the rule.</exception>
    public static ConvTranspose3D FromOnnx(int inChannels, int outChannels, Size3D kernelSize, Size3D inputSize, OnnxAutoPad autoPad = OnnxAutoPad.NotSet,
        Size3D? outputShape = null, Size3D? stride = null, Padding3D? pads = null, Size3D? outputPadding = null, Size3D? dilation = null, int groups = 1)
    {
        if (!Enum.IsDefined(autoPad)) throw LayerValidation.UndefinedEnumValue(nameof(autoPad), autoPad);
        bool explicitPads = autoPad == OnnxAutoPad.NotSet && outputShape is null;
        if (!explicitPads && pads is { } given && given != default)
        {
            throw new ArgumentException(
                $"pads is {given}, but with auto_pad {autoPad} or an output shape the pads are derived, so they must be zero (ONNX does not allow both).", nameof(pads));
        }

        var layer = new ConvTranspose3D(inChannels, outChannels, kernelSize, stride, explicitPads ? pads : null, outputPadding, dilation, groups);
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckInputSize(inputSize.Depth, "inputSize.Depth"));
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckInputSize(inputSize.Height, "inputSize.Height"));
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckInputSize(inputSize.Width, "inputSize.Width"));
        var mode = (AutoPadMode)autoPad;
        ConvTranspose2D.ThrowIfViolated(OutputSizeRules.ForOnnx(layer._depth, inputSize.Depth, mode, outputShape?.Depth, "outputShape.Depth", out var depth));
        ConvTranspose2D.ThrowIfViolated(OutputSizeRules.ForOnnx(layer._height, inputSize.Height, mode, outputShape?.Height, "outputShape.Height", out var height));
        ConvTranspose2D.ThrowIfViolated(OutputSizeRules.ForOnnx(layer._width, inputSize.Width, mode, outputShape?.Width, "outputShape.Width", out var width));
        var resolved = new ConvTranspose3D(inChannels, outChannels, kernelSize, stride,
            Padding3D.Asymmetric(depth.PadBegin, height.PadBegin, width.PadBegin, depth.PadEnd, height.PadEnd, width.PadEnd),
            (depth.OutputPadding, height.OutputPadding, width.OutputPadding), dilation, groups);
        resolved.GetOutputSize(inputSize.Depth, inputSize.Height, inputSize.Width); // the derived pads may still crop everything: say so now
        return resolved;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"ConvTranspose3D({InChannels} -> {OutChannels}, kernel {KernelSize}, stride {Stride}, padding {Padding}, output padding {OutputPadding}, dilation {Dilation}, groups {Groups}, {(Layout == TensorLayout.Ndhwc ? "NDHWC" : "NCDHW")}, {Activation})";

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal CallShape3D ValidateCall(ReadOnlySpan<float> input, int inputDepth, int inputHeight, int inputWidth, Span<float> output)
    {
        var sizes = GetSampleSizes(inputDepth, inputHeight, inputWidth);
        if (input.Length % sizes.InputSample != 0)
            throw new ArgumentException(
                $"input has {input.Length} elements, but it must hold a whole number of samples of inChannels * inputDepth * inputHeight * inputWidth = {sizes.InputSample} elements.",
                nameof(input));
        int batch = input.Length / sizes.InputSample;
        long needed = (long)batch * sizes.OutputSample;
        if (needed > int.MaxValue)
            throw new ArgumentException(
                $"input has {input.Length} elements ({batch} samples), but their output, {batch} * {sizes.OutputSample} = {needed} elements, must fit in an Int32.", nameof(input));
        if (output.Length < needed)
            throw new ArgumentException(
                $"output has {output.Length} elements, but it must have at least batch * outChannels * outputDepth * outputHeight * outputWidth = {batch} * {OutChannels} * {sizes.OutputDepth} * {sizes.OutputHeight} * {sizes.OutputWidth} = {needed}.",
                nameof(output));
        if (Kernels.FloatSpans.Overlap(input, output[..(int)needed]))
            throw new ArgumentException("input overlaps output; they must be separate memory.", nameof(output));
        return new CallShape3D(batch, inputDepth, inputHeight, inputWidth, sizes.OutputDepth, sizes.OutputHeight, sizes.OutputWidth,
            sizes.InputSample, sizes.OutputSample);
    }

    internal void ValidateParameters(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output) =>
        LayerValidation.ValidateParameters(weights, bias, output, WeightsLength, OutChannels,
            "inChannels * (outChannels / groups) * kernelDepth * kernelHeight * kernelWidth",
            [InChannels, OutChannels / Groups, KernelSize.Depth, KernelSize.Height, KernelSize.Width]);

    /// <summary>
    /// The output size and the lengths of one input and one output sample, every rule checked; the last valid input size's
    /// are kept (see <see cref="LastInputSize{TInputSize, TSizes}"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private SampleSizes GetSampleSizes(int inputDepth, int inputHeight, int inputWidth)
    {
        var inputSize = new Size3D(inputDepth, inputHeight, inputWidth);
        if (_lastSampleSizes.TryGet(inputSize, out SampleSizes sizes))
            return sizes;
        sizes = ComputeSampleSizes(inputDepth, inputHeight, inputWidth);
        _lastSampleSizes.Remember(inputSize, sizes);
        return sizes;
    }

    /// <summary>The sample sizes of the last valid input size (see <see cref="GetSampleSizes"/>).</summary>
    private LastInputSize<Size3D, SampleSizes> _lastSampleSizes;

    private SampleSizes ComputeSampleSizes(int inputDepth, int inputHeight, int inputWidth)
    {
        var (outputDepth, outputHeight, outputWidth) = GetOutputSize(inputDepth, inputHeight, inputWidth);
        int inputSample = LayerValidation.SampleLength([InChannels, inputDepth, inputHeight, inputWidth],
            "inChannels * inputDepth * inputHeight * inputWidth", "input", nameof(inputDepth), inputDepth);
        int outputSample = LayerValidation.SampleLength([OutChannels, outputDepth, outputHeight, outputWidth],
            "outChannels * outputDepth * outputHeight * outputWidth", "output", nameof(inputDepth), inputDepth);
        return new SampleSizes(outputDepth, outputHeight, outputWidth, inputSample, outputSample);
    }

    private readonly record struct SampleSizes(int OutputDepth, int OutputHeight, int OutputWidth, int InputSample, int OutputSample);
}

/// <summary>The sizes of one 3-D call, after validation.</summary>
internal readonly record struct CallShape3D(int Batch, int InputDepth, int InputHeight, int InputWidth, int OutputDepth, int OutputHeight, int OutputWidth,
    int InputSample, int OutputSample);
