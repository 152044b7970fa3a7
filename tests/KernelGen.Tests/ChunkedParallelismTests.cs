using System.Collections.Concurrent;
using CsCheck;
using KernelGen.Threading;

namespace KernelGen.Tests;

/// <summary>
/// A parallel call is split into several chunks per thread, claimed from a shared counter by whichever thread comes free
/// (the calling one included), so that a worker the operating system has not scheduled delays the call by one chunk at
/// most (issue 15). These tests hold every chunking to the one-thread result bit for bit, and the pool to running each
/// chunk once, on one thread per scratch slot, with exceptions reaching the caller and held workers leaving the whole
/// call to the calling thread. No timing is asserted.
/// </summary>
/// <remarks>In the serial collection: a call only splits its work when no other call holds the pool, and one test holds the pool's workers.</remarks>
[Collection(ProcessWideSettingsCollection.Name)]
public class ChunkedParallelismTests
{
    /// <summary>
    /// Any thread count and chunks per thread, on every kernel and pass the random shapes reach (the exact kernel, the
    /// width kernel with and without its own padding, the channel kernel relayouting through per-thread buffers), give the
    /// one-thread output bit for bit: a row is computed by the same code whichever chunk holds it.
    /// </summary>
    [Fact]
    public void EveryChunkingGivesTheOneThreadResultBitForBit() =>
        Gen.Select(ConvCase.Generator, Gen.Int[1, 5], Gen.Int[1, 9], Gen.Bool).Sample((c, threads, chunksPerThread, simd) =>
        {
            var options = simd ? Force.SimdKernels() : (KernelGen.Planning.PlanOptions?)null;
            float[] expected = Compute(c, c.Create(1, options).Prepare(c.Weights(), c.Bias()));
            var chunked = c.Create(threads, options).Prepare(c.Weights(), c.Bias());
            chunked.ForcedThreads = threads;
            chunked.ChunksPerThread = chunksPerThread;
            float[] actual = Compute(c, chunked);
            AssertBitwiseEqual(c, threads, chunksPerThread, expected, actual);
            // Again on the same instance: its scratch and the pool are reused.
            AssertBitwiseEqual(c, threads, chunksPerThread, expected, Compute(c, chunked));
        }, iter: 150, threads: 1);

    /// <summary>
    /// Wider layers than the random shapes reach: the width kernel computing blocks of channels together (a chunk boundary
    /// must not cut a block) and the channel kernel's row steps through per-thread buffers.
    /// </summary>
    [Fact]
    public void EveryChunkingOfWiderLayersGivesTheOneThreadResultBitForBit() =>
        Gen.Select(Gen.Int[1, 2], Gen.Int[4, 24], Gen.Int[6, 20], Gen.Int[8, 48], Gen.Int[2, 5], Gen.Int[1, 9], Gen.Bool, Gen.Int[1, 2])
            .Sample((groups, outPerGroup, height, width, threads, chunksPerThread, channelsLast, batch) =>
            {
                var c = new ConvCase(batch, InChannels: 4 * groups, outPerGroup * groups, groups, height, width, Kernel: (4, 4),
                    Stride: (2, 2), Padding: (1, 1, 1, 1), OutputPadding: (0, 0), Dilation: (1, 1), channelsLast, HasBias: true,
                    FusedActivation.LeakyRelu, Seed: height * 31 + width);
                float[] expected = Compute(c, c.Create(1).Prepare(c.Weights(), c.Bias()));
                var chunked = c.Create(threads).Prepare(c.Weights(), c.Bias());
                chunked.ForcedThreads = threads;
                chunked.ChunksPerThread = chunksPerThread;
                AssertBitwiseEqual(c, threads, chunksPerThread, expected, Compute(c, chunked));
            }, iter: 80, threads: 1);

    /// <summary>Non-finite weights add the exact kernel's edge pass after the SIMD kernels: chunked too, still the one-thread result.</summary>
    [Fact]
    public void ChunkedEdgePassForNonFiniteWeightsGivesTheOneThreadResult() =>
        Gen.Select(ConvCase.Generator, Gen.Int[2, 4], Gen.Int[1, 6]).Sample((c, threads, chunksPerThread) =>
        {
            float[] weights = c.Weights();
            weights[weights.Length / 2] = float.PositiveInfinity;
            float[] expected = Compute(c, c.Create(1, Force.SimdKernels()).Prepare(weights, c.Bias()));
            var chunked = c.Create(threads, Force.SimdKernels()).Prepare(weights, c.Bias());
            chunked.ForcedThreads = threads;
            chunked.ChunksPerThread = chunksPerThread;
            AssertBitwiseEqual(c, threads, chunksPerThread, expected, Compute(c, chunked));
        }, iter: 60, threads: 1);

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 8)]
    [InlineData(4, 3)]
    [InlineData(6, 40)]
    public void EveryChunkRunsOnceAndNoSlotIsSharedAtOnce(int threads, int chunks)
    {
        for (int call = 0; call < 20; call++)
        {
            var work = new RecordingWork(chunks);
            WorkerPool.Run(work, chunks, threads);
            work.AssertEveryChunkRanOnce();
            Assert.All(work.Slots, slot => Assert.InRange(slot, 0, Math.Min(threads, chunks) - 1));
            Assert.False(work.SlotShared, "two threads ran with the same scratch slot at once");
        }
    }

    /// <summary>A chunk that throws on a worker or on the caller: the call still runs every other chunk, then rethrows; the pool stays usable.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(11)]
    public void AnExceptionInAChunkReachesTheCaller(int failingChunk)
    {
        var work = new RecordingWork(12, failingChunk);
        var thrown = Assert.Throws<InvalidOperationException>(() => WorkerPool.Run(work, 12, threads: 3));
        Assert.Equal($"chunk {failingChunk}", thrown.Message);
        work.AssertEveryChunkRanOnce();

        var next = new RecordingWork(12);
        WorkerPool.Run(next, 12, threads: 3);
        next.AssertEveryChunkRanOnce();
    }

    [Fact]
    public void ARefusedCallLeavesAChunkedLayerUsable()
    {
        var c = new ConvCase(Batch: 2, InChannels: 4, OutChannels: 3, Groups: 1, InputHeight: 16, InputWidth: 32, Kernel: (4, 4),
            Stride: (2, 2), Padding: (1, 1, 1, 1), OutputPadding: (0, 0), Dilation: (1, 1), ChannelsLast: false, HasBias: true,
            FusedActivation.None, Seed: 5);
        var prepared = c.Create(2).Prepare(c.Weights(), c.Bias());
        prepared.ForcedThreads = 2;
        prepared.ChunksPerThread = 4;
        // Too short an output is refused before any chunk runs; the next, valid call is unaffected.
        Assert.Throws<ArgumentException>(() => prepared.Compute(c.Input(), c.InputHeight, c.InputWidth, new float[3]));
        float[] expected = Compute(c, c.Create(1).Prepare(c.Weights(), c.Bias()));
        AssertBitwiseEqual(c, 2, 4, expected, Compute(c, prepared));
    }

    /// <summary>
    /// Workers that never get a core (held here) claim nothing: the calling thread runs every chunk and the call completes,
    /// with the one-thread result; once released, the late workers find the call over and claim nothing of the next.
    /// </summary>
    [Fact]
    public void ACallWhoseWorkersAreHeldCompletesOnTheCallingThread()
    {
        var c = new ConvCase(Batch: 2, InChannels: 8, OutChannels: 12, Groups: 1, InputHeight: 20, InputWidth: 24, Kernel: (4, 4),
            Stride: (2, 2), Padding: (1, 1, 1, 1), OutputPadding: (0, 0), Dilation: (1, 1), ChannelsLast: false, HasBias: true,
            FusedActivation.Relu, Seed: 9);
        float[] expected = Compute(c, c.Create(1).Prepare(c.Weights(), c.Bias()));
        var chunked = c.Create(4).Prepare(c.Weights(), c.Bias());
        chunked.ForcedThreads = 4;
        chunked.ChunksPerThread = 4;

        // Never disposed: a worker woken late (seconds late under qemu) may read the hook after the finally below and must
        // find a set event, not a disposed one (CI once crashed the test process on arm64 with ObjectDisposedException).
        var held = new ManualResetEventSlim(false);
        WorkerPool.WorkersHeld = held;
        try
        {
            var work = new RecordingWork(16);
            WorkerPool.Run(work, 16, threads: 4);
            work.AssertEveryChunkRanOnce();
            Assert.All(work.Threads, thread => Assert.Equal(Environment.CurrentManagedThreadId, thread));
            AssertBitwiseEqual(c, 4, 4, expected, Compute(c, chunked));
        }
        finally
        {
            WorkerPool.WorkersHeld = null;
            held.Set();
        }

        for (int call = 0; call < 5; call++)
        {
            var after = new RecordingWork(7);
            WorkerPool.Run(after, 7, threads: 2);
            after.AssertEveryChunkRanOnce();
            Assert.All(after.Slots, slot => Assert.InRange(slot, 0, 1));
            AssertBitwiseEqual(c, 4, 4, expected, Compute(c, chunked));
        }
    }

    /// <summary>
    /// A late worker of an earlier call (woken after that call ended, its counter exhausted) that reads the next call's
    /// larger chunk count while that call is being set up claims nothing: before, its exchange on the earlier call's
    /// counter still succeeded, and it ran a chunk of the new call with a stale slot, and that chunk ran twice (CI saw it
    /// once on arm64 under qemu). Here the late worker's claim is made at the worst moment, deterministically.
    /// </summary>
    [Theory]
    [InlineData(2, 7)]
    [InlineData(3, 40)]
    public void ALateWorkerOfAnEarlierCallClaimsNothingOfTheNext(int earlierChunks, int laterChunks)
    {
        WorkerPool.Run(new RecordingWork(earlierChunks), earlierChunks, threads: 2);
        var claims = new List<bool>();
        WorkerPool.CallPrepared = generation => claims.Add(WorkerPool.TryClaim(unchecked(generation - 1), out _));
        try
        {
            var later = new RecordingWork(laterChunks);
            WorkerPool.Run(later, laterChunks, threads: 2);
            later.AssertEveryChunkRanOnce();
        }
        finally
        {
            WorkerPool.CallPrepared = null;
        }

        Assert.Equal([false], claims);
    }

    /// <summary>
    /// Many calls in a row with alternating chunk counts, while late workers from held calls still wake on their stale
    /// releases: every chunk of every call runs once, on one thread per slot.
    /// </summary>
    [Fact]
    public void CallsOfAlternatingSizesAmidLateWorkersRunEveryChunkOnce()
    {
        // Not disposed, for the reason given in ACallWhoseWorkersAreHeldCompletesOnTheCallingThread.
        {
            var held = new ManualResetEventSlim(false);
            WorkerPool.WorkersHeld = held;
            try
            {
                for (int call = 0; call < 4; call++)
                    WorkerPool.Run(new RecordingWork(5), 5, threads: 4);
            }
            finally
            {
                WorkerPool.WorkersHeld = null;
                held.Set();
            }
        }

        for (int call = 0; call < 400; call++)
        {
            int chunks = call % 2 == 0 ? 2 + call % 5 : 9 + call % 7;
            int threads = 2 + call % 3;
            var work = new RecordingWork(chunks, spin: 50);
            WorkerPool.Run(work, chunks, threads);
            work.AssertEveryChunkRanOnce();
            Assert.All(work.Slots, slot => Assert.InRange(slot, 0, Math.Min(threads, chunks) - 1));
            Assert.False(work.SlotShared, "two threads ran with the same scratch slot at once");
        }
    }

    /// <summary>A chunked call allocates nothing on the calling thread once its size has been seen (as <see cref="AllocationTests"/> for the default chunking).</summary>
    [Theory]
    [InlineData(3, 2, 5)]
    [InlineData(12, 3, 8)]
    public void AChunkedCallAllocatesNothing(int outChannels, int threads, int chunksPerThread)
    {
        var c = new ConvCase(Batch: 2, InChannels: 8, outChannels, Groups: 1, InputHeight: 24, InputWidth: 64, Kernel: (4, 4),
            Stride: (2, 2), Padding: (1, 1, 1, 1), OutputPadding: (0, 0), Dilation: (1, 1), ChannelsLast: false, HasBias: true,
            FusedActivation.None, Seed: 3);
        var prepared = c.Create(threads).Prepare(c.Weights(), c.Bias());
        prepared.ForcedThreads = threads;
        prepared.ChunksPerThread = chunksPerThread;
        float[] input = c.Input(), output = new float[c.Batch * c.OutChannels * c.OutputHeight * c.OutputWidth];
        for (int i = 0; i < 3; i++)
            prepared.Compute(input, c.InputHeight, c.InputWidth, output);
        long fewest = long.MaxValue;
        for (int window = 0; window < 5 && fewest != 0; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 3; i++)
                prepared.Compute(input, c.InputHeight, c.InputWidth, output);
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
    }

    internal static float[] Compute(ConvCase c, PreparedConvTranspose2D prepared)
    {
        var output = new float[c.Batch * c.OutChannels * c.OutputHeight * c.OutputWidth];
        prepared.Compute(c.Input(), c.InputHeight, c.InputWidth, output);
        return output;
    }

    internal static void AssertBitwiseEqual(ConvCase c, int threads, int chunksPerThread, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{c} on {threads} threads x {chunksPerThread} chunks: output[{i}] = {actual[i]}, one thread gave {expected[i]}");
        }
    }

    /// <summary>Records which thread and slot ran each chunk, and whether two threads ever ran with one slot at once.</summary>
    private sealed class RecordingWork(int chunkCount, int failingChunk = -1, int spin = 2000) : IParallelWork
    {
        private readonly int[] _runs = new int[chunkCount];
        private readonly int[] _slotBusy = new int[64];
        private readonly ConcurrentBag<int> _slots = [], _threads = [];

        public bool SlotShared { get; private set; }

        public IEnumerable<int> Slots => _slots;

        public IEnumerable<int> Threads => _threads;

        public void Execute(int chunk, int chunkCount, int slot)
        {
            if (Interlocked.Exchange(ref _slotBusy[slot], 1) != 0) SlotShared = true;
            Interlocked.Increment(ref _runs[chunk]);
            _slots.Add(slot);
            _threads.Add(Environment.CurrentManagedThreadId);
            Thread.SpinWait(spin);
            Volatile.Write(ref _slotBusy[slot], 0);
            if (chunk == failingChunk) throw new InvalidOperationException($"chunk {chunk}");
        }

        public void AssertEveryChunkRanOnce() =>
            Assert.All(_runs, runs => Assert.Equal(1, runs));
    }
}
