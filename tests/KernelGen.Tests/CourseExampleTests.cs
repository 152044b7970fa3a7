namespace KernelGen.Tests;

/// <summary>The lecture's example: a 2x2 input, a 3x3 filter, stride 2, padding 1, output padding 1, a 4x4 output.</summary>
public class CourseExampleTests
{
    public static readonly float[] Input = [2, 1, 3, 2];
    public static readonly float[] Filter = [1, 2, 1, 2, 0, 1, 0, 2, 1];
    public static readonly float[] Expected = [0, 4, 0, 1, 10, 7, 6, 3, 0, 7, 0, 2, 6, 3, 4, 2];

    [Fact]
    public void OutputSizeIsFourByFour()
    {
        var conv = new ConvTranspose2D(inChannels: 1, outChannels: 1, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1);
        Assert.Equal((4, 4), conv.GetOutputSize(inputHeight: 2, inputWidth: 2));
    }

    [Fact]
    public void ComputeGivesTheLectureGridExactly()
    {
        var conv = new ConvTranspose2D(inChannels: 1, outChannels: 1, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1);
        var output = new float[16];
        conv.Compute(Input, inputHeight: 2, inputWidth: 2, Filter, bias: ReadOnlySpan<float>.Empty, output);
        Assert.Equal(Expected, output);
    }

    [Fact]
    public void PreparedGivesTheLectureGridExactly()
    {
        var conv = new ConvTranspose2D(1, 1, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1);
        var prepared = conv.Prepare(Filter);
        var output = new float[16];
        prepared.Compute(Input, 2, 2, output);
        Assert.Equal(Expected, output);
    }

    [Fact]
    public void NaiveReferenceGivesTheLectureGridExactly()
    {
        var output = NaiveReference.ConvTranspose2D(Input, 1, 1, 2, 2, Filter, null, 1, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), (1, 1), 1);
        Assert.Equal(Expected, output);
    }
}
