using System.Runtime.InteropServices;

namespace KernelGen.Benchmarks.Native;

/// <summary>
/// Fixes glibc malloc's trim and mmap thresholds. TorchSharp allocates its output on every call; with glibc's adaptive
/// thresholds those pages were sometimes returned to the kernel and faulted in afresh on every call (40-340 minor faults
/// per call, up to +70 % time, varying per process; measuring.md). Fixed thresholds make its timings show the kernel.
/// </summary>
public static partial class GlibcMalloc
{
    private const int MTrimThreshold = -1;
    private const int MMmapThreshold = -3;

    private static string? _outcome;

    /// <summary>
    /// Sets <c>M_MMAP_THRESHOLD</c> to 32 MiB and <c>M_TRIM_THRESHOLD</c> to 1 GiB, once per process, before anything of
    /// TorchSharp is timed. Returns what happened, for the log; never throws (on a system without glibc it does nothing).
    /// </summary>
    public static string FixThresholds()
    {
        if (_outcome is { } done)
            return done;
        if (!OperatingSystem.IsLinux())
            return _outcome = "not Linux: malloc thresholds left alone";
        try
        {
            bool mmap = Mallopt(MMmapThreshold, 32 << 20) == 1;
            bool trim = Mallopt(MTrimThreshold, 1 << 30) == 1;
            return _outcome = mmap && trim
                ? "mallopt: M_MMAP_THRESHOLD = 32 MiB, M_TRIM_THRESHOLD = 1 GiB"
                : $"mallopt refused (M_MMAP_THRESHOLD: {mmap}, M_TRIM_THRESHOLD: {trim})";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return _outcome = $"mallopt unavailable ({e.GetType().Name}): not glibc, malloc thresholds left alone";
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);
}
