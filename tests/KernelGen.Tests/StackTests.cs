using System.Runtime.ExceptionServices;

namespace KernelGen.Tests;

/// <summary>
/// Every kernel runs on a thread created with 64 KiB of stack (a stack overflow cannot be caught: it ends the process, so a
/// failure here shows as a crashed test host). The calls are the first of their layer on that thread, so the plan, the
/// scratch and, for whatever the JIT has not compiled yet, the compilation happen there too.
/// </summary>
[Collection(ProcessWideSettingsCollection.Name)]
public class StackTests
{
    /// <summary>The stack of the threads the kernels must run on.</summary>
    public const int SmallStack = 64 * 1024;

    /// <summary>
    /// One layer per kernel: the scalar tap-list kernel, the width kernel (plain, stride-2 pairs padding their own window,
    /// pairs reading the NHWC copy, blocks of channels), the channel kernel (NHWC in place, NCHW through the fused relayout),
    /// and the exact path of a layer with an infinite weight. The case was 2 -> 1, 40 x 40, kernel 4, stride 2,
    /// whose 48 KiB window was a stackalloc.
    /// </summary>
    public static TheoryData<string, ConvCase, bool> Layers => new()
    {
        { "tap list", Case(1, 1, 2, 2, 3, 2, false), false },
        { "width", Case(2, 3, 20, 37, 3, 1, false), false },
        { "width pairs, own window (the issue's)", Case(2, 1, 40, 40, 4, 2, false), false },
        { "width pairs, NHWC", Case(2, 3, 20, 40, 4, 2, true), false },
        { "width pairs, blocks of channels", Case(4, 8, 20, 40, 4, 2, false), false },
        { "channel, NHWC", Case(16, 32, 12, 12, 4, 2, true), false },
        { "channel, NCHW relayout", Case(16, 32, 12, 12, 3, 1, false), false },
        { "exact (infinite weight)", Case(2, 1, 40, 40, 4, 2, false), true },
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void EveryKernelRunsOnA64KiBStack(string kernel, ConvCase c, bool infiniteWeight)
    {
        var weights = c.Weights();
        if (infiniteWeight) weights[0] = float.PositiveInfinity;
        var expected = NaiveReference.ConvTranspose2D(c.Input(), c.Batch, c.InChannels, c.InputHeight, c.InputWidth, weights, c.Bias(), c.OutChannels,
            c.Kernel, c.Stride, c.Padding, c.OutputPadding, c.Dilation, c.Groups, c.ChannelsLast, c.Activation);
        foreach (int threads in new[] { 1, 2 })
        {
            var unprepared = new float[expected.Length];
            var prepared = new float[expected.Length];
            RunOnSmallStack(() =>
            {
                var conv = c.Create(threads);
                conv.Compute(c.Input(), c.InputHeight, c.InputWidth, weights, c.Bias(), unprepared);
                conv.Prepare(weights, c.Bias()).Compute(c.Input(), c.InputHeight, c.InputWidth, prepared);
            });
            SpecialValues.AssertSame(expected, unprepared, c.Tolerance, $"{kernel}, {threads} threads");
            SpecialValues.AssertSame(expected, prepared, c.Tolerance, $"{kernel}, prepared, {threads} threads");
        }
    }

    /// <summary>Runs <paramref name="action"/> on a new thread of <see cref="SmallStack"/> bytes of stack and rethrows what it threw.</summary>
    internal static void RunOnSmallStack(Action action)
    {
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }, maxStackSize: SmallStack);
        thread.Start();
        thread.Join();
        failure?.Throw();
    }

    private static ConvCase Case(int inChannels, int outChannels, int height, int width, int kernel, int stride, bool channelsLast) =>
        new(1, inChannels, outChannels, 1, height, width, (kernel, kernel), (stride, stride), (1, 1, 1, 1), (0, 0), (1, 1),
            channelsLast, HasBias: true, FusedActivation.Relu, Seed: 17);
}
