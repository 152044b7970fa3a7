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
        var (peak, peakDetail, vector256Peak) = MeasurePeak(log);

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
        // A case's process peak from an earlier run in the same folder must not stand in for one this run failed to write.
        foreach (string pass in new[] { "bdn", "bdn-avx512-off" })
            ProcessPeaks.Clear(SuiteConfig.ProcessPeaksFolder(Path.Combine(output, pass)));
        Summary summary = BenchmarkRunner.Run<ConvTransposeBenchmarks>(SuiteConfig.Create(Path.Combine(output, "bdn"), peak, options.Launches));
        var (measurements, missing) = MeasurementsOf(summary, SuiteConfig.ProcessPeaksFolder(Path.Combine(output, "bdn")));
        if (measurements.Length == 0)
        {
            log.WriteLine("BenchmarkDotNet produced no measurement (see its log above).");
            return 1;
        }

        // The AVX2-only machine, on these cores: the project's own engines again with Vector512 switched off, reported
        // against the Vector256 peak (ONNX Runtime and TorchSharp pick their kernels from CPUID themselves: the switch
        // does not reach them, so they are not run again).
        Measurement[] avx512Off = [];
        var ownEngines = engines.Where(e => e.IsKernelGen()).ToArray();
        if (options.Avx512OffPass && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && ownEngines.Length > 0)
        {
            log.WriteLine($"Timing {string.Join(", ", ownEngines)} again with {SuiteConfig.Avx512OffVariable}=0.");
            ConvTransposeBenchmarks.SelectedEngines = ownEngines;
            Summary offSummary = BenchmarkRunner.Run<ConvTransposeBenchmarks>(
                SuiteConfig.Create(Path.Combine(output, "bdn-avx512-off"), vector256Peak ?? peak, options.Launches, avx512Off: true));
            (avx512Off, int offMissing) = MeasurementsOf(offSummary, SuiteConfig.ProcessPeaksFolder(Path.Combine(output, "bdn-avx512-off")));
            missing += offMissing;
        }

        var notes = correctness.Checks.Where(c => c.Note.Length > 0)
            .Select(c => $"{c.Engine.Label()} on {c.Shape.Name}: {c.Note}")
            .ToList();
        var context = new ReportContext(machine, peak, peakDetail, Command + (IsDefaultSelection(options) ? "" : " " + SelectionArguments(options)),
            notes, skipped, SuiteConfig.WarmupDescription, vector256Peak, avx512Off);
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

    private static (Measurement[] Measurements, int Missing) MeasurementsOf(Summary summary, string processPeaks)
    {
        var measurements = summary.BenchmarksCases
            .Select(c => (Case: c, Median: summary[c]?.ResultStatistics?.Median))
            .Where(x => x.Median is > 0)
            .Select(x =>
            {
                string shape = (string)x.Case.Parameters[nameof(ConvTransposeBenchmarks.Shape)];
                var engine = (EngineKind)x.Case.Parameters[nameof(ConvTransposeBenchmarks.Engine)];
                return new Measurement(ShapeTable.Get(shape), engine, x.Median!.Value, ProcessPeaks.Read(processPeaks, shape, engine));
            })
            .ToArray();
        return (measurements, summary.BenchmarksCases.Length - measurements.Length);
    }

    /// <summary>
    /// Measures both FMA loops; the higher is the peak (they agree on Zen 4, whose AVX-512 is double-pumped; a full-width
    /// AVX-512 core doubles it with Vector512). The Vector256 figure is the peak of the AVX-512-off timings.
    /// </summary>
    public static (double Peak, string Detail, double? Vector256) MeasurePeak(TextWriter log)
    {
        double? v256 = FmaPeak.MeasureGflops(256), v512 = FmaPeak.MeasureGflops(512);
        string Show(double? gflops) => gflops is { } g ? g.ToString("0.0", CultureInfo.InvariantCulture) + " GFLOP/s" : "not accelerated";
        string detail = $"{FmaPeak.Accumulators} independent FMA accumulators: Vector256 {Show(v256)}, Vector512 {Show(v512)}";
        double peak = Math.Max(v256 ?? 0, v512 ?? 0);
        log.WriteLine($"FMA peak per core: {detail}");
        return (peak, detail, v256);
    }

    private static bool IsDefaultSelection(SuiteOptions options) =>
        options.Shapes.Count == ShapeTable.All.Count && options.Engines.Count == EngineKinds.All.Count && options.Launches == 1
        && options.Avx512OffPass;

    private static string SelectionArguments(SuiteOptions options) => string.Join(' ', new[]
    {
        options.Shapes.Count == ShapeTable.All.Count ? "" : $"--shapes {string.Join(',', options.Shapes.Select(s => s.Name))}",
        options.Engines.Count == EngineKinds.All.Count ? "" : $"--engines {string.Join(',', options.Engines)}",
        options.Launches == 1 ? "" : $"--launches {options.Launches}",
        options.Avx512OffPass ? "" : "--no-avx512-off",
    }.Where(part => part.Length > 0));
}
