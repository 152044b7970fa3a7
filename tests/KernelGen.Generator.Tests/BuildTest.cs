using System.Collections.Immutable;
using KernelGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using Microsoft.CodeAnalysis.Text;

namespace KernelGen.Generator.Tests;

/// <summary>
/// Compiles a source as <c>csc</c> does in a build: the generator runs first (its diagnostics are reported with the
/// compiler's), and the analyzers run only when that leaves no error, because the compiler skips them otherwise. This is
/// why some KG errors must come from the generator and the others need generated code that compiles: a test here fails
/// if a KG diagnostic would not reach a real build. Expected diagnostics are marked up in the source (<c>{|KG0003:...|}</c>,
/// <c>{|CS0260:...|}</c>); every error and every KG diagnostic must be marked, nothing else may appear.
/// </summary>
internal static class BuildTest
{
    /// <param name="errorsInGeneratedCode">The ids of the errors expected in generated files (none, but where the compiler
    /// rejects a declaration whatever is generated for it).</param>
    public static async Task VerifyAsync(string markup, LanguageVersion version = LanguageVersion.CSharp12, int? projectBudget = null,
        string[]? errorsInGeneratedCode = null)
    {
        TestFileMarkupParser.GetSpans("using System;\nusing KernelGen;\n\n" + markup, out string source, out ImmutableDictionary<string, ImmutableArray<TextSpan>> spans);
        var expected = spans.SelectMany(pair => pair.Value.Select(span => (Id: pair.Key, span.Start, span.End)))
            .OrderBy(d => d.Start).ThenBy(d => d.Id, StringComparer.Ordinal).ToArray();
        var compilation = GeneratorHarness.Compile(source, version);
        var all = (await ReportedAsync(compilation, projectBudget))
            .Where(d => d.Severity == DiagnosticSeverity.Error || d.Id.StartsWith("KG", StringComparison.Ordinal))
            .ToArray();
        var sourceTree = compilation.SyntaxTrees.Single();
        var inGeneratedCode = all.Where(d => d.Location.SourceTree != sourceTree).ToArray();
        Assert.True((errorsInGeneratedCode ?? []).SequenceEqual(inGeneratedCode.Select(d => d.Id).Order(StringComparer.Ordinal)),
            "errors in generated code:\n  " + string.Join("\n  ", inGeneratedCode.Select(d => d.ToString())));
        var reported = all.Where(d => d.Location.SourceTree == sourceTree)
            .Select(d => (d.Id, Start: d.Location.SourceSpan.Start, End: d.Location.SourceSpan.End, Text: d.ToString()))
            .OrderBy(d => d.Start).ThenBy(d => d.Id, StringComparer.Ordinal).ToArray();
        Assert.True(expected.SequenceEqual(reported.Select(d => (d.Id, d.Start, d.End))),
            "expected:\n  " + string.Join("\n  ", expected.Select(d => $"{d.Id} at {d.Start}..{d.End}: '{source[d.Start..d.End]}'"))
            + "\nreported:\n  " + string.Join("\n  ", reported.Select(d => d.Text)));
    }

    /// <summary>What a build of <paramref name="compilation"/> reports (suppressed diagnostics left out).</summary>
    public static async Task<ImmutableArray<Diagnostic>> ReportedAsync(Compilation compilation, int? projectBudget = null)
    {
        var driver = GeneratorHarness.CreateDriver(projectBudget, version: ((CSharpParseOptions)compilation.SyntaxTrees.First().Options).LanguageVersion)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        Assert.Null(driver.GetRunResult().Results.Single().Exception); // CS8785: the generator threw
        var compiler = generatorDiagnostics.AddRange(output.GetDiagnostics()).Where(d => !d.IsSuppressed).ToImmutableArray();
        if (compiler.Any(d => d.Severity == DiagnosticSeverity.Error))
            return compiler;

        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions([], new GeneratorHarness.BudgetOptions(projectBudget)), onAnalyzerException: null,
            concurrentAnalysis: false, logAnalyzerExecutionTime: false);
        var analyzers = await output.WithAnalyzers([new KernelGenAnalyzer()], options).GetAnalyzerDiagnosticsAsync();
        return compiler.AddRange(analyzers.Where(d => !d.IsSuppressed));
    }
}
