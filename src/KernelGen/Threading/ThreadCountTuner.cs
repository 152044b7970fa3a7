using System.Runtime.CompilerServices;

namespace KernelGen.Threading;

/// <summary>
/// Decides, for the calls of one prepared layer, whether a call that could use several threads does, by timing the layer's
/// own calls both ways: a parallel call must never cost much more than the one-thread call would.
/// </summary>
/// <remarks>
/// <para>
/// Whether extra threads pay depends on things no plan can see: whether the other cores are busy (a game's render, audio
/// and physics threads), how long a sleeping core takes to wake, and whether a worker's core shares the caller's caches.
/// On one 2-vCPU virtual machine a 60 µs layer (game_up) ran 1.3 times slower on two threads than on one with nothing else
/// running, while a 400 µs layer ran 1.3 times faster (docs/contention.md). So the layer measures, in bursts of
/// <see cref="BurstCalls"/> calls of one way whose first call is not timed (it wakes a worker that slept through the
/// other way's calls, or leaves the caches the other way's threads filled): after a first call (which compiles and warms
/// up), a burst threaded and a burst on one thread, then the faster way, and every <see cref="ReexploreInterval"/> calls
/// a burst of the other way, so that it follows a machine that gets busy or quiet. A burst's figure is the median of its
/// timed calls, so one descheduled call does not decide; the way that runs keeps a moving average of its calls (weight
/// <see cref="Smoothing"/> on the newest), and a burst of the other way moves that way's figure halfway.
/// </para>
/// <para>
/// The choice changes which threads compute, never what: every chunking of a call writes the one-thread result bit for bit
/// (docs/contention.md), so timing noise can cost speed but not reproducibility. The statistics belong to one input size
/// and batch (a call of another size starts them again). Calls racing on one layer from several threads update them
/// without locks: a lost or mixed-up update only delays a decision.
/// </para>
/// </remarks>
internal sealed class ThreadCountTuner
{
    /// <summary>Calls per burst of one way: the first warms up, the others are timed.</summary>
    internal const int BurstCalls = 4;

    /// <summary>Once chosen, the other way runs a burst at the start of every this many calls.</summary>
    internal const int ReexploreInterval = 128;

    /// <summary>The weight of the newest call in the running way's moving average of call times.</summary>
    internal const double Smoothing = 0.25;

    /// <summary>What the statistics are of: the plan (one input size) and the batch.</summary>
    private object? _key;
    private int _batch;

    /// <summary>Calls seen for <see cref="_key"/>: the first is not timed (it compiles and warms caches).</summary>
    private int _calls;

    private double _singleTicks, _parallelTicks;
    private int _singleSamples, _parallelSamples;

    /// <summary>The timed calls of the burst running now (its second and third; the fourth closes it).</summary>
    private long _burst1, _burst2;

    /// <summary>
    /// How the call of <paramref name="batch"/> samples on <paramref name="key"/> (the input size's plan) runs: on several
    /// threads or one, and its place in a burst (0: not in one; 1 to <see cref="BurstCalls"/> - 1: timed in one; -1: the
    /// untimed first call of a burst or of the size). <see cref="Record"/> must follow with the time of a call whose place
    /// is not -1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public (bool Threaded, int Place) Choose(object key, int batch)
    {
        if (!ReferenceEquals(Volatile.Read(ref _key), key) || _batch != batch) Reset(key, batch);
        int call = _calls++;
        if (call == 0) return (true, -1);
        // Calls 1 to 2 * BurstCalls: a burst threaded, then a burst on one thread.
        int explored = call - 1;
        if (explored < 2 * BurstCalls)
            return (explored < BurstCalls, Place(explored % BurstCalls));

        // Then the faster way, with a burst of the other way at the end of every interval.
        bool parallelFaster = _parallelTicks <= _singleTicks;
        int inInterval = (explored - 2 * BurstCalls) % ReexploreInterval - (ReexploreInterval - BurstCalls);
        return inInterval >= 0 ? (!parallelFaster, Place(inInterval)) : (parallelFaster, 0);

        static int Place(int inBurst) => inBurst == 0 ? -1 : inBurst;
    }

    /// <summary>Records the time of a call that <see cref="Choose"/> placed at <paramref name="place"/> (not -1).</summary>
    public void Record(object key, int batch, bool threaded, int place, long ticks)
    {
        if (!ReferenceEquals(Volatile.Read(ref _key), key) || _batch != batch) return;
        if (place == 0)
        {
            if (threaded)
                _parallelTicks += (ticks - _parallelTicks) * Smoothing;
            else
                _singleTicks += (ticks - _singleTicks) * Smoothing;
        }
        else if (place == 1)
        {
            _burst1 = ticks;
        }
        else if (place == 2)
        {
            _burst2 = ticks;
        }
        else
        {
            double median = Math.Max(Math.Min(_burst1, _burst2), Math.Min(Math.Max(_burst1, _burst2), ticks));
            if (threaded)
                _parallelTicks = _parallelSamples++ == 0 ? median : (_parallelTicks + median) / 2;
            else
                _singleTicks = _singleSamples++ == 0 ? median : (_singleTicks + median) / 2;
        }
    }

    /// <summary>Tests: each way's figure (in ticks) and how many bursts of it were timed.</summary>
    internal (double Single, int SingleBursts, double Parallel, int ParallelBursts) Statistics =>
        (_singleTicks, _singleSamples, _parallelTicks, _parallelSamples);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Reset(object key, int batch)
    {
        _batch = batch;
        _calls = 0;
        _singleTicks = _parallelTicks = 0;
        _singleSamples = _parallelSamples = 0;
        Volatile.Write(ref _key, key);
    }
}
