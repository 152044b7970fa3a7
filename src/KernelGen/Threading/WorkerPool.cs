using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace KernelGen.Threading;

/// <summary>A unit of data-parallel work split into numbered, independent parts.</summary>
internal interface IParallelWork
{
    /// <summary>Runs part <paramref name="part"/> of <paramref name="partCount"/>.</summary>
    void Execute(int part, int partCount);
}

/// <summary>
/// A fork/join pool of dedicated background threads for kernel calls. Unlike <c>Parallel.For</c> it allocates nothing per
/// call and hands work over with one semaphore release per worker, which matters when a call takes microseconds.
/// One call uses the pool at a time; a concurrent call runs its parts on its own thread instead of queueing.
/// </summary>
/// <remarks>
/// Each part is claimed once, by whichever thread gets to it first: the calling thread, after its own part, runs the parts
/// whose worker has not started yet. On a busy machine a woken worker may wait milliseconds for a core; then the call
/// costs about what one thread would, instead of waiting for it.
/// </remarks>
internal static class WorkerPool
{
    private static readonly object s_gate = new();
    private static readonly ManualResetEventSlim s_allDone = CreateDoneEvent();
    private static Worker[] s_workers = [];
    private static IParallelWork? s_work;
    private static int s_partCount;
    private static int s_pending;
    private static int[] s_claimed = [];
    private static ExceptionDispatchInfo? s_failure;

    /// <summary>The most parts that run at once: one per processor.</summary>
    public static int MaxParallelism => Environment.ProcessorCount;

    /// <summary>Runs every part of <paramref name="work"/>, part 0 on the calling thread, and returns when all are done.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(IParallelWork work, int partCount)
    {
        if (partCount <= 1 || !Monitor.TryEnter(s_gate))
        {
            for (int part = 0; part < partCount; part++)
                work.Execute(part, partCount);
            return;
        }

        try
        {
            EnsureWorkers(partCount - 1);
            s_work = work;
            s_partCount = partCount;
            s_failure = null;
            s_allDone.Reset();
            Volatile.Write(ref s_pending, partCount - 1);
            // A worker still waking up from an earlier call finds its part claimed (or claims this call's part) here.
            for (int part = 1; part < partCount; part++)
                Volatile.Write(ref s_claimed[part], 0);
            for (int part = 1; part < partCount; part++)
                s_workers[part - 1].Start(part);

            try
            {
                work.Execute(0, partCount);
            }
            catch (Exception e)
            {
                // Still wait for the workers below: returning now would let them run on into the next call.
                s_failure = ExceptionDispatchInfo.Capture(e);
            }

            for (int part = 1; part < partCount; part++)
                TryRunPart(part);

            // Short spins cover the common case of parts finishing together; then block.
            var spinner = new SpinWait();
            while (Volatile.Read(ref s_pending) != 0 && !spinner.NextSpinWillYield)
                spinner.SpinOnce();
            s_allDone.Wait();
            s_work = null;
            s_failure?.Throw();
        }
        finally
        {
            Monitor.Exit(s_gate);
        }
    }

    private static ManualResetEventSlim CreateDoneEvent()
    {
        var done = new ManualResetEventSlim(false);
        // The slim event creates its kernel event lazily, the first time a caller has to block: force it now, so that
        // the first call that blocks does not allocate (steady-state calls allocate nothing).
        _ = done.WaitHandle;
        return done;
    }

    private static void EnsureWorkers(int count)
    {
        if (s_claimed.Length < count + 1) s_claimed = new int[count + 1];
        if (s_workers.Length >= count) return;
        var workers = new Worker[count];
        Array.Copy(s_workers, workers, s_workers.Length);
        for (int i = s_workers.Length; i < count; i++)
            workers[i] = new Worker(i);
        s_workers = workers;
    }

    /// <summary>Runs <paramref name="part"/> unless another thread has claimed it.</summary>
    private static void TryRunPart(int part)
    {
        if (Interlocked.CompareExchange(ref s_claimed[part], 1, 0) != 0) return;
        RunPart(part);
    }

    private static void RunPart(int part)
    {
        try
        {
            s_work!.Execute(part, s_partCount);
        }
        catch (Exception e)
        {
            s_failure = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            if (Interlocked.Decrement(ref s_pending) == 0)
                s_allDone.Set();
        }
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim _wake = new(0);
        private int _part;

        public Worker(int index)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = "KernelGen worker " + index };
            thread.Start();
        }

        public void Start(int part)
        {
            _part = part;
            _wake.Release();
        }

        private void Loop()
        {
            while (true)
            {
                _wake.Wait();
                TryRunPart(_part);
            }
        }
    }
}
