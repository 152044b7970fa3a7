using System.Diagnostics;
using System.Globalization;

namespace KernelGen.FirstCalls;

/// <summary>A binary to measure: a name for the tables, its path, the engines to run in it and runtime variables for it.</summary>
internal sealed record Variant(string Label, string Path, IReadOnlyList<string> Engines, IReadOnlyDictionary<string, string> Environment);

/// <summary>One child's result, as its RESULT line gave it.</summary>
internal sealed record ChildResult(string Variant, string Affinity, int Round, IReadOnlyDictionary<string, string> Values)
{
    public double Number(string key) => double.Parse(Values[key], CultureInfo.InvariantCulture);
}

/// <summary>
/// Starts every (variant, shape, engine) in a fresh process, on all processors and pinned to processor 0
/// (<c>taskset -c 0</c>: the runtime then sees one processor and delays tiering tenfold), round after round, the variants
/// interleaved in each round so that a busy spell of a shared machine hits all of them; then prints the medians per case
/// as Markdown tables, with the machine's load average before every round.
/// </summary>
internal static class Driver
{
    public static int Run(IReadOnlyList<Variant> variants, IReadOnlyList<string> shapes, IReadOnlyList<string> affinities, int rounds,
        double seconds, double oneProcessorSeconds, TextWriter log)
    {
        log.WriteLine($"CPU: {CpuName()}; {Environment.ProcessorCount} processors; {rounds} rounds; children run {seconds} s ({oneProcessorSeconds} s on one processor)");
        var results = new List<ChildResult>();
        int failures = 0;
        for (int round = 1; round <= rounds; round++)
        {
            log.WriteLine($"round {round}: load average {LoadAverage()}");
            foreach (string affinity in affinities)
            {
                foreach (string shape in shapes)
                {
                    // Rotate the variants' order from round to round: none always runs first.
                    for (int v = 0; v < variants.Count; v++)
                    {
                        Variant variant = variants[(v + round) % variants.Count];
                        foreach (string engine in variant.Engines)
                        {
                            var result = RunChild(variant, affinity, round, shape, engine, affinity == "all" ? seconds : oneProcessorSeconds, log);
                            if (result is null) failures++;
                            else results.Add(result);
                        }
                    }
                }
            }
        }

        log.WriteLine($"load average at the end: {LoadAverage()}");
        foreach (string affinity in affinities)
            WriteTable(results.Where(r => r.Affinity == affinity).ToList(), affinity, log);
        return failures == 0 ? 0 : 1;
    }

    private static ChildResult? RunChild(Variant variant, string affinity, int round, string shape, string engine, double seconds, TextWriter log)
    {
        string[] child = [variant.Path, "child", "--shape", shape, "--engine", engine, "--seconds", seconds.ToString(CultureInfo.InvariantCulture)];
        string[] command = affinity == "all" ? child : ["taskset", "-c", affinity, .. child];
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in command.Skip(1)) start.ArgumentList.Add(argument);
        // Default settings in the child: none of the runtime's knobs that the caller's environment may hold, only the variant's.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("DOTNET_", StringComparison.Ordinal) && k != "DOTNET_ROOT").ToArray())
            start.Environment.Remove(name);
        foreach (var (name, value) in variant.Environment)
            start.Environment[name] = value;

        using var process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        string? line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith(ChildRun.ResultPrefix, StringComparison.Ordinal));
        log.WriteLine($"  {variant.Label,-12} cpu {affinity,-3} {line ?? "(no result)"}");
        if (process.ExitCode != 0 || line is null)
        {
            log.WriteLine($"  FAILED (exit code {process.ExitCode}): {string.Join(' ', command)}\n{stdout}{stderr}");
            return null;
        }

        var values = line[ChildRun.ResultPrefix.Length..].Trim().Split(' ')
            .Select(pair => pair.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
        return new ChildResult(variant.Label, affinity, round, values);
    }

    private static void WriteTable(List<ChildResult> results, string affinity, TextWriter log)
    {
        log.WriteLine();
        log.WriteLine(affinity == "all"
            ? $"### All processors ({Environment.ProcessorCount})"
            : $"### One processor (taskset -c {affinity})");
        log.WriteLine();
        log.WriteLine("| shape | engine | binary | call 1 (µs) | calls 2-10 (µs) | slowest of 2-10 (µs) | steady (µs) | steady, fastest run (µs) | calls before steady | ms before steady | runs |");
        log.WriteLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var group in results.GroupBy(r => (Shape: r.Values["shape"], Engine: r.Values["engine"], r.Variant)))
        {
            var runs = group.ToList();
            var settled = runs.Where(r => r.Number("steadyFrom") > 0).ToList();
            // A key an older binary does not report (a "before" variant built from an earlier commit) shows as "-".
            string Median(string key, List<ChildResult> from, string format) =>
                from.Where(r => r.Values.ContainsKey(key)).ToList() is { Count: > 0 } have
                    ? Statistics.Median(have.Select(r => r.Number(key))).ToString(format, CultureInfo.InvariantCulture)
                    : "-";
            // The host gives a process a fast or a slow vCPU for its life (docs/benchmarks.md): the fastest run of several
            // compares binaries by what each reaches, the median by what a process most often gets.
            string Fastest(string key, List<ChildResult> from) =>
                from.Where(r => r.Values.ContainsKey(key)).ToList() is { Count: > 0 } have
                    ? have.Min(r => r.Number(key)).ToString("0.000", CultureInfo.InvariantCulture)
                    : "-";
            string before = settled.Count == 0 ? "never" : Statistics.Median(settled.Select(r => r.Number("steadyFrom") - 1)).ToString("0", CultureInfo.InvariantCulture);
            string unsettled = settled.Count == runs.Count ? "" : $" ({runs.Count - settled.Count} never settled)";
            log.WriteLine($"| {group.Key.Shape} | {group.Key.Engine} | {group.Key.Variant} | {Median("call1", runs, "0.0")} | {Median("calls2to10", runs, "0.000")} | {Median("slowest2to10", runs, "0.000")} | " +
                $"{Median("steady", runs, "0.000")} | {Fastest("steady", runs)} | {before} | {Median("msBeforeSteady", settled, "0.0")} | {runs.Count}{unsettled} |");
        }
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static string CpuName()
    {
        if (!File.Exists("/proc/cpuinfo")) return "unknown";
        string[] lines = File.ReadAllLines("/proc/cpuinfo");
        string Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        return $"{Field("model name")} (family {Field("cpu family")}, model {Field("model\t")})";
    }
}
