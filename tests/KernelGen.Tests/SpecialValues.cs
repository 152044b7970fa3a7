using System.Globalization;

namespace KernelGen.Tests;

/// <summary>
/// One case of <c>Fixtures/special_values.txt</c>: a layer, its data (NaN and infinities included) and PyTorch's output,
/// written by <c>Fixtures/special_values.py</c> with <c>torch.nn.functional.conv_transpose2d</c>.
/// </summary>
public sealed record GoldenCase(
    string Name, int InChannels, int OutChannels, int Groups, int InputHeight, int InputWidth,
    (int H, int W) Kernel, (int H, int W) Stride, (int Top, int Left, int Bottom, int Right) Padding,
    (int H, int W) OutputPadding, (int H, int W) Dilation, bool ChannelsLast, FusedActivation Activation, float Slope, int Batch,
    float[] Input, float[] Weights, float[] Bias, float[] Output)
{
    /// <summary>The cases, read once from the test's output folder (where the project copies the fixture).</summary>
    public static IReadOnlyList<GoldenCase> All => s_all.Value;

    private static readonly Lazy<IReadOnlyList<GoldenCase>> s_all = new(() =>
        Parse(File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "special_values.txt"))));

    /// <summary>Names of the cases, for theory data.</summary>
    public static TheoryData<string> Names
    {
        get
        {
            var names = new TheoryData<string>();
            foreach (var c in All) names.Add(c.Name);
            return names;
        }
    }

    public static GoldenCase Named(string name) => All.Single(c => c.Name == name);

    public int OutputHeight => (InputHeight - 1) * Stride.H - Padding.Top - Padding.Bottom + Dilation.H * (Kernel.H - 1) + OutputPadding.H + 1;

    public int OutputWidth => (InputWidth - 1) * Stride.W - Padding.Left - Padding.Right + Dilation.W * (Kernel.W - 1) + OutputPadding.W + 1;

    /// <summary>As <see cref="ConvCase.Tolerance"/>: data in [-1, 1], a float sum of at most this many products.</summary>
    public float Tolerance => 1e-5f * (4 + InChannels / Groups * Kernel.H * Kernel.W);

    public ConvTranspose2D Create(int maxThreads = 1) =>
        new(InChannels, OutChannels, (Kernel.H, Kernel.W), (Stride.H, Stride.W),
            Padding2D.Asymmetric(Padding.Top, Padding.Left, Padding.Bottom, Padding.Right),
            (OutputPadding.H, OutputPadding.W), (Dilation.H, Dilation.W), Groups)
        {
            Layout = ChannelsLast ? TensorLayout.Nhwc : TensorLayout.Nchw,
            Activation = Activation,
            LeakyReluSlope = Slope,
            MaxDegreeOfParallelism = maxThreads,
        };

    public float[] Naive() => NaiveReference.ConvTranspose2D(Input, Batch, InChannels, InputHeight, InputWidth, Weights, Bias.Length == 0 ? null : Bias,
        OutChannels, Kernel, Stride, Padding, OutputPadding, Dilation, Groups, ChannelsLast, Activation, Slope);

    public override string ToString() => Name;

    private static IReadOnlyList<GoldenCase> Parse(string[] lines)
    {
        var cases = new List<GoldenCase>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("case ", StringComparison.Ordinal)) continue;
            string name = lines[i][5..];
            string[] g = Field(lines[i + 1], "geometry").Split(' ');
            int I(int k) => int.Parse(g[k], CultureInfo.InvariantCulture);
            cases.Add(new GoldenCase(name, I(0), I(1), I(2), I(3), I(4), (I(5), I(6)), (I(7), I(8)), (I(9), I(10), I(11), I(12)),
                (I(13), I(14)), (I(15), I(16)), g[17] == "nhwc", Enum.Parse<FusedActivation>(g[18], ignoreCase: true),
                float.Parse(g[19], CultureInfo.InvariantCulture), I(20),
                Values(lines[i + 2], "input"), Values(lines[i + 3], "weights"), Values(lines[i + 4], "bias"), Values(lines[i + 5], "output")));
        }

        return cases;
    }

    private static string Field(string line, string name) =>
        line.StartsWith(name + " ", StringComparison.Ordinal) ? line[(name.Length + 1)..] : throw new FormatException($"Expected '{name}' in: {line[..Math.Min(40, line.Length)]}");

    private static float[] Values(string line, string name) =>
        Field(line, name).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
}

/// <summary>Comparisons that treat NaN and the infinities as values: the same special value at the same place, finite values within a tolerance.</summary>
public static class SpecialValues
{
    /// <summary>NaN, +Inf and -Inf, the values every kernel must carry as PyTorch does.</summary>
    public static readonly float[] All = [float.NaN, float.PositiveInfinity, float.NegativeInfinity];

    /// <summary>
    /// Fails unless every output is the expected special value where one is expected (NaN for NaN, the same infinity), and
    /// finite within <paramref name="tolerance"/> of the expected value elsewhere.
    /// </summary>
    public static void AssertSame(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance, string what)
    {
        if (expected.Length != actual.Length)
            throw new Xunit.Sdk.XunitException($"{what}: {actual.Length} outputs, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            bool same = float.IsNaN(e) ? float.IsNaN(a)
                : float.IsInfinity(e) ? a == e
                : float.IsFinite(a) && Math.Abs(a - e) <= tolerance;
            if (!same)
                throw new Xunit.Sdk.XunitException($"{what}: output[{i}] = {Text(a)}, expected {Text(e)} (tolerance {tolerance}); "
                    + $"{Count(actual, float.IsNaN)} NaN and {Count(actual, float.IsInfinity)} infinite outputs, expected {Count(expected, float.IsNaN)} and {Count(expected, float.IsInfinity)}");
        }
    }

    /// <summary>Puts <paramref name="count"/> special values (NaN, +Inf, -Inf at random) at random places of <paramref name="values"/>.</summary>
    public static void Sprinkle(float[] values, int count, Random random)
    {
        for (int k = 0; k < count && values.Length > 0; k++)
            values[random.Next(values.Length)] = All[random.Next(All.Length)];
    }

    private static int Count(ReadOnlySpan<float> values, Func<float, bool> predicate)
    {
        int count = 0;
        foreach (float v in values)
        {
            if (predicate(v)) count++;
        }

        return count;
    }

    private static string Text(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
