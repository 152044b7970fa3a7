using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Tests;

public sealed class SuiteOptionsTests
{
    [Fact]
    public void FullWithoutOptionsSelectsEverything()
    {
        SuiteOptions options = SuiteOptions.Parse(["--full"]);
        Assert.Equal(SuiteMode.Full, options.Mode);
        Assert.Equal(ShapeTable.All, options.Shapes);
        Assert.Equal(EngineKinds.All, options.Engines);
        Assert.Equal(SuiteOptions.DefaultOutputFolder, options.OutputFolder);
        Assert.Equal(1, options.Launches);
        Assert.True(options.Avx512OffPass);
    }

    [Fact]
    public void TheAvx512OffPassCanBeSkipped() =>
        Assert.False(SuiteOptions.Parse(["--full", "--no-avx512-off"]).Avx512OffPass);

    [Fact]
    public void SelectionsKeepTableAndReportOrder()
    {
        SuiteOptions options = SuiteOptions.Parse(["--quick", "--shapes", "dcgan, seed", "--engines", "ort1t,KernelGen1T", "--out", "x", "--launches", "3"]);
        Assert.Equal(SuiteMode.Quick, options.Mode);
        Assert.Equal(["seed", "dcgan"], options.Shapes.Select(s => s.Name));
        Assert.Equal([EngineKind.KernelGen1T, EngineKind.Ort1T], options.Engines);
        Assert.Equal("x", options.OutputFolder);
        Assert.Equal(3, options.Launches);
    }

    [Theory]
    [InlineData]
    [InlineData("--shapes", "seed")]
    [InlineData("--full", "--quick")]
    [InlineData("--full", "--shapes", "nope")]
    [InlineData("--full", "--engines", "Onnx")]
    [InlineData("--full", "--engines", "7")]
    [InlineData("--full", "--launches", "0")]
    [InlineData("--full", "--out")]
    [InlineData("--full", "--filter", "seed")]
    public void RejectsBadCommandLines(params string[] args) =>
        Assert.Throws<ArgumentException>(() => SuiteOptions.Parse(args));
}
