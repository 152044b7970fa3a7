using System.Runtime.Intrinsics;
using KernelGen.Benchmarks.Peak;

namespace KernelGen.Benchmarks.Tests;

/// <summary>The FMA-peak loops do the work they are credited with, on every SIMD path (emulated ones included).</summary>
public sealed class FmaPeakTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(13)]
    [InlineData(1000)]
    public void LoopsMatchTheScalarRecurrenceExactly(long iterations)
    {
        float expected = FmaPeak.ExpectedLane(iterations, 5, FmaPeak.Multiplier, 1);
        Assert.Equal(Vector256.Create(expected), FmaPeak.Vector256Loop(iterations, 5, FmaPeak.Multiplier, 1));
        Assert.Equal(Vector512.Create(expected), FmaPeak.Vector512Loop(iterations, 5, FmaPeak.Multiplier, 1));
    }

    [Fact]
    public void TheQuickCheckSeesAnIterationMore()
    {
        // The quick mode's check uses 13 iterations; 12 or 14 must give another sum, or the check could not catch a miscount.
        Assert.NotEqual(FmaPeak.ExpectedLane(12, 3, FmaPeak.Multiplier, 1), FmaPeak.ExpectedLane(13, 3, FmaPeak.Multiplier, 1));
        Assert.NotEqual(FmaPeak.ExpectedLane(14, 3, FmaPeak.Multiplier, 1), FmaPeak.ExpectedLane(13, 3, FmaPeak.Multiplier, 1));
        Assert.True(QuickRun.CheckFmaLoops().Correct);
    }

    [Fact]
    public void FlopsPerIterationCountTwelveFusedMultiplyAdds()
    {
        Assert.Equal(2 * 12 * Vector256<float>.Count, FmaPeak.Vector256FlopsPerIteration);
        Assert.Equal(2 * 12 * Vector512<float>.Count, FmaPeak.Vector512FlopsPerIteration);
    }

    [Fact]
    public void MeasuresOnlyAcceleratedWidths()
    {
        double? gflops = FmaPeak.MeasureGflops(256, rounds: 1, roundMilliseconds: 1);
        if (Vector256.IsHardwareAccelerated)
            Assert.True(gflops > 0);
        else
            Assert.Null(gflops);
        Assert.Throws<ArgumentOutOfRangeException>(() => FmaPeak.MeasureGflops(128));
    }
}
