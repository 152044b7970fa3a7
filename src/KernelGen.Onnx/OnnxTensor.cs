namespace KernelGen.Onnx;

/// <summary>
/// A floating-point initializer (or <c>Constant</c> output) of an ONNX model, converted to <see cref="float"/>: float, float16,
/// bfloat16 and double tensors, from <c>raw_data</c>, the typed fields or external data.
/// </summary>
public sealed class OnnxTensor
{
    private readonly int[] _shape;

    internal OnnxTensor(string name, int[] shape, float[] data, string elementType)
    {
        Name = name;
        _shape = shape;
        Data = data;
        ElementType = elementType;
    }

    /// <summary>The tensor's name in the graph.</summary>
    public string Name { get; }

    /// <summary>The tensor's dimensions (empty for a scalar).</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The values in row-major (C) order, converted to <see cref="float"/>. The array is the model's own: a node bound
    /// to this tensor computes with whatever it holds.</summary>
    public float[] Data { get; }

    /// <summary>The ONNX element type the values were stored as: <c>FLOAT</c>, <c>FLOAT16</c>, <c>BFLOAT16</c> or <c>DOUBLE</c>.</summary>
    public string ElementType { get; }

    /// <summary>A copy of <see cref="Shape"/>.</summary>
    /// <returns>The dimensions as a new array.</returns>
    public int[] GetShape() => (int[])_shape.Clone();

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {ElementType} [{string.Join(", ", _shape)}]";
}
