namespace KernelGen.Tests;

/// <summary>
/// Every invalid parameter and every span of the wrong length: an <see cref="ArgumentException"/> (or a subclass) whose
/// ParamName is the C# parameter, whose message holds the offending value and the rule, thrown before anything is
/// written to the output.
/// </summary>
public class BadInputTests
{
    /// <summary>What pre-filled outputs hold, so that any write is seen.</summary>
    private const float Untouched = 42f;

    /// <summary>The entry points that take an output span.</summary>
    public enum Writer
    {
        /// <summary><see cref="ConvTranspose2D.Compute"/> (packs the weights on every call).</summary>
        Compute,

        /// <summary><see cref="PreparedConvTranspose2D.Compute"/>.</summary>
        Prepared,
    }

    /// <summary>The entry points that take weights and bias.</summary>
    public enum WeightsTaker
    {
        /// <summary><see cref="ConvTranspose2D.Compute"/>.</summary>
        Compute,

        /// <summary><see cref="ConvTranspose2D.Prepare"/>.</summary>
        Prepare,
    }

    /// <summary>
    /// The layer the span checks run on: 2 -> 3 channels, kernel (3, 2), stride 2, padding 1, so that a 3x4 input gives a
    /// 5x6 output. Samples: input 2*3*4 = 24, output 3*5*6 = 90; weights 2*3*3*2 = 36. With <paramref name="wide"/>, 2 -> 16
    /// channels in NHWC instead, so that the channel-vectorised kernel is the one guarded (output 16*5*6 = 480, weights 192).
    /// </summary>
    private sealed class Layer
    {
        public const int InputHeight = 3, InputWidth = 4;

        public Layer(bool wide)
        {
            Conv = new ConvTranspose2D(2, wide ? 16 : 3, kernelSize: (3, 2), stride: 2, padding: 1)
            {
                Layout = wide ? TensorLayout.Nhwc : TensorLayout.Nchw,
                MaxDegreeOfParallelism = 1,
            };
            Input = ConvCase.Values(InputSample, seed: 1);
            Weights = ConvCase.Values(Conv.WeightsLength, seed: 2);
            Bias = ConvCase.Values(Conv.OutChannels, seed: 3);
        }

        public ConvTranspose2D Conv { get; }

        public int InputSample => Conv.InChannels * InputHeight * InputWidth;

        public int OutputSample => Conv.OutChannels * 5 * 6;

        public float[] Input { get; }

        public float[] Weights { get; }

        public float[] Bias { get; }

        /// <summary>Runs <paramref name="writer"/> with the layer's good weights and bias and the given input and output.</summary>
        public void Write(Writer writer, ReadOnlySpan<float> input, int inputHeight, int inputWidth, Span<float> output)
        {
            if (writer == Writer.Compute)
                Conv.Compute(input, inputHeight, inputWidth, Weights, Bias, output);
            else
                Conv.Prepare(Weights, Bias).Compute(input, inputHeight, inputWidth, output);
        }

        public float[] Expected(float[] input, int batch, float[]? bias) => NaiveReference.ConvTranspose2D(input, batch,
            Conv.InChannels, InputHeight, InputWidth, Weights, bias, Conv.OutChannels, (3, 2), (2, 2), (1, 1, 1, 1), (0, 0), (1, 1),
            groups: 1, channelsLast: Conv.Layout == TensorLayout.Nhwc);
    }

    public static TheoryData<Writer, bool> Writers => new()
    {
        { Writer.Compute, false }, { Writer.Compute, true }, { Writer.Prepared, false }, { Writer.Prepared, true },
    };

    public static TheoryData<WeightsTaker, bool> WeightsTakers => new()
    {
        { WeightsTaker.Compute, false }, { WeightsTaker.Compute, true }, { WeightsTaker.Prepare, false }, { WeightsTaker.Prepare, true },
    };

    // ---- Geometry: the constructor ----

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void InChannelsBelowOneIsRejected(int inChannels) =>
        AssertRejected(() => new ConvTranspose2D(inChannels, 4, kernelSize: 3), "inChannels", $"inChannels is {inChannels},", "at least 1");

    [Theory]
    [InlineData(0)]
    [InlineData(-4)]
    public void OutChannelsBelowOneIsRejected(int outChannels) =>
        AssertRejected(() => new ConvTranspose2D(4, outChannels, kernelSize: 3), "outChannels", $"outChannels is {outChannels},", "at least 1");

    [Theory]
    [InlineData(0, 3, "kernelSize.Height is 0,")]
    [InlineData(-2, 3, "kernelSize.Height is -2,")]
    [InlineData(3, 0, "kernelSize.Width is 0,")]
    [InlineData(3, -5, "kernelSize.Width is -5,")]
    public void KernelSizeBelowOneIsRejectedOnEitherAxis(int height, int width, string said) =>
        AssertRejected(() => new ConvTranspose2D(1, 1, kernelSize: (height, width)), "kernelSize", said, "at least 1");

    [Theory]
    [InlineData(0, 2, "stride.Height is 0,")]
    [InlineData(-1, 2, "stride.Height is -1,")]
    [InlineData(2, 0, "stride.Width is 0,")]
    [InlineData(2, -7, "stride.Width is -7,")]
    public void StrideBelowOneIsRejectedOnEitherAxis(int height, int width, string said) =>
        AssertRejected(() => new ConvTranspose2D(1, 1, kernelSize: 3, stride: (height, width)), "stride", said, "at least 1");

    [Theory]
    [InlineData(0, 1, "dilation.Height is 0,")]
    [InlineData(-2, 1, "dilation.Height is -2,")]
    [InlineData(1, 0, "dilation.Width is 0,")]
    [InlineData(1, -6, "dilation.Width is -6,")]
    public void DilationBelowOneIsRejectedOnEitherAxis(int height, int width, string said) =>
        AssertRejected(() => new ConvTranspose2D(1, 1, kernelSize: 3, dilation: (height, width)), "dilation", said, "at least 1");

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void GroupsBelowOneIsRejected(int groups) =>
        AssertRejected(() => new ConvTranspose2D(4, 4, kernelSize: 3, groups: groups), "groups", $"groups is {groups},", "at least 1");

    [Theory]
    [InlineData(-1, 0, 0, 0, "padding.Top is -1,")]
    [InlineData(0, -2, 0, 0, "padding.Left is -2,")]
    [InlineData(0, 0, -3, 0, "padding.Bottom is -3,")]
    [InlineData(0, 0, 0, -4, "padding.Right is -4,")]
    public void NegativePaddingIsRejectedOnEverySide(int top, int left, int bottom, int right, string said) =>
        AssertRejected(() => new ConvTranspose2D(1, 1, kernelSize: 3, padding: Padding2D.Asymmetric(top, left, bottom, right)),
            "padding", said, "0 or more");

    [Fact]
    public void NegativeSymmetricPaddingIsRejected() =>
        AssertRejected(() => new ConvTranspose2D(1, 1, kernelSize: 3, padding: -1), "padding", "padding.Top is -1,", "0 or more");

    [Theory]
    [InlineData(-1, 0, "outputPadding.Height is -1,")]
    [InlineData(0, -2, "outputPadding.Width is -2,")]
    public void NegativeOutputPaddingIsRejectedOnEitherAxis(int height, int width, string said) =>
        AssertRejected(() => new ConvTranspose2D(1, 1, kernelSize: 3, stride: 3, outputPadding: (height, width)),
            "outputPadding", said, "0 or more");

    [Theory]
    [InlineData(3, 4, 2, "input channel count (3)")]
    [InlineData(6, 4, 4, "input channel count (6)")]
    [InlineData(4, 6, 4, "output channel count (6)")]
    [InlineData(8, 3, 2, "output channel count (3)")]
    public void GroupsThatDoNotDivideTheChannelsAreRejected(int inChannels, int outChannels, int groups, string rule) =>
        AssertRejected(() => new ConvTranspose2D(inChannels, outChannels, kernelSize: 3, groups: groups),
            "groups", $"groups is {groups},", "must divide the " + rule);

    [Theory]
    [InlineData(2, 1, 2, "outputPadding.Height is 2,", "smaller than the stride (2) or the dilation (1)")]
    [InlineData(2, 2, 2, "outputPadding.Height is 2,", "smaller than the stride (2) or the dilation (2)")]
    [InlineData(1, 3, 3, "outputPadding.Height is 3,", "smaller than the stride (1) or the dilation (3)")]
    [InlineData(1, 1, 1, "outputPadding.Height is 1,", "smaller than the stride (1) or the dilation (1)")]
    public void OutputPaddingNotBelowStrideOrDilationIsRejectedOnTheHeight(int stride, int dilation, int outputPadding, string said, string rule) =>
        AssertRejected(() => new ConvTranspose2D(1, 1, kernelSize: 3, stride: (stride, 1), outputPadding: (outputPadding, 0), dilation: (dilation, 1)),
            "outputPadding", said, rule);

    [Theory]
    [InlineData(3, 1, 5, "outputPadding.Width is 5,", "smaller than the stride (3) or the dilation (1)")]
    [InlineData(1, 2, 2, "outputPadding.Width is 2,", "smaller than the stride (1) or the dilation (2)")]
    public void OutputPaddingNotBelowStrideOrDilationIsRejectedOnTheWidth(int stride, int dilation, int outputPadding, string said, string rule) =>
        AssertRejected(() => new ConvTranspose2D(1, 1, kernelSize: 3, stride: (1, stride), outputPadding: (0, outputPadding), dilation: (1, dilation)),
            "outputPadding", said, rule);

    /// <summary>PyTorch allows output padding below the dilation even when it is not below the stride.</summary>
    [Theory]
    [InlineData(1, 2, 1)]
    [InlineData(1, 3, 2)]
    [InlineData(2, 3, 2)]
    [InlineData(3, 1, 2)]
    public void OutputPaddingBelowTheDilationButNotTheStrideIsAllowed(int stride, int dilation, int outputPadding)
    {
        var c = new ConvCase(1, 2, 3, 1, 4, 5, (3, 2), (stride, stride), (0, 0, 0, 0), (outputPadding, outputPadding),
            (dilation, dilation), ChannelsLast: false, HasBias: true, FusedActivation.None, Seed: 5);
        var conv = c.Create();
        Assert.Equal((c.OutputHeight, c.OutputWidth), conv.GetOutputSize(c.InputHeight, c.InputWidth));
        RandomShapeTests.AssertMatchesReference(c);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void MaxDegreeOfParallelismBelowOneIsRejected(int threads) =>
        AssertRejected(() => new ConvTranspose2D(1, 1, kernelSize: 3) { MaxDegreeOfParallelism = threads },
            "MaxDegreeOfParallelism", $"MaxDegreeOfParallelism is {threads},", "at least 1");

    [Fact]
    public void AnUndefinedLayoutIsRejected() =>
        AssertRejected(() => new ConvTranspose2D(1, 1, kernelSize: 3) { Layout = (TensorLayout)7 }, "Layout", "Layout is 7,", "Nchw", "Nhwc");

    [Fact]
    public void AnUndefinedActivationIsRejected() =>
        AssertRejected(() => new ConvTranspose2D(1, 1, kernelSize: 3) { Activation = (FusedActivation)9 },
            "Activation", "Activation is 9,", "None", "Relu", "LeakyRelu", "Sigmoid", "Tanh");

    /// <summary>The generator's rule (one source for both): the slope is any finite number; NaN or an infinity would make every negative output NaN or infinite.</summary>
    [Theory]
    [InlineData(float.NaN, "LeakyReluSlope is NaN,")]
    [InlineData(float.PositiveInfinity, "LeakyReluSlope is Infinity,")]
    [InlineData(float.NegativeInfinity, "LeakyReluSlope is -Infinity,")]
    public void ANonFiniteLeakyReluSlopeIsRejected(float slope, string said) =>
        AssertRejected(() => new ConvTranspose2D(1, 1, kernelSize: 3) { Activation = FusedActivation.LeakyRelu, LeakyReluSlope = slope },
            "LeakyReluSlope", said, "it must be a finite number");

    [Theory]
    [InlineData(0f)]
    [InlineData(-3.5f)]
    [InlineData(float.MaxValue)]
    [InlineData(float.Epsilon)]
    public void AnyFiniteLeakyReluSlopeIsAllowed(float slope) =>
        Assert.Equal(slope, new ConvTranspose2D(1, 1, kernelSize: 3) { LeakyReluSlope = slope }.LeakyReluSlope);

    [Fact]
    public void WeightsTooManyForAnInt32AreRejected() =>
        // 50000 * 50000 * 1 * 1 = 2.5e9 weights: no span can hold them.
        AssertRejected(() => new ConvTranspose2D(50000, 50000, kernelSize: 1), "inChannels", "2500000000", "fit in an Int32");

    // ---- Sizes: GetOutputSize, GetInputLength, GetOutputLength ----

    [Theory]
    [InlineData(0, 4, "inputHeight", "inputHeight is 0,")]
    [InlineData(-2, 4, "inputHeight", "inputHeight is -2,")]
    [InlineData(3, 0, "inputWidth", "inputWidth is 0,")]
    [InlineData(3, -9, "inputWidth", "inputWidth is -9,")]
    public void InputSizeBelowOneIsRejectedBySizeQueries(int inputHeight, int inputWidth, string parameter, string said)
    {
        var conv = new Layer(wide: false).Conv;
        AssertRejected(() => conv.GetOutputSize(inputHeight, inputWidth), parameter, said, "at least 1");
        AssertRejected(() => conv.GetInputLength(1, inputHeight, inputWidth), parameter, said, "at least 1");
        AssertRejected(() => conv.GetOutputLength(1, inputHeight, inputWidth), parameter, said, "at least 1");
    }

    /// <summary>A layer keeps the sizes of the last valid input size: a bad size or input length after good calls is still refused, and nothing is written.</summary>
    [Fact]
    public void BadSizesAreRejectedAfterValidCallsOfAnotherSize()
    {
        var conv = new ConvTranspose2D(1, 1, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1);
        var prepared = conv.Prepare(CourseExampleTests.Filter);
        var output = new float[16];
        prepared.Compute(CourseExampleTests.Input, 2, 2, output);
        prepared.Compute(CourseExampleTests.Input, 2, 2, output);
        Assert.Equal(CourseExampleTests.Expected, output);
        Array.Fill(output, 7f);
        AssertRejected(() => prepared.Compute(CourseExampleTests.Input, 0, 2, output), "inputHeight", "inputHeight is 0,", "at least 1");
        AssertRejected(() => prepared.Compute(CourseExampleTests.Input, 2, 3, output), "input", "4 elements", "whole number of samples");
        AssertRejected(() => prepared.Compute(CourseExampleTests.Input, 2, 2, output.AsSpan(0, 15)), "output", "15 elements", "at least");
        Assert.All(output, value => Assert.Equal(7f, value));
        prepared.Compute(CourseExampleTests.Input, 2, 2, output);
        Assert.Equal(CourseExampleTests.Expected, output);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(-3)]
    [InlineData(int.MinValue)]
    public void NegativeBatchIsRejectedByLengthQueries(int batch)
    {
        var conv = new Layer(wide: false).Conv;
        AssertRejected(() => conv.GetInputLength(batch, 3, 4), "batch", $"batch is {batch},", "0 or more");
        AssertRejected(() => conv.GetOutputLength(batch, 3, 4), "batch", $"batch is {batch},", "0 or more");
    }

    /// <summary>Any whole number of samples, 0 included (an empty batch is a valid call): its lengths are 0.</summary>
    [Fact]
    public void AnEmptyBatchHasNoElements()
    {
        var conv = new Layer(wide: false).Conv;
        Assert.Equal(0, conv.GetInputLength(0, 3, 4));
        Assert.Equal(0, conv.GetOutputLength(0, 3, 4));
    }

    /// <summary>Kernel 1, stride 1: the full output is the input's size, and padding 1 on both sides of a 1-cell axis leaves -1.</summary>
    [Fact]
    public void PaddingThatCropsTheWholeOutputIsRejectedBySizeQueries()
    {
        const string rule = "would be -1; it must be at least 1";
        var croppedHeight = new ConvTranspose2D(1, 1, kernelSize: 1, padding: Padding2D.Asymmetric(1, 0, 1, 0));
        AssertRejected(() => croppedHeight.GetOutputSize(1, 5), "inputHeight", "inputHeight is 1,", rule);
        AssertRejected(() => croppedHeight.GetInputLength(1, 1, 5), "inputHeight", "inputHeight is 1,", rule);
        AssertRejected(() => croppedHeight.GetOutputLength(1, 1, 5), "inputHeight", "inputHeight is 1,", rule);
        var croppedWidth = new ConvTranspose2D(1, 1, kernelSize: 1, padding: Padding2D.Asymmetric(0, 1, 0, 1));
        AssertRejected(() => croppedWidth.GetOutputSize(5, 1), "inputWidth", "inputWidth is 1,", rule);

        // Exactly 0: kernel 2 gives a full output of 2 cells, and 2 cells of left padding crop both away.
        var croppedToZero = new ConvTranspose2D(1, 1, kernelSize: 2, padding: Padding2D.Asymmetric(0, 2, 0, 0));
        AssertRejected(() => croppedToZero.GetOutputSize(4, 1), "inputWidth", "inputWidth is 1,", "would be 0; it must be at least 1");
        Assert.Equal((5, 1), croppedToZero.GetOutputSize(4, 2));
    }

    // ---- Calls: nothing is written when a call is rejected ----

    [Theory]
    [MemberData(nameof(Writers))]
    public void PaddingThatCropsTheWholeOutputIsRejectedByCompute(Writer writer, bool wide)
    {
        var conv = new ConvTranspose2D(2, wide ? 16 : 3, kernelSize: 1, padding: Padding2D.Asymmetric(1, 0, 1, 0))
        {
            Layout = wide ? TensorLayout.Nhwc : TensorLayout.Nchw,
        };
        var weights = ConvCase.Values(conv.WeightsLength, 1);
        var input = ConvCase.Values(2, 2);
        var output = Filled(64);
        AssertRejected(() =>
        {
            if (writer == Writer.Compute) conv.Compute(input, 1, 1, weights, ReadOnlySpan<float>.Empty, output);
            else conv.Prepare(weights).Compute(input, 1, 1, output);
        }, "inputHeight", "inputHeight is 1,", "would be -1; it must be at least 1");
        AssertUntouched(output);
    }

    [Theory]
    [MemberData(nameof(Writers))]
    public void InputHeightBelowOneIsRejectedByCompute(Writer writer, bool wide) =>
        AssertCallRejected(writer, wide, inputHeight: 0, inputWidth: Layer.InputWidth, "inputHeight", "inputHeight is 0,", "at least 1");

    [Theory]
    [MemberData(nameof(Writers))]
    public void InputWidthBelowOneIsRejectedByCompute(Writer writer, bool wide) =>
        AssertCallRejected(writer, wide, inputHeight: Layer.InputHeight, inputWidth: -1, "inputWidth", "inputWidth is -1,", "at least 1");

    /// <summary>
    /// An empty input is a batch of 0 samples, a valid call in PyTorch and ONNX Runtime (its test ConvTranspose_DimWithZero):
    /// it returns without writing, whatever the output's length; the weights, bias and sizes are still checked.
    /// </summary>
    [Theory]
    [MemberData(nameof(Writers))]
    public void EmptyInputIsAnEmptyBatchThatWritesNothing(Writer writer, bool wide)
    {
        var layer = new Layer(wide);
        foreach (int length in new[] { 0, 5, layer.OutputSample })
        {
            var output = Filled(length);
            layer.Write(writer, [], Layer.InputHeight, Layer.InputWidth, output);
            AssertUntouched(output);
        }

        AssertRejected(() => layer.Write(writer, [], 0, Layer.InputWidth, Filled(4)), "inputHeight", "inputHeight is 0,", "at least 1");
        if (writer == Writer.Compute)
        {
            var output = Filled(4);
            AssertRejected(() => layer.Conv.Compute([], Layer.InputHeight, Layer.InputWidth, new float[3], layer.Bias, output), "weights", "weights has 3 elements,");
            AssertUntouched(output);
        }
    }

    [Theory]
    [MemberData(nameof(Writers))]
    public void InputThatIsNotAWholeNumberOfSamplesIsRejected(Writer writer, bool wide)
    {
        var layer = new Layer(wide);
        foreach (int length in new[] { 1, layer.InputSample - 1, layer.InputSample + 1, 2 * layer.InputSample + 5 })
        {
            var input = ConvCase.Values(length, 4);
            var output = Filled(3 * layer.OutputSample);
            AssertRejected(() => layer.Write(writer, input, Layer.InputHeight, Layer.InputWidth, output),
                "input", $"input has {length} elements,", $"whole number of samples of inChannels * inputHeight * inputWidth = {layer.InputSample} elements");
            AssertUntouched(output);
        }
    }

    [Theory]
    [MemberData(nameof(WeightsTakers))]
    public void WeightsTooShortOrTooLongAreRejected(WeightsTaker taker, bool wide)
    {
        var layer = new Layer(wide);
        int expected = layer.Conv.WeightsLength;
        Assert.Equal(wide ? 2 * 16 * 3 * 2 : 2 * 3 * 3 * 2, expected);
        foreach (int length in new[] { 0, 1, expected - 1, expected + 1, 2 * expected })
        {
            var weights = ConvCase.Values(length, 5);
            var output = Filled(layer.OutputSample);
            AssertRejected(() =>
            {
                if (taker == WeightsTaker.Compute) layer.Conv.Compute(layer.Input, Layer.InputHeight, Layer.InputWidth, weights, layer.Bias, output);
                else layer.Conv.Prepare(weights, layer.Bias);
            }, "weights", $"weights has {length} elements,", $"exactly inChannels * (outChannels / groups) * kernelHeight * kernelWidth = 2 * {layer.Conv.OutChannels} * 3 * 2 = {expected}");
            AssertUntouched(output);
        }
    }

    [Theory]
    [MemberData(nameof(WeightsTakers))]
    public void BiasOfTheWrongLengthIsRejected(WeightsTaker taker, bool wide)
    {
        var layer = new Layer(wide);
        int outChannels = layer.Conv.OutChannels;
        foreach (int length in new[] { 1, outChannels - 1, outChannels + 1, 2 * outChannels })
        {
            var bias = ConvCase.Values(length, 6);
            var output = Filled(layer.OutputSample);
            AssertRejected(() =>
            {
                if (taker == WeightsTaker.Compute) layer.Conv.Compute(layer.Input, Layer.InputHeight, Layer.InputWidth, layer.Weights, bias, output);
                else layer.Conv.Prepare(layer.Weights, bias);
            }, "bias", $"bias has {length} elements,", $"empty or have exactly outChannels = {outChannels}");
            AssertUntouched(output);
        }
    }

    [Theory]
    [MemberData(nameof(WeightsTakers))]
    public void EmptyBiasIsAllowed(WeightsTaker taker, bool wide)
    {
        var layer = new Layer(wide);
        var output = Filled(layer.OutputSample);
        if (taker == WeightsTaker.Compute)
            layer.Conv.Compute(layer.Input, Layer.InputHeight, Layer.InputWidth, layer.Weights, ReadOnlySpan<float>.Empty, output);
        else
            layer.Conv.Prepare(layer.Weights).Compute(layer.Input, Layer.InputHeight, Layer.InputWidth, output);
        AssertClose(layer.Expected(layer.Input, 1, bias: null), output);
    }

    [Theory]
    [MemberData(nameof(Writers))]
    public void OutputTooShortIsRejected(Writer writer, bool wide)
    {
        var layer = new Layer(wide);
        foreach (int batch in new[] { 1, 2 })
        {
            var input = ConvCase.Values(batch * layer.InputSample, 7);
            int needed = batch * layer.OutputSample;
            foreach (int length in new[] { 0, 1, needed - 1, needed / 2 })
            {
                var output = Filled(length);
                AssertRejected(() => layer.Write(writer, input, Layer.InputHeight, Layer.InputWidth, output),
                    "output", $"output has {length} elements,",
                    $"at least batch * outChannels * outputHeight * outputWidth = {batch} * {layer.Conv.OutChannels} * 5 * 6 = {needed}");
                AssertUntouched(output);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Writers))]
    public void OutputLongerThanNeededIsAllowedAndItsTailIsUntouched(Writer writer, bool wide)
    {
        var layer = new Layer(wide);
        var input = ConvCase.Values(2 * layer.InputSample, 8);
        int needed = 2 * layer.OutputSample;
        var output = Filled(needed + 37);
        layer.Write(writer, input, Layer.InputHeight, Layer.InputWidth, output);
        AssertClose(layer.Expected(input, 2, layer.Bias), output.AsSpan(0, needed));
        AssertUntouched(output.AsSpan(needed));
    }

    /// <summary>Input and output share one array, the input's last element being the output's first, or the other way round.</summary>
    [Theory]
    [MemberData(nameof(Writers))]
    public void InputOverlappingOutputIsRejected(Writer writer, bool wide)
    {
        var layer = new Layer(wide);
        int inputLength = layer.InputSample, outputLength = layer.OutputSample;
        var memory = Filled(inputLength + outputLength - 1);
        ConvCase.Values(inputLength, 9).CopyTo(memory, 0);
        var before = (float[])memory.Clone();
        AssertRejected(() => layer.Write(writer, memory.AsSpan(0, inputLength), Layer.InputHeight, Layer.InputWidth, memory.AsSpan(inputLength - 1)),
            "output", "input overlaps output", "separate memory");
        Assert.Equal(before, memory);

        // The output first, the input starting in its last element.
        memory = Filled(inputLength + outputLength - 1);
        ConvCase.Values(inputLength, 9).CopyTo(memory, outputLength - 1);
        before = (float[])memory.Clone();
        AssertRejected(() => layer.Write(writer, memory.AsSpan(outputLength - 1), Layer.InputHeight, Layer.InputWidth, memory.AsSpan(0, outputLength)),
            "output", "input overlaps output", "separate memory");
        Assert.Equal(before, memory);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WeightsOverlappingOutputAreRejected(bool wide)
    {
        var layer = new Layer(wide);
        int weightsLength = layer.Weights.Length, outputLength = layer.OutputSample;
        var memory = Filled(weightsLength + outputLength - 1);
        layer.Weights.CopyTo(memory, 0);
        var before = (float[])memory.Clone();
        AssertRejected(() => layer.Conv.Compute(layer.Input, Layer.InputHeight, Layer.InputWidth, memory.AsSpan(0, weightsLength), layer.Bias,
            memory.AsSpan(weightsLength - 1)), "output", "weights overlaps output", "separate memory");
        Assert.Equal(before, memory);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BiasOverlappingOutputIsRejected(bool wide)
    {
        var layer = new Layer(wide);
        int biasLength = layer.Bias.Length, outputLength = layer.OutputSample;
        var memory = Filled(outputLength + biasLength - 1);
        layer.Bias.CopyTo(memory, outputLength - 1);
        var before = (float[])memory.Clone();
        AssertRejected(() => layer.Conv.Compute(layer.Input, Layer.InputHeight, Layer.InputWidth, layer.Weights,
            memory.AsSpan(outputLength - 1), memory.AsSpan(0, outputLength)), "output", "bias overlaps output", "separate memory");
        Assert.Equal(before, memory);
    }

    /// <summary>A rejected call leaves the reusable packing buffer alone: the next good call on the instance is still right.</summary>
    [Fact]
    public void ARejectedCallDoesNotSpoilTheNextGoodOne()
    {
        var layer = new Layer(wide: true);
        var output = new float[layer.OutputSample];
        layer.Conv.Compute(layer.Input, Layer.InputHeight, Layer.InputWidth, layer.Weights, layer.Bias, output);
        Assert.ThrowsAny<ArgumentException>(() =>
            layer.Conv.Compute(layer.Input, Layer.InputHeight, Layer.InputWidth, new float[layer.Weights.Length], [1f], new float[layer.OutputSample]));
        Array.Fill(output, Untouched);
        layer.Conv.Compute(layer.Input, Layer.InputHeight, Layer.InputWidth, layer.Weights, layer.Bias, output);
        AssertClose(layer.Expected(layer.Input, 1, layer.Bias), output);
    }

    // ---- Helpers ----

    private static void AssertCallRejected(Writer writer, bool wide, int inputHeight, int inputWidth, string parameter, params string[] said)
    {
        var layer = new Layer(wide);
        var output = Filled(4 * layer.OutputSample);
        AssertRejected(() => layer.Write(writer, layer.Input, inputHeight, inputWidth, output), parameter, said);
        AssertUntouched(output);
    }

    /// <summary>Runs <paramref name="action"/>, which must throw an <see cref="ArgumentException"/> naming <paramref name="parameter"/> and saying each of <paramref name="said"/>.</summary>
    private static ArgumentException AssertRejected(Action action, string parameter, params string[] said)
    {
        var exception = Assert.ThrowsAny<ArgumentException>(action);
        Assert.Equal(parameter, exception.ParamName);
        foreach (string part in said)
            Assert.Contains(part, exception.Message, StringComparison.Ordinal);
        return exception;
    }

    private static float[] Filled(int length)
    {
        var values = new float[length];
        Array.Fill(values, Untouched);
        return values;
    }

    private static void AssertUntouched(ReadOnlySpan<float> output)
    {
        for (int i = 0; i < output.Length; i++)
        {
            if (output[i] != Untouched)
                Assert.Fail($"output[{i}] was written: {output[i]}");
        }
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(expected[i] - actual[i]) <= 1e-4f))
                Assert.Fail($"output[{i}] = {actual[i]}, expected {expected[i]}");
        }
    }
}
