namespace Digits;

/// <summary>
/// Normally distributed numbers from a seed, the same on every machine and run: a seeded <see cref="Random"/> (whose
/// seeded sequence .NET keeps stable across versions) turned into normal deviates by the Box-Muller transform.
/// </summary>
public sealed class GaussianSource
{
    private readonly Random _uniform;
    private double _spare;
    private bool _hasSpare;

    /// <summary>Creates a source whose whole sequence is fixed by <paramref name="seed"/>.</summary>
    public GaussianSource(int seed) => _uniform = new Random(seed);

    /// <summary>The next number drawn from N(<paramref name="mean"/>, <paramref name="standardDeviation"/>²).</summary>
    public float Next(double mean, double standardDeviation) => (float)(mean + standardDeviation * NextStandard());

    /// <summary>The next number drawn uniformly from [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public float NextUniform(double low, double high) => (float)(low + (high - low) * _uniform.NextDouble());

    /// <summary>Fills a new array of <paramref name="length"/> numbers drawn from N(<paramref name="mean"/>, <paramref name="standardDeviation"/>²).</summary>
    public float[] NextArray(int length, double mean, double standardDeviation)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
            values[i] = Next(mean, standardDeviation);
        return values;
    }

    // Box-Muller: two uniforms u1 in (0, 1] and u2 in [0, 1) give two independent N(0, 1) deviates,
    // r cos(theta) and r sin(theta) with r = sqrt(-2 ln u1), theta = 2 pi u2. The second one is kept for the next call.
    private double NextStandard()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }

        double u1 = 1.0 - _uniform.NextDouble(); // (0, 1]: ln(0) would be infinite
        double u2 = _uniform.NextDouble();
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        double angle = 2.0 * Math.PI * u2;
        _spare = radius * Math.Sin(angle);
        _hasSpare = true;
        return radius * Math.Cos(angle);
    }
}
