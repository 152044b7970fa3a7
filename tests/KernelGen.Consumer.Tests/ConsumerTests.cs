using KernelGen;

namespace KernelGen.Consumer.Tests;

public class ConsumerTests
{
    private static readonly float[] CourseInput = [2, 1, 3, 2];
    private static readonly float[] CourseFilter = [1, 2, 1, 2, 0, 1, 0, 2, 1];

    [Fact]
    public void CourseExampleGivesTheLectureResultExactly()
    {
        var output = new float[16];
        Upsamplers.Seed(CourseInput, CourseFilter, output);
        Assert.Equal([0, 4, 0, 1, 10, 7, 6, 3, 0, 7, 0, 2, 6, 3, 4, 2], output);
    }

    [Fact]
    public void CourseExampleRunsEverySampleOfABatch()
    {
        var input = new float[8];
        CourseInput.CopyTo(input, 0);
        for (int i = 0; i < 4; i++) input[4 + i] = -2 * CourseInput[i];
        var output = new float[32];
        Upsamplers.Seed(input, CourseFilter, output);
        float[] expected = [0, 4, 0, 1, 10, 7, 6, 3, 0, 7, 0, 2, 6, 3, 4, 2];
        Assert.Equal(expected, output[..16]);
        Assert.Equal(expected.Select(v => -2 * v), output[16..]);
    }

    [Fact]
    public void ShapeConstantsDescribeTheDeclaration()
    {
        Assert.Equal(4, Upsamplers.SeedShape.InputLength);
        Assert.Equal(9, Upsamplers.SeedShape.WeightsLength);
        Assert.Equal(0, Upsamplers.SeedShape.BiasLength);
        Assert.Equal(16, Upsamplers.SeedShape.OutputLength);
        Assert.Equal(4, Upsamplers.SeedShape.OutputHeight);
        Assert.Equal(4, Upsamplers.SeedShape.OutputWidth);
        Assert.Equal(1, Upsamplers.SeedShape.InChannels);
        Assert.Equal(1, Upsamplers.SeedShape.OutChannels);

        Assert.Equal(128 * 16 * 16, Upsamplers.Up3Shape.InputLength);
        Assert.Equal(128 * 64 * 4 * 4, Upsamplers.Up3Shape.WeightsLength);
        Assert.Equal(64, Upsamplers.Up3Shape.BiasLength);
        Assert.Equal(32, Upsamplers.Up3Shape.OutputHeight);
        Assert.Equal(32, Upsamplers.Up3Shape.OutputWidth);
        Assert.Equal(64 * 32 * 32, Upsamplers.Up3Shape.OutputLength);

        // Constants: usable where C# demands one.
        const int nestedOutput = Outer.Holder<int>.NestedShape.OutputLength;
        Assert.Equal(3 * 6 * 10, nestedOutput);
    }

    [Fact]
    public void Up3MatchesTheRuntimeLibrary()
    {
        var input = Values(Upsamplers.Up3Shape.InputLength, 1);
        var weights = Values(Upsamplers.Up3Shape.WeightsLength, 2);
        var bias = Values(Upsamplers.Up3Shape.BiasLength, 3);
        var generated = new float[Upsamplers.Up3Shape.OutputLength];
        Upsamplers.Up3(input, weights, bias, generated);

        var conv = new ConvTranspose2D(128, 64, kernelSize: 4, stride: 2, padding: 1) { Activation = FusedActivation.Relu, MaxDegreeOfParallelism = 1 };
        var expected = new float[generated.Length];
        conv.Compute(input, 16, 16, weights, bias, expected);

        // Both accumulate 128 * 4 products of values in [-1, 1] in float, in different orders.
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(generated[i] - expected[i]) <= 1e-4f, $"output[{i}] = {generated[i]}, runtime {expected[i]}");
        Assert.Contains(generated, v => v > 0);
        Assert.Contains(generated, v => v == 0); // ReLU clamps about half of the outputs
    }

    [Fact]
    public void SmallFixedMatchesTheRuntimeLibrary()
    {
        var input = Values(2 * Upsamplers.SmallFixedShape.InputLength, 10);
        var weights = Values(Upsamplers.SmallFixedShape.WeightsLength, 11);
        var generated = new float[2 * Upsamplers.SmallFixedShape.OutputLength];
        Upsamplers.SmallFixed(input, weights, generated);

        var conv = new ConvTranspose2D(4, 4, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1) { MaxDegreeOfParallelism = 1 };
        var expected = new float[generated.Length];
        conv.Compute(input, 8, 8, weights, ReadOnlySpan<float>.Empty, expected);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(generated[i] - expected[i]) <= 1e-5f, $"output[{i}] = {generated[i]}, runtime {expected[i]}");
    }

    [Fact]
    public void NestedInstanceKernelMatchesTheRuntimeLibrary()
    {
        var holder = new Outer.Holder<string> { Tag = "kernel" };
        var input = Values(2 * Outer.Holder<string>.NestedShape.InputLength, 4); // two samples
        var weights = Values(Outer.Holder<string>.NestedShape.WeightsLength, 5);
        var bias = Values(3, 6);
        var generated = new float[2 * Outer.Holder<string>.NestedShape.OutputLength];
        holder.Nested(input, weights, bias, generated);

        var conv = new ConvTranspose2D(2, 3, kernelSize: 2, stride: 2)
        {
            Layout = TensorLayout.Nhwc, Activation = FusedActivation.LeakyRelu, LeakyReluSlope = 0.2f, MaxDegreeOfParallelism = 1,
        };
        var expected = new float[generated.Length];
        conv.Compute(input, 3, 5, weights, bias, expected);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(generated[i] - expected[i]) <= 1e-5f, $"output[{i}] = {generated[i]}, runtime {expected[i]}");
    }

    public static TheoryData<string, int, int, int, int> BadSpans => new()
    {
        // parameter, input length, weights length, bias length, output length
        { "input", 5, 9, -1, 16 },
        { "weights", 4, 8, -1, 16 },
        { "weights", 4, 10, -1, 16 },
        { "output", 4, 9, -1, 15 },
        { "output", 8, 9, -1, 16 },
        { "bias", Upsamplers.Up3Shape.InputLength, Upsamplers.Up3Shape.WeightsLength, 63, Upsamplers.Up3Shape.OutputLength },
        { "bias", Upsamplers.Up3Shape.InputLength, Upsamplers.Up3Shape.WeightsLength, 0, Upsamplers.Up3Shape.OutputLength },
    };

    [Theory]
    [MemberData(nameof(BadSpans))]
    public void BadSpansThrowBeforeAnythingIsWritten(string parameter, int inputLength, int weightsLength, int biasLength, int outputLength)
    {
        var input = Values(inputLength, 7);
        var weights = Values(weightsLength, 8);
        var output = Enumerable.Repeat(42f, outputLength).ToArray();
        var exception = Assert.ThrowsAny<ArgumentException>(() =>
        {
            if (biasLength < 0) Upsamplers.Seed(input, weights, output);
            else Upsamplers.Up3(input, weights, Values(biasLength, 9), output);
        });
        Assert.Equal(parameter, exception.ParamName);
        Assert.Contains(parameter + " has ", exception.Message);
        Assert.All(output, v => Assert.Equal(42f, v));
    }

    /// <summary>An empty input is a batch of 0 samples (valid in PyTorch and ONNX Runtime): nothing is written, the other spans are still checked.</summary>
    [Fact]
    public void AnEmptyBatchWritesNothing()
    {
        var output = Enumerable.Repeat(42f, 16).ToArray();
        Upsamplers.Seed([], CourseFilter, output);
        Upsamplers.Seed([], CourseFilter, []);
        Upsamplers.Up3([], Values(Upsamplers.Up3Shape.WeightsLength, 1), Values(Upsamplers.Up3Shape.BiasLength, 2), output);
        Assert.All(output, v => Assert.Equal(42f, v));
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => Upsamplers.Seed([], new float[8], output)).ParamName);
    }

    /// <summary>Generated kernels give PyTorch's output on NaN and infinities in the input, weights and bias (golden data from PyTorch).</summary>
    [Theory]
    [InlineData("inf-weight-64x64")]
    [InlineData("stride2-inf-weights")]
    [InlineData("stride2-special-inputs")]
    [InlineData("blocked-special-inputs")]
    [InlineData("channel-nhwc-special-inputs")]
    [InlineData("channel-nhwc-inf-weights")]
    [InlineData("channel-nchw-inf-weight")]
    public void GeneratedKernelsMatchPyTorchOnSpecialValues(string name)
    {
        var c = KernelGen.Tests.GoldenCase.Named(name);
        var output = new float[c.Output.Length];
        SpecialValueKernels.ByCase[name](c.Input, c.Weights, c.Bias, output);
        KernelGen.Tests.SpecialValues.AssertSame(c.Output, output, c.Tolerance, name);
    }

    /// <summary>
    /// Every generated kernel of this project runs on a thread created with 64 KiB of stack, its first call there (so the
    /// JIT compiles it there too: nothing else in this class calls it first). A stack overflow cannot be caught: a failure
    /// here shows as a crashed test host.
    /// </summary>
    [Fact]
    public void EveryKernelRunsOnA64KiBStack()
    {
        var runs = new List<Action>
        {
            () => Upsamplers.Seed(CourseInput, CourseFilter, new float[16]),
            () => Upsamplers.SmallFixed(Values(Upsamplers.SmallFixedShape.InputLength, 1), Values(Upsamplers.SmallFixedShape.WeightsLength, 2),
                new float[Upsamplers.SmallFixedShape.OutputLength]),
            () => Upsamplers.Up3(Values(Upsamplers.Up3Shape.InputLength, 1), Values(Upsamplers.Up3Shape.WeightsLength, 2),
                Values(Upsamplers.Up3Shape.BiasLength, 3), new float[Upsamplers.Up3Shape.OutputLength]),
            () => new Outer.Holder<int>().Nested(Values(Outer.Holder<int>.NestedShape.InputLength, 1), Values(Outer.Holder<int>.NestedShape.WeightsLength, 2),
                Values(3, 3), new float[Outer.Holder<int>.NestedShape.OutputLength]),
            () => StackKernels.WideNhwc(Values(StackKernels.WideNhwcShape.InputLength, 1), Values(StackKernels.WideNhwcShape.WeightsLength, 2),
                new float[StackKernels.WideNhwcShape.OutputLength]),
            () => StackKernels.DcganNhwc(Values(StackKernels.DcganNhwcShape.InputLength, 1), Values(StackKernels.DcganNhwcShape.WeightsLength, 2),
                new float[StackKernels.DcganNhwcShape.OutputLength]),
        };
        foreach (var (name, kernel) in SpecialValueKernels.ByCase)
        {
            var c = KernelGen.Tests.GoldenCase.Named(name);
            runs.Add(() => kernel(c.Input, c.Weights, c.Bias, new float[c.Output.Length]));
        }

        foreach (var run in runs)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo? failure = null;
            var thread = new Thread(() =>
            {
                try
                {
                    run();
                }
                catch (Exception e)
                {
                    failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
                }
            }, maxStackSize: 64 * 1024);
            thread.Start();
            thread.Join();
            failure?.Throw();
        }
    }

    [Fact]
    public void OverlappingInputAndOutputAreRejected()
    {
        var buffer = new float[32];
        var exception = Assert.Throws<ArgumentException>(() => Upsamplers.Seed(buffer.AsSpan(0, 4), CourseFilter, buffer.AsSpan(2, 16)));
        Assert.Equal("output", exception.ParamName);
    }

    [Fact]
    public void ParameterNamesOfTheDeclarationAreUsed()
    {
        var holder = new Outer.Holder<int>();
        var exception = Assert.Throws<ArgumentException>(() => holder.Nested(new float[3], new float[24], new float[3], new float[180]));
        Assert.Equal("source", exception.ParamName);
    }

    [Fact]
    public void SteadyStateCallsAllocateNothing()
    {
        var input = Values(Upsamplers.Up3Shape.InputLength, 1);
        var weights = Values(Upsamplers.Up3Shape.WeightsLength, 2);
        var bias = Values(Upsamplers.Up3Shape.BiasLength, 3);
        var output = new float[Upsamplers.Up3Shape.OutputLength];
        var seedOutput = new float[16];
        for (int i = 0; i < 5; i++)
        {
            Upsamplers.Up3(input, weights, bias, output);
            Upsamplers.Seed(CourseInput, CourseFilter, seedOutput);
        }

        // The fewest bytes over a few windows: the counter can jump by a few KB when another thread's allocation starts a
        // GC inside a window (this thread's allocation context is retired); an allocation by a kernel shows in every window.
        long fewest = long.MaxValue;
        for (int window = 0; window < 5 && fewest != 0; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 3; i++)
            {
                Upsamplers.Up3(input, weights, bias, output);
                Upsamplers.Seed(CourseInput, CourseFilter, seedOutput);
            }

            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
    }

    private static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
