namespace KernelGen.Tests;

/// <summary>The entry point exactly as the foundation issue writes it compiles and behaves as documented.</summary>
public class PublicApiTests
{
    [Fact]
    public void TheIssueSnippetGivesTheCourseExample()
    {
        ReadOnlySpan<float> input = CourseExampleTests.Input, weights = CourseExampleTests.Filter;
        Span<float> output = new float[16];

        var conv = new ConvTranspose2D(inChannels: 1, outChannels: 1, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1); // also dilation:, groups:
        (int height, int width) = conv.GetOutputSize(inputHeight: 2, inputWidth: 2);   // (4, 4)
        conv.Compute(input, inputHeight: 2, inputWidth: 2, weights, bias: ReadOnlySpan<float>.Empty, output);

        Assert.Equal((4, 4), (height, width));
        Assert.Equal(CourseExampleTests.Expected, output.ToArray());
    }

    [Fact]
    public void TheIssuesSecondConstructorKeepsEveryPerAxisValue()
    {
        var conv2 = new ConvTranspose2D(8, 4, kernelSize: (3, 5), stride: (2, 1), padding: (1, 2), outputPadding: (1, 0), dilation: (1, 1), groups: 2);

        Assert.Equal(8, conv2.InChannels);
        Assert.Equal(4, conv2.OutChannels);
        Assert.Equal(2, conv2.Groups);
        Assert.Equal(new Size2D(3, 5), conv2.KernelSize);
        Assert.Equal(new Size2D(2, 1), conv2.Stride);
        Assert.Equal(Padding2D.Asymmetric(top: 1, left: 2, bottom: 1, right: 2), conv2.Padding);
        Assert.Equal(new Size2D(1, 0), conv2.OutputPadding);
        Assert.Equal(new Size2D(1, 1), conv2.Dilation);
        Assert.Equal(8 * (4 / 2) * 3 * 5, conv2.WeightsLength);
    }

    [Fact]
    public void AnIntegerKernelSizeIsSquareAndATupleIsHeightThenWidth()
    {
        var square = new ConvTranspose2D(1, 1, kernelSize: 3);
        Assert.Equal(new Size2D(3, 3), square.KernelSize);
        Assert.Equal(new Size2D(1, 1), square.Stride);
        Assert.Equal(new Padding2D(0, 0, 0, 0), square.Padding);
        Assert.Equal(new Size2D(0, 0), square.OutputPadding);
        Assert.Equal(new Size2D(1, 1), square.Dilation);
        Assert.Equal(1, square.Groups);

        var oblong = new ConvTranspose2D(1, 1, kernelSize: (3, 5));
        Assert.Equal(3, oblong.KernelSize.Height);
        Assert.Equal(5, oblong.KernelSize.Width);
        // Height 2 -> 2 + 3 - 1 = 4, width 2 -> 2 + 5 - 1 = 6.
        Assert.Equal((4, 6), oblong.GetOutputSize(2, 2));
    }

    [Fact]
    public void GetOutputSizeReturnsANamedHeightAndWidth()
    {
        var conv2 = new ConvTranspose2D(8, 4, kernelSize: (3, 5), stride: (2, 1), padding: (1, 2), outputPadding: (1, 0), dilation: (1, 1), groups: 2);
        var size = conv2.GetOutputSize(inputHeight: 5, inputWidth: 6);
        // Height: (5 - 1) * 2 - 1 - 1 + 1 * (3 - 1) + 1 + 1 = 10. Width: (6 - 1) * 1 - 2 - 2 + 1 * (5 - 1) + 0 + 1 = 6.
        Assert.Equal(10, size.Height);
        Assert.Equal(6, size.Width);
        Assert.Equal(3 * 8 * 5 * 6, conv2.GetInputLength(batch: 3, inputHeight: 5, inputWidth: 6));
        Assert.Equal(3 * 4 * 10 * 6, conv2.GetOutputLength(batch: 3, inputHeight: 5, inputWidth: 6));
    }

    [Fact]
    public void TheIssuesSecondConstructorMatchesTheReference()
    {
        var conv2 = new ConvTranspose2D(8, 4, kernelSize: (3, 5), stride: (2, 1), padding: (1, 2), outputPadding: (1, 0), dilation: (1, 1), groups: 2);
        var input = ConvCase.Values(conv2.GetInputLength(2, 5, 6), 31);
        var weights = ConvCase.Values(conv2.WeightsLength, 32);
        var bias = ConvCase.Values(4, 33);
        var output = new float[conv2.GetOutputLength(2, 5, 6)];
        conv2.Compute(input, 5, 6, weights, bias, output);
        var expected = NaiveReference.ConvTranspose2D(input, 2, 8, 5, 6, weights, bias, 4, (3, 5), (2, 1), (1, 2, 1, 2), (1, 0), (1, 1), 2);
        AssertClose(expected, output, 1e-5f * (4 + 4 * 15));
    }

    [Fact]
    public void SymmetricPaddingConvertsFromAnIntegerAndAHeightWidthPair()
    {
        Padding2D all = 2, pair = (1, 3);
        Assert.Equal(new Padding2D(Top: 2, Left: 2, Bottom: 2, Right: 2), all);
        Assert.Equal(new Padding2D(Top: 1, Left: 3, Bottom: 1, Right: 3), pair);
    }

    [Fact]
    public void AsymmetricPaddingTakesOnnxPadsOrderTopLeftBottomRight()
    {
        var pads = Padding2D.Asymmetric(1, 2, 3, 4);
        Assert.Equal(1, pads.Top);
        Assert.Equal(2, pads.Left);
        Assert.Equal(3, pads.Bottom);
        Assert.Equal(4, pads.Right);

        // Kernel 5, stride 2: a 6x8 input has a 15x19 full output; the pads crop 1 + 3 rows and 2 + 4 columns.
        var conv = new ConvTranspose2D(1, 1, kernelSize: 5, stride: 2, padding: pads);
        Assert.Equal((11, 13), conv.GetOutputSize(6, 8));
    }

    /// <summary>Asymmetric padding crops the unpadded output: top rows, left columns, bottom rows, right columns.</summary>
    [Theory]
    [InlineData(3)]
    [InlineData(16)]
    public void AsymmetricPaddingCropsTheFullOutputOnTheNamedSides(int outChannels)
    {
        const int inChannels = 2, inputHeight = 6, inputWidth = 8;
        var input = ConvCase.Values(inChannels * inputHeight * inputWidth, 41);
        var full = new ConvTranspose2D(inChannels, outChannels, kernelSize: 5, stride: 2);
        var weights = ConvCase.Values(full.WeightsLength, 42);
        var fullOutput = new float[outChannels * 15 * 19];
        full.Compute(input, inputHeight, inputWidth, weights, ReadOnlySpan<float>.Empty, fullOutput);

        var cropped = new ConvTranspose2D(inChannels, outChannels, kernelSize: 5, stride: 2, padding: Padding2D.Asymmetric(1, 2, 3, 4));
        var croppedOutput = new float[outChannels * 11 * 13];
        cropped.Compute(input, inputHeight, inputWidth, weights, ReadOnlySpan<float>.Empty, croppedOutput);

        var expected = new float[croppedOutput.Length];
        for (int oc = 0; oc < outChannels; oc++)
        for (int y = 0; y < 11; y++)
        for (int x = 0; x < 13; x++)
            expected[(oc * 11 + y) * 13 + x] = fullOutput[(oc * 15 + y + 1) * 19 + x + 2];
        AssertClose(expected, croppedOutput, 1e-5f * (4 + inChannels * 25));
        AssertClose(NaiveReference.ConvTranspose2D(input, 1, inChannels, inputHeight, inputWidth, weights, null, outChannels,
            (5, 5), (2, 2), (1, 2, 3, 4), (0, 0), (1, 1), 1), croppedOutput, 1e-5f * (4 + inChannels * 25));
    }

    [Fact]
    public void PrepareKeepsACopyOfTheWeightsAndItsDefinition()
    {
        var conv = new ConvTranspose2D(1, 1, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1);
        var filter = (float[])CourseExampleTests.Filter.Clone();
        var prepared = conv.Prepare(filter);
        Assert.Same(conv, prepared.Definition);
        Array.Clear(filter);
        var output = new float[16];
        prepared.Compute(CourseExampleTests.Input, 2, 2, output);
        Assert.Equal(CourseExampleTests.Expected, output);
    }

    [Fact]
    public void DefaultsAreNchwNoActivationAndEveryProcessor()
    {
        var conv = new ConvTranspose2D(1, 1, kernelSize: 3);
        Assert.Equal(TensorLayout.Nchw, conv.Layout);
        Assert.Equal(FusedActivation.None, conv.Activation);
        Assert.Equal(0.01f, conv.LeakyReluSlope);
        Assert.Equal(Environment.ProcessorCount, conv.MaxDegreeOfParallelism);
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance))
                Assert.Fail($"output[{i}] = {actual[i]}, expected {expected[i]} (tolerance {tolerance})");
        }
    }
}
