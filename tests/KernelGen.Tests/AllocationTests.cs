namespace KernelGen.Tests;

/// <summary>
/// Once an input size has been seen, <c>Compute</c> allocates nothing: no plans, no scratch buffers, no closures, no
/// boxing, no task objects when the work is split across the worker pool.
/// </summary>
/// <remarks>
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/> counts the calling thread only, which is where every per-call
/// object of the runtime would be made (the worker threads only run parts of a call). The class runs in the serial
/// collection so that a two-thread call finds the worker pool free and really splits its work.
/// </remarks>
[Collection(ProcessWideSettingsCollection.Name)]
public class AllocationTests
{
    /// <summary>Below this many multiply-adds per part, the runtime does not hand work to another thread.</summary>
    private const long MultiplyAddsPerPart = 1L << 18;

    private const int WarmUpCalls = 2, MeasuredCalls = 3, Windows = 5;

    public static TheoryData<int, TensorLayout, FusedActivation, int> Shapes()
    {
        var data = new TheoryData<int, TensorLayout, FusedActivation, int>();
        // 3 output channels: vectors along the width; 12: vectors along the channels, with padding lanes (whole vectors of
        // 8 or 16), so that NHWC output goes through the padded scratch too.
        foreach (int outChannels in new[] { 3, 12 })
        foreach (var layout in new[] { TensorLayout.Nchw, TensorLayout.Nhwc })
        foreach (var activation in new[] { FusedActivation.None, FusedActivation.Sigmoid })
        foreach (int threads in new[] { 1, 2 })
            data.Add(outChannels, layout, activation, threads);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void PreparedComputeAllocatesNothing(int outChannels, TensorLayout layout, FusedActivation activation, int threads)
    {
        var c = Case(outChannels, layout, activation);
        var prepared = c.Create(threads).Prepare(c.Weights(), c.Bias());
        var input = c.Input();
        var output = new float[c.Batch * c.OutChannels * c.OutputHeight * c.OutputWidth];

        long allocated = AllocatedBytes(() => prepared.Compute(input, c.InputHeight, c.InputWidth, output));

        Assert.Equal(0, allocated);
        AssertMatchesReference(c, output);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void UnpreparedComputeAllocatesNothing(int outChannels, TensorLayout layout, FusedActivation activation, int threads)
    {
        var c = Case(outChannels, layout, activation);
        var conv = c.Create(threads);
        var input = c.Input();
        var weights = c.Weights();
        var bias = c.Bias();
        var output = new float[c.Batch * c.OutChannels * c.OutputHeight * c.OutputWidth];

        long allocated = AllocatedBytes(() => conv.Compute(input, c.InputHeight, c.InputWidth, weights, bias, output));

        Assert.Equal(0, allocated);
        AssertMatchesReference(c, output);
    }

    /// <summary>Batch 2, stride 2, with bias: big enough for a two-thread call to split (checked), small enough to be quick.</summary>
    private static ConvCase Case(int outChannels, TensorLayout layout, FusedActivation activation)
    {
        var c = new ConvCase(Batch: 2, InChannels: 8, outChannels, Groups: 1, InputHeight: 24, InputWidth: 64, Kernel: (4, 4),
            Stride: (2, 2), Padding: (1, 1, 1, 1), OutputPadding: (0, 0), Dilation: (1, 1), layout == TensorLayout.Nhwc,
            HasBias: true, activation, Seed: 77);
        long multiplyAdds = (long)c.Batch * c.InChannels * c.OutChannels * c.InputHeight * c.InputWidth * c.Kernel.H * c.Kernel.W;
        Assert.True(multiplyAdds >= 4 * MultiplyAddsPerPart, $"{multiplyAdds} multiply-adds: too few for the pool to split the work");
        return c;
    }

    /// <summary>
    /// The fewest bytes allocated on this thread by <see cref="MeasuredCalls"/> calls, over <see cref="Windows"/> windows
    /// after <see cref="WarmUpCalls"/> calls (which may build plans and scratch). The minimum, because the counter
    /// occasionally jumps by a few KB when another thread's allocation triggers a GC inside the window (the thread's
    /// allocation context is retired); an allocation made by <c>Compute</c> itself would show in every window.
    /// </summary>
    private static long AllocatedBytes(Action call)
    {
        for (int i = 0; i < WarmUpCalls; i++)
            call();
        long fewest = long.MaxValue;
        for (int window = 0; window < Windows && fewest != 0; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < MeasuredCalls; i++)
                call();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return fewest;
    }

    private static void AssertMatchesReference(ConvCase c, float[] output)
    {
        var expected = c.Expected();
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(output[i] - expected[i]) <= c.Tolerance))
                Assert.Fail($"{c}: output[{i}] = {output[i]}, expected {expected[i]}");
        }
    }
}
