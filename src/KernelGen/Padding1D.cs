namespace KernelGen;

/// <summary>
/// Padding of a 1-D transposed convolution: how many cells are cropped from each end of the full output. Symmetric
/// padding (PyTorch) converts implicitly from an <see cref="int"/>; ONNX-style asymmetric padding is made with
/// <see cref="Asymmetric"/>.
/// </summary>
/// <param name="Begin">Cells cropped from the beginning (ONNX <c>pads[0]</c>).</param>
/// <param name="End">Cells cropped from the end (ONNX <c>pads[1]</c>).</param>
public readonly record struct Padding1D(int Begin, int End)
{
    /// <summary>The same padding at both ends.</summary>
    /// <param name="both">Cells cropped from each end.</param>
    public static implicit operator Padding1D(int both) => new(both, both);

    /// <summary>ONNX-style padding, in the order of ONNX's <c>pads</c> attribute: <c>[begin, end]</c>.</summary>
    /// <param name="begin">Cells cropped from the beginning.</param>
    /// <param name="end">Cells cropped from the end.</param>
    /// <returns>The padding.</returns>
    public static Padding1D Asymmetric(int begin, int end) => new(begin, end);

    /// <inheritdoc/>
    public override string ToString() => Begin == End ? $"{Begin}" : $"(begin {Begin}, end {End})";
}
