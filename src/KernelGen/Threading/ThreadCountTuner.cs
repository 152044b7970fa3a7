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
/// running, while a 400 µs layer ran 1.3 times faster (docs/contention.md). So the layer measures: after a first call
/// (which compiles and warms up), it times <see cref="SamplesPerChoice"/> calls each way, then runs the faster way, and
/// every <see cref="ReexploreInterval"/> calls times the other way once more, so that it follows a machine that gets busy
/// or quiet. Each way's time is a moving average (weight <see cref="Smoothing"/> on the newest call), so one descheduled
/// call does not flip the choice for long.
/// </para>
/// <para>
/// The choice changes which threads compute, never what: every chunking of a call writes the one-thread result bit for bit
/// (docs/contention.md), so timing noise can cost speed but not reproducibility. The statistics belong to one input size
/// and batch (a call of another size starts them again). Calls racing on one layer from several threads update them
/// without locks: a lost update only delays a decision.
/// </para>
/// </remarks>
internal sealed class ThreadCountTuner
{
    /// <summary>Timed calls of each way before the first choice.</summary>
    internal const int SamplesPerChoice = 3;

    /// <summary>Once chosen, one call in this many runs the other way, to notice that the machine changed.</summary>
    internal const int ReexploreInterval = 64;

    /// <summary>The weight of the newest call in a way's moving average of call times.</summary>
    internal const double Smoothing = 0.25;

    /// <summary>What the statistics are of: the plan (one input size) and the batch.</summary>
    private object? _key;
    private int _batch;

    /// <summary>Calls seen for <see cref="_key"/>: the first is not timed (it compiles and warms caches).</summary>
    private int _calls;

    private double _singleTicks, _parallelTicks;
    private int _singleSamples, _parallelSamples;

    /// <summary>
    /// Whether the call of <paramref name="batch"/> samples on <paramref name="key"/> (the input size's plan) runs on several
    /// threads; <see cref="Record"/> must follow with its time unless it returned <see langword="null"/>, which means: run
    /// threaded, untimed (the first call of a size).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool? UseThreads(object key, int batch)
    {
        if (!ReferenceEquals(Volatile.Read(ref _key), key) || _batch != batch) Reset(key, batch);
        int call = _calls++;
        if (call == 0) return null;
        if (_parallelSamples < SamplesPerChoice || _singleSamples < SamplesPerChoice)
            return _parallelSamples <= _singleSamples;
        bool parallelFaster = _parallelTicks <= _singleTicks;
        return call % ReexploreInterval == 0 ? !parallelFaster : parallelFaster;
    }

    /// <summary>Records the time of a call that <see cref="UseThreads"/> timed.</summary>
    public void Record(object key, int batch, bool threaded, long ticks)
    {
        if (!ReferenceEquals(Volatile.Read(ref _key), key) || _batch != batch) return;
        if (threaded)
            _parallelTicks = Average(_parallelTicks, ref _parallelSamples, ticks);
        else
            _singleTicks = Average(_singleTicks, ref _singleSamples, ticks);
    }

    /// <summary>Tests: the moving averages (in ticks) and sample counts.</summary>
    internal (double Single, int SingleSamples, double Parallel, int ParallelSamples) Statistics =>
        (_singleTicks, _singleSamples, _parallelTicks, _parallelSamples);

    private static double Average(double average, ref int samples, long ticks) =>
        samples++ == 0 ? ticks : average + (ticks - average) * Smoothing;

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
