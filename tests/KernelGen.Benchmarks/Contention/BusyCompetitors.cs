using System.Runtime.InteropServices;

namespace KernelGen.Benchmarks.Contention;

/// <summary>
/// Threads of this process that keep cores busy, as a game's render, audio and physics threads do while its main thread
/// calls a layer. On Linux each is pinned to one core other than core 0 with <c>sched_setaffinity</c> (a P/Invoke on the
/// thread's own id), so the load sits on the cores the all-core call's workers want; elsewhere they are not pinned.
/// </summary>
internal sealed partial class BusyCompetitors : IDisposable
{
    private readonly Thread[] _threads;
    private volatile bool _stop;
    private int _pinned;

    /// <summary>Starts <paramref name="count"/> busy threads, the i-th pinned to core <c>1 + i % (cores - 1)</c> where possible.</summary>
    public BusyCompetitors(int count)
    {
        _threads = new Thread[count];
        for (int i = 0; i < count; i++)
        {
            int core = Environment.ProcessorCount > 1 ? 1 + i % (Environment.ProcessorCount - 1) : 0;
            _threads[i] = new Thread(() => Spin(core)) { IsBackground = true, Name = "busy competitor " + i };
            _threads[i].Start();
        }

        // Let them start and pin before the first timed call.
        Thread.Sleep(100);
    }

    /// <summary>How the competitors were placed, for the report.</summary>
    public string Placement => _threads.Length == 0 ? "none"
        : Volatile.Read(ref _pinned) == _threads.Length ? $"{_threads.Length} thread(s) pinned to cores 1..{Math.Min(_threads.Length, Environment.ProcessorCount - 1)} (sched_setaffinity)"
        : $"{_threads.Length} thread(s), not pinned";

    public void Dispose()
    {
        _stop = true;
        foreach (var thread in _threads)
            thread.Join();
    }

    private void Spin(int core)
    {
        if (OperatingSystem.IsLinux() && TryPin(core)) Interlocked.Increment(ref _pinned);
        // Floating-point work that never leaves the core's registers: it competes for the core, not for memory.
        double x = 1.0;
        while (!_stop)
        {
            for (int i = 0; i < 100_000; i++)
                x = x * 1.0000001 + 1e-9;
        }

        GC.KeepAlive(x);
    }

    private static bool TryPin(int core)
    {
        if (core >= 64) return false;
        ulong mask = 1UL << core;
        // pid 0: the calling thread (a Linux thread id is a pid to the scheduler).
        return SchedSetAffinity(0, (nint)sizeof(ulong), ref mask) == 0;
    }

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SchedSetAffinity(int pid, nint cpusetSize, ref ulong mask);
}
