using CsCheck;
using KernelGen.Planning;

namespace KernelGen.Tests;

/// <summary>
/// A layer of too few output rows to split across threads (a 1-D layer has one; a wide 2-D layer may have one or two) runs
/// the channel kernel split by columns and channels instead: its padding, kernel and relayout passes are cut into bands of
/// columns and tiles of (channels, pixel blocks) claimed by whichever thread is free. These tests hold every such
/// chunking to the one-thread result bit for bit (each output is the same chain of multiply-adds whatever tile holds it),
/// check that the split is taken where it should be, and that a split call allocates nothing. No timing is asserted.
/// </summary>
/// <remarks>In the serial collection: a call only splits its work when no other call holds the pool.</remarks>
[Collection(ProcessWideSettingsCollection.Name)]
public class ChunkedParallelism1DTests
{
    /// <summary>Random 1-D layers with enough output channels per group for the channel kernel, wide rows and several channel tiles among them.</summary>
    private static readonly Gen<Case1D> ChannelKernelCases =
        from kernel in Gen.OneOf(Gen.Int[1, 5], Gen.Int[8, 16])
        from stride in Gen.Int[1, 8]
        from dilation in Gen.Int[1, 2]
        from groups in Gen.Int[1, 2]
        from inPerGroup in Gen.Int[1, 9]
        from outPerGroup in Gen.OneOf(Gen.Int[4, 20], Gen.Int[30, 70])
        from length in Gen.OneOf(Gen.Int[1, 40], Gen.Int[100, 400])
        from padBegin in Gen.Int[0, 6]
        from padEnd in Gen.Int[0, 6]
        from outputPadding in Gen.Int[0, Math.Max(stride, dilation) - 1]
        from batch in Gen.Int[1, 3]
        from channelsLast in Gen.Bool
        from hasBias in Gen.Bool
        from activation in Gen.Enum<FusedActivation>()
        from seed in Gen.Int
        let c = new Case1D(batch, groups * inPerGroup, groups * outPerGroup, groups, length, kernel, stride, padBegin, padEnd, outputPadding,
            dilation, channelsLast, hasBias, activation, seed)
        where c.OutputLength >= 1
        select c;

    /// <summary>
    /// Any thread count, chunks per thread and vector width gives the one-thread output bit for bit, through both outputs
    /// of the channel kernel (NLC written in place, NCL and padded channels through scratch and a relayout). Most cases
    /// must take the column split, or this would test nothing new.
    /// </summary>
    [Fact]
    public void EveryChunkingOfA1DLayerGivesTheOneThreadResultBitForBit()
    {
        int split = 0, cases = 0;
        Gen.Select(ChannelKernelCases, Gen.Int[2, 5], Gen.Int[1, 9], Gen.Int[0, 4].Select(i => i switch { 0 => 1, 4 => (int?)null, _ => 2 << i }))
            .Sample((c, threads, chunksPerThread, lanes) =>
            {
                var options = Force.Lanes(lanes, Force.SimdKernels());
                float[] expected = Compute(c, Create(c, 1, options).Prepare(c.Weights(), c.Bias()));
                var chunked = Create(c, threads, options).Prepare(c.Weights(), c.Bias());
                chunked.Plane.ForcedThreads = threads;
                chunked.Plane.ChunksPerThread = chunksPerThread;
                if (SplitsColumns(c, options, threads, chunksPerThread)) Interlocked.Increment(ref split);
                Interlocked.Increment(ref cases);
                AssertBitwiseEqual(c.ToString(), threads, chunksPerThread, expected, Compute(c, chunked));
                // Again on the same instance: its scratch and the pool are reused.
                AssertBitwiseEqual(c.ToString(), threads, chunksPerThread, expected, Compute(c, chunked));
            }, iter: 200, threads: 1);
        Assert.True(split >= cases / 2, $"only {split} of {cases} cases split by columns");
    }

    /// <summary>The benchmark's vocoder layers themselves: split on 2 and 3 threads, the one-thread result, which matches the naive reference.</summary>
    [Theory]
    [InlineData(512, 256, 32, 16, 8, 4, 2, 4)]
    [InlineData(512, 256, 32, 16, 8, 4, 3, 1)]
    [InlineData(128, 64, 2048, 4, 2, 1, 2, 4)]
    [InlineData(128, 64, 2048, 4, 2, 1, 3, 7)]
    public void TheVocoderLayersSplitByColumnsGiveTheOneThreadResult(int inChannels, int outChannels, int length, int kernel, int stride,
        int padding, int threads, int chunksPerThread)
    {
        foreach (bool channelsLast in new[] { false, true })
        {
            var c = new Case1D(1, inChannels, outChannels, 1, length, kernel, stride, padding, padding, 0, 1, channelsLast, HasBias: true,
                FusedActivation.LeakyRelu, Seed: length + kernel);
            Assert.True(SplitsColumns(c, PlanOptions.Default, threads, chunksPerThread));
            float[] expected = Compute(c, Create(c, 1).Prepare(c.Weights(), c.Bias()));
            var chunked = Create(c, threads).Prepare(c.Weights(), c.Bias());
            chunked.Plane.ForcedThreads = threads;
            chunked.Plane.ChunksPerThread = chunksPerThread;
            AssertBitwiseEqual(c.ToString(), threads, chunksPerThread, expected, Compute(c, chunked));
            if (!channelsLast)
            {
                float[] reference = c.Expected();
                for (int i = 0; i < reference.Length; i++)
                    Assert.True(Math.Abs(reference[i] - expected[i]) <= c.Tolerance, $"{c}: output[{i}] = {expected[i]}, expected {reference[i]}");
            }
        }
    }

    /// <summary>
    /// Wide 2-D layers of one or two output rows split the same way (and with non-finite weights, the exact kernel's edge
    /// pass follows): still the one-thread result bit for bit.
    /// </summary>
    [Fact]
    public void EveryChunkingOfAWideLayerOfFewRowsGivesTheOneThreadResultBitForBit() =>
        Gen.Select(Gen.Int[1, 2], Gen.Int[4, 40], Gen.Int[8, 120], Gen.Int[2, 4], Gen.Int[1, 9], Gen.Bool, Gen.Int[0, 3], Gen.Bool)
            .Sample((groups, outPerGroup, width, threads, chunksPerThread, channelsLast, batchAndRows, infinite) =>
            {
                // Kernel height 2 over one input row: 1 output row with a bottom padding of 1, else 2.
                int batch = 1 + (batchAndRows & 1), bottom = batchAndRows >> 1;
                var c = new ConvCase(batch, InChannels: 3 * groups, outPerGroup * groups, groups, InputHeight: 1, width, Kernel: (2, 4),
                    Stride: (1, 2), Padding: (0, 1, bottom, 1), OutputPadding: (0, 0), Dilation: (1, 1), channelsLast, HasBias: true,
                    FusedActivation.Tanh, Seed: width * 7 + outPerGroup);
                float[] weights = c.Weights();
                if (infinite) weights[weights.Length / 3] = float.NegativeInfinity;
                var options = Force.SimdKernels();
                float[] expected = Compute(c, c.Create(1, options).Prepare(weights, c.Bias()));
                var chunked = c.Create(threads, options).Prepare(weights, c.Bias());
                chunked.ForcedThreads = threads;
                chunked.ChunksPerThread = chunksPerThread;
                var output = new float[expected.Length];
                chunked.Compute(c.Input(), c.InputHeight, c.InputWidth, output);
                AssertBitwiseEqual(c.ToString(), threads, chunksPerThread, expected, output);
            }, iter: 100, threads: 1);

    [Fact]
    public void OnlyParallelCallsOfFewRowsOnTheChannelKernelSplitByColumns()
    {
        var vocoder = new Case1D(1, 512, 256, 1, 32, 16, 8, 4, 4, 0, 1, false, false, FusedActivation.None, 1);
        Assert.True(SplitsColumns(vocoder, PlanOptions.Default, threads: 2, PreparedConvTranspose2D.DefaultChunksPerThread));
        Assert.False(SplitsColumns(vocoder, PlanOptions.Default, threads: 1, PreparedConvTranspose2D.DefaultChunksPerThread));

        // A 2-D layer of 64 output rows has rows enough; the width kernel (2 output channels) splits by its channel rows.
        var tall = new ConvTranspose2D(128, 64, (4, 4), (2, 2), (1, 1));
        Assert.False(PreparedConvTranspose2D.SplitsColumns(Plan(tall, PlanOptions.Default, 32, 32), 1, 2, PreparedConvTranspose2D.DefaultChunksPerThread));
        var narrow = new ConvTranspose1D(16, 2, 4, stride: 2, padding: 1);
        Assert.False(SplitsColumns(narrow, PlanOptions.Default, 64, batch: 1, threads: 2, PreparedConvTranspose2D.DefaultChunksPerThread));
    }

    /// <summary>A 1-D call split by columns allocates nothing on the calling thread once its size has been seen.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A1DCallSplitByColumnsAllocatesNothing(bool channelsLast)
    {
        var c = new Case1D(2, 24, 40, 1, 300, 4, 2, 1, 1, 0, 1, channelsLast, true, FusedActivation.Relu, 3);
        var prepared = Create(c, 2).Prepare(c.Weights(), c.Bias());
        prepared.Plane.ForcedThreads = 2;
        Assert.True(SplitsColumns(c, PlanOptions.Default, 2, prepared.Plane.ChunksPerThread));
        float[] input = c.Input(), output = new float[c.Batch * c.OutChannels * c.OutputLength];
        for (int i = 0; i < 3; i++)
            prepared.Compute(input, c.Length, output);
        long fewest = long.MaxValue;
        for (int window = 0; window < 5 && fewest != 0; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 3; i++)
                prepared.Compute(input, c.Length, output);
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
    }

    private static ConvTranspose1D Create(Case1D c, int threads, PlanOptions? options = null) =>
        new(c.InChannels, c.OutChannels, c.Kernel, c.Stride, Padding1D.Asymmetric(c.PadBegin, c.PadEnd), c.OutputPadding, c.Dilation, c.Groups)
        {
            Layout = c.ChannelsLast ? TensorLayout.Nlc : TensorLayout.Ncl,
            Activation = c.Activation,
            MaxDegreeOfParallelism = threads,
            PlanOptions = options ?? PlanOptions.Default,
        };

    private static bool SplitsColumns(Case1D c, PlanOptions options, int threads, int chunksPerThread) =>
        SplitsColumns(Create(c, threads, options), options, c.Length, c.Batch, threads, chunksPerThread);

    private static bool SplitsColumns(ConvTranspose1D conv, PlanOptions options, int length, int batch, int threads, int chunksPerThread) =>
        PreparedConvTranspose2D.SplitsColumns(Plan(conv.Plane, options, 1, length), batch, threads, chunksPerThread);

    private static ExecutionPlan Plan(ConvTranspose2D conv, PlanOptions options, int height, int width) =>
        PlanBuilder.ForInput(PlanBuilder.ForLayer(conv, options), height, width);

    private static float[] Compute(Case1D c, PreparedConvTranspose1D prepared)
    {
        var output = new float[c.Batch * c.OutChannels * c.OutputLength];
        prepared.Compute(c.Input(), c.Length, output);
        return output;
    }

    private static float[] Compute(ConvCase c, PreparedConvTranspose2D prepared)
    {
        var output = new float[c.Batch * c.OutChannels * c.OutputHeight * c.OutputWidth];
        prepared.Compute(c.Input(), c.InputHeight, c.InputWidth, output);
        return output;
    }

    private static void AssertBitwiseEqual(string layer, int threads, int chunksPerThread, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{layer} on {threads} threads x {chunksPerThread} chunks: output[{i}] = {actual[i]}, one thread gave {expected[i]}");
        }
    }
}
