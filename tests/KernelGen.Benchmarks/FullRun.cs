using System.Globalization;
using BenchmarkDotNet.Reports;
using Measurement = KernelGen.Benchmarks.Reporting.Measurement;
using BenchmarkDotNet.Running;
using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Peak;
using KernelGen.Benchmarks.Reporting;
using KernelGen.Benchmarks.Shapes;
using KernelGen.Benchmarks.Timing;

namespace KernelGen.Benchmarks;

/// <summary>The full suite: FMA peak, correctness pass, BenchmarkDotNet, report and plot.</summary>
public static class FullRun
{
    /// <summary>The documented command.</summary>
    public const string Command = "dotnet run -c Release --project tests/KernelGen.Benchmarks -- --full";

    /// <summary>Runs it; returns the process exit code.</summary>
    public static int Run(SuiteOptions options, TextWriter log)
    {
        string machine = MachineInfo.Describe();
        log.WriteLine($"Machine: {machine}");
        var (peak, peakDetail) = MeasurePeak(log);

        // Engines that cannot run here are dropped before BenchmarkDotNet sees the parameters, and said so.
        var skipped = new Dictionary<EngineKind, string>();
        foreach (EngineKind engine in options.Engines)
            if (EngineFactory.UnavailableReason(engine) is { } reason)
                skipped[engine] = reason;
        foreach (var (engine, reason) in skipped)
            log.WriteLine($"SKIPPED {engine}: {reason}");
        var engines = options.Engines.Where(e => !skipped.ContainsKey(e)).ToArray();

        QuickReport correctness = QuickRun.Run(options.Shapes, engines, log);
        if (!correctness.AllPassed)
        {
            log.WriteLine("Not timing anything: an engine computed a wrong result or failed (above).");
            return 1;
        }

        ConvTransposeBenchmarks.SelectedShapes = options.Shapes.Select(s => s.Name).ToArray();
        ConvTransposeBenchmarks.SelectedEngines = engines;
        string output = Path.GetFullPath(options.OutputFolder);
        Directory.CreateDirectory(output);
        Summary summary = BenchmarkRunner.Run<ConvTransposeBenchmarks>(SuiteConfig.Create(Path.Combine(output, "bdn"), peak, options.Launches));

        var measurements = summary.BenchmarksCases
            .Select(c => (Case: c, Median: summary[c]?.ResultStatistics?.Median))
            .Where(x => x.Median is > 0)
            .Select(x => new Measurement(
                ShapeTable.Get((string)x.Case.Parameters[nameof(ConvTransposeBenchmarks.Shape)]),
                (EngineKind)x.Case.Parameters[nameof(ConvTransposeBenchmarks.Engine)],
                x.Median!.Value))
            .ToArray();
        int missing = summary.BenchmarksCases.Length - measurements.Length;
        if (measurements.Length == 0)
        {
            log.WriteLine("BenchmarkDotNet produced no measurement (see its log above).");
            return 1;
        }

        var notes = correctness.Checks.Where(c => c.Note.Length > 0)
            .Select(c => $"{c.Engine.Label()} on {c.Shape.Name}: {c.Note}")
            .ToList();
        var context = new ReportContext(machine, peak, peakDetail, Command + (IsDefaultSelection(options) ? "" : " " + SelectionArguments(options)),
            notes, skipped, SuiteConfig.WarmupDescription);
        string markdownPath = Path.Combine(output, "benchmarks.md"), plotPath = Path.Combine(output, "benchmarks.png");
        File.WriteAllText(markdownPath, MarkdownReport.Render(measurements, context, Path.GetFileName(plotPath)));
        GflopsPlot.Save(measurements, plotPath, peak);
        log.WriteLine($"Wrote {markdownPath} and {plotPath}.");
        if (missing > 0)
        {
            log.WriteLine($"{missing} case(s) produced no measurement: see BenchmarkDotNet's errors above.");
            return 1;
        }

        return 0;
    }

    /// <summary>Measures both FMA loops; the higher is the peak (they agree on Zen 4).</summary>
    public static (double Peak, string Detail) MeasurePeak(TextWriter log)
    {
        double? v256 = FmaPeak.MeasureGflops(256), v512 = FmaPeak.MeasureGflops(512);
        string Show(double? gflops) => gflops is { } g ? g.ToString("0.0", CultureInfo.InvariantCulture) + " GFLOP/s" : "not accelerated";
        string detail = $"{FmaPeak.Accumulators} independent FMA accumulators: Vector256 {Show(v256)}, Vector512 {Show(v512)}";
        double peak = Math.Max(v256 ?? 0, v512 ?? 0);
        log.WriteLine($"FMA peak per core: {detail}");
        return (peak, detail);
    }

    private static bool IsDefaultSelection(SuiteOptions options) =>
        options.Shapes.Count == ShapeTable.All.Count && options.Engines.Count == EngineKinds.All.Count && options.Launches == 1;

    private static string SelectionArguments(SuiteOptions options) => string.Join(' ', new[]
    {
        options.Shapes.Count == ShapeTable.All.Count ? "" : $"--shapes {string.Join(',', options.Shapes.Select(s => s.Name))}",
        options.Engines.Count == EngineKinds.All.Count ? "" : $"--engines {string.Join(',', options.Engines)}",
        options.Launches == 1 ? "" : $"--launches {options.Launches}",
    }.Where(part => part.Length > 0));
}
