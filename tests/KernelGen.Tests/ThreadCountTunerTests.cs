using KernelGen.Threading;

namespace KernelGen.Tests;

/// <summary>
/// A call that could use several threads times itself both ways and runs the faster (<see cref="ThreadCountTuner"/>), so that
/// a parallel call never keeps costing more than one thread where the other cores are busy or slow to wake. The tuner's
/// decisions are tested on made-up call times (no timing is asserted); the layer's use of it on real calls.
/// </summary>
[Collection(ProcessWideSettingsCollection.Name)]
public class ThreadCountTunerTests
{
    private static readonly object Plan = new(), OtherPlan = new();

    private const int Explored = 1 + 2 * ThreadCountTuner.BurstCalls;

    /// <summary>Runs one call through the tuner as the layer does, with the time the way it chose takes.</summary>
    private static (bool Threaded, int Place) Call(ThreadCountTuner tuner, long singleTicks, long parallelTicks, object? plan = null, int batch = 1)
    {
        plan ??= Plan;
        var (threaded, place) = tuner.Choose(plan, batch);
        if (place >= 0) tuner.Record(plan, batch, threaded, place, threaded ? parallelTicks : singleTicks);
        return (threaded, place);
    }

    [Fact]
    public void TheFirstCallRunsThreadedUntimedThenABurstOfEachWayWhoseFirstCallIsNotTimed()
    {
        var tuner = new ThreadCountTuner();
        var calls = Enumerable.Range(0, Explored).Select(_ => Call(tuner, 100, 60)).ToArray();
        Assert.Equal([(true, -1), (true, -1), (true, 1), (true, 2), (true, 3), (false, -1), (false, 1), (false, 2), (false, 3)], calls);
        Assert.Equal((100.0, 1, 60.0, 1), tuner.Statistics);
    }

    /// <summary>A burst's figure is the median of its timed calls: neither its untimed first call nor one slow call decides.</summary>
    [Fact]
    public void ABurstCountsTheMedianOfItsTimedCalls()
    {
        var tuner = new ThreadCountTuner();
        tuner.Choose(Plan, 1);
        long[] threadedTimes = [1_000_000, 100, 900, 110];   // the first wakes a worker: not timed; 900: one descheduled call
        foreach (long time in threadedTimes)
        {
            var (threaded, place) = tuner.Choose(Plan, 1);
            Assert.True(threaded);
            if (place >= 0) tuner.Record(Plan, 1, threaded, place, time);
        }

        Assert.Equal(110.0, tuner.Statistics.Parallel);
    }

    [Theory]
    [InlineData(100, 60, true)]   // the threads pay: a many-channel layer on a quiet machine
    [InlineData(60, 80, false)]   // they do not: a small layer, or the other cores busy
    [InlineData(70, 70, true)]    // a tie keeps the threads (what the caller allowed)
    public void AfterTheBurstsTheFasterWayRunsAndTheOtherABurstAtTheEndOfEveryInterval(long single, long parallel, bool threadsWin)
    {
        var tuner = new ThreadCountTuner();
        for (int i = 0; i < Explored; i++) Call(tuner, single, parallel);
        for (int i = 0; i < 3 * ThreadCountTuner.ReexploreInterval; i++)
        {
            var (threaded, place) = Call(tuner, single, parallel);
            int inBurst = i % ThreadCountTuner.ReexploreInterval - (ThreadCountTuner.ReexploreInterval - ThreadCountTuner.BurstCalls);
            Assert.Equal(inBurst >= 0 ? (!threadsWin, inBurst == 0 ? -1 : inBurst) : (threadsWin, 0), (threaded, place));
        }
    }

    /// <summary>
    /// The machine gets busy: the threads, faster at first, become slower than one thread; the tuner changes to one thread
    /// within a call or two, and back within a few intervals once the threads pay again (seen in the re-exploring bursts).
    /// </summary>
    [Fact]
    public void TheChoiceFollowsAMachineThatGetsBusyAndQuietAgain()
    {
        var tuner = new ThreadCountTuner();
        for (int i = 0; i < Explored + 100; i++) Call(tuner, 100, 60);
        Assert.Equal((true, 0), Call(tuner, 100, 60));

        // Busy: the threaded calls now take 300; their moving average passes one thread's 100 at once.
        int threadedCallsUntilSwitch = 0;
        while (Call(tuner, 100, 300).Threaded) threadedCallsUntilSwitch++;
        Assert.InRange(threadedCallsUntilSwitch, 1, 2 + ThreadCountTuner.BurstCalls);

        int threadedWhileBusy = 0;
        for (int i = 0; i < 2 * ThreadCountTuner.ReexploreInterval; i++)
        {
            if (Call(tuner, 100, 300).Threaded) threadedWhileBusy++;
        }

        Assert.Equal(2 * ThreadCountTuner.BurstCalls, threadedWhileBusy);   // the re-exploring bursts only

        // Quiet again: the threaded bursts bring their figure back under one thread's within a few intervals.
        int calls = 0;
        int threadedRuns = 0;
        while (threadedRuns < 100 && calls < 20 * ThreadCountTuner.ReexploreInterval)
        {
            if (Call(tuner, 100, 60).Threaded) threadedRuns++;
            calls++;
        }

        Assert.Equal(100, threadedRuns);
        Assert.True(calls < 6 * ThreadCountTuner.ReexploreInterval, $"{calls} calls to come back to the threads");
    }

    [Fact]
    public void AnotherInputSizeOrBatchStartsAgain()
    {
        var tuner = new ThreadCountTuner();
        for (int i = 0; i < 20; i++) Call(tuner, 60, 100);
        Assert.Equal((false, 0), Call(tuner, 60, 100));

        Assert.Equal((true, -1), Call(tuner, 60, 100, OtherPlan));
        Assert.Equal((0.0, 0, 0.0, 0), tuner.Statistics);
        Assert.Equal((true, -1), Call(tuner, 60, 100, OtherPlan));   // the first call of the threaded burst

        for (int i = 0; i < 20; i++) Call(tuner, 60, 100, OtherPlan);
        Assert.Equal((true, -1), Call(tuner, 60, 100, OtherPlan, batch: 2));
    }

    [Fact]
    public void ATimeRecordedForAnEarlierSizeIsIgnored()
    {
        var tuner = new ThreadCountTuner();
        Call(tuner, 60, 100);
        Call(tuner, 60, 100);
        var (threaded, place) = tuner.Choose(Plan, 1);
        Assert.Equal((true, 1), (threaded, place));
        Assert.Equal((true, -1), tuner.Choose(OtherPlan, 1));
        tuner.Record(Plan, 1, threaded, place, 100);   // the earlier size's call ends after the size changed
        Assert.Equal((0.0, 0, 0.0, 0), tuner.Statistics);
    }

    /// <summary>
    /// A layer allowed two threads with enough work for them times its calls both ways (where the machine has two
    /// processors), writes the one-thread result bit for bit whichever way it runs, and leaves the choice alone when the
    /// calls are forced to a thread count or the tuning is off.
    /// </summary>
    [Fact]
    public void ALayerTimesItsCallsBothWaysAndWritesTheOneThreadResult()
    {
        var c = new ConvCase(Batch: 1, InChannels: 32, OutChannels: 16, Groups: 1, InputHeight: 32, InputWidth: 32, Kernel: (4, 4),
            Stride: (2, 2), Padding: (1, 1, 1, 1), OutputPadding: (0, 0), Dilation: (1, 1), ChannelsLast: false, HasBias: true,
            FusedActivation.Relu, Seed: 5);
        float[] expected = ChunkedParallelismTests.Compute(c, c.Create(1).Prepare(c.Weights(), c.Bias()));
        var layer = c.Create(2).Prepare(c.Weights(), c.Bias());
        for (int call = 0; call < Explored + 3; call++)
            ChunkedParallelismTests.AssertBitwiseEqual(c, 2, PreparedConvTranspose2D.DefaultChunksPerThread, expected, ChunkedParallelismTests.Compute(c, layer));

        var (_, singleBursts, _, parallelBursts) = layer.ThreadTuner.Statistics;
        if (Environment.ProcessorCount >= 2)
        {
            Assert.Equal((1, 1), (singleBursts, parallelBursts));
        }
        else
        {
            Assert.Equal((0, 0), (singleBursts, parallelBursts));   // one processor: one thread, nothing to choose
        }

        foreach (var untuned in new[] { Forced(c), Untuned(c) })
        {
            for (int call = 0; call < 4; call++)
                ChunkedParallelismTests.AssertBitwiseEqual(c, 2, PreparedConvTranspose2D.DefaultChunksPerThread, expected, ChunkedParallelismTests.Compute(c, untuned));
            Assert.Equal((0.0, 0, 0.0, 0), untuned.ThreadTuner.Statistics);
        }

        static PreparedConvTranspose2D Forced(ConvCase c)
        {
            var layer = c.Create(2).Prepare(c.Weights(), c.Bias());
            layer.ForcedThreads = 2;
            return layer;
        }

        static PreparedConvTranspose2D Untuned(ConvCase c)
        {
            var layer = c.Create(2).Prepare(c.Weights(), c.Bias());
            layer.TunesThreadCount = false;
            return layer;
        }
    }
}
