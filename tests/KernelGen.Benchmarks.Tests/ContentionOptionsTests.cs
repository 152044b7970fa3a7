namespace KernelGen.Benchmarks.Tests;

/// <summary>The contention mode's command line (tests/KernelGen.Benchmarks/Contention).</summary>
public sealed class ContentionOptionsTests
{
    [Fact]
    public void ContentionTakesShapesAndSeconds()
    {
        SuiteOptions options = SuiteOptions.Parse(["--contention", "--shapes", "dcgan", "--seconds", "2"]);
        Assert.Equal(SuiteMode.Contention, options.Mode);
        Assert.Equal(["dcgan"], options.Shapes.Select(s => s.Name));
        Assert.Equal(2, options.ProbeSeconds);
    }

    [Fact]
    public void ContentionWithAnotherModeIsRefused() =>
        Assert.Throws<ArgumentException>(() => SuiteOptions.Parse(["--contention", "--probe"]));
}
