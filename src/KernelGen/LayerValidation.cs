using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Geometry;

namespace KernelGen;

/// <summary>
/// The checks that <see cref="ConvTranspose1D"/>, <see cref="ConvTranspose2D"/> and <see cref="ConvTranspose3D"/> share: their
/// options (layout, activation, leaky slope, parallelism), the lengths of a sample and a batch, and a call's weights and bias.
/// One implementation, so that the three ranks cannot drift apart in what they accept or how they say it; each rank passes its
/// own parameter names and formulas, so that its messages stay in its own terms.
/// </summary>
internal static class LayerValidation
{
    /// <summary>The value of an enum property or parameter, if it is a defined member.</summary>
    /// <exception cref="ArgumentOutOfRangeException">It is not: an unknown activation would otherwise surface only after the
    /// kernels had written the output.</exception>
    public static TEnum Defined<TEnum>(TEnum value, string parameter) where TEnum : struct, Enum =>
        Enum.IsDefined(value) ? value : throw UndefinedEnumValue(parameter, value);

    public static ArgumentOutOfRangeException UndefinedEnumValue<TEnum>(string parameter, TEnum value) where TEnum : struct, Enum =>
        new(parameter, value, $"{parameter} is {Convert.ToInt64(value, CultureInfo.InvariantCulture)}, but it must be one of {string.Join(", ", Enum.GetNames<TEnum>())}.");

    /// <summary>A <c>LeakyReluSlope</c>, if finite (the generator rejects the same values).</summary>
    public static float LeakyReluSlope(float value)
    {
        ConvTranspose2D.ThrowIfViolated(ConvTransposeRules.CheckLeakyReluSlope(value, "LeakyReluSlope"));
        return value;
    }

    /// <summary>A <c>MaxDegreeOfParallelism</c>, if at least 1.</summary>
    public static int MaxDegreeOfParallelism(int value) => value >= 1
        ? value
        : throw new ArgumentOutOfRangeException("MaxDegreeOfParallelism", value, $"MaxDegreeOfParallelism is {value}, but it must be at least 1.");

    /// <summary>
    /// The elements of one sample, <c>channels * size...</c> (<paramref name="factors"/>, each at least 1), which must fit in an
    /// <see cref="int"/> (the spans are indexed by int), else an <see cref="ArgumentOutOfRangeException"/> names the input size
    /// <paramref name="parameter"/> (and <paramref name="otherParameter"/>, another input size, in the message if given).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // on every call's path: optimised from the first call, as the rest of it
    public static int SampleLength(ReadOnlySpan<int> factors, string formula, string what, string parameter, int value,
        string? otherParameter = null, int otherValue = 0)
    {
        // Multiplied one factor at a time, stopping once past Int32: each step multiplies two numbers below 2^31, exact in a
        // long, where the whole product of four factors would fit in neither a long nor a decimal.
        long elements = 1;
        foreach (int factor in factors)
        {
            elements *= factor;
            if (elements > int.MaxValue)
            {
                BigInteger exact = BigInteger.One;
                foreach (int f in factors) exact *= f;
                string other = otherParameter is null ? "" : $" ({otherParameter} {otherValue})";
                throw new ArgumentOutOfRangeException(parameter, value,
                    $"{parameter} is {value}{other}, but one {what} sample, {formula} = {Product(factors)} = {exact} elements, must fit in an Int32.");
            }
        }

        return (int)elements;
    }

    /// <summary><c>batch * sample</c>, which must fit in an <see cref="int"/>; <paramref name="formula"/> names what a sample is.</summary>
    public static int BatchLength(int batch, int sample, string formula)
    {
        if (batch < 0)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch is {batch}, but it must be 0 or more.");
        long length = (long)batch * sample;
        if (length > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(batch), batch,
                $"batch is {batch}, but batch * {formula} = {batch} * {sample} = {length} elements must fit in an Int32.");
        return (int)length;
    }

    /// <summary>
    /// A call's weights (exactly <paramref name="weightsLength"/>, which is <paramref name="weightsFormula"/>, the product of
    /// <paramref name="weightsFactors"/>) and bias (empty or <paramref name="outChannels"/> values), neither overlapping the
    /// part of the output the call writes.
    /// </summary>
    public static void ValidateParameters(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output, int weightsLength, int outChannels,
        string weightsFormula, ReadOnlySpan<int> weightsFactors)
    {
        if (weights.Length != weightsLength)
            throw new ArgumentException(
                $"weights has {weights.Length} elements, but it must have exactly {weightsFormula} = {Product(weightsFactors)} = {weightsLength}.", nameof(weights));
        if (!bias.IsEmpty && bias.Length != outChannels)
            throw new ArgumentException($"bias has {bias.Length} elements, but it must be empty or have exactly outChannels = {outChannels}.", nameof(bias));
        if (weights.Overlaps(output))
            throw new ArgumentException("weights overlaps output; they must be separate memory.", nameof(output));
        if (bias.Overlaps(output))
            throw new ArgumentException("bias overlaps output; they must be separate memory.", nameof(output));
    }

    /// <summary>"4 * 3 * 3": the factors as a message writes them.</summary>
    private static string Product(ReadOnlySpan<int> factors)
    {
        var text = new System.Text.StringBuilder();
        foreach (int factor in factors)
        {
            if (text.Length > 0) text.Append(" * ");
            text.Append(factor.ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }
}
