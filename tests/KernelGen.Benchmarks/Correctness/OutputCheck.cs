using System.Globalization;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Correctness;

/// <summary>
/// Checks an engine's output against <see cref="ReferenceConvolution"/> before anything is timed, so that a fast wrong
/// kernel cannot win.
/// </summary>
/// <remarks>
/// The tolerance, per output: <c>|engine − reference| ≤ RelativeTolerance · Σ|x·w|</c>, the sum over the taps that reach
/// that output. Float summation of n terms in any order errs by at most about <c>n · 2⁻²⁴ · Σ|x·w|</c>; the largest n here
/// is 1024 (vocoder_up: 512 channels × 2 taps), under 6.2·10⁻⁵ in the worst case (the typical error grows as √n, far
/// less). A wrong, missing or doubled tap moves an output by about <c>Σ|x·w| / n ≥ 9.7·10⁻⁴ · Σ|x·w|</c>, ten times the
/// tolerance. Outputs no tap reaches must be exactly 0. NaN never passes.
/// </remarks>
public sealed class OutputCheck
{
    /// <summary>The allowed error as a fraction of <c>Σ|x·w|</c> of each output.</summary>
    public const double RelativeTolerance = 1e-4;

    private readonly float[] _values;
    private readonly float[] _magnitudes;

    /// <summary>Computes the reference of a shape's data (once per shape: it is the slowest part of a check).</summary>
    public OutputCheck(ShapeData data)
    {
        Shape = data.Shape;
        (_values, _magnitudes) = ReferenceConvolution.Compute(data.Shape, data.Input, data.Weights);
    }

    /// <summary>The shape checked.</summary>
    public ConvShape Shape { get; }

    /// <summary>The reference output (double accumulation, rounded once).</summary>
    public ReadOnlySpan<float> Expected => _values;

    /// <summary>Throws <see cref="OutputMismatchException"/> unless <paramref name="actual"/> matches the reference.</summary>
    /// <param name="engine">The engine's name, for the message.</param>
    /// <param name="actual">The engine's whole output, in the shape's layout.</param>
    /// <returns>The largest error seen, as a fraction of the tolerance (below 1).</returns>
    public double Verify(string engine, ReadOnlySpan<float> actual)
    {
        if (actual.Length != _values.Length)
            throw new OutputMismatchException(
                $"{engine} on {Shape.Name}: the output has {actual.Length} elements, but the shape has {_values.Length}.");
        int bad = 0, first = -1;
        double worstRatio = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double error = Math.Abs((double)actual[i] - _values[i]);
            double allowed = RelativeTolerance * _magnitudes[i];
            if (!(error <= allowed))
            {
                if (first < 0) first = i;
                bad++;
            }
            else if (allowed > 0)
            {
                worstRatio = Math.Max(worstRatio, error / allowed);
            }
        }

        if (bad > 0)
            throw new OutputMismatchException(string.Create(CultureInfo.InvariantCulture,
                $"{engine} on {Shape.Name} ({Shape.Describe()}) is WRONG: {bad} of {actual.Length} outputs differ from the reference " +
                $"by more than {RelativeTolerance:G} x sum|x*w|; the first is output [{first}] = {actual[first]:R}, expected {_values[first]:R} " +
                $"(sum|x*w| = {_magnitudes[first]:R})."));
        return worstRatio;
    }
}

/// <summary>An engine computed a different result from the reference: its timings would mean nothing.</summary>
public sealed class OutputMismatchException(string message) : Exception(message);
