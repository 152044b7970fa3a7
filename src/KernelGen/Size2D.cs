namespace KernelGen;

/// <summary>
/// A per-axis (height, width) pair of integers: a kernel size, stride, padding, output padding or dilation.
/// Converts implicitly from one <see cref="int"/> (the same on both axes) and from an <c>(int, int)</c> tuple.
/// </summary>
/// <param name="Height">The value along the height (vertical) axis.</param>
/// <param name="Width">The value along the width (horizontal) axis.</param>
public readonly record struct Size2D(int Height, int Width)
{
    /// <summary>The same value on both axes.</summary>
    /// <param name="both">The value for height and width.</param>
    public static implicit operator Size2D(int both) => new(both, both);

    /// <summary>A (height, width) tuple.</summary>
    /// <param name="pair">The values for height and width.</param>
    public static implicit operator Size2D((int Height, int Width) pair) => new(pair.Height, pair.Width);

    /// <inheritdoc/>
    public override string ToString() => $"({Height}, {Width})";
}

/// <summary>
/// Padding of a 2-D transposed convolution: how many cells are cropped from each side of the full output.
/// Symmetric padding (PyTorch) converts implicitly from an <see cref="int"/> or an <c>(int, int)</c> tuple;
/// ONNX-style asymmetric padding is made with <see cref="Asymmetric"/>.
/// </summary>
/// <param name="Top">Cells cropped from the top (ONNX <c>pads[0]</c>, the height begin).</param>
/// <param name="Left">Cells cropped from the left (ONNX <c>pads[1]</c>, the width begin).</param>
/// <param name="Bottom">Cells cropped from the bottom (ONNX <c>pads[2]</c>, the height end).</param>
/// <param name="Right">Cells cropped from the right (ONNX <c>pads[3]</c>, the width end).</param>
public readonly record struct Padding2D(int Top, int Left, int Bottom, int Right)
{
    /// <summary>The same padding on all four sides.</summary>
    /// <param name="all">Cells cropped from each side.</param>
    public static implicit operator Padding2D(int all) => new(all, all, all, all);

    /// <summary>Symmetric padding per axis: (height, width).</summary>
    /// <param name="pair">Cells cropped from top and bottom, and from left and right.</param>
    public static implicit operator Padding2D((int Height, int Width) pair) => new(pair.Height, pair.Width, pair.Height, pair.Width);

    /// <summary>Symmetric padding per axis.</summary>
    /// <param name="pair">Cells cropped from top and bottom (height), and from left and right (width).</param>
    public static implicit operator Padding2D(Size2D pair) => new(pair.Height, pair.Width, pair.Height, pair.Width);

    /// <summary>ONNX-style padding, in the order of ONNX's <c>pads</c> attribute: <c>[top, left, bottom, right]</c>.</summary>
    /// <param name="top">Cells cropped from the top.</param>
    /// <param name="left">Cells cropped from the left.</param>
    /// <param name="bottom">Cells cropped from the bottom.</param>
    /// <param name="right">Cells cropped from the right.</param>
    /// <returns>The padding.</returns>
    public static Padding2D Asymmetric(int top, int left, int bottom, int right) => new(top, left, bottom, right);

    /// <inheritdoc/>
    public override string ToString() => Top == Bottom && Left == Right ? $"({Top}, {Left})" : $"(top {Top}, left {Left}, bottom {Bottom}, right {Right})";
}

/// <summary>
/// ONNX's <c>auto_pad</c> attribute of <c>ConvTranspose</c>: how the padding follows from the input size and the requested
/// output shape (see <see cref="ConvTranspose2D.FromOnnx"/>).
/// </summary>
public enum OnnxAutoPad
{
    /// <summary><c>NOTSET</c> (ONNX's default): the explicit <c>pads</c>, or, with an <c>output_shape</c>, pads that reach it
    /// with the odd cell at the beginning.</summary>
    NotSet = 0,

    /// <summary><c>SAME_UPPER</c>: an output of <c>input * stride</c> (or the <c>output_shape</c>), the odd padding cell at the end.</summary>
    SameUpper = 1,

    /// <summary><c>SAME_LOWER</c>: an output of <c>input * stride</c> (or the <c>output_shape</c>), the odd padding cell at the beginning.</summary>
    SameLower = 2,

    /// <summary><c>VALID</c>: no padding (or, with an <c>output_shape</c>, pads that reach it with the odd cell at the beginning).</summary>
    Valid = 3,
}

/// <summary>
/// The memory order of activations: channels first (PyTorch's and ONNX's default) or channels last. Each order has a name
/// per rank (<see cref="Nchw"/>, <see cref="Ncl"/> and <see cref="Ncdhw"/> are the same value, as are <see cref="Nhwc"/>,
/// <see cref="Nlc"/> and <see cref="Ndhwc"/>). Weights always use the PyTorch/ONNX layout <c>(Cin, Cout/groups, k...)</c>.
/// </summary>
public enum TensorLayout
{
    /// <summary>Batch, channels, height, width (PyTorch and ONNX default).</summary>
    Nchw = 0,

    /// <summary>Batch, height, width, channels ("channels last").</summary>
    Nhwc = 1,

    /// <summary>1-D: batch, channels, length (PyTorch and ONNX default); the same value as <see cref="Nchw"/>.</summary>
    Ncl = Nchw,

    /// <summary>1-D: batch, length, channels ("channels last"); the same value as <see cref="Nhwc"/>.</summary>
    Nlc = Nhwc,

    /// <summary>3-D: batch, channels, depth, height, width (PyTorch and ONNX default); the same value as <see cref="Nchw"/>.</summary>
    Ncdhw = Nchw,

    /// <summary>3-D: batch, depth, height, width, channels ("channels last"); the same value as <see cref="Nhwc"/>.</summary>
    Ndhwc = Nhwc,
}

/// <summary>An element-wise function applied to each output after the bias (a fused epilogue).</summary>
public enum FusedActivation
{
    /// <summary>No activation: the output is the convolution plus bias.</summary>
    None = 0,

    /// <summary><c>max(x, 0)</c>.</summary>
    Relu = 1,

    /// <summary><c>x</c> if <c>x &gt;= 0</c>, else <c>slope * x</c> (slope 0.01 unless set).</summary>
    LeakyRelu = 2,

    /// <summary><c>1 / (1 + exp(-x))</c>.</summary>
    Sigmoid = 3,

    /// <summary><c>tanh(x)</c>.</summary>
    Tanh = 4,
}
