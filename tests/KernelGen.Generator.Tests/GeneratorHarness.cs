using System.Collections.Immutable;
using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace KernelGen.Generator.Tests;

/// <summary>Runs the generator in memory on a source, as the compiler would, with the references of this test process.</summary>
internal static class GeneratorHarness
{
    /// <summary>The framework's assemblies (this process's trusted platform assemblies) and the KernelGen runtime (for the attribute).</summary>
    public static readonly ImmutableArray<MetadataReference> References = CreateReferences();

    public static CSharpParseOptions ParseOptions(LanguageVersion version = LanguageVersion.CSharp12) => new(version);

    /// <summary>A compilation of <paramref name="sources"/> with nullable enabled (from C# 8) and every warning level on.</summary>
    public static CSharpCompilation Compile(IEnumerable<string> sources, LanguageVersion version = LanguageVersion.CSharp12, string name = "GeneratorTest") =>
        CSharpCompilation.Create(
            name,
            sources.Select((source, i) => CSharpSyntaxTree.ParseText(source, ParseOptions(version), path: $"Source{i}.cs")),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: version >= LanguageVersion.CSharp8 ? NullableContextOptions.Enable : NullableContextOptions.Disable,
                warningLevel: 9999,
                optimizationLevel: OptimizationLevel.Release,
                deterministic: true));

    public static CSharpCompilation Compile(string source, LanguageVersion version = LanguageVersion.CSharp12) => Compile([source], version);

    public static CSharpGeneratorDriver CreateDriver(int? projectBudget = null, bool trackSteps = false, LanguageVersion version = LanguageVersion.CSharp12,
        string? delegation = null) =>
        CSharpGeneratorDriver.Create(
            [new ConvTransposeGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions(version),
            optionsProvider: new BudgetOptions(projectBudget, delegation),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator; returns the run result and the compilation with the generated sources added.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(Compilation compilation, int? projectBudget = null, string? delegation = null)
    {
        var driver = CreateDriver(projectBudget, version: ((CSharpParseOptions)compilation.SyntaxTrees.First().Options).LanguageVersion, delegation: delegation)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return (driver.GetRunResult(), output);
    }

    /// <summary>
    /// Generates from <paramref name="source"/>, requires the generator and the compiler to report nothing, loads the
    /// assembly into a collectible context and hands it to <paramref name="check"/>; returns the generator's run result.
    /// </summary>
    public static GeneratorDriverRunResult CompileAndLoad(string source, int? projectBudget, Action<Assembly> check) =>
        CompileAndLoad(source, projectBudget, null, check);

    /// <summary>As above; <paramref name="rewriteGenerated"/>, when given, changes each generated source before it is compiled.</summary>
    public static GeneratorDriverRunResult CompileAndLoad(string source, int? projectBudget, Func<string, string>? rewriteGenerated, Action<Assembly> check,
        string? delegation = null)
    {
        var (result, output) = Run(Compile(source), projectBudget, delegation);
        Assert.Empty(result.Diagnostics);
        Assert.All(result.Results, r => Assert.Null(r.Exception));
        if (rewriteGenerated is not null)
        {
            foreach (var tree in result.GeneratedTrees)
                output = output.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(rewriteGenerated(tree.ToString()), (CSharpParseOptions)tree.Options, tree.FilePath));
        }

        // Emit reports every diagnostic of the compilation (binding it once, where GetDiagnostics and then Emit would bind it twice).
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        var problems = emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Info).ToArray();
        Assert.True(emitted.Success && problems.Length == 0, string.Join("\n", problems.Take(20)));
        image.Position = 0;
        var context = new AssemblyLoadContext("GeneratedKernels", isCollectible: true);
        try
        {
            check(context.LoadFromStream(image));
        }
        finally
        {
            context.Unload();
        }

        return result;
    }

    /// <summary>The generated file of one method, by the end of its hint name (e.g. <c>Kernels.Seed.g.cs</c>).</summary>
    public static string GeneratedSource(GeneratorDriverRunResult result, string hintNameEnd) =>
        result.Results.Single().GeneratedSources.Single(s => s.HintName.EndsWith(hintNameEnd, StringComparison.Ordinal)).SourceText.ToString();

    /// <summary>Runs <paramref name="action"/> with <paramref name="culture"/> as the current culture and UI culture.</summary>
    public static T WithCulture<T>(CultureInfo culture, Func<T> action)
    {
        var (saved, savedUi) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        try
        {
            CultureInfo.CurrentCulture = culture;
            CultureInfo.CurrentUICulture = culture;
            return action();
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
            CultureInfo.CurrentUICulture = savedUi;
        }
    }

    private static ImmutableArray<MetadataReference> CreateReferences()
    {
        string frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Where(path => Path.GetDirectoryName(path) == frameworkDirectory)
            .Append(typeof(ConvTranspose2D).Assembly.Location)
            .Order(StringComparer.Ordinal);
        return [.. paths.Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))];
    }

    /// <summary>Build properties as the compiler hands them to generators (the unroll budget and <c>KernelGenDelegation</c>).</summary>
    internal sealed class BudgetOptions(int? budget, string? delegation = null) : AnalyzerConfigOptionsProvider
    {
        private readonly Options _global = new(Properties(budget, delegation));

        private static Dictionary<string, string> Properties(int? budget, string? delegation)
        {
            var properties = new Dictionary<string, string>();
            if (budget is { } b) properties[ConvTransposeGenerator.BudgetProperty] = b.ToString(CultureInfo.InvariantCulture);
            if (delegation is not null) properties[ConvTransposeGenerator.DelegationProperty] = delegation;
            return properties;
        }

        public override AnalyzerConfigOptions GlobalOptions => _global;

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;

        private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
        {
            public static readonly Options Empty = new([]);

            public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
        }
    }
}
