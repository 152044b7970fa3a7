using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using KernelGen.Benchmarks.Correctness;
using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Native;
using KernelGen.Benchmarks.Peak;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks;

/// <summary>How one engine fared on one shape in the correctness pass.</summary>
public enum CheckOutcome
{
    /// <summary>It ran and matched the reference.</summary>
    Passed,

    /// <summary>It cannot run in this process (the reason says why); not a failure of the suite.</summary>
    Unavailable,

    /// <summary>It threw, or computed a wrong result.</summary>
    Failed,
}

/// <summary>One engine on one shape.</summary>
/// <param name="Shape">The shape.</param>
/// <param name="Engine">The engine.</param>
/// <param name="Outcome">What happened.</param>
/// <param name="Detail">The worst error as a share of the tolerance, the reason it is unavailable, or the failure.</param>
/// <param name="Note">The engine's own note on how it runs the shape (may be empty).</param>
public sealed record EngineCheck(ConvShape Shape, EngineKind Engine, CheckOutcome Outcome, string Detail, string Note);

/// <summary>The result of a correctness pass.</summary>
/// <param name="Checks">One entry per shape × engine.</param>
/// <param name="FmaLoopsCorrect">Whether both FMA-peak loops returned exactly the scalar recurrence's result.</param>
/// <param name="FmaDetail">What the FMA check saw.</param>
public sealed record QuickReport(IReadOnlyList<EngineCheck> Checks, bool FmaLoopsCorrect, string FmaDetail)
{
    /// <summary>Whether nothing failed (unavailable engines are reported, not failures).</summary>
    public bool AllPassed => FmaLoopsCorrect && Checks.All(c => c.Outcome != CheckOutcome.Failed);

    /// <summary>The failures, one line each.</summary>
    public IEnumerable<string> Failures =>
        Checks.Where(c => c.Outcome == CheckOutcome.Failed).Select(c => $"{c.Shape.Name} / {c.Engine}: {c.Detail}")
            .Concat(FmaLoopsCorrect ? [] : [$"FMA loops: {FmaDetail}"]);
}

/// <summary>
/// The quick mode, and the correctness pass before every timed run: each selected shape × engine is prepared, run twice
/// over an output pre-filled with NaN, and checked against <see cref="ReferenceConvolution"/>. Nothing is timed.
/// </summary>
public static class QuickRun
{
    /// <summary>Runs the pass, writing one line per check to <paramref name="log"/>.</summary>
    public static QuickReport Run(IReadOnlyList<ConvShape> shapes, IReadOnlyList<EngineKind> engines, TextWriter log)
    {
        var started = Stopwatch.StartNew();
        log.WriteLine($"Correctness pass: {shapes.Count} shapes x {engines.Count} engines, tolerance {OutputCheck.RelativeTolerance.ToString("G", CultureInfo.InvariantCulture)} x sum|x*w| per output.");
        if (engines.Any(e => e is EngineKind.Torch1T or EngineKind.TorchAllCores))
        {
            string status = TorchSharpLoader.UnavailableReason is { } reason ? $"unavailable: {reason}" : "loaded";
            log.WriteLine($"TorchSharp {status}");
            foreach (string line in TorchSharpLoader.Log)
                log.WriteLine($"  {line}");
        }

        var checks = new List<EngineCheck>();
        foreach (ConvShape shape in shapes)
        {
            var data = ShapeData.For(shape);
            var check = new OutputCheck(data);
            foreach (EngineKind engine in engines)
            {
                EngineCheck result = CheckOne(engine, data, check);
                checks.Add(result);
                log.WriteLine($"  {shape.Name,-13} {engine,-18} {result.Outcome switch
                {
                    CheckOutcome.Passed => "ok",
                    CheckOutcome.Unavailable => "skipped",
                    _ => "FAILED",
                }}  {result.Detail}{(result.Note.Length > 0 ? $" [{result.Note}]" : "")}");
            }
        }

        var (fmaCorrect, fmaDetail) = CheckFmaLoops();
        log.WriteLine($"FMA-peak loops: {fmaDetail}");
        var report = new QuickReport(checks, fmaCorrect, fmaDetail);
        int passed = checks.Count(c => c.Outcome == CheckOutcome.Passed), skipped = checks.Count(c => c.Outcome == CheckOutcome.Unavailable);
        log.WriteLine($"Correctness pass: {passed} passed, {checks.Count - passed - skipped} failed, {skipped} skipped, in {started.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s.");
        foreach (string failure in report.Failures)
            log.WriteLine($"FAILED: {failure}");
        return report;
    }

    private static EngineCheck CheckOne(EngineKind kind, ShapeData data, OutputCheck check)
    {
        IConvolutionEngine? engine = null;
        try
        {
            engine = EngineFactory.Create(kind, data);
            // Twice: a kernel that accumulates into its output instead of overwriting it is right once, wrong the second time.
            engine.Run();
            engine.Run();
            double worst = check.Verify(kind.ToString(), engine.Output);
            return new EngineCheck(data.Shape, kind, CheckOutcome.Passed,
                string.Create(CultureInfo.InvariantCulture, $"worst error {100 * worst:0.#} % of tolerance"), engine.Note);
        }
        catch (EngineUnavailableException e)
        {
            return new EngineCheck(data.Shape, kind, CheckOutcome.Unavailable, e.Reason, "");
        }
        catch (Exception e)
        {
            return new EngineCheck(data.Shape, kind, CheckOutcome.Failed, $"{e.GetType().Name}: {e.Message}", engine?.Note ?? "");
        }
        finally
        {
            engine?.Dispose();
        }
    }

    /// <summary>Runs both FMA loops briefly and compares every lane with the scalar recurrence: exact equality.</summary>
    internal static (bool Correct, string Detail) CheckFmaLoops()
    {
        // Few iterations on purpose: each chain is 2 + (start + i - 2) / 2^n, exact in float and different for every n, so
        // a loop that ran one iteration too many or too few, or dropped a chain, gives another sum.
        const long iterations = 13;
        const float start = 3;
        float expected = FmaPeak.ExpectedLane(iterations, start, FmaPeak.Multiplier, 1);
        Vector256<float> v256 = FmaPeak.Vector256Loop(iterations, start, FmaPeak.Multiplier, 1);
        Vector512<float> v512 = FmaPeak.Vector512Loop(iterations, start, FmaPeak.Multiplier, 1);
        bool correct = v256 == Vector256.Create(expected) && v512 == Vector512.Create(expected);
        string detail = string.Create(CultureInfo.InvariantCulture,
            $"{(correct ? "ok" : "WRONG")}: every lane {expected:R} expected, Vector256 gave {v256.GetElement(0):R}, Vector512 gave {v512.GetElement(0):R}" +
            $" (accelerated: Vector256 {Vector256.IsHardwareAccelerated}, Vector512 {Vector512.IsHardwareAccelerated})");
        return (correct, detail);
    }
}
