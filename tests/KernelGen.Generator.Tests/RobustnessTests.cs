using KernelGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace KernelGen.Generator.Tests;

/// <summary>Half-typed and broken code, as an editor shows it mid-keystroke: diagnostics or nothing, never an exception.</summary>
public class RobustnessTests
{
    private const string Method = "public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);";

    public static TheoryData<string> BrokenSources => new()
    {
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, x)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = \"2\")] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Layout = 5)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Nonsense = 5)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3, LeakyReluSlope = 0.5)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose2D(] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose2D] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] public static partial void K(ReadOnlySpan<flot> input, ReadOnlySpan<float> weights, Span<float> output); }",
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output }",
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] public static partial void K(",
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] public static partial Missing K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output); }",
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] public static partial void (ReadOnlySpan<float> input); }",
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] int field; }",
        "[GeneratedConvTranspose2D(1, 1, 2, 2, 3)] public static partial class C { }",
        "public static partial class C { static void M() { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] static void Local(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output) { } } }",
        "public static partial class C { [GeneratedConvTranspose2D(int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue, Stride = int.MaxValue, Padding = int.MaxValue, Dilation = int.MaxValue, OutputPadding = int.MaxValue - 1)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose2D(int.MinValue, int.MinValue, int.MinValue, int.MinValue, int.MinValue, UnrollBudget = int.MinValue)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose2D(3, 3, 1000, 1000, 64, Padding = 1000000000)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] public static partial void K<T>(ReadOnlySpan<T> input, ReadOnlySpan<float> weights, Span<float> output); }",
        "public class NotPartial { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] " + Method + " [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output) => throw null!; }",
        "public partial interface I { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] " + Method + " }",
        "public partial record R(int A) { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] " + Method + " }",
        "namespace A.B { public partial class @class { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] public partial void @void(ReadOnlySpan<float> @in, ReadOnlySpan<float> @out, Span<float> @ref); } }",
        "public static partial class C { [KernelGen.GeneratedConvTranspose2DAttribute(1, 1, 2, 2, 3, KernelHeight = 0, KernelWidth = 70, Groups = 0)] " + Method + " }",
        // The 3-D attribute: half-typed, absurd, mixed with the others on one method, its sizes at the caps.
        "public static partial class C { [GeneratedConvTranspose3D(1, 1, 2, 2, 2)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose3D(1, 1, 2, 2, 2, x, StrideDepth = \"2\")] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose3D(int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue, Stride = int.MaxValue, Padding = int.MaxValue, Dilation = int.MaxValue, OutputPadding = int.MaxValue - 1)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose3D(int.MinValue, int.MinValue, int.MinValue, int.MinValue, int.MinValue, int.MinValue, UnrollBudget = int.MinValue)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose3D(1, 1, 1, 1, 1, 64, DilationDepth = 64, StrideDepth = 64, PaddingFront = 1000000000)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose3D(1, 1, 1000, 1000, 1000, 2, Stride = 2)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose3D(1, 1, 40000, 1, 1, 64, DilationDepth = 64, Stride = 1)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose3D(1, 1, 2, 2, 2, 3)] [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] " + Method + " }",
        "public static partial class C { [GeneratedConvTranspose3D(1, 1, 2, 2, 2, 3)] " + Method + " [GeneratedConvTranspose1D(1, 1, 2, 3)] " + Method + " }",
        "public static partial class C { [KernelGen.GeneratedConvTranspose3DAttribute(1, 1, 2, 2, 2, 3, KernelDepth = 0, KernelHeight = 70, Groups = 0, Layout = (TensorLayout)9)] " + Method + " }",
    };

    [Theory]
    [MemberData(nameof(BrokenSources))]
    public async Task NeitherTheGeneratorNorTheAnalyzerThrows(string source)
    {
        var compilation = GeneratorHarness.Compile("using System;\nusing KernelGen;\n" + source);
        var (result, output) = GeneratorHarness.Run(compilation);
        Assert.Null(result.Results.Single().Exception);
        Assert.All(result.Diagnostics, d => Assert.StartsWith("KG", d.Id)); // CS8785 (a generator threw) would be here
        Assert.DoesNotContain(result.Diagnostics, d => d.Id == "KG0015");   // nor any internal failure
        Assert.DoesNotContain(output.GetDiagnostics(), d => d.Id is "CS8785" or "CS8784");

        var analyzerOptions = new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), onAnalyzerException: null,
            concurrentAnalysis: false, logAnalyzerExecutionTime: false);
        var diagnostics = await output.WithAnalyzers([new KernelGenAnalyzer()], analyzerOptions).GetAllDiagnosticsAsync();
        Assert.DoesNotContain(diagnostics, d => d.Id == "AD0001"); // an analyzer that threw
    }

    [Fact]
    public void AnInvalidDeclarationGetsABodyThatThrowsNamingTheDiagnostic()
    {
        var compilation = GeneratorHarness.Compile("using System;\nusing KernelGen;\npublic static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 0)] " + Method + " }");
        var (result, output) = GeneratorHarness.Run(compilation);
        string generated = result.Results.Single().GeneratedSources.Single().SourceText.ToString();
        Assert.Contains("throw new global::System.InvalidOperationException(\"KG0001: Invalid KernelGen kernel geometry: Stride is 0, but it must be at least 1.\");", generated);
        Assert.DoesNotContain(output.GetDiagnostics(), d => d.Id == "CS8795"); // no "partial method must have an implementation" on top of KG0001
    }

    [Fact]
    public void AMethodInANonPartialTypeGetsABodySoThatTheCompilerSaysWhatIsMissing()
    {
        var compilation = GeneratorHarness.Compile("using System;\nusing KernelGen;\npublic class NotPartial { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] " + Method + " }");
        var (result, output) = GeneratorHarness.Run(compilation);
        Assert.Contains("throw new global::System.InvalidOperationException(\"KG0005: ", result.Results.Single().GeneratedSources.Single().SourceText.ToString());
        Assert.Equal("KG0005", Assert.Single(result.Diagnostics).Id);
        // "Missing partial modifier on declaration of type 'NotPartial'", rather than CS0751 and CS8795 ("must have an implementation part").
        Assert.Equal(["CS0260"], output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Id));
    }

    [Fact]
    public void AMethodThatIsNotAPartialDefinitionGetsNothing()
    {
        var compilation = GeneratorHarness.Compile("using System;\nusing KernelGen;\npublic partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3)] public static void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output) { } }");
        var (result, _) = GeneratorHarness.Run(compilation);
        Assert.Empty(result.Results.Single().GeneratedSources);
        Assert.Equal("KG0004", Assert.Single(result.Diagnostics).Id);
    }
}
