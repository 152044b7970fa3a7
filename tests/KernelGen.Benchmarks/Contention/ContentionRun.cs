using System.Diagnostics;
using System.Globalization;
using KernelGen.Benchmarks.Correctness;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Contention;

/// <summary>
/// The contention mode (issue 15): all-core calls against one-thread calls of KernelGen's runtime, on a quiet machine and
/// with busy competitor threads on the other cores (<see cref="BusyCompetitors"/>), as a game's main thread would call a
/// layer while its own threads keep the other cores busy. Per shape it times, in interleaved rounds (every variant once
/// per round, so a slow spell of a shared machine hits them all): one thread; all cores as the library runs them (the
/// layer times its calls and runs one thread where the others do not pay: <c>ThreadCountTuner</c>); and all cores always,
/// as the library ran them before it timed its calls. Each variant's output is checked against the reference first.
/// </summary>
public static class ContentionRun
{
    private const double RoundSeconds = 0.004;

    /// <summary>One way of running the shape: <see cref="Call"/> computes it into <see cref="Output"/>.</summary>
    private sealed record Variant(string Name, Action Call, float[] Output, List<double> Rounds);

    /// <summary>
    /// Runs the mode over <paramref name="shapes"/>, <paramref name="seconds"/> timed per shape and condition, the all-core
    /// variant in <paramref name="chunksPerThread"/> chunks per thread; returns 0, or 1 if a check failed.
    /// </summary>
    public static int Run(IReadOnlyList<ConvShape> shapes, double seconds, TextWriter log, int chunksPerThread)
    {
        int competitors = Math.Max(1, Environment.ProcessorCount - 1);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Contention: {Environment.ProcessorCount} cores, load average {LoadAverage()} at start; all cores in {chunksPerThread} chunks per thread; per call: the median over {seconds:0.#} s of interleaved rounds; ratios: the median over rounds of a round's time over the one-thread time of the same round"));
        log.WriteLine("| shape | 1T quiet µs | all quiet µs | all/1T quiet | always threaded quiet µs | 1T loaded µs | all loaded µs | all/1T loaded | always threaded loaded µs | always/1T loaded |");
        log.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        int failures = 0;
        string placement = "";
        foreach (ConvShape shape in shapes)
        {
            var data = ShapeData.For(shape);
            var check = new OutputCheck(data);
            Variant[] variants;
            try
            {
                variants = [Create("1T", data, 1, 1, tuned: true), Create("all", data, Environment.ProcessorCount, chunksPerThread, tuned: true),
                    Create("always", data, Environment.ProcessorCount, chunksPerThread, tuned: false)];
            }
            catch (Exception e)
            {
                log.WriteLine($"| {shape.Name} | not prepared: {e.GetType().Name}: {e.Message} |");
                failures++;
                continue;
            }

            try
            {
                foreach (var v in variants)
                {
                    v.Call();
                    check.Verify(v.Name, v.Output);
                }
            }
            catch (Exception e)
            {
                log.WriteLine($"| {shape.Name} | not timed: {e.GetType().Name}: {e.Message} |");
                failures++;
                continue;
            }

            var quiet = Time(variants, seconds);
            (double Median, double PairedRatio)[] loaded;
            using (var busy = new BusyCompetitors(competitors))
            {
                loaded = Time(variants, seconds);
                placement = busy.Placement;
            }

            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {shape.Name} | {quiet[0].Median:0.0} | {quiet[1].Median:0.0} | {quiet[1].PairedRatio:0.00} | {quiet[2].Median:0.0} " +
                $"| {loaded[0].Median:0.0} | {loaded[1].Median:0.0} | {loaded[1].PairedRatio:0.00} | {loaded[2].Median:0.0} | {loaded[2].PairedRatio:0.00} |"));
        }

        log.WriteLine($"Competitors: {placement}; load average {LoadAverage()} at the end.");
        return failures == 0 ? 0 : 1;
    }

    /// <summary>
    /// The runtime's prepared layer of the shape's rank with the given thread cap and chunks per thread, timing its calls to
    /// choose its threads or not (a 1-D layer runs as one 2-D plane, a 3-D layer as one 2-D layer per depth tap: the
    /// chunking and the choice are theirs).
    /// </summary>
    private static Variant Create(string name, ShapeData data, int threads, int chunksPerThread, bool tuned)
    {
        var output = new float[data.Shape.OutputLength];
        var (prepared, call) = RuntimeLayer.Bind(data, threads, output);
        IEnumerable<PreparedConvTranspose2D> planes = prepared switch
        {
            PreparedConvTranspose1D oneD => [oneD.Plane],
            PreparedConvTranspose3D threeD => threeD.Taps,
            _ => [(PreparedConvTranspose2D)prepared],
        };
        foreach (var plane in planes)
        {
            plane.ChunksPerThread = chunksPerThread;
            plane.TunesThreadCount = tuned;
        }

        return new Variant(name, call, output, []);
    }

    /// <summary>
    /// Warms every variant up, then times interleaved rounds for <paramref name="seconds"/>: per variant, the median
    /// per call, and the median over rounds of its time over the one-thread time of the same round (a slow
    /// spell of a shared machine hits both).
    /// </summary>
    private static (double Median, double PairedRatio)[] Time(Variant[] variants, double seconds)
    {
        foreach (var v in variants)
        {
            v.Rounds.Clear();
            var warm = Stopwatch.StartNew();
            while (warm.Elapsed.TotalSeconds < 0.3) v.Call();
        }

        int[] callsPerRound = variants.Select(v => CallsFor(v)).ToArray();
        int rounds = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            // The order rotates each round, so that no variant always follows another's wake-ups.
            rounds++;
            for (int k = 0; k < variants.Length; k++)
            {
                int i = (k + rounds) % variants.Length;
                long start = Stopwatch.GetTimestamp();
                for (int c = 0; c < callsPerRound[i]; c++) variants[i].Call();
                variants[i].Rounds.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / callsPerRound[i]);
            }
        }

        return variants.Select(v => (Percentile(v.Rounds, 0.5),
            Percentile(v.Rounds.Zip(variants[0].Rounds, (x, one) => x / one).ToList(), 0.5))).ToArray();
    }

    private static int CallsFor(Variant v)
    {
        var start = Stopwatch.StartNew();
        int calls = 0;
        while (start.Elapsed.TotalSeconds < 0.005) { v.Call(); calls++; }
        return Math.Max(1, (int)(calls * RoundSeconds / start.Elapsed.TotalSeconds));
    }

    private static double Percentile(List<double> values, double fraction)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)(fraction * sorted.Length))];
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
