namespace KernelGen;

/// <summary>
/// Asks the KernelGen source generator to implement the marked <c>partial</c> method as a 1-D transposed convolution
/// specialised for exactly this shape: every bound and index a constant, the zero taps of a stride skipped, taps and
/// channel blocks unrolled into SIMD code.
/// </summary>
/// <remarks>
/// <para>The method must be a partial method without a body, in a partial type, returning <see langword="void"/> with the
/// parameters <c>(ReadOnlySpan&lt;float&gt; input, ReadOnlySpan&lt;float&gt; weights, Span&lt;float&gt; output)</c> or, with a bias,
/// <c>(ReadOnlySpan&lt;float&gt; input, ReadOnlySpan&lt;float&gt; weights, ReadOnlySpan&lt;float&gt; bias, Span&lt;float&gt; output)</c>.
/// Weights are <c>(inChannels, outChannels / groups, kernelSize)</c>. The input may hold several samples.</para>
/// <para>Semantics are PyTorch's <c>conv_transpose1d</c>, the same as <see cref="ConvTranspose1D"/>. ONNX's asymmetric pads are
/// <see cref="PaddingBegin"/> and <see cref="PaddingEnd"/>, its <c>auto_pad</c> and <c>output_shape</c> are <see cref="AutoPad"/>
/// with <see cref="OutputLength"/>, and PyTorch's <c>output_size</c> is <see cref="OutputLength"/> alone: the same rules as
/// <see cref="ConvTranspose1D.FromOnnx"/> and <see cref="ConvTranspose1D.ForOutputSize"/>. The kernel is the 2-D kernel of a
/// height-1 layer, which is the same computation on the same memory.</para>
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class GeneratedConvTranspose1DAttribute : Attribute
{
    private int? _paddingBegin, _paddingEnd;

    /// <summary>Declares the fixed shape of the kernel.</summary>
    /// <param name="inChannels">Input channels, at least 1.</param>
    /// <param name="outChannels">Output channels, at least 1.</param>
    /// <param name="inputLength">Input length of one sample, at least 1.</param>
    /// <param name="kernelSize">Kernel length, at least 1.</param>
    public GeneratedConvTranspose1DAttribute(int inChannels, int outChannels, int inputLength, int kernelSize)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        InputLength = inputLength;
        KernelSize = kernelSize;
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Input length of one sample.</summary>
    public int InputLength { get; }

    /// <summary>Kernel length.</summary>
    public int KernelSize { get; }

    /// <summary>Stride (default 1, at least 1).</summary>
    public int Stride { get; set; } = 1;

    /// <summary>Padding at both ends (default 0, 0 or more).</summary>
    public int Padding { get; set; }

    /// <summary>
    /// Cells cropped from the beginning (ONNX <c>pads[0]</c>; default <see cref="Padding"/>). The per-side properties take
    /// ONNX's asymmetric pads; they cannot be combined with <see cref="Padding"/> (a side not given is 0).
    /// </summary>
    public int PaddingBegin { get => _paddingBegin ?? Padding; set => _paddingBegin = value; }

    /// <summary>Cells cropped from the end (ONNX <c>pads[1]</c>; default <see cref="Padding"/>). See <see cref="PaddingBegin"/>.</summary>
    public int PaddingEnd { get => _paddingEnd ?? Padding; set => _paddingEnd = value; }

    /// <summary>Output padding at the end (default 0; smaller than the stride or the dilation).</summary>
    public int OutputPadding { get; set; }

    /// <summary>Dilation (default 1, at least 1).</summary>
    public int Dilation { get; set; } = 1;

    /// <summary>Channel groups (default 1; must divide both channel counts).</summary>
    public int Groups { get; set; } = 1;

    /// <summary>
    /// The requested output length (0, the default, for none). Without <see cref="AutoPad"/> it is PyTorch's
    /// <c>output_size</c>: the output padding that reaches it is derived (do not set <see cref="OutputPadding"/> then). With
    /// <see cref="AutoPad"/> it is ONNX's <c>output_shape</c>: the padding that reaches it is derived.
    /// </summary>
    public int OutputLength { get; set; }

    /// <summary>
    /// ONNX's <c>auto_pad</c> (default <see cref="OnnxAutoPad.NotSet"/>). Setting it, even to <see cref="OnnxAutoPad.NotSet"/>,
    /// makes <see cref="OutputLength"/> ONNX's <c>output_shape</c>; with any mode but <see cref="OnnxAutoPad.NotSet"/> the padding
    /// is derived, so no padding property may be set.
    /// </summary>
    public OnnxAutoPad AutoPad { get; set; }

    /// <summary>Memory order of input and output: <see cref="TensorLayout.Ncl"/> (default) or <see cref="TensorLayout.Nlc"/>.</summary>
    public TensorLayout Layout { get; set; } = TensorLayout.Ncl;

    /// <summary>Activation fused into the kernel's store (default <see cref="FusedActivation.None"/>).</summary>
    public FusedActivation Activation { get; set; } = FusedActivation.None;

    /// <summary>Negative slope of <see cref="FusedActivation.LeakyRelu"/> (default 0.01).</summary>
    public float LeakyReluSlope { get; set; } = 0.01f;

    /// <summary>
    /// Unroll budget for this declaration, as <see cref="GeneratedConvTranspose2DAttribute.UnrollBudget"/>: 0 (the default) uses
    /// the project's <c>KernelGenUnrollBudget</c> MSBuild property or the generator's default of 2048; negative values are an error (KG0010).
    /// </summary>
    public int UnrollBudget { get; set; }
}
