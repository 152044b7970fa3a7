using System.Diagnostics;
using System.Globalization;
using KernelGen.Benchmarks.Correctness;
using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks;

/// <summary>
/// The probe mode: a quick in-process timing for development, not the report. Each selected shape × engine is checked
/// against the reference, warmed up past tier-0 JIT, then timed in interleaved rounds (every engine of a shape once per
/// round, so a slow spell of a shared machine hits all of them); the best and the median round are printed, with the
/// ratio to ONNX Runtime 1T when it was selected. Figures that go into docs/benchmarks.md come from <c>--full</c>.
/// </summary>
public static class ProbeRun
{
    /// <summary>Runs the probe over <paramref name="shapes"/> × <paramref name="engines"/>; returns 0, or 1 if a check failed.</summary>
    public static int Run(IReadOnlyList<ConvShape> shapes, IReadOnlyList<EngineKind> engines, double seconds, TextWriter log)
    {
        int failures = 0;
        foreach (ConvShape shape in shapes)
        {
            var data = ShapeData.For(shape);
            var check = new OutputCheck(data);
            var running = new List<(EngineKind Kind, IConvolutionEngine Engine, List<double> Rounds)>();
            foreach (EngineKind kind in engines)
            {
                try
                {
                    var engine = EngineFactory.Create(kind, data);
                    engine.Run();
                    engine.Run();
                    check.Verify(kind.ToString(), engine.Output);
                    running.Add((kind, engine, []));
                }
                catch (Exception e)
                {
                    log.WriteLine($"  {shape.Name,-13} {kind,-18} not timed: {e.GetType().Name}: {e.Message}");
                    if (e is not EngineUnavailableException) failures++;
                }
            }

            var timed = InterleavedRounds(running.Select(r => (Action)r.Engine.Run).ToArray(), seconds);
            for (int i = 0; i < running.Count; i++) running[i].Rounds.AddRange(timed[i]);

            double? ort = running.Where(r => r.Kind == EngineKind.Ort1T).Select(r => (double?)Median(r.Rounds)).FirstOrDefault();
            foreach (var (kind, engine, rounds) in running)
            {
                double median = Median(rounds), best = rounds.Min();
                string ratio = ort is { } o ? $"  ORT1T/this {(o / median).ToString("0.00", CultureInfo.InvariantCulture)}x" : "";
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {shape.Name,-13} {kind,-18} median {median,10:0.000} us  best {best,10:0.000} us  {shape.Flops / median / 1e3,7:0.0} GFLOP/s{ratio}"));
                (engine as IDisposable)?.Dispose();
            }
        }

        return failures == 0 ? 0 : 1;
    }

    /// <summary>
    /// Times <paramref name="runners"/> in interleaved rounds for <paramref name="seconds"/> (each once per round, so that a
    /// slow spell of a shared machine hits all of them), after a warm-up of at least a second each that takes tiered
    /// compilation past tier 0 (30 calls, then a delay); returns each runner's µs per call of every round.
    /// </summary>
    public static List<double>[] InterleavedRounds(IReadOnlyList<Action> runners, double seconds)
    {
        foreach (Action run in runners)
        {
            var warm = Stopwatch.StartNew();
            while (warm.Elapsed.TotalSeconds < Math.Max(1.0, seconds / 4)) run();
        }

        var perRound = runners.Select(run => CallsFor(run, 0.05)).ToArray();
        var rounds = runners.Select(_ => new List<double>()).ToArray();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            for (int i = 0; i < runners.Count; i++)
            {
                var start = Stopwatch.GetTimestamp();
                for (int c = 0; c < perRound[i]; c++) runners[i]();
                rounds[i].Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / perRound[i]);
            }
        }

        return rounds;
    }

    private static int CallsFor(Action run, double roundSeconds)
    {
        var start = Stopwatch.StartNew();
        int calls = 0;
        while (start.Elapsed.TotalSeconds < 0.01) { run(); calls++; }
        return Math.Max(1, (int)(calls * roundSeconds / 0.01));
    }

    /// <summary>The median of <paramref name="values"/> (the upper one of an even count).</summary>
    public static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
