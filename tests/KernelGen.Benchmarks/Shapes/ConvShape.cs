namespace KernelGen.Benchmarks.Shapes;

/// <summary>
/// One benchmark layer: a 2-D transposed convolution of a batch of one float32 sample, square kernel, stride, padding and
/// output padding, dilation 1, no bias, PyTorch semantics. Weights are <c>(Cin, Cout/groups, k, k)</c> in every engine.
/// </summary>
/// <param name="Name">The name used in the table, the command line and every report.</param>
/// <param name="InChannels">Input channels (Cin).</param>
/// <param name="OutChannels">Output channels (Cout).</param>
/// <param name="InputHeight">Input height.</param>
/// <param name="InputWidth">Input width.</param>
/// <param name="Kernel">Kernel height and width.</param>
/// <param name="Stride">Stride on both axes.</param>
/// <param name="Padding">Padding on every side.</param>
/// <param name="OutputPadding">Output padding on both axes.</param>
/// <param name="Groups">Channel groups.</param>
/// <param name="Layout">Memory order of the input and the output.</param>
public sealed record ConvShape(
    string Name, int InChannels, int OutChannels, int InputHeight, int InputWidth,
    int Kernel, int Stride, int Padding, int OutputPadding, int Groups, TensorLayout Layout = TensorLayout.Nchw)
{
    /// <summary>The batch size of every benchmark.</summary>
    public const int Batch = 1;

    /// <summary>Output height: <c>(in - 1) * stride - 2 * padding + (kernel - 1) + outputPadding + 1</c>.</summary>
    public int OutputHeight => (InputHeight - 1) * Stride - 2 * Padding + (Kernel - 1) + OutputPadding + 1;

    /// <summary>Output width, by the same rule as <see cref="OutputHeight"/>.</summary>
    public int OutputWidth => (InputWidth - 1) * Stride - 2 * Padding + (Kernel - 1) + OutputPadding + 1;

    /// <summary>Input channels of one group.</summary>
    public int InPerGroup => InChannels / Groups;

    /// <summary>Output channels of one group.</summary>
    public int OutPerGroup => OutChannels / Groups;

    /// <summary>Elements of the input.</summary>
    public int InputLength => Batch * InChannels * InputHeight * InputWidth;

    /// <summary>Elements of the weights, <c>Cin * (Cout / groups) * k * k</c>.</summary>
    public int WeightsLength => InChannels * OutPerGroup * Kernel * Kernel;

    /// <summary>Elements of the output.</summary>
    public int OutputLength => Batch * OutChannels * OutputHeight * OutputWidth;

    /// <summary>
    /// Floating-point operations of one call as the issue counts them: <c>2 * N * Cin * H * W * (Cout / groups) * kH * kW</c>,
    /// every multiply-add of the scatter definition, including taps that the padding crops away.
    /// </summary>
    public long Flops => 2L * Batch * InChannels * InputHeight * InputWidth * OutPerGroup * Kernel * Kernel;

    /// <summary>Whether the activations are channels-last.</summary>
    public bool IsChannelsLast => Layout == TensorLayout.Nhwc;

    /// <summary>The input's dimensions in its own memory order: <c>[N, C, H, W]</c>, or <c>[N, H, W, C]</c> for NHWC.</summary>
    public long[] InputDimensions => IsChannelsLast
        ? [Batch, InputHeight, InputWidth, InChannels]
        : [Batch, InChannels, InputHeight, InputWidth];

    /// <summary>The output's dimensions in its own memory order.</summary>
    public long[] OutputDimensions => IsChannelsLast
        ? [Batch, OutputHeight, OutputWidth, OutChannels]
        : [Batch, OutChannels, OutputHeight, OutputWidth];

    /// <summary>The weights' dimensions, <c>[Cin, Cout/groups, k, k]</c>.</summary>
    public long[] WeightDimensions => [InChannels, OutPerGroup, Kernel, Kernel];

    /// <summary>Index of input element (n, c, y, x) in this shape's layout.</summary>
    public int InputIndex(int n, int c, int y, int x) => IsChannelsLast
        ? ((n * InputHeight + y) * InputWidth + x) * InChannels + c
        : ((n * InChannels + c) * InputHeight + y) * InputWidth + x;

    /// <summary>Index of output element (n, c, y, x) in this shape's layout.</summary>
    public int OutputIndex(int n, int c, int y, int x) => IsChannelsLast
        ? ((n * OutputHeight + y) * OutputWidth + x) * OutChannels + c
        : ((n * OutChannels + c) * OutputHeight + y) * OutputWidth + x;

    /// <summary>Index of weight (inChannel, outChannelInGroup, ky, kx).</summary>
    public int WeightIndex(int inChannel, int outInGroup, int ky, int kx) =>
        ((inChannel * OutPerGroup + outInGroup) * Kernel + ky) * Kernel + kx;

    /// <summary>The geometry as one line, for logs and reports.</summary>
    public string Describe() =>
        $"{InChannels}->{OutChannels}, {InputHeight}x{InputWidth} -> {OutputHeight}x{OutputWidth}, k{Kernel} s{Stride} p{Padding} op{OutputPadding}" +
        (Groups == 1 ? "" : $" g{Groups}") + (IsChannelsLast ? ", NHWC" : "");

    /// <inheritdoc/>
    public override string ToString() => Name;
}
