using KernelGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace KernelGen.Generator.Tests;

/// <summary>
/// Runs <see cref="KernelGenAnalyzer"/> on a source whose expected diagnostics are marked up (<c>{|KG0003:...|}</c>). Only the
/// analyzer's diagnostics are compared: the generator does not run here, so the compiler's own complaints (a partial method
/// without a body, say) are not the subject. References come from this process, so nothing is downloaded.
/// </summary>
internal sealed class AnalyzerTest : CSharpAnalyzerTest<KernelGenAnalyzer, DefaultVerifier>
{
    private readonly LanguageVersion _version;

    public AnalyzerTest(string source, LanguageVersion version = LanguageVersion.CSharp12)
    {
        _version = version;
        TestCode = "using System;\nusing KernelGen;\n\n" + source;
        CompilerDiagnostics = CompilerDiagnostics.None;
        ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        TestState.AdditionalReferences.AddRange(GeneratorHarness.References);
    }

    protected override ParseOptions CreateParseOptions() => new CSharpParseOptions(_version, DocumentationMode.Diagnose);

    public static Task VerifyAsync(string source, LanguageVersion version = LanguageVersion.CSharp12) => new AnalyzerTest(source, version).RunAsync();
}
