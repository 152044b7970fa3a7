using KernelGen.Benchmarks.Memory;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Tests;

/// <summary>The memory floor moves what it claims: every output written from the input, every input read.</summary>
public sealed class MemoryFloorTests
{
    [Theory]
    [InlineData("seed")]
    [InlineData("mono_up")]
    [InlineData("depthwise")]
    [InlineData("vocoder_up")]
    [InlineData("volume_k3")]
    public void EveryOutputIsWrittenFromTheInputAndEveryInputVectorIsRead(string name)
    {
        ConvShape shape = ShapeTable.Get(name);
        var floor = new MemoryFloor(shape);
        floor.Run();

        Assert.Equal(4L * (shape.InputLength + shape.OutputLength), floor.Bytes);
        Assert.Equal(shape.OutputLength, floor.Output.Length);
        // The input holds i % 7: a written output is one of 0..6 and, where the input is as long as a vector or longer, the
        // outputs cover every input residue (nothing left at the array's zero by a skipped store would do that alone).
        foreach (float value in floor.Output) Assert.InRange(value, 0, 6);
        var seen = new HashSet<float>();
        foreach (float value in floor.Output) seen.Add(value);
        Assert.Equal(Math.Min(7, shape.InputLength), seen.Count);
    }

    [Fact]
    public void MemoryModeTakesShapesAndSeconds()
    {
        var options = SuiteOptions.Parse(["--memory", "--shapes", "mono_up,depthwise", "--seconds", "2"]);
        Assert.Equal(SuiteMode.Memory, options.Mode);
        Assert.Equal(["mono_up", "depthwise"], options.Shapes.Select(s => s.Name));
        Assert.Equal(2, options.ProbeSeconds);
    }
}
