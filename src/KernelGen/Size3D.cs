namespace KernelGen;

/// <summary>
/// A per-axis (depth, height, width) triple of integers: a kernel size, stride, output padding or dilation of a 3-D layer.
/// Converts implicitly from one <see cref="int"/> (the same on every axis) and from an <c>(int, int, int)</c> tuple.
/// </summary>
/// <param name="Depth">The value along the depth axis.</param>
/// <param name="Height">The value along the height axis.</param>
/// <param name="Width">The value along the width axis.</param>
public readonly record struct Size3D(int Depth, int Height, int Width)
{
    /// <summary>The same value on every axis.</summary>
    /// <param name="all">The value for depth, height and width.</param>
    public static implicit operator Size3D(int all) => new(all, all, all);

    /// <summary>A (depth, height, width) tuple.</summary>
    /// <param name="triple">The values for depth, height and width.</param>
    public static implicit operator Size3D((int Depth, int Height, int Width) triple) => new(triple.Depth, triple.Height, triple.Width);

    /// <inheritdoc/>
    public override string ToString() => $"({Depth}, {Height}, {Width})";
}

/// <summary>
/// Padding of a 3-D transposed convolution: how many cells are cropped from each side of the full output. Symmetric padding
/// (PyTorch) converts implicitly from an <see cref="int"/>, a <see cref="Size3D"/> or an <c>(int, int, int)</c> tuple;
/// ONNX-style asymmetric padding is made with <see cref="Asymmetric"/>.
/// </summary>
/// <param name="Front">Cells cropped from the front (ONNX <c>pads[0]</c>, the depth begin).</param>
/// <param name="Top">Cells cropped from the top (ONNX <c>pads[1]</c>).</param>
/// <param name="Left">Cells cropped from the left (ONNX <c>pads[2]</c>).</param>
/// <param name="Back">Cells cropped from the back (ONNX <c>pads[3]</c>, the depth end).</param>
/// <param name="Bottom">Cells cropped from the bottom (ONNX <c>pads[4]</c>).</param>
/// <param name="Right">Cells cropped from the right (ONNX <c>pads[5]</c>).</param>
public readonly record struct Padding3D(int Front, int Top, int Left, int Back, int Bottom, int Right)
{
    /// <summary>The same padding on all six sides.</summary>
    /// <param name="all">Cells cropped from each side.</param>
    public static implicit operator Padding3D(int all) => new(all, all, all, all, all, all);

    /// <summary>Symmetric padding per axis: (depth, height, width).</summary>
    /// <param name="triple">Cells cropped from both ends of each axis.</param>
    public static implicit operator Padding3D((int Depth, int Height, int Width) triple) =>
        new(triple.Depth, triple.Height, triple.Width, triple.Depth, triple.Height, triple.Width);

    /// <summary>Symmetric padding per axis.</summary>
    /// <param name="size">Cells cropped from both ends of each axis.</param>
    public static implicit operator Padding3D(Size3D size) => new(size.Depth, size.Height, size.Width, size.Depth, size.Height, size.Width);

    /// <summary>ONNX-style padding, in the order of ONNX's <c>pads</c> attribute: <c>[front, top, left, back, bottom, right]</c>.</summary>
    /// <param name="front">Cells cropped from the front (depth begin).</param>
    /// <param name="top">Cells cropped from the top.</param>
    /// <param name="left">Cells cropped from the left.</param>
    /// <param name="back">Cells cropped from the back (depth end).</param>
    /// <param name="bottom">Cells cropped from the bottom.</param>
    /// <param name="right">Cells cropped from the right.</param>
    /// <returns>The padding.</returns>
    public static Padding3D Asymmetric(int front, int top, int left, int back, int bottom, int right) => new(front, top, left, back, bottom, right);

    /// <inheritdoc/>
    public override string ToString() => Front == Back && Top == Bottom && Left == Right
        ? $"({Front}, {Top}, {Left})"
        : $"(front {Front}, top {Top}, left {Left}, back {Back}, bottom {Bottom}, right {Right})";
}
