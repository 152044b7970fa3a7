namespace KernelGen;

/// <summary>
/// Asks the KernelGen source generator to implement the marked <c>partial</c> method as a 3-D transposed convolution
/// specialised for exactly this shape: every bound and index a constant, the zero taps of a stride skipped (on the depth
/// axis too: only the (input slice, depth tap) pairs that exist are computed), taps and channel blocks unrolled into SIMD code.
/// </summary>
/// <remarks>
/// <para>The method must be a partial method without a body, in a partial type, returning <see langword="void"/> with the
/// parameters <c>(ReadOnlySpan&lt;float&gt; input, ReadOnlySpan&lt;float&gt; weights, Span&lt;float&gt; output)</c> or, with a bias,
/// <c>(ReadOnlySpan&lt;float&gt; input, ReadOnlySpan&lt;float&gt; weights, ReadOnlySpan&lt;float&gt; bias, Span&lt;float&gt; output)</c>.
/// Weights are <c>(inChannels, outChannels / groups, kernelDepth, kernelHeight, kernelWidth)</c>. The input may hold several samples.</para>
/// <para>Semantics are PyTorch's <c>conv_transpose3d</c>, the same as <see cref="ConvTranspose3D"/>; the per-axis properties
/// override the cubic ones. ONNX's asymmetric pads are the per-side properties (<see cref="PaddingFront"/>, ...), its
/// <c>auto_pad</c> and <c>output_shape</c> are <see cref="AutoPad"/> with <see cref="OutputDepth"/>, <see cref="OutputHeight"/>
/// and <see cref="OutputWidth"/>, and PyTorch's <c>output_size</c> is those three alone: the same rules as
/// <see cref="ConvTranspose3D.FromOnnx"/>.</para>
/// <para>The generated kernel runs the depth axis as <see cref="PreparedConvTranspose3D"/> does: each output slice is the sum of
/// 2-D transposed convolutions, one per (input slice, depth tap) pair that reaches it, and each of those is the specialised 2-D
/// plane code of a <see cref="GeneratedConvTranspose2DAttribute"/> kernel reading the slices in place.</para>
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class GeneratedConvTranspose3DAttribute : Attribute
{
    private int? _kernelDepth, _kernelHeight, _kernelWidth, _strideDepth, _strideHeight, _strideWidth;
    private int? _paddingDepth, _paddingHeight, _paddingWidth;
    private int? _outputPaddingDepth, _outputPaddingHeight, _outputPaddingWidth, _dilationDepth, _dilationHeight, _dilationWidth;
    private int? _paddingFront, _paddingTop, _paddingLeft, _paddingBack, _paddingBottom, _paddingRight;

    /// <summary>Declares the fixed shape of the kernel.</summary>
    /// <param name="inChannels">Input channels, at least 1.</param>
    /// <param name="outChannels">Output channels, at least 1.</param>
    /// <param name="inputDepth">Input depth of one sample, at least 1.</param>
    /// <param name="inputHeight">Input height of one sample, at least 1.</param>
    /// <param name="inputWidth">Input width of one sample, at least 1.</param>
    /// <param name="kernelSize">Kernel depth, height and width (override with <see cref="KernelDepth"/>, <see cref="KernelHeight"/>,
    /// <see cref="KernelWidth"/>).</param>
    public GeneratedConvTranspose3DAttribute(int inChannels, int outChannels, int inputDepth, int inputHeight, int inputWidth, int kernelSize)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        InputDepth = inputDepth;
        InputHeight = inputHeight;
        InputWidth = inputWidth;
        KernelSize = kernelSize;
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Input depth of one sample.</summary>
    public int InputDepth { get; }

    /// <summary>Input height of one sample.</summary>
    public int InputHeight { get; }

    /// <summary>Input width of one sample.</summary>
    public int InputWidth { get; }

    /// <summary>Kernel depth, height and width.</summary>
    public int KernelSize { get; }

    /// <summary>Stride on all three axes (default 1, at least 1).</summary>
    public int Stride { get; set; } = 1;

    /// <summary>Padding on every side (default 0, 0 or more).</summary>
    public int Padding { get; set; }

    /// <summary>Output padding on all three axes (default 0; smaller than the stride or the dilation of each axis).</summary>
    public int OutputPadding { get; set; }

    /// <summary>Dilation on all three axes (default 1, at least 1).</summary>
    public int Dilation { get; set; } = 1;

    /// <summary>Channel groups (default 1; must divide both channel counts).</summary>
    public int Groups { get; set; } = 1;

    /// <summary>Kernel depth (default <see cref="KernelSize"/>).</summary>
    public int KernelDepth { get => _kernelDepth ?? KernelSize; set => _kernelDepth = value; }

    /// <summary>Kernel height (default <see cref="KernelSize"/>).</summary>
    public int KernelHeight { get => _kernelHeight ?? KernelSize; set => _kernelHeight = value; }

    /// <summary>Kernel width (default <see cref="KernelSize"/>).</summary>
    public int KernelWidth { get => _kernelWidth ?? KernelSize; set => _kernelWidth = value; }

    /// <summary>Stride along the depth (default <see cref="Stride"/>).</summary>
    public int StrideDepth { get => _strideDepth ?? Stride; set => _strideDepth = value; }

    /// <summary>Vertical stride (default <see cref="Stride"/>).</summary>
    public int StrideHeight { get => _strideHeight ?? Stride; set => _strideHeight = value; }

    /// <summary>Horizontal stride (default <see cref="Stride"/>).</summary>
    public int StrideWidth { get => _strideWidth ?? Stride; set => _strideWidth = value; }

    /// <summary>Padding at front and back (default <see cref="Padding"/>).</summary>
    public int PaddingDepth { get => _paddingDepth ?? Padding; set => _paddingDepth = value; }

    /// <summary>Padding at top and bottom (default <see cref="Padding"/>).</summary>
    public int PaddingHeight { get => _paddingHeight ?? Padding; set => _paddingHeight = value; }

    /// <summary>Padding at left and right (default <see cref="Padding"/>).</summary>
    public int PaddingWidth { get => _paddingWidth ?? Padding; set => _paddingWidth = value; }

    /// <summary>
    /// Cells cropped from the front (ONNX <c>pads[0]</c>; default <see cref="PaddingDepth"/>). The per-side properties take
    /// ONNX's asymmetric pads; they cannot be combined with <see cref="Padding"/>, <see cref="PaddingDepth"/>,
    /// <see cref="PaddingHeight"/> or <see cref="PaddingWidth"/> (a side not given is 0).
    /// </summary>
    public int PaddingFront { get => _paddingFront ?? PaddingDepth; set => _paddingFront = value; }

    /// <summary>Cells cropped from the top (ONNX <c>pads[1]</c>; default <see cref="PaddingHeight"/>). See <see cref="PaddingFront"/>.</summary>
    public int PaddingTop { get => _paddingTop ?? PaddingHeight; set => _paddingTop = value; }

    /// <summary>Cells cropped from the left (ONNX <c>pads[2]</c>; default <see cref="PaddingWidth"/>). See <see cref="PaddingFront"/>.</summary>
    public int PaddingLeft { get => _paddingLeft ?? PaddingWidth; set => _paddingLeft = value; }

    /// <summary>Cells cropped from the back (ONNX <c>pads[3]</c>; default <see cref="PaddingDepth"/>). See <see cref="PaddingFront"/>.</summary>
    public int PaddingBack { get => _paddingBack ?? PaddingDepth; set => _paddingBack = value; }

    /// <summary>Cells cropped from the bottom (ONNX <c>pads[4]</c>; default <see cref="PaddingHeight"/>). See <see cref="PaddingFront"/>.</summary>
    public int PaddingBottom { get => _paddingBottom ?? PaddingHeight; set => _paddingBottom = value; }

    /// <summary>Cells cropped from the right (ONNX <c>pads[5]</c>; default <see cref="PaddingWidth"/>). See <see cref="PaddingFront"/>.</summary>
    public int PaddingRight { get => _paddingRight ?? PaddingWidth; set => _paddingRight = value; }

    /// <summary>
    /// The requested output depth (0, the default, for none). Without <see cref="AutoPad"/> it is PyTorch's
    /// <c>output_size</c>: the output padding that reaches it is derived (it must lie between the depth with no output
    /// padding and that plus <c>stride - 1</c>; do not set <see cref="OutputPadding"/> then). With <see cref="AutoPad"/> it is
    /// ONNX's <c>output_shape</c>: the padding that reaches it is derived.
    /// </summary>
    public int OutputDepth { get; set; }

    /// <summary>The requested output height (0, the default, for none); see <see cref="OutputDepth"/>.</summary>
    public int OutputHeight { get; set; }

    /// <summary>The requested output width (0, the default, for none); see <see cref="OutputDepth"/>.</summary>
    public int OutputWidth { get; set; }

    /// <summary>
    /// ONNX's <c>auto_pad</c> (default <see cref="OnnxAutoPad.NotSet"/>). Setting it, even to <see cref="OnnxAutoPad.NotSet"/>,
    /// makes <see cref="OutputDepth"/>, <see cref="OutputHeight"/> and <see cref="OutputWidth"/> ONNX's <c>output_shape</c>; with
    /// any mode but <see cref="OnnxAutoPad.NotSet"/> the padding is derived, so no padding property may be set.
    /// </summary>
    public OnnxAutoPad AutoPad { get; set; }

    /// <summary>Output padding at the back (default <see cref="OutputPadding"/>).</summary>
    public int OutputPaddingDepth { get => _outputPaddingDepth ?? OutputPadding; set => _outputPaddingDepth = value; }

    /// <summary>Output padding at the bottom (default <see cref="OutputPadding"/>).</summary>
    public int OutputPaddingHeight { get => _outputPaddingHeight ?? OutputPadding; set => _outputPaddingHeight = value; }

    /// <summary>Output padding at the right (default <see cref="OutputPadding"/>).</summary>
    public int OutputPaddingWidth { get => _outputPaddingWidth ?? OutputPadding; set => _outputPaddingWidth = value; }

    /// <summary>Dilation along the depth (default <see cref="Dilation"/>).</summary>
    public int DilationDepth { get => _dilationDepth ?? Dilation; set => _dilationDepth = value; }

    /// <summary>Vertical dilation (default <see cref="Dilation"/>).</summary>
    public int DilationHeight { get => _dilationHeight ?? Dilation; set => _dilationHeight = value; }

    /// <summary>Horizontal dilation (default <see cref="Dilation"/>).</summary>
    public int DilationWidth { get => _dilationWidth ?? Dilation; set => _dilationWidth = value; }

    /// <summary>Memory order of input and output: <see cref="TensorLayout.Ncdhw"/> (default) or <see cref="TensorLayout.Ndhwc"/>.</summary>
    public TensorLayout Layout { get; set; } = TensorLayout.Ncdhw;

    /// <summary>Activation fused into the kernel's store (default <see cref="FusedActivation.None"/>).</summary>
    public FusedActivation Activation { get; set; } = FusedActivation.None;

    /// <summary>Negative slope of <see cref="FusedActivation.LeakyRelu"/> (default 0.01).</summary>
    public float LeakyReluSlope { get; set; } = 0.01f;

    /// <summary>
    /// Unroll budget for this declaration, as <see cref="GeneratedConvTranspose2DAttribute.UnrollBudget"/>, counted over every
    /// plane variant the depth axis needs: 0 (the default) uses the project's <c>KernelGenUnrollBudget</c> MSBuild property or
    /// the generator's default of 2048; above it the plane's spatial loops stay loops (warning KG0009); negative values are an error (KG0010).
    /// </summary>
    public int UnrollBudget { get; set; }
}
