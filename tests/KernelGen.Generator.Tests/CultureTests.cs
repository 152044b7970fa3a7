using System.Globalization;

namespace KernelGen.Generator.Tests;

/// <summary>The emitted source does not depend on the culture the compiler runs under, nor on the run.</summary>
public class CultureTests
{
    private const string Source = """
        using System;
        using KernelGen;

        public static partial class Layers
        {
            [GeneratedConvTranspose2D(2, 3, 3, 5, 3, Stride = 2, Padding = 1, OutputPadding = 1, Activation = FusedActivation.LeakyRelu, LeakyReluSlope = 0.2f)]
            public static partial void Leaky(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

            [GeneratedConvTranspose2D(2, 8, 2, 9, 3, Padding = 1, Layout = TensorLayout.Nhwc, Activation = FusedActivation.LeakyRelu, LeakyReluSlope = -1.5E-05f, UnrollBudget = 50)]
            public static partial void Negative(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

            [GeneratedConvTranspose3D(2, 3, 3, 2, 4, 2, StrideDepth = 3, PaddingFront = 1, Activation = FusedActivation.LeakyRelu, LeakyReluSlope = -2.5E-05f, UnrollBudget = 60)]
            public static partial void Volume(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);
        }
        """;

    private static string Generate()
    {
        var (result, _) = GeneratorHarness.Run(GeneratorHarness.Compile(Source));
        return string.Join("\n// ----\n", result.Results.Single().GeneratedSources.Select(s => s.HintName + "\n" + s.SourceText));
    }

    /// <summary>A culture that writes 1.5 as "1,5", -1 with U+2212 and groups digits with a dot (a writable clone, so it exists in invariant-globalization mode too).</summary>
    private static CultureInfo CommaAndMinusSign()
    {
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NumberDecimalSeparator = ",";
        culture.NumberFormat.NumberGroupSeparator = ".";
        culture.NumberFormat.NegativeSign = "\u2212";
        culture.NumberFormat.PositiveSign = "\u002B";
        return culture;
    }

    [Fact]
    public void OutputIsTheSameUnderEveryCulture()
    {
        string invariant = GeneratorHarness.WithCulture(CultureInfo.InvariantCulture, Generate);
        var culture = CommaAndMinusSign();
        Assert.Equal("1,5", 1.5f.ToString(culture));
        Assert.Equal("\u22121", (-1).ToString(culture));

        string localised = GeneratorHarness.WithCulture(culture, Generate);
        Assert.Equal(invariant, localised);
        Assert.Contains(" * 0.2f)", invariant);
        Assert.Contains(" * -1.5E-05f)", invariant);
        Assert.DoesNotContain("\u2212", invariant);
    }

    [Fact]
    public void OutputIsDeterministic() => Assert.Equal(Generate(), Generate());
}
