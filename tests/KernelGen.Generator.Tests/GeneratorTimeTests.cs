using System.Collections.Immutable;
using System.Diagnostics;
using KernelGen.Generator.Diagnostics;
using KernelGen.Generator.Emitting;
using KernelGen.Generator.Model;
using KernelGen.Generator.Strategy;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit.Abstractions;

namespace KernelGen.Generator.Tests;

/// <summary>
/// A measurement, not a check (docs/build-time.md, "The generator alone"): the generator and the KernelGen analyzer on 100
/// declarations of the benchmark shapes, in process, warm (a first run compiles the generator's code), without the rest of
/// a build around them; then the generator's steps one by one (the planner, the emitter) and each shape's planning. Runs only with
/// <c>KERNELGEN_MEASURE_GENERATOR=1</c>: timings on a shared machine assert nothing.
/// </summary>
public class GeneratorTimeTests(ITestOutputHelper output)
{
    /// <summary>The benchmark shapes (tests/build-time/shapes.sh), the DCGAN layer first.</summary>
    private static readonly string[] Shapes =
    [
        "GeneratedConvTranspose2D(128, 64, 16, 16, 4, Stride = 2, Padding = 1)",
        "GeneratedConvTranspose2D(128, 64, 32, 32, 2, Stride = 2)",
        "GeneratedConvTranspose2D(32, 32, 32, 32, 3, Stride = 1, Padding = 1)",
        "GeneratedConvTranspose2D(16, 8, 64, 64, 3, Stride = 2, Padding = 1, OutputPadding = 1)",
        "GeneratedConvTranspose2D(1, 1, 256, 256, 4, Stride = 2, Padding = 1)",
        "GeneratedConvTranspose2D(32, 32, 64, 64, 4, Stride = 2, Padding = 1, Groups = 32)",
        "GeneratedConvTranspose2D(128, 64, 32, 32, 2, Stride = 2, Layout = TensorLayout.Nhwc)",
        "GeneratedConvTranspose1D(512, 256, 32, 16, Stride = 8, Padding = 4)",
        "GeneratedConvTranspose1D(128, 64, 2048, 4, Stride = 2, Padding = 1)",
        "GeneratedConvTranspose3D(64, 32, 16, 16, 16, 2, Stride = 2)",
        "GeneratedConvTranspose3D(32, 16, 8, 8, 8, 3, Stride = 2, Padding = 1, OutputPadding = 1)",
        "GeneratedConvTranspose2D(4, 4, 8, 8, 3, Stride = 2, Padding = 1, OutputPadding = 1)",
        "GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)",
    ];

    private const int Declarations = 100;

    private const int Rounds = 5;

    [MeasurementFact]
    public void GeneratorAndAnalyzerOnOneHundredDeclarations()
    {
        var compilation = GeneratorHarness.Compile(Source());
        var generator = new List<double>();
        var analyzer = new List<double>();
        var analyzerAlone = new List<double>();
        long characters = 0;
        for (int round = 0; round <= Rounds; round++)
        {
            // A new driver each round: nothing is cached from the last one, as in a clean build.
            var clock = Stopwatch.StartNew();
            var result = GeneratorHarness.CreateDriver().RunGenerators(compilation).GetRunResult();
            double generatorSeconds = clock.Elapsed.TotalSeconds;
            Assert.Equal(Declarations, result.GeneratedTrees.Length);
            characters = result.Results.Single().GeneratedSources.Sum(source => (long)source.SourceText.Length);

            // The analyzer as it runs in a build, after the generator (the plans it made are at hand), then as if alone.
            double analyzerSeconds = TimeAnalyzer(compilation);
            KernelPlanner.ForgetRecentPlans();
            double analyzerAloneSeconds = TimeAnalyzer(compilation);
            KernelPlanner.ForgetRecentPlans();

            // Round 0 is the warm-up: the generator's code compiled by the JIT.
            if (round == 0) continue;
            generator.Add(generatorSeconds);
            analyzer.Add(analyzerSeconds);
            analyzerAlone.Add(analyzerAloneSeconds);
        }

        output.WriteLine($"{Declarations} declarations, {characters} characters generated");
        output.WriteLine($"generator (driver run):   median {Median(generator):F3} s ({Spread(generator)})");
        output.WriteLine($"KernelGen analyzer:       median {Median(analyzer):F3} s ({Spread(analyzer)}) after the generator");
        output.WriteLine($"KernelGen analyzer alone: median {Median(analyzerAlone):F3} s ({Spread(analyzerAlone)}) (no plan made before)");

        // The generator's own steps, on the models of the first run: where its time goes.
        var driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);
        var declarations = driver.GetRunResult().Results.Single().TrackedSteps[ConvTransposeGenerator.DeclarationStep]
            .SelectMany(step => step.Outputs).Select(item => (KernelDeclaration)item.Value).ToArray();
        var plan = new List<double>();
        var emit = new List<double>();
        for (int round = 0; round < Rounds; round++)
        {
            var clock = Stopwatch.StartNew();
            foreach (var declaration in declarations) KernelPlanner.PlanAnew(declaration.Spec!, 0);
            plan.Add(clock.Elapsed.TotalSeconds);
            KernelPlanner.ForgetRecentPlans();
            clock.Restart();
            for (int i = 0; i < declarations.Length; i++)
                KernelEmitter.Emit(declarations[i] with { HintName = "Measured.Layers.Layer" + i + ".g.cs" }, 0, "1.0.0.0");
            emit.Add(clock.Elapsed.TotalSeconds);
            KernelPlanner.ForgetRecentPlans();
        }

        output.WriteLine($"planner alone:            median {Median(plan):F3} s ({Spread(plan)})");
        output.WriteLine($"emitter (planner + text): median {Median(emit):F3} s ({Spread(emit)})");

        // Each shape's planning (the first declarations are the shapes in order), median of the rounds.
        for (int k = 0; k < Shapes.Length; k++)
        {
            var times = new List<double>();
            for (int round = 0; round < Rounds; round++)
            {
                var clock = Stopwatch.StartNew();
                KernelPlanner.PlanAnew(declarations[k].Spec!, 0);
                times.Add(clock.Elapsed.TotalMilliseconds);
            }

            output.WriteLine($"  plan {Median(times),8:F2} ms  {Shapes[k]}");
        }
    }

    private static double TimeAnalyzer(Compilation compilation)
    {
        var clock = Stopwatch.StartNew();
        var withAnalyzer = compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new KernelGenAnalyzer()));
        var diagnostics = withAnalyzer.GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        double seconds = clock.Elapsed.TotalSeconds;
        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        return seconds;
    }

    private static string Source()
    {
        var text = new System.Text.StringBuilder("using System;\nusing KernelGen;\nnamespace Measured;\npublic static partial class Layers\n{\n");
        for (int i = 0; i < Declarations; i++)
        {
            // Each its own UnrollBudget (all near the default, so planned alike): 100 distinct specs, as in a project of 100
            // different layers, rather than 13 shapes repeated, which the planner's recent plans would serve after the first.
            string shape = Shapes[i % Shapes.Length];
            text.Append("    [").Append(shape, 0, shape.Length - 1).Append(", UnrollBudget = ").Append(2048 + i).Append(")]\n");
            text.Append("    public static partial void Layer").Append(i).Append("(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n");
        }

        return text.Append("}\n").ToString();
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Spread(List<double> values) => string.Join(", ", values.Select(v => v.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)));
}

/// <summary>A fact that runs only when <c>KERNELGEN_MEASURE_GENERATOR</c> is set.</summary>
internal sealed class MeasurementFactAttribute : FactAttribute
{
    public MeasurementFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("KERNELGEN_MEASURE_GENERATOR") is null)
            Skip = "A measurement: set KERNELGEN_MEASURE_GENERATOR=1 to run it.";
    }
}
