namespace KernelGen.Benchmarks.Shapes;

/// <summary>
/// One benchmark layer: a 1-D, 2-D or 3-D transposed convolution of a batch of one float32 sample, the same kernel size,
/// stride, padding and output padding on every spatial axis, dilation 1, no bias, PyTorch semantics. Weights are
/// <c>(Cin, Cout/groups, k…)</c> with one <c>k</c> per spatial axis in every engine.
/// </summary>
/// <remarks>
/// <para>The geometry is held as three spatial axes, depth × height × width; the axes a rank does not have are unit axes
/// with kernel 1, stride 1 and no padding, on which a transposed convolution is the identity. So one index formula, one
/// reference and one naive loop serve every rank: a 1-D sequence of length L is (1, 1, L), a 2-D image (1, H, W). Build
/// 1-D and 3-D shapes with <see cref="OneD"/> and <see cref="ThreeD"/>; the positional constructor is the 2-D one.</para>
/// </remarks>
/// <param name="Name">The name used in the issue's table, the command line and every report.</param>
/// <param name="InChannels">Input channels (Cin).</param>
/// <param name="OutChannels">Output channels (Cout).</param>
/// <param name="InputHeight">Input height (1 for a 1-D shape).</param>
/// <param name="InputWidth">Input width (the sequence length of a 1-D shape).</param>
/// <param name="Kernel">Kernel size on every spatial axis of the rank.</param>
/// <param name="Stride">Stride on every spatial axis of the rank.</param>
/// <param name="Padding">Padding on every side of every spatial axis of the rank.</param>
/// <param name="OutputPadding">Output padding on every spatial axis of the rank.</param>
/// <param name="Groups">Channel groups.</param>
/// <param name="Layout">Memory order of the input and the output (NCHW is also NCL and NCDHW, NHWC also NLC and NDHWC).</param>
public sealed record ConvShape(
    string Name, int InChannels, int OutChannels, int InputHeight, int InputWidth,
    int Kernel, int Stride, int Padding, int OutputPadding, int Groups, TensorLayout Layout = TensorLayout.Nchw)
{
    /// <summary>The batch size of every benchmark.</summary>
    public const int Batch = 1;

    /// <summary>Spatial axes: 1 (NCL), 2 (NCHW) or 3 (NCDHW).</summary>
    public int Rank { get; init; } = 2;

    /// <summary>Input depth (1 unless <see cref="Rank"/> is 3).</summary>
    public int InputDepth { get; init; } = 1;

    /// <summary>A 1-D shape: a sequence of <paramref name="inputLength"/> cells, run as width with a unit height and depth.</summary>
    public static ConvShape OneD(string name, int inChannels, int outChannels, int inputLength,
        int kernel, int stride, int padding, int outputPadding, int groups, TensorLayout layout = TensorLayout.Ncl) =>
        new(name, inChannels, outChannels, 1, inputLength, kernel, stride, padding, outputPadding, groups, layout) { Rank = 1 };

    /// <summary>A 3-D shape of a <paramref name="inputDepth"/> × <paramref name="inputHeight"/> × <paramref name="inputWidth"/> volume.</summary>
    public static ConvShape ThreeD(string name, int inChannels, int outChannels, int inputDepth, int inputHeight, int inputWidth,
        int kernel, int stride, int padding, int outputPadding, int groups, TensorLayout layout = TensorLayout.Ncdhw) =>
        new(name, inChannels, outChannels, inputHeight, inputWidth, kernel, stride, padding, outputPadding, groups, layout)
        {
            Rank = 3,
            InputDepth = inputDepth,
        };

    /// <summary>Kernel depth: <see cref="Kernel"/> for a 3-D shape, else 1.</summary>
    public int KernelDepth => Rank == 3 ? Kernel : 1;

    /// <summary>Kernel height: <see cref="Kernel"/> for a 2-D or 3-D shape, else 1.</summary>
    public int KernelHeight => Rank >= 2 ? Kernel : 1;

    /// <summary>Stride of the depth axis (1 unless 3-D).</summary>
    public int StrideDepth => Rank == 3 ? Stride : 1;

    /// <summary>Stride of the height axis (1 for 1-D).</summary>
    public int StrideHeight => Rank >= 2 ? Stride : 1;

    /// <summary>Padding of the depth axis (0 unless 3-D).</summary>
    public int PaddingDepth => Rank == 3 ? Padding : 0;

    /// <summary>Padding of the height axis (0 for 1-D).</summary>
    public int PaddingHeight => Rank >= 2 ? Padding : 0;

    /// <summary>Output depth (1 unless 3-D), by the rule of <see cref="OutputWidth"/>.</summary>
    public int OutputDepth => Rank == 3 ? OutputSize(InputDepth) : InputDepth;

    /// <summary>Output height (1 for 1-D), by the rule of <see cref="OutputWidth"/>.</summary>
    public int OutputHeight => Rank >= 2 ? OutputSize(InputHeight) : InputHeight;

    /// <summary>Output width (the output length of a 1-D shape): <c>(in - 1) * stride - 2 * padding + (kernel - 1) + outputPadding + 1</c>.</summary>
    public int OutputWidth => OutputSize(InputWidth);

    /// <summary>Input channels of one group.</summary>
    public int InPerGroup => InChannels / Groups;

    /// <summary>Output channels of one group.</summary>
    public int OutPerGroup => OutChannels / Groups;

    /// <summary>Input cells of one channel: L, H·W or D·H·W.</summary>
    public int InputSpatial => InputDepth * InputHeight * InputWidth;

    /// <summary>Output cells of one channel.</summary>
    public int OutputSpatial => OutputDepth * OutputHeight * OutputWidth;

    /// <summary>Taps of one kernel: k, k² or k³.</summary>
    public int KernelTaps => KernelDepth * KernelHeight * Kernel;

    /// <summary>Elements of the input.</summary>
    public int InputLength => Batch * InChannels * InputSpatial;

    /// <summary>Elements of the weights, <c>Cin * (Cout / groups) * k^rank</c>.</summary>
    public int WeightsLength => InChannels * OutPerGroup * KernelTaps;

    /// <summary>Elements of the output.</summary>
    public int OutputLength => Batch * OutChannels * OutputSpatial;

    /// <summary>
    /// Floating-point operations of one call as the issue counts them, for every rank: <c>2 * N * Cin * spatial * (Cout / groups) * prod(k)</c>,
    /// every multiply-add of the scatter definition, including taps that the padding crops away.
    /// </summary>
    public long Flops => 2L * Batch * InChannels * InputSpatial * OutPerGroup * KernelTaps;

    /// <summary>Whether the activations are channels-last (NLC, NHWC, NDHWC).</summary>
    public bool IsChannelsLast => Layout == TensorLayout.Nhwc;

    /// <summary>The input's dimensions in its own memory order: <c>[N, C, spatial…]</c>, or <c>[N, spatial…, C]</c> channels-last.</summary>
    public long[] InputDimensions => Dimensions(InChannels, InputDepth, InputHeight, InputWidth);

    /// <summary>The output's dimensions in its own memory order.</summary>
    public long[] OutputDimensions => Dimensions(OutChannels, OutputDepth, OutputHeight, OutputWidth);

    /// <summary>The weights' dimensions, <c>[Cin, Cout/groups, k…]</c> with one k per spatial axis.</summary>
    public long[] WeightDimensions => [InChannels, OutPerGroup, .. Enumerable.Repeat((long)Kernel, Rank)];

    /// <summary>The spatial axes of the rank, outermost first, as ONNX and PyTorch list them (for per-axis attributes).</summary>
    public long[] PerAxis(long value) => Enumerable.Repeat(value, Rank).ToArray();

    /// <summary>Index of input element (n, c, z, y, x) in this shape's layout (z = y = 0 on the unit axes of lower ranks).</summary>
    public int InputIndex(int n, int c, int z, int y, int x) => IsChannelsLast
        ? (((n * InputDepth + z) * InputHeight + y) * InputWidth + x) * InChannels + c
        : (((n * InChannels + c) * InputDepth + z) * InputHeight + y) * InputWidth + x;

    /// <summary>Index of output element (n, c, z, y, x) in this shape's layout.</summary>
    public int OutputIndex(int n, int c, int z, int y, int x) => IsChannelsLast
        ? (((n * OutputDepth + z) * OutputHeight + y) * OutputWidth + x) * OutChannels + c
        : (((n * OutChannels + c) * OutputDepth + z) * OutputHeight + y) * OutputWidth + x;

    /// <summary>Index of weight (inChannel, outChannelInGroup, kz, ky, kx).</summary>
    public int WeightIndex(int inChannel, int outInGroup, int kz, int ky, int kx) =>
        (((inChannel * OutPerGroup + outInGroup) * KernelDepth + kz) * KernelHeight + ky) * Kernel + kx;

    /// <summary>The geometry as one line in the rank's own terms, for logs and reports.</summary>
    public string Describe()
    {
        string sizes = Rank switch
        {
            1 => $"L {InputWidth} -> {OutputWidth}",
            3 => $"{InputDepth}x{InputHeight}x{InputWidth} -> {OutputDepth}x{OutputHeight}x{OutputWidth}",
            _ => $"{InputHeight}x{InputWidth} -> {OutputHeight}x{OutputWidth}",
        };
        string layout = !IsChannelsLast ? "" : Rank switch { 1 => ", NLC", 3 => ", NDHWC", _ => ", NHWC" };
        return $"{(Rank == 2 ? "" : $"{Rank}-D ")}{InChannels}->{OutChannels}, {sizes}, k{Kernel} s{Stride} p{Padding} op{OutputPadding}" +
            (Groups == 1 ? "" : $" g{Groups}") + layout;
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    private int OutputSize(int input) => (input - 1) * Stride - 2 * Padding + (Kernel - 1) + OutputPadding + 1;

    private long[] Dimensions(int channels, int depth, int height, int width)
    {
        long[] spatial = Rank switch { 1 => [width], 3 => [depth, height, width], _ => [height, width] };
        return IsChannelsLast ? [Batch, .. spatial, channels] : [Batch, channels, .. spatial];
    }
}
