using System.Globalization;
using KernelGen.Benchmarks.Correctness;
using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Reporting;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Memory;

/// <summary>
/// The memory mode (issue 14: are mono_up and depthwise bound by memory?): per shape, the memory floor of
/// <see cref="MemoryFloor"/> and KernelGen's engines, timed in interleaved rounds in this process, as a markdown table of
/// bytes moved, the floor's time and bandwidth, and each engine's time as a multiple of the floor.
/// </summary>
public static class MemoryRun
{
    /// <summary>The engines timed against the floor: the project's one-thread ones.</summary>
    public static IReadOnlyList<EngineKind> Engines { get; } = [EngineKind.KernelGen1T, EngineKind.Generated1T];

    /// <summary>Runs the mode; returns 0, or 1 when an engine computed a wrong result.</summary>
    public static int Run(IReadOnlyList<ConvShape> shapes, double seconds, TextWriter log)
    {
        log.WriteLine($"Machine: {MachineInfo.Describe()}");
        log.WriteLine();
        log.WriteLine("| shape | input + output | floor µs | floor GB/s | " + string.Join(" | ", Engines.Select(e => $"{e.Label()} µs (× floor, GB/s)")) + " |");
        log.WriteLine("|---|---:|---:|---:|" + string.Concat(Engines.Select(_ => "---:|")));
        int failures = 0;
        foreach (ConvShape shape in shapes)
        {
            var data = ShapeData.For(shape);
            var check = new OutputCheck(data);
            var floor = new MemoryFloor(shape);
            var runners = new List<(string Name, Action Run)> { ("floor", floor.Run) };
            var engines = new List<IConvolutionEngine>();
            foreach (EngineKind kind in Engines)
            {
                try
                {
                    var engine = EngineFactory.Create(kind, data);
                    engine.Run();
                    check.Verify(kind.ToString(), engine.Output);
                    engines.Add(engine);
                    runners.Add((kind.ToString(), engine.Run));
                }
                catch (EngineUnavailableException e)
                {
                    log.WriteLine($"<!-- {shape.Name} {kind}: {e.Reason} -->");
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    log.WriteLine($"<!-- {shape.Name} {kind} failed: {e.Message} -->");
                    failures++;
                }
            }

            double[] medians = ProbeRun.InterleavedRounds(runners.Select(r => r.Run).ToArray(), seconds).Select(ProbeRun.Median).ToArray();
            double floorMicroseconds = medians[0];
            var cells = new List<string>();
            foreach (EngineKind kind in Engines)
            {
                int index = runners.FindIndex(r => r.Name == kind.ToString());
                cells.Add(index < 0 ? "-" : string.Create(CultureInfo.InvariantCulture,
                    $"{MarkdownReport.FormatMicroseconds(medians[index] * 1000)} ({medians[index] / floorMicroseconds:0.00}×, {floor.Bytes / medians[index] / 1e3:0.0})"));
            }

            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {shape.Name} | {MarkdownReport.FormatCount(floor.Bytes)}B | {MarkdownReport.FormatMicroseconds(floorMicroseconds * 1000)} | {floor.Bytes / floorMicroseconds / 1e3:0.0} | {string.Join(" | ", cells)} |"));
            foreach (var engine in engines) engine.Dispose();
        }

        log.WriteLine();
        log.WriteLine("Floor: the input read once and the output written once by the widest vectors, buffers reused as the engines'; " +
                      "GB/s = (input + output bytes) / time; medians of interleaved rounds in one process, after a warm-up.");
        return failures == 0 ? 0 : 1;
    }
}
