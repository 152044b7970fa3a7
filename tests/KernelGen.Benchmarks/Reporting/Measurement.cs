using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Reporting;

/// <summary>The median time of one call of one engine on one shape, from one run.</summary>
/// <param name="Shape">The shape.</param>
/// <param name="Engine">The engine.</param>
/// <param name="MedianNanoseconds">Median time per call.</param>
/// <param name="ProcessPeakGflopsPerCore">
/// The one-core FMA peak of the widest accelerated width measured in the case's own process after its iterations
/// (<see cref="Timing.ProcessPeaks"/>), or null.
/// </param>
public sealed record Measurement(ConvShape Shape, EngineKind Engine, double MedianNanoseconds, double? ProcessPeakGflopsPerCore = null)
{
    /// <summary>Billions of floating-point operations per second, with <see cref="ConvShape.Flops"/>.</summary>
    public double Gflops => Shape.Flops / MedianNanoseconds;
}

/// <summary>Everything a report says besides the measurements.</summary>
/// <param name="Machine">CPU, cores, OS and runtime, one line.</param>
/// <param name="PeakGflopsPerCore">The measured float32 FMA peak of one core.</param>
/// <param name="PeakDetail">How the peak was measured (loop widths and their figures).</param>
/// <param name="Command">The command that reproduces the run.</param>
/// <param name="Notes">Per engine and shape, anything a reader must know (e.g. how NHWC is run).</param>
/// <param name="Skipped">Engines that did not run, and why.</param>
/// <param name="Timing">How BenchmarkDotNet was configured (warm-up, iterations, tiering).</param>
/// <param name="Vector256PeakGflopsPerCore">The measured Vector256 FMA peak of one core: the peak of <paramref name="Avx512Off"/>.</param>
/// <param name="Avx512Off">The KernelGen engines timed again with AVX-512 switched off (as an AVX2-only machine runs them), or none.</param>
public sealed record ReportContext(
    string Machine, double PeakGflopsPerCore, string PeakDetail, string Command,
    IReadOnlyList<string> Notes, IReadOnlyDictionary<EngineKind, string> Skipped, string Timing,
    double? Vector256PeakGflopsPerCore = null, IReadOnlyList<Measurement>? Avx512Off = null);
