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

    /// <summary>Runs one call through the tuner as the layer does, with the time the way it chose takes.</summary>
    private static bool? Call(ThreadCountTuner tuner, long singleTicks, long parallelTicks, object? plan = null, int batch = 1)
    {
        plan ??= Plan;
        bool? threaded = tuner.UseThreads(plan, batch);
        if (threaded is { } timed) tuner.Record(plan, batch, timed, timed ? parallelTicks : singleTicks);
        return threaded;
    }

    [Fact]
    public void TheFirstCallRunsThreadedUntimedThenEachWayIsTimedInTurn()
    {
        var tuner = new ThreadCountTuner();
        var ways = Enumerable.Range(0, 1 + 2 * ThreadCountTuner.SamplesPerChoice).Select(_ => Call(tuner, 100, 60)).ToArray();
        Assert.Equal([null, true, false, true, false, true, false], ways);
        Assert.Equal((100.0, 3, 60.0, 3), tuner.Statistics);
    }

    [Theory]
    [InlineData(100, 60, true)]   // the threads pay: a many-channel layer on a quiet machine
    [InlineData(60, 80, false)]   // they do not: a small layer, or the other cores busy
    [InlineData(70, 70, true)]    // a tie keeps the threads (what the caller allowed)
    public void AfterTheSamplesTheFasterWayRunsAndTheOtherOnceEveryInterval(long single, long parallel, bool threadsWin)
    {
        var tuner = new ThreadCountTuner();
        for (int i = 0; i < 1 + 2 * ThreadCountTuner.SamplesPerChoice; i++) Call(tuner, single, parallel);
        int calls = 1 + 2 * ThreadCountTuner.SamplesPerChoice;
        for (int i = 0; i < 3 * ThreadCountTuner.ReexploreInterval; i++, calls++)
        {
            bool? way = Call(tuner, single, parallel);
            bool expected = calls % ThreadCountTuner.ReexploreInterval == 0 ? !threadsWin : threadsWin;
            Assert.Equal(expected, way);
        }
    }

    /// <summary>
    /// The machine gets busy: the threads, faster at first, become slower than one thread; the tuner changes to one thread
    /// within a few calls, and back once the threads pay again (seen at a re-exploring call).
    /// </summary>
    [Fact]
    public void TheChoiceFollowsAMachineThatGetsBusyAndQuietAgain()
    {
        var tuner = new ThreadCountTuner();
        for (int i = 0; i < 100; i++) Call(tuner, 100, 60);
        Assert.True(Call(tuner, 100, 60));

        // Busy: the threaded calls now take 300; within a few threaded calls the average passes one thread's 100.
        int threadedCallsUntilSwitch = 0;
        while (Call(tuner, 100, 300) == true) threadedCallsUntilSwitch++;
        Assert.InRange(threadedCallsUntilSwitch, 1, 5);
        int threadedWhileBusy = 0;
        for (int i = 0; i < 2 * ThreadCountTuner.ReexploreInterval; i++)
        {
            if (Call(tuner, 100, 300) == true) threadedWhileBusy++;
        }

        Assert.InRange(threadedWhileBusy, 1, 2);   // the re-exploring calls only

        // Quiet again: only a re-exploring call runs threaded, and its few samples bring the average back under 100.
        int calls = 0;
        int threadedRuns = 0;
        while (threadedRuns < 20 && calls < 20 * ThreadCountTuner.ReexploreInterval)
        {
            if (Call(tuner, 100, 60) == true) threadedRuns++;
            calls++;
        }

        Assert.Equal(20, threadedRuns);
        Assert.True(calls < 10 * ThreadCountTuner.ReexploreInterval, $"{calls} calls to come back to the threads");
    }

    [Fact]
    public void AnotherInputSizeOrBatchStartsAgain()
    {
        var tuner = new ThreadCountTuner();
        for (int i = 0; i < 20; i++) Call(tuner, 60, 100);
        Assert.False(Call(tuner, 60, 100));

        Assert.Null(Call(tuner, 60, 100, OtherPlan));
        Assert.Equal((0.0, 0, 0.0, 0), tuner.Statistics);
        Assert.True(Call(tuner, 60, 100, OtherPlan));

        for (int i = 0; i < 20; i++) Call(tuner, 60, 100, OtherPlan);
        Assert.Null(Call(tuner, 60, 100, OtherPlan, batch: 2));
    }

    [Fact]
    public void ATimeRecordedForAnEarlierSizeIsIgnored()
    {
        var tuner = new ThreadCountTuner();
        Call(tuner, 60, 100);
        Assert.Equal(true, tuner.UseThreads(Plan, 1));
        Assert.Null(tuner.UseThreads(OtherPlan, 1));
        tuner.Record(Plan, 1, threaded: true, 100);   // the earlier size's call ends after the size changed
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
        for (int call = 0; call < 1 + 2 * ThreadCountTuner.SamplesPerChoice + 3; call++)
            ChunkedParallelismTests.AssertBitwiseEqual(c, 2, PreparedConvTranspose2D.DefaultChunksPerThread, expected, ChunkedParallelismTests.Compute(c, layer));

        var (_, singleSamples, _, parallelSamples) = layer.ThreadTuner.Statistics;
        if (Environment.ProcessorCount >= 2)
        {
            Assert.True(singleSamples >= ThreadCountTuner.SamplesPerChoice, $"{singleSamples} one-thread calls timed");
            Assert.True(parallelSamples >= ThreadCountTuner.SamplesPerChoice, $"{parallelSamples} threaded calls timed");
            Assert.Equal(1 + 2 * ThreadCountTuner.SamplesPerChoice + 3 - 1, singleSamples + parallelSamples);
        }
        else
        {
            Assert.Equal((0, 0), (singleSamples, parallelSamples));   // one processor: one thread, nothing to choose
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
