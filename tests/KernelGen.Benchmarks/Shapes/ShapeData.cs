namespace KernelGen.Benchmarks.Shapes;

/// <summary>
/// The input and weights of one shape: uniform in [-1, 1), drawn from a generator seeded by the shape's name, so every
/// engine, every process BenchmarkDotNet starts and every run sees the same numbers. No bias (every engine runs bias-free).
/// </summary>
public sealed class ShapeData
{
    private ShapeData(ConvShape shape, float[] input, float[] weights)
    {
        Shape = shape;
        Input = input;
        Weights = weights;
    }

    /// <summary>The shape these arrays are for.</summary>
    public ConvShape Shape { get; }

    /// <summary><see cref="ConvShape.InputLength"/> values in the shape's layout. Engines read it; none may write it.</summary>
    public float[] Input { get; }

    /// <summary><see cref="ConvShape.WeightsLength"/> values, <c>(Cin, Cout/groups, k, k)</c>.</summary>
    public float[] Weights { get; }

    /// <summary>The data of <paramref name="shape"/>.</summary>
    public static ShapeData For(ConvShape shape)
    {
        var random = new Random(StableSeed(shape.Name));
        return new ShapeData(shape, Uniform(random, shape.InputLength), Uniform(random, shape.WeightsLength));
    }

    /// <summary>FNV-1a of the name: <see cref="string.GetHashCode()"/> is randomised per process, this is not.</summary>
    internal static int StableSeed(string name)
    {
        uint hash = 2166136261;
        foreach (char c in name)
            hash = (hash ^ c) * 16777619;
        return (int)(hash & int.MaxValue);
    }

    private static float[] Uniform(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
            values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
