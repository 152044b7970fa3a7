using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace KernelGen.Threading;

/// <summary>A unit of data-parallel work split into numbered, independent chunks.</summary>
internal interface IParallelWork
{
    /// <summary>
    /// Runs chunk <paramref name="chunk"/> of <paramref name="chunkCount"/> on the thread that owns scratch slot
    /// <paramref name="slot"/> (0 for the calling thread, below the call's thread count for the others): no two threads
    /// run with the same slot at once, so a chunk may use per-slot buffers.
    /// </summary>
    void Execute(int chunk, int chunkCount, int slot);
}

/// <summary>
/// A fork/join pool of dedicated background threads for kernel calls. Unlike <c>Parallel.For</c> it allocates nothing per
/// call and hands work over with one semaphore release per worker, which matters when a call takes microseconds.
/// One call uses the pool at a time; a concurrent call runs its chunks on its own thread instead of queueing.
/// </summary>
/// <remarks>
/// <para>
/// A call is split into several chunks per thread, and every thread, the calling one included, claims the next chunk from
/// one shared counter until none is left. On a busy machine a woken worker may wait milliseconds for a core: until it runs
/// it claims nothing, the calling thread takes its share, and a worker descheduled mid-call holds up the call by at most
/// the one chunk it is running. So a parallel call costs about what one thread would when the other cores are busy, where
/// one fixed part per thread made the caller wait for the slowest worker's whole part.
/// </para>
/// <para>
/// The counter carries the call's generation in its high half: a worker that wakes after its call has ended (or during a
/// later call that did not start it) finds another generation and claims nothing, so it can neither take a later call's
/// chunk with a scratch slot that call does not have nor run a chunk of a finished call. A call closes the counter (its own
/// generation, no chunk left) before it writes its work and chunk count and opens it after, so a late worker's claim never
/// pairs the earlier call's counter with the later call's count.
/// </para>
/// </remarks>
internal static class WorkerPool
{
    private static readonly object s_gate = new();
    private static readonly ManualResetEventSlim s_allDone = CreateDoneEvent();
    private static Worker[] s_workers = [];
    private static IParallelWork? s_work;
    private static int s_chunkCount;
    private static int s_pending;
    private static int s_generation;
    private static ExceptionDispatchInfo? s_failure;

    /// <summary>The call's generation (high 32 bits) and the next unclaimed chunk (low 32 bits).</summary>
    private static long s_next;

    /// <summary>Test hook: while set, a woken worker waits on it before claiming anything, as a descheduled one would.</summary>
    internal static ManualResetEventSlim? WorkersHeld;

    /// <summary>
    /// Test hook: called with the call's generation once its fields are written, before its counter opens, where a late
    /// worker of the call before would race the fields being written.
    /// </summary>
    internal static Action<int>? CallPrepared;

    /// <summary>The most threads that run at once: one per processor.</summary>
    public static int MaxParallelism => Environment.ProcessorCount;

    /// <summary>
    /// Runs every chunk of <paramref name="work"/> on the calling thread and up to <paramref name="threads"/> - 1 workers,
    /// and returns when all are done.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(IParallelWork work, int chunkCount, int threads)
    {
        threads = Math.Min(threads, chunkCount);
        if (threads <= 1 || !Monitor.TryEnter(s_gate))
        {
            for (int chunk = 0; chunk < chunkCount; chunk++)
                work.Execute(chunk, chunkCount, slot: 0);
            return;
        }

        try
        {
            EnsureWorkers(threads - 1);
            int generation = unchecked(++s_generation);
            // Closed before anything of this call is written: a late worker of an earlier call may have read that call's
            // exhausted counter and be about to read the chunk count; were the counter still open, the larger count of this
            // call would let its exchange succeed and run a chunk of this call early, with its stale slot, and once more
            // after this call's own claim of it.
            Interlocked.Exchange(ref s_next, ((long)generation << 32) | int.MaxValue);
            s_work = work;
            s_chunkCount = chunkCount;
            s_failure = null;
            s_allDone.Reset();
            Volatile.Write(ref s_pending, chunkCount);
            CallPrepared?.Invoke(generation);
            // Published last: a worker that sees this generation sees the fields above.
            Interlocked.Exchange(ref s_next, (long)generation << 32);
            for (int worker = 0; worker < threads - 1; worker++)
                s_workers[worker].Start(generation);

            RunChunks(generation, slot: 0);

            // The chunks still running are one per worker at most: short spins cover their finishing together with ours,
            // then the caller blocks rather than spin on a core the game's own threads may want.
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
        if (s_workers.Length >= count) return;
        var workers = new Worker[count];
        Array.Copy(s_workers, workers, s_workers.Length);
        for (int i = s_workers.Length; i < count; i++)
            workers[i] = new Worker(i);
        s_workers = workers;
    }

    /// <summary>Claims and runs chunks of call <paramref name="generation"/> until none is left (or that call is over).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunChunks(int generation, int slot)
    {
        while (TryClaim(generation, out int chunk))
        {
            try
            {
                s_work!.Execute(chunk, s_chunkCount, slot);
            }
            catch (Exception e)
            {
                // Every chunk still runs and is counted: returning early would let the others run on into the next call.
                s_failure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                if (Interlocked.Decrement(ref s_pending) == 0)
                    s_allDone.Set();
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool TryClaim(int generation, out int chunk)
    {
        while (true)
        {
            long next = Volatile.Read(ref s_next);
            chunk = (int)next;
            // A chunk count read under a later generation than next's is never used: a later call closes the counter before
            // it writes its count, so the exchange below then fails.
            if ((int)(next >> 32) != generation || chunk >= Volatile.Read(ref s_chunkCount)) return false;
            if (Interlocked.CompareExchange(ref s_next, next + 1, next) == next) return true;
        }
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim _wake = new(0);
        private readonly int _slot;
        private int _generation;

        public Worker(int index)
        {
            _slot = index + 1;
            var thread = new Thread(Loop) { IsBackground = true, Name = "KernelGen worker " + index };
            thread.Start();
        }

        public void Start(int generation)
        {
            Volatile.Write(ref _generation, generation);
            _wake.Release();
        }

        private void Loop()
        {
            while (true)
            {
                _wake.Wait();
                WorkersHeld?.Wait();
                RunChunks(Volatile.Read(ref _generation), _slot);
            }
        }
    }
}
