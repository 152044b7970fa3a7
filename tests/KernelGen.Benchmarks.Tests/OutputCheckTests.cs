using KernelGen.Benchmarks.Correctness;
using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Tests;

/// <summary>The check that stands between an engine and the timings really rejects wrong outputs.</summary>
public sealed class OutputCheckTests
{
    private static (ShapeData Data, OutputCheck Check, float[] Right) Setup(string name)
    {
        ShapeData data = ShapeData.For(ShapeTable.Get(name));
        var right = new float[data.Shape.OutputLength];
        NaiveEngine.Scatter(data.Shape, data.Input, data.Weights, right);
        return (data, new OutputCheck(data), right);
    }

    [Fact]
    public void AcceptsTheNaiveLoopWithinAFractionOfTheTolerance()
    {
        var (_, check, right) = Setup("stride1");
        Assert.InRange(check.Verify("naive", right), 0, 0.5);
    }

    [Fact]
    public void RejectsOneOutputOffByMoreThanTheTolerance()
    {
        var (_, check, right) = Setup("game_up");
        right[right.Length / 2] += 1e-2f;
        var error = Assert.Throws<OutputMismatchException>(() => check.Verify("broken", right));
        Assert.Contains("broken on game_up", error.Message);
        Assert.Contains($"output [{right.Length / 2}]", error.Message);
    }

    [Fact]
    public void RejectsAKernelThatDropsOneTap()
    {
        // The subtlest plausible kernel bug: one weight ignored everywhere.
        var (data, check, _) = Setup("dcgan");
        float[] weights = (float[])data.Weights.Clone();
        weights[5] = 0;
        var wrong = new float[data.Shape.OutputLength];
        NaiveEngine.Scatter(data.Shape, data.Input, weights, wrong);
        Assert.Throws<OutputMismatchException>(() => check.Verify("drops a tap", wrong));
    }

    [Fact]
    public void RejectsAnOutputAccumulatedTwice()
    {
        var (_, check, right) = Setup("small_fixed");
        Assert.Throws<OutputMismatchException>(() => check.Verify("twice", right.Select(v => 2 * v).ToArray()));
    }

    [Fact]
    public void RejectsNaNAndWrongLengths()
    {
        var (_, check, right) = Setup("seed");
        right[0] = float.NaN;
        Assert.Throws<OutputMismatchException>(() => check.Verify("nan", right));
        Assert.Throws<OutputMismatchException>(() => check.Verify("short", new float[3]));
    }

    [Fact]
    public void OutputsNoTapReachesMustBeExactlyZero()
    {
        // A 1x1 kernel with stride 3 reaches only every third output cell: the others must be exactly 0, not merely small.
        ConvShape shape = new("sparse", 1, 1, 2, 2, 1, 3, 0, 0, 1);
        var data = ShapeData.For(shape);
        var check = new OutputCheck(data);
        var right = new float[shape.OutputLength];
        NaiveEngine.Scatter(shape, data.Input, data.Weights, right);
        Assert.Equal(0, right[1]);
        check.Verify("right", right);
        right[1] = 1e-30f;
        Assert.Throws<OutputMismatchException>(() => check.Verify("not zero", right));
    }
}
