using System.Globalization;
using System.Runtime.Intrinsics;
using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Peak;

namespace KernelGen.Benchmarks.Timing;

/// <summary>
/// The FMA peak of each benchmark case's own process. The development machines are vCPUs of a shared host, which gives a
/// process a faster or slower state for its whole life: the same code measured 10-20 % apart between runs, and the FMA
/// loop moved with it. BenchmarkDotNet runs each case in a process of its own, so a share of the peak measured in the host
/// process says as much about the case's process as about its code; the peak measured in the case's own process, right
/// after its iterations, does not. Each case's process writes its figure to a file the host reads after the run.
/// </summary>
public static class ProcessPeaks
{
    /// <summary>The environment variable that names the folder a case's process writes its peak to (unset: nothing written).</summary>
    public const string FolderVariable = "KERNELGEN_PROCESS_PEAKS";

    /// <summary>
    /// In a case's process, after its iterations: the one-core FMA peak of the widest accelerated width (Vector512 where
    /// accelerated, else Vector256), written to <c>{shape}.{engine}.txt</c> in the folder <see cref="FolderVariable"/> names.
    /// </summary>
    public static void Record(string shape, EngineKind engine)
    {
        string? folder = Environment.GetEnvironmentVariable(FolderVariable);
        if (string.IsNullOrEmpty(folder)) return;
        double? peak = FmaPeak.MeasureGflops(Vector512.IsHardwareAccelerated ? 512 : 256);
        if (peak is not > 0) return;
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, FileName(shape, engine)), peak.Value.ToString("R", CultureInfo.InvariantCulture));
    }

    /// <summary>In the host: the figure a case's process wrote, or null.</summary>
    public static double? Read(string folder, string shape, EngineKind engine)
    {
        string path = Path.Combine(folder, FileName(shape, engine));
        return File.Exists(path) && double.TryParse(File.ReadAllText(path), NumberStyles.Float, CultureInfo.InvariantCulture, out double peak) && peak > 0
            ? peak
            : null;
    }

    /// <summary>In the host, before a run: removes the figures of an earlier run.</summary>
    public static void Clear(string folder)
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    private static string FileName(string shape, EngineKind engine) => shape + "." + engine + ".txt";
}
