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

            // Warm-up: at least a second per engine, so tiered compilation has promoted the kernels (30 calls, then a delay).
            foreach (var (_, engine, _) in running)
            {
                var warm = Stopwatch.StartNew();
                while (warm.Elapsed.TotalSeconds < Math.Max(1.0, seconds / 4)) engine.Run();
            }

            var clock = Stopwatch.StartNew();
            var perRound = running.Select(r => CallsFor(r.Engine, 0.05)).ToArray();
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                for (int i = 0; i < running.Count; i++)
                {
                    var start = Stopwatch.GetTimestamp();
                    for (int c = 0; c < perRound[i]; c++) running[i].Engine.Run();
                    running[i].Rounds.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / perRound[i]);
                }
            }

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

    private static int CallsFor(IConvolutionEngine engine, double roundSeconds)
    {
        var start = Stopwatch.StartNew();
        int calls = 0;
        while (start.Elapsed.TotalSeconds < 0.01) { engine.Run(); calls++; }
        return Math.Max(1, (int)(calls * roundSeconds / 0.01));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
