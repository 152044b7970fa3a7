using KernelGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace KernelGen.Generator.Tests;

/// <summary>
/// The generated code's shape that keeps it cheap for the analysers a NativeAOT project runs (docs/build-time.md): no
/// conditional per multiply-add where the runtime has <c>MultiplyAddEstimate</c>, and the conditional, still compiling,
/// where it has not (.NET 8); no conditional per lane shuffle either, the checks being in inlined helpers.
/// </summary>
public class BuildCostTests
{
    private const string Source = """
        using System;
        using KernelGen;

        namespace App;

        public static partial class Layers
        {
            [GeneratedConvTranspose2D(8, 4, 4, 4, 4, Stride = 2, Padding = 1, Activation = FusedActivation.Relu)]
            public static partial void Up(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);
        }
        """;

    [Fact]
    public void MultiplyAddsAreOneIntrinsicWhereTheRuntimeHasIt()
    {
        var (result, output) = GeneratorHarness.Run(GeneratorHarness.Compile(Source));
        string generated = GeneratorHarness.GeneratedSource(result, "Up.g.cs");

        Assert.Contains(".MultiplyAddEstimate(", generated);
        Assert.DoesNotContain("Fma.IsSupported ?", generated);
        Assert.DoesNotContain("FusedMultiplyAdd(", generated);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void LaneShufflesAreHelperCallsWhoseChecksAreInTheHelpers()
    {
        var (result, _) = GeneratorHarness.Run(GeneratorHarness.Compile(Source));
        string generated = GeneratorHarness.GeneratedSource(result, "Up.g.cs");
        int helpers = generated.IndexOf("// Lane shuffles:", StringComparison.Ordinal);
        Assert.True(helpers > 0, "no lane helpers in the generated source");
        string paths = generated[..helpers], laneHelpers = generated[helpers..];

        // This layer (stride 2, padding 1) interleaves its phases and shifts zeros into its edge vectors.
        Assert.Matches(@"InterleaveLower\d+\(a", paths);
        Assert.Matches(@"Shift(Up|Down)\d+By\d\(V\d+\.LoadUnsafe\(", paths);
        Assert.DoesNotContain("IsSupported ?", paths);
        Assert.Matches(@"private static Vec\d+ InterleaveLower\d+\(Vec\d+ even, Vec\d+ odd\) =>\n *(Sse|Avx|Avx512F)\.IsSupported \? ", laneHelpers);
        Assert.Contains("MethodImplOptions.AggressiveInlining", laneHelpers);
    }

    [Fact]
    public void WithoutMultiplyAddEstimateTheConditionalIsWrittenAndCompiles()
    {
        var compilation = GeneratorHarness.Compile(Source);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);
        var declaration = (KernelDeclaration)driver.GetRunResult().Results.Single()
            .TrackedSteps[ConvTransposeGenerator.DeclarationStep].SelectMany(step => step.Outputs).Single().Value;
        var net8 = declaration with { Spec = declaration.Spec! with { MultiplyAddEstimate = false }, HintName = "App.Layers.Up.g.cs" };

        string? generated = ConvTransposeGenerator.EmitSafely(net8, 0, out string? failure);

        Assert.Null(failure);
        Assert.NotNull(generated);
        Assert.Contains("Fma.IsSupported ? Fma.MultiplyAdd(", generated);
        Assert.DoesNotContain(".MultiplyAddEstimate(", generated);
        var compiled = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(generated, GeneratorHarness.ParseOptions(), path: net8.HintName));
        Assert.Empty(compiled.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }
}
