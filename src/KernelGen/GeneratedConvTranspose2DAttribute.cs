namespace KernelGen;

/// <summary>
/// Asks the KernelGen source generator to implement the marked <c>partial</c> method as a 2-D transposed convolution
/// specialised for exactly this shape: every bound and index a constant, the zero taps of a stride skipped, taps and
/// channel blocks unrolled into SIMD code.
/// </summary>
/// <remarks>
/// <para>The method must be a partial method without a body, in a partial type, returning <see langword="void"/> with the
/// parameters <c>(ReadOnlySpan&lt;float&gt; input, ReadOnlySpan&lt;float&gt; weights, Span&lt;float&gt; output)</c> or, with a bias,
/// <c>(ReadOnlySpan&lt;float&gt; input, ReadOnlySpan&lt;float&gt; weights, ReadOnlySpan&lt;float&gt; bias, Span&lt;float&gt; output)</c>.
/// Weights are <c>(inChannels, outChannels / groups, kernelHeight, kernelWidth)</c>. The input may hold several samples.</para>
/// <para>Semantics are PyTorch's <c>conv_transpose2d</c>; the per-axis properties override the square ones.</para>
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class GeneratedConvTranspose2DAttribute : Attribute
{
    private int? _kernelHeight, _kernelWidth, _strideHeight, _strideWidth, _paddingHeight, _paddingWidth;
    private int? _outputPaddingHeight, _outputPaddingWidth, _dilationHeight, _dilationWidth;

    /// <summary>Declares the fixed shape of the kernel.</summary>
    /// <param name="inChannels">Input channels, at least 1.</param>
    /// <param name="outChannels">Output channels, at least 1.</param>
    /// <param name="inputHeight">Input height of one sample, at least 1.</param>
    /// <param name="inputWidth">Input width of one sample, at least 1.</param>
    /// <param name="kernelSize">Kernel height and width (override with <see cref="KernelHeight"/>, <see cref="KernelWidth"/>).</param>
    public GeneratedConvTranspose2DAttribute(int inChannels, int outChannels, int inputHeight, int inputWidth, int kernelSize)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        InputHeight = inputHeight;
        InputWidth = inputWidth;
        KernelSize = kernelSize;
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Input height of one sample.</summary>
    public int InputHeight { get; }

    /// <summary>Input width of one sample.</summary>
    public int InputWidth { get; }

    /// <summary>Kernel height and width.</summary>
    public int KernelSize { get; }

    /// <summary>Stride on both axes (default 1, at least 1).</summary>
    public int Stride { get; set; } = 1;

    /// <summary>Padding on every side (default 0, 0 or more).</summary>
    public int Padding { get; set; }

    /// <summary>Output padding on both axes (default 0; smaller than the stride or the dilation of each axis).</summary>
    public int OutputPadding { get; set; }

    /// <summary>Dilation on both axes (default 1, at least 1).</summary>
    public int Dilation { get; set; } = 1;

    /// <summary>Channel groups (default 1; must divide both channel counts).</summary>
    public int Groups { get; set; } = 1;

    /// <summary>Kernel height (default <see cref="KernelSize"/>).</summary>
    public int KernelHeight { get => _kernelHeight ?? KernelSize; set => _kernelHeight = value; }

    /// <summary>Kernel width (default <see cref="KernelSize"/>).</summary>
    public int KernelWidth { get => _kernelWidth ?? KernelSize; set => _kernelWidth = value; }

    /// <summary>Vertical stride (default <see cref="Stride"/>).</summary>
    public int StrideHeight { get => _strideHeight ?? Stride; set => _strideHeight = value; }

    /// <summary>Horizontal stride (default <see cref="Stride"/>).</summary>
    public int StrideWidth { get => _strideWidth ?? Stride; set => _strideWidth = value; }

    /// <summary>Padding at top and bottom (default <see cref="Padding"/>).</summary>
    public int PaddingHeight { get => _paddingHeight ?? Padding; set => _paddingHeight = value; }

    /// <summary>Padding at left and right (default <see cref="Padding"/>).</summary>
    public int PaddingWidth { get => _paddingWidth ?? Padding; set => _paddingWidth = value; }

    /// <summary>Output padding at the bottom (default <see cref="OutputPadding"/>).</summary>
    public int OutputPaddingHeight { get => _outputPaddingHeight ?? OutputPadding; set => _outputPaddingHeight = value; }

    /// <summary>Output padding at the right (default <see cref="OutputPadding"/>).</summary>
    public int OutputPaddingWidth { get => _outputPaddingWidth ?? OutputPadding; set => _outputPaddingWidth = value; }

    /// <summary>Vertical dilation (default <see cref="Dilation"/>).</summary>
    public int DilationHeight { get => _dilationHeight ?? Dilation; set => _dilationHeight = value; }

    /// <summary>Horizontal dilation (default <see cref="Dilation"/>).</summary>
    public int DilationWidth { get => _dilationWidth ?? Dilation; set => _dilationWidth = value; }

    /// <summary>Memory order of input and output (default <see cref="TensorLayout.Nchw"/>).</summary>
    public TensorLayout Layout { get; set; } = TensorLayout.Nchw;

    /// <summary>Activation fused into the kernel's store (default <see cref="FusedActivation.None"/>).</summary>
    public FusedActivation Activation { get; set; } = FusedActivation.None;

    /// <summary>Negative slope of <see cref="FusedActivation.LeakyRelu"/> (default 0.01).</summary>
    public float LeakyReluSlope { get; set; } = 0.01f;

    /// <summary>
    /// Unroll budget for this declaration: the most statements (declarations, loads, multiply-adds and stores, over all the
    /// kernel's vector paths) it may unroll into; above it the spatial loops stay loops (warning KG0009). 0 (the default)
    /// uses the project's <c>KernelGenUnrollBudget</c> MSBuild property, or the generator's default of 2048. Negative values
    /// are an error (KG0010).
    /// </summary>
    public int UnrollBudget { get; set; }
}
