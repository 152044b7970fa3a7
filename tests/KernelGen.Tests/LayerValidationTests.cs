namespace KernelGen.Tests;

/// <summary>
/// The checks the three ranks share (LayerValidation): the same option rejected the same way by each rank, and sample lengths
/// whose exact product does not fit in a long or a decimal (four factors near 2^31) refused with the ArgumentException the
/// rules promise, never an OverflowException.
/// </summary>
public class LayerValidationTests
{
    public static TheoryData<string> Ranks => ["1D", "2D", "3D"];

    private static object Layer(string rank, FusedActivation activation = FusedActivation.None, float slope = 0.01f, int threads = 1) => rank switch
    {
        "1D" => new ConvTranspose1D(2, 2, 3) { Activation = activation, LeakyReluSlope = slope, MaxDegreeOfParallelism = threads },
        "2D" => new ConvTranspose2D(2, 2, 3) { Activation = activation, LeakyReluSlope = slope, MaxDegreeOfParallelism = threads },
        _ => new ConvTranspose3D(2, 2, 3) { Activation = activation, LeakyReluSlope = slope, MaxDegreeOfParallelism = threads },
    };

    [Theory]
    [MemberData(nameof(Ranks))]
    public void EveryRankRefusesTheSameOptionsWithTheSameMessage(string rank)
    {
        var activation = Assert.Throws<ArgumentOutOfRangeException>("Activation", () => Layer(rank, activation: (FusedActivation)99));
        Assert.StartsWith("Activation is 99, but it must be one of None, Relu, LeakyRelu, Sigmoid, Tanh.", activation.Message, StringComparison.Ordinal);
        var slope = Assert.Throws<ArgumentOutOfRangeException>("LeakyReluSlope", () => Layer(rank, slope: float.NaN));
        Assert.Contains("LeakyReluSlope", slope.Message, StringComparison.Ordinal);
        var threads = Assert.Throws<ArgumentOutOfRangeException>("MaxDegreeOfParallelism", () => Layer(rank, threads: 0));
        Assert.StartsWith("MaxDegreeOfParallelism is 0, but it must be at least 1.", threads.Message, StringComparison.Ordinal);
        Assert.NotNull(Layer(rank, FusedActivation.LeakyRelu, -3.5f, 2));
    }

    [Fact]
    public void ASampleOfFourFactorsNear2To31IsRefusedNamingItsExactSize()
    {
        // 2^27 channels * 2^30 * 2^30 * 2^30 = 2^117 elements: past a long and past a decimal (2^96).
        var conv = new ConvTranspose3D(1 << 27, 1, 1);
        var error = Assert.Throws<ArgumentOutOfRangeException>("inputDepth", () => conv.GetInputLength(1, 1 << 30, 1 << 30, 1 << 30));
        Assert.Contains($"inputDepth is {1 << 30}, but one input sample, inChannels * inputDepth * inputHeight * inputWidth = 134217728 * 1073741824 * 1073741824 * 1073741824 = "
            + $"{System.Numerics.BigInteger.Pow(2, 117)} elements, must fit in an Int32.", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>("inputDepth", () => conv.GetOutputLength(1, 1 << 30, 1 << 30, 1 << 30));
    }

    [Fact]
    public void SampleLengthMessagesKeepEachRanksTerms()
    {
        var plane = Assert.Throws<ArgumentOutOfRangeException>("inputHeight", () => new ConvTranspose2D(1 << 20, 1, 1).GetInputLength(1, 1 << 10, 3));
        Assert.StartsWith("inputHeight is 1024 (inputWidth 3), but one input sample, inChannels * inputHeight * inputWidth = 1048576 * 1024 * 3 = 3221225472 elements, must fit in an Int32.",
            plane.Message, StringComparison.Ordinal);
        var line = Assert.Throws<ArgumentOutOfRangeException>("inputLength", () => new ConvTranspose1D(1 << 20, 1, 1).GetInputLength(1, 1 << 12));
        Assert.StartsWith("inputLength is 4096, but one input sample, inChannels * inputLength = 1048576 * 4096 = 4294967296 elements, must fit in an Int32.",
            line.Message, StringComparison.Ordinal);
        var weights = Assert.Throws<ArgumentException>("weights", () => new ConvTranspose1D(4, 6, 3, groups: 2).Prepare(new float[35]));
        Assert.StartsWith("weights has 35 elements, but it must have exactly inChannels * (outChannels / groups) * kernelSize = 4 * 3 * 3 = 36.", weights.Message, StringComparison.Ordinal);
    }
}
