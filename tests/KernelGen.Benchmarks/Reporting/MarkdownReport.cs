using System.Globalization;
using System.Text;
using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Reporting;

/// <summary>
/// The content of docs/benchmarks.md: the machine, the command, a table of time and GFLOP/s per shape and engine, the
/// ratios the issue's targets are stated in, and the plot.
/// </summary>
public static class MarkdownReport
{
    /// <summary>The ratios reported: the first engine's time over the second's, so that above 1 the second is faster.</summary>
    public static IReadOnlyList<(EngineKind Baseline, EngineKind Contender)> Ratios { get; } =
    [
        (EngineKind.Ort1T, EngineKind.KernelGen1T),
        (EngineKind.Ort1T, EngineKind.Generated1T),
        (EngineKind.OrtAllCores, EngineKind.KernelGenAllCores),
        (EngineKind.Torch1T, EngineKind.KernelGen1T),
        (EngineKind.Torch1T, EngineKind.Generated1T),
        (EngineKind.TorchAllCores, EngineKind.KernelGenAllCores),
        (EngineKind.KernelGen1T, EngineKind.KernelGenAllCores),
    ];

    /// <summary>Renders the report; <paramref name="plotFile"/> is the PNG's file name, linked relative to the report.</summary>
    public static string Render(IReadOnlyList<Measurement> measurements, ReportContext context, string plotFile)
    {
        var shapes = measurements.Select(m => m.Shape).Distinct().OrderBy(s => IndexOf(s)).ToArray();
        var engines = measurements.Select(m => m.Engine).Distinct().Order().ToArray();
        var byKey = measurements.ToDictionary(m => (m.Shape.Name, m.Engine));
        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');

        Line("# Benchmarks");
        Line();
        Line(Invariant($"- Machine: {context.Machine}"));
        Line(Invariant($"- FMA peak (float32, one core): {context.PeakGflopsPerCore:0.0} GFLOP/s ({context.PeakDetail})"));
        Line($"- Command: `{context.Command}`");
        Line($"- Timing: {context.Timing}");
        Line("- Every engine's output was checked against a double-accumulated reference before it was timed " +
             Invariant($"(|error| ≤ {Correctness.OutputCheck.RelativeTolerance:G} · Σ|x·w| per output)."));
        Line("- FLOPs = 2·N·Cin·spatial·(Cout/groups)·prod(k), spatial = L, H·W or D·H·W and prod(k) = k, kH·kW or kD·kH·kW by rank; " +
             "batch 1, float32, no bias. Single-thread (1T) and all-core figures are separate engines.");
        Line();
        Line("## Median time per call (µs) and GFLOP/s");
        Line();
        Line("| shape | geometry | FLOPs | " + string.Join(" | ", engines.Select(e => e.Label())) + " |");
        Line("|---|---|---:|" + string.Concat(engines.Select(_ => "---:|")));
        foreach (ConvShape shape in shapes)
        {
            var cells = engines.Select(e => byKey.TryGetValue((shape.Name, e), out var m)
                ? Invariant($"{FormatMicroseconds(m.MedianNanoseconds)} ({FormatGflops(m.Gflops)})")
                : "-");
            Line($"| {shape.Name} | {shape.Describe()} | {FormatCount(shape.Flops)} | {string.Join(" | ", cells)} |");
        }

        Line();
        Line("Cells: median µs per call (GFLOP/s).");
        Line();
        var ratios = Ratios.Where(r => engines.Contains(r.Baseline) && engines.Contains(r.Contender)).ToArray();
        if (ratios.Length > 0)
            RenderRatios(shapes, ratios, byKey, Line);

        Line("## Share of the FMA peak");
        Line();
        RenderShapeTable(shapes, engines, e => e.Label(), (shape, e) => byKey.TryGetValue((shape.Name, e), out var m) && context.PeakGflopsPerCore > 0
            ? Invariant($"{100 * m.Gflops / (context.PeakGflopsPerCore * e.Threads()):0.0} %")
            : "-", Line);

        Line();
        Line(Invariant($"Percent of the peak of the cores an engine may use ({context.PeakGflopsPerCore:0.0} GFLOP/s times its threads)."));
        RenderProcessShares(measurements, "## Share of each case's own process's FMA peak", Line);
        if (context.Avx512Off is { Count: > 0 } off)
        {
            RenderAvx512Off(off, byKey, context.Vector256PeakGflopsPerCore, Line);
            RenderProcessShares(off, "## With AVX-512 off: share of each case's own process's FMA peak", Line);
        }
        if (context.Notes.Count > 0 || context.Skipped.Count > 0)
        {
            Line();
            Line("## Notes");
            Line();
            foreach (string note in context.Notes)
                Line($"- {note}");
            foreach (var (engine, reason) in context.Skipped.OrderBy(s => s.Key))
                Line($"- {engine.Label()} did not run: {reason}");
        }

        Line();
        Line($"![GFLOP/s per shape and engine]({plotFile})");
        return text.ToString();
    }

    private static void RenderRatios(ConvShape[] shapes, (EngineKind Baseline, EngineKind Contender)[] ratios,
        Dictionary<(string, EngineKind), Measurement> byKey, Action<string> line)
    {
        line("## Ratios (baseline time / contender time; above 1 the contender is faster)");
        line("");
        RenderShapeTable(shapes, ratios, r => $"{r.Baseline.Label()} / {r.Contender.Label()}", (shape, r) =>
            byKey.TryGetValue((shape.Name, r.Baseline), out var baseline) && byKey.TryGetValue((shape.Name, r.Contender), out var contender)
                ? Invariant($"{baseline.MedianNanoseconds / contender.MedianNanoseconds:0.00}×")
                : "-", line);

        line("");
    }

    /// <summary>
    /// The KernelGen engines with AVX-512 off: time, GFLOP/s and share of the Vector256 peak (the widest width they may
    /// use then), and how much slower than with AVX-512 on, from the same machine in the same run.
    /// </summary>
    private static void RenderAvx512Off(IReadOnlyList<Measurement> off, Dictionary<(string, EngineKind), Measurement> on,
        double? vector256Peak, Action<string> line)
    {
        var shapes = off.Select(m => m.Shape).Distinct().OrderBy(IndexOf).ToArray();
        var engines = off.Select(m => m.Engine).Distinct().Order().ToArray();
        var byKey = off.ToDictionary(m => (m.Shape.Name, m.Engine));
        line("");
        line("## KernelGen with AVX-512 off (the code an AVX2-only machine runs)");
        line("");
        RenderShapeTable(shapes, engines, e => e.Label(), (shape, e) =>
        {
            if (!byKey.TryGetValue((shape.Name, e), out var m)) return "-";
            string share = vector256Peak is > 0 ? Invariant($", {100 * m.Gflops / (vector256Peak.Value * e.Threads()):0.0} %") : "";
            string slower = on.TryGetValue((shape.Name, e), out var withAvx512)
                ? Invariant($", {m.MedianNanoseconds / withAvx512.MedianNanoseconds:0.00}× the AVX-512 time")
                : "";
            return Invariant($"{FormatMicroseconds(m.MedianNanoseconds)} ({FormatGflops(m.Gflops)}{share}{slower})");
        }, line);

        line("");
        line(vector256Peak is > 0
            ? Invariant($"Cells: median µs per call (GFLOP/s, percent of the Vector256 FMA peak of {vector256Peak.Value:0.0} GFLOP/s times the engine's threads, time over the same engine's time with AVX-512 on). Run with DOTNET_EnableAVX512=0; each process checked that Vector512 was off.")
            : "Cells: median µs per call (GFLOP/s, time over the same engine's time with AVX-512 on). Run with DOTNET_EnableAVX512=0; each process checked that Vector512 was off.");
    }

    /// <summary>
    /// Each case against the FMA peak its own process measured after its iterations (<see cref="Timing.ProcessPeaks"/>):
    /// the host gives a process a faster or slower state for its life, which moves a case and the peak of the host process
    /// apart; against its own process's peak a case's share does not depend on the state its process got. Nothing when no
    /// case has such a peak.
    /// </summary>
    private static void RenderProcessShares(IReadOnlyList<Measurement> measurements, string title, Action<string> line)
    {
        if (!measurements.Any(m => m.ProcessPeakGflopsPerCore is > 0)) return;
        var shapes = measurements.Select(m => m.Shape).Distinct().OrderBy(IndexOf).ToArray();
        var engines = measurements.Select(m => m.Engine).Distinct().Order().ToArray();
        var byKey = measurements.ToDictionary(m => (m.Shape.Name, m.Engine));
        line("");
        line(title);
        line("");
        RenderShapeTable(shapes, engines, e => e.Label(), (shape, e) =>
            byKey.TryGetValue((shape.Name, e), out var m) && m.ProcessPeakGflopsPerCore is double peak && peak > 0
                ? Invariant($"{100 * m.Gflops / (peak * e.Threads()):0.0} % of {peak:0}")
                : "-", line);

        line("");
        line("Cells: percent of the one-core FMA peak of the widest accelerated vector (GFLOP/s, after \"of\") that the case's own " +
             "process measured after its iterations, times the engine's threads.");
    }

    /// <summary>A table with a row per shape and a column per <paramref name="columns"/> entry, cells from <paramref name="cell"/>.</summary>
    private static void RenderShapeTable<TColumn>(IEnumerable<ConvShape> shapes, IReadOnlyCollection<TColumn> columns,
        Func<TColumn, string> header, Func<ConvShape, TColumn, string> cell, Action<string> line)
    {
        line("| shape | " + string.Join(" | ", columns.Select(header)) + " |");
        line("|---|" + string.Concat(columns.Select(_ => "---:|")));
        foreach (ConvShape shape in shapes)
            line($"| {shape.Name} | {string.Join(" | ", columns.Select(c => cell(shape, c)))} |");
    }

    /// <summary>Microseconds with three significant digits or more, e.g. 0.0512, 3.40, 242, 1078.</summary>
    public static string FormatMicroseconds(double nanoseconds)
    {
        double us = nanoseconds / 1000;
        return us switch
        {
            >= 100 => us.ToString("0", CultureInfo.InvariantCulture),
            >= 10 => us.ToString("0.0", CultureInfo.InvariantCulture),
            >= 1 => us.ToString("0.00", CultureInfo.InvariantCulture),
            >= 0.1 => us.ToString("0.000", CultureInfo.InvariantCulture),
            _ => us.ToString("0.0000", CultureInfo.InvariantCulture),
        };
    }

    /// <summary>A count with an SI suffix and three significant digits: 72, 18.4 k, 9.44 M, 67.1 M.</summary>
    public static string FormatCount(long count) => count switch
    {
        < 1000 => count.ToString(CultureInfo.InvariantCulture),
        < 1_000_000 => (count / 1e3).ToString("G3", CultureInfo.InvariantCulture) + " k",
        < 1_000_000_000 => (count / 1e6).ToString("G3", CultureInfo.InvariantCulture) + " M",
        _ => (count / 1e9).ToString("G3", CultureInfo.InvariantCulture) + " G",
    };

    private static string FormatGflops(double gflops) =>
        gflops.ToString(gflops >= 10 ? "0" : gflops >= 1 ? "0.0" : "0.00", CultureInfo.InvariantCulture);

    private static int IndexOf(ConvShape shape)
    {
        for (int i = 0; i < ShapeTable.All.Count; i++)
            if (ShapeTable.All[i].Name == shape.Name) return i;
        return int.MaxValue;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
