using System.Text.Json;
using System.Runtime.Intrinsics;
using CsCheck;

namespace KernelGen.Tests;

/// <summary>
/// <see cref="ConvTranspose3D"/>: the course example in 3-D worked by hand, PyTorch's own outputs, random geometries against a
/// naive 3-D reference written here, every bad input, and no allocation once prepared. CI runs this class once per
/// instruction set (AVX-512, AVX2, SSE, scalar) and on arm64.
/// </summary>
public class ConvTranspose3DTests
{
    /// <summary>The 2-D course example's answer: input [[2, 1], [3, 2]], filter [[1, 2, 1], [2, 0, 1], [0, 2, 1]], stride 2, padding 1, output padding 1.</summary>
    private static readonly float[] CourseAnswer = [0, 4, 0, 1, 10, 7, 6, 3, 0, 7, 0, 2, 6, 3, 4, 2];

    /// <summary>
    /// The course example stacked in depth: input slices x and -x (x the course input), filter slices f and 2f (f the course
    /// filter), stride 2 on every axis, padding (0, 1, 1), output padding (0, 1, 1). Along the depth axis input slice i pastes
    /// its copies at depth 2i, filter slice k one further: output depth (2 - 1) * 2 + 2 = 4, and each output slice gets
    /// exactly one (input slice, filter slice) pair, x * f, x * 2f, -x * f and -x * 2f; the height and width axes are the
    /// course example, so with Y its 4 x 4 answer the output is Y, 2Y, -Y, -2Y. PyTorch's <c>conv_transpose3d</c> gives the same.
    /// </summary>
    [Theory]
    [InlineData(TensorLayout.Ncdhw)]
    [InlineData(TensorLayout.Ndhwc)]
    public void TheCourseExampleIn3DHoldsExactly(TensorLayout layout)
    {
        float[] input = [2, 1, 3, 2, -2, -1, -3, -2];
        float[] weights = [1, 2, 1, 2, 0, 1, 0, 2, 1, 2, 4, 2, 4, 0, 2, 0, 4, 2];
        var conv = new ConvTranspose3D(inChannels: 1, outChannels: 1, kernelSize: (2, 3, 3), stride: 2, padding: (0, 1, 1), outputPadding: (0, 1, 1)) { Layout = layout };
        Assert.Equal((4, 4, 4), conv.GetOutputSize(2, 2, 2));
        float[] expected = [.. CourseAnswer, .. CourseAnswer.Select(v => 2 * v), .. CourseAnswer.Select(v => -v), .. CourseAnswer.Select(v => -2 * v)];

        var output = new float[64];
        conv.Compute(input, 2, 2, 2, weights, ReadOnlySpan<float>.Empty, output);
        Assert.Equal(expected, output);

        Array.Clear(output);
        conv.Prepare(weights).Compute(input, 2, 2, 2, output);
        Assert.Equal(expected, output);
    }

    public static TheoryData<string> PyTorchCases()
    {
        var data = new TheoryData<string>();
        foreach (var c in LoadFixture().RootElement.GetProperty("cases").EnumerateArray())
            data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    /// <summary>PyTorch 1.13's outputs (Fixtures/conv_transpose3d.py): values are multiples of 1/8, so every sum is exact and the results must be equal.</summary>
    [Theory]
    [MemberData(nameof(PyTorchCases))]
    public void MatchesPyTorchExactly(string name)
    {
        var c = LoadFixture().RootElement.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        int[] Ints(string property) => c.GetProperty(property).EnumerateArray().Select(v => v.GetInt32()).ToArray();
        float[] Floats(string property) => c.GetProperty(property).EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Size3D Triple(string property) => (Ints(property)[0], Ints(property)[1], Ints(property)[2]);
        int[] pads = Ints("pads"), size = Ints("inputSize"), outputSize = Ints("outputSize");

        foreach (int threads in new[] { 1, 2 })
        {
            var conv = new ConvTranspose3D(c.GetProperty("inChannels").GetInt32(), c.GetProperty("outChannels").GetInt32(), Triple("kernelSize"),
                Triple("stride"), Padding3D.Asymmetric(pads[0], pads[1], pads[2], pads[3], pads[4], pads[5]), Triple("outputPadding"), Triple("dilation"),
                c.GetProperty("groups").GetInt32()) { MaxDegreeOfParallelism = threads };
            Assert.Equal((outputSize[0], outputSize[1], outputSize[2]), conv.GetOutputSize(size[0], size[1], size[2]));
            float[] expected = Floats("output");
            var output = new float[expected.Length];
            conv.Compute(Floats("input"), size[0], size[1], size[2], Floats("weights"), Floats("bias"), output);
            Assert.Equal(expected, output);

            Array.Clear(output);
            conv.Prepare(Floats("weights"), Floats("bias")).Compute(Floats("input"), size[0], size[1], size[2], output);
            Assert.Equal(expected, output);
        }
    }

    [Fact]
    public void RandomGeometriesMatchTheNaiveReference() =>
        Case3D.Generator.Sample(c => AssertMatchesReference(c, prepared: false, threads: 1), iter: 150);

    [Fact]
    public void RandomGeometriesMatchTheNaiveReferencePreparedAndOnTwoThreads() =>
        Case3D.Generator.Sample(c => AssertMatchesReference(c, prepared: true, threads: 2), iter: 75);

    [Fact]
    public void ADepthOfOneIsTheTwoDimensionalLayer() =>
        ConvCase.Generator.Sample(c =>
        {
            var plane = c.Create();
            var volume = new ConvTranspose3D(c.InChannels, c.OutChannels, (1, c.Kernel.H, c.Kernel.W), (1, c.Stride.H, c.Stride.W),
                Padding3D.Asymmetric(0, c.Padding.Top, c.Padding.Left, 0, c.Padding.Bottom, c.Padding.Right), (0, c.OutputPadding.H, c.OutputPadding.W),
                (1, c.Dilation.H, c.Dilation.W), c.Groups)
            { Layout = plane.Layout, Activation = c.Activation, LeakyReluSlope = c.LeakyReluSlope, MaxDegreeOfParallelism = 1 };
            var expected = new float[plane.GetOutputLength(c.Batch, c.InputHeight, c.InputWidth)];
            var output = new float[expected.Length];
            plane.Compute(c.Input(), c.InputHeight, c.InputWidth, c.Weights(), c.Bias(), expected);
            volume.Compute(c.Input(), 1, c.InputHeight, c.InputWidth, c.Weights(), c.Bias(), output);
            for (int i = 0; i < expected.Length; i++)
                // Not bit-equal: the 3-D layer adds the bias after the sum, the 2-D kernels may start from it (another rounding).
                Assert.True(Math.Abs(expected[i] - output[i]) <= c.Tolerance, $"{c}: [{i}] {output[i]} != {expected[i]}");
        }, iter: 100);

    [Fact]
    public void SlicesNoTapReachesHoldTheBiasAlone()
    {
        // Depth dilation 3, kernel 2, stride 1, one input slice: output depth 4, and slices 1 and 2 lie between the two taps.
        var conv = new ConvTranspose3D(1, 2, (2, 1, 1), dilation: (3, 1, 1)) { Activation = FusedActivation.Sigmoid };
        var output = new float[8];
        conv.Compute([1f], 1, 1, 1, [1f, 1f, 1f, 1f], [0.5f, -0.5f], output);
        float Sigmoid(float v) => 1f / (1f + MathF.Exp(-v));
        // (Cout 2, D 4): channel 0 = 1 + 0.5 at depths 0 and 3, 0.5 between; channel 1 likewise with -0.5.
        float[] expected = [Sigmoid(1.5f), Sigmoid(0.5f), Sigmoid(0.5f), Sigmoid(1.5f), Sigmoid(0.5f), Sigmoid(-0.5f), Sigmoid(-0.5f), Sigmoid(0.5f)];
        for (int i = 0; i < 8; i++) Assert.Equal(expected[i], output[i], 6);
    }

    [Fact]
    public void AnEmptyBatchWritesNothing()
    {
        var conv = new ConvTranspose3D(2, 3, 2, stride: 2);
        var output = new float[5];
        Array.Fill(output, 42f);
        conv.Compute(ReadOnlySpan<float>.Empty, 2, 3, 4, new float[conv.WeightsLength], ReadOnlySpan<float>.Empty, output);
        conv.Prepare(new float[conv.WeightsLength]).Compute(ReadOnlySpan<float>.Empty, 2, 3, 4, output);
        Assert.All(output, v => Assert.Equal(42f, v));
    }

    [Fact]
    public void SizesFollowPyTorchsFormula()
    {
        var up = new ConvTranspose3D(64, 32, kernelSize: 2, stride: 2);              // a 3-D U-Net decoder step
        Assert.Equal((32, 32, 32), up.GetOutputSize(16, 16, 16));
        Assert.Equal(64 * 16 * 16 * 16, up.GetInputLength(1, 16, 16, 16));
        Assert.Equal(2 * 32 * 32 * 32 * 32, up.GetOutputLength(2, 16, 16, 16));
        Assert.Equal(64 * 32 * 8, up.WeightsLength);
        Assert.Equal((16, 16, 16), new ConvTranspose3D(32, 16, 3, stride: 2, padding: 1, outputPadding: 1).GetOutputSize(8, 8, 8));
        // Depth (2 - 1) * 1 - 1 - 2 + 2 * (3 - 1) + 1 + 1 = 4, height (4 - 1) - 0 - 1 + (2 - 1) + 1 = 4, width (3 - 1) + 0 + 1 = 3.
        Assert.Equal((4, 4, 3), new ConvTranspose3D(1, 1, (3, 2, 1), padding: Padding3D.Asymmetric(1, 0, 0, 2, 1, 0), outputPadding: (1, 0, 0), dilation: (2, 1, 1)).GetOutputSize(2, 4, 3));
    }

    [Fact]
    public void EveryBadLayerIsRejectedNamingTheParameter()
    {
        (string Parameter, string InMessage, Func<ConvTranspose3D> Make)[] bad =
        [
            ("inChannels", "inChannels is 0", () => new ConvTranspose3D(0, 1, 3)),
            ("outChannels", "outChannels is 0", () => new ConvTranspose3D(1, 0, 3)),
            ("groups", "groups is 4", () => new ConvTranspose3D(4, 6, 3, groups: 4)),
            ("kernelSize", "kernelSize.Depth is 0", () => new ConvTranspose3D(1, 1, (0, 1, 1))),
            ("kernelSize", "kernelSize.Width is 0", () => new ConvTranspose3D(1, 1, (1, 1, 0))),
            ("stride", "stride.Depth is 0", () => new ConvTranspose3D(1, 1, 3, stride: (0, 1, 1))),
            ("stride", "stride.Height is 0", () => new ConvTranspose3D(1, 1, 3, stride: (1, 0, 1))),
            ("padding", "padding.Front is -1", () => new ConvTranspose3D(1, 1, 3, padding: Padding3D.Asymmetric(-1, 0, 0, 0, 0, 0))),
            ("padding", "padding.Back is -1", () => new ConvTranspose3D(1, 1, 3, padding: Padding3D.Asymmetric(0, 0, 0, -1, 0, 0))),
            ("padding", "padding.Right is -1", () => new ConvTranspose3D(1, 1, 3, padding: Padding3D.Asymmetric(0, 0, 0, 0, 0, -1))),
            ("outputPadding", "outputPadding.Depth is 2", () => new ConvTranspose3D(1, 1, 3, stride: 2, outputPadding: (2, 0, 0))),
            ("outputPadding", "outputPadding.Width is 1", () => new ConvTranspose3D(1, 1, 3, outputPadding: (0, 0, 1))),
            ("dilation", "dilation.Depth is 0", () => new ConvTranspose3D(1, 1, 3, dilation: (0, 1, 1))),
            ("dilation", "dilation.Depth is 2147483647", () => new ConvTranspose3D(1, 1, 3, dilation: (int.MaxValue, 1, 1))),
            ("inChannels", "must fit in an Int32", () => new ConvTranspose3D(1 << 11, 1 << 11, (1 << 10, 1, 1))),
            ("Layout", "Layout is 7", () => new ConvTranspose3D(1, 1, 3) { Layout = (TensorLayout)7 }),
            ("Activation", "Activation is 9", () => new ConvTranspose3D(1, 1, 3) { Activation = (FusedActivation)9 }),
            ("LeakyReluSlope", "LeakyReluSlope is NaN", () => new ConvTranspose3D(1, 1, 3) { LeakyReluSlope = float.NaN }),
            ("MaxDegreeOfParallelism", "MaxDegreeOfParallelism is 0", () => new ConvTranspose3D(1, 1, 3) { MaxDegreeOfParallelism = 0 }),
        ];
        foreach (var (parameter, inMessage, make) in bad)
        {
            var e = Assert.ThrowsAny<ArgumentException>(() => make());
            Assert.Equal(parameter, e.ParamName);
            Assert.Contains(inMessage, e.Message);
        }
    }

    [Fact]
    public void EveryBadCallIsRejectedNamingTheParameterBeforeAnythingIsWritten()
    {
        var conv = new ConvTranspose3D(2, 3, 2, stride: 2);  // 2 x 2 x 2 -> 4 x 4 x 4
        var weights = new float[conv.WeightsLength];
        var input = new float[2 * 8];
        var prepared = conv.Prepare(weights);

        void Rejected(string parameter, string inMessage, Action<float[]> call)
        {
            var output = new float[400];
            Array.Fill(output, 42f);
            var e = Assert.ThrowsAny<ArgumentException>(() => call(output));
            Assert.Equal(parameter, e.ParamName);
            Assert.Contains(inMessage, e.Message);
            Assert.All(output, v => Assert.Equal(42f, v));
        }

        Rejected("inputDepth", "inputDepth is 0", o => conv.Compute(input, 0, 2, 2, weights, default, o));
        Rejected("inputHeight", "inputHeight is 0", o => prepared.Compute(input, 2, 0, 2, o));
        Rejected("inputWidth", "inputWidth is -1", o => prepared.Compute(input, 2, 2, -1, o));
        Rejected("inputDepth", "it must be at least 1", o => new ConvTranspose3D(1, 1, 1, padding: (1, 0, 0)).Compute(new float[1], 1, 1, 1, new float[1], default, o));
        Rejected("input", "whole number of samples of inChannels * inputDepth * inputHeight * inputWidth = 16", o => conv.Compute(new float[17], 2, 2, 2, weights, default, o));
        Rejected("output", "1 * 3 * 4 * 4 * 4 = 192", o => conv.Compute(input, 2, 2, 2, weights, default, o.AsSpan(0, 191)));
        Rejected("output", "at least", o => prepared.Compute(input, 2, 2, 2, o.AsSpan(0, 191)));
        Rejected("weights", "= 2 * 3 * 2 * 2 * 2 = 48", o => conv.Compute(input, 2, 2, 2, new float[47], default, o));
        Rejected("bias", "outChannels = 3", o => conv.Compute(input, 2, 2, 2, weights, new float[2], o));
        Rejected("output", "input overlaps output", o => conv.Compute(o.AsSpan(0, 16), 2, 2, 2, weights, default, o.AsSpan(8, 192)));
        Rejected("output", "weights overlaps output", o => conv.Compute(input, 2, 2, 2, o.AsSpan(0, 48), default, o.AsSpan(40, 192)));
        Rejected("inputDepth", "must fit in an Int32", o => new ConvTranspose3D(1 << 8, 1, 1).Compute(input, 1 << 10, 1 << 10, 1 << 4, new float[1 << 8], default, o));

        Assert.Throws<ArgumentException>("weights", () => conv.Prepare(new float[49]));
        Assert.Throws<ArgumentException>("bias", () => conv.Prepare(weights, new float[4]));
        Assert.Throws<ArgumentOutOfRangeException>("batch", () => conv.GetInputLength(-1, 2, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>("batch", () => conv.GetOutputLength(int.MaxValue, 2, 2, 2));
    }

    [Fact]
    public void PreparedComputeAllocatesNothing()
    {
        // Kernel 3, stride 2: output slices with one and with two depth taps (the second summed through the scratch slice).
        foreach (var layout in new[] { TensorLayout.Ncdhw, TensorLayout.Ndhwc })
        foreach (int threads in new[] { 1, 2 })
        {
            var conv = new ConvTranspose3D(8, 12, 3, stride: 2, padding: 1, outputPadding: 1) { Layout = layout, MaxDegreeOfParallelism = threads, Activation = FusedActivation.Relu };
            var prepared = conv.Prepare(Case3D.Values(conv.WeightsLength, 1), Case3D.Values(12, 2));
            var input = Case3D.Values(8 * 4 * 5 * 6, 3);
            var output = new float[conv.GetOutputLength(1, 4, 5, 6)];
            prepared.Compute(input, 4, 5, 6, output);
            prepared.Compute(input, 4, 5, 6, output);
            Assert.Equal(0, Allocations.FewestBytes(() => prepared.Compute(input, 4, 5, 6, output)));
        }
    }

    [Fact]
    public void UnpreparedComputeAllocatesNothingOnceItsSizesHaveBeenSeen()
    {
        // Kernel 3, stride 2 (one and two depth taps per output slice, stacked passes), both layouts; and a 2 x 2 stride-2
        // NCDHW layer of 32 columns, whose slices run the NCHW up-sampling kernel in place where Vector256 or Vector512 is
        // accelerated: an unprepared call packs that path's tap layers again on every call (a closure made there once cost
        // 24 bytes a call).
        var cases = new List<(ConvTranspose3D Conv, int Depth, int Height, int Width)>();
        foreach (var layout in new[] { TensorLayout.Ncdhw, TensorLayout.Ndhwc })
        foreach (int threads in new[] { 1, 2 })
            cases.Add((new ConvTranspose3D(8, 12, 3, stride: 2, padding: 1, outputPadding: 1) { Layout = layout, MaxDegreeOfParallelism = threads, Activation = FusedActivation.Relu }, 4, 5, 6));
        foreach (int threads in new[] { 1, 2 })
            cases.Add((new ConvTranspose3D(64, 32, 2, stride: 2) { MaxDegreeOfParallelism = threads, Activation = FusedActivation.Relu }, 2, 2, 32));

        foreach (var (conv, depth, height, width) in cases)
        {
            var weights = Case3D.Values(conv.WeightsLength, 1);
            var bias = Case3D.Values(conv.OutChannels, 2);
            var input = Case3D.Values(conv.GetInputLength(1, depth, height, width), 3);
            var output = new float[conv.GetOutputLength(1, depth, height, width)];
            conv.Compute(input, depth, height, width, weights, bias, output);
            conv.Compute(input, depth, height, width, weights, bias, output);
            Assert.Equal(0, Allocations.FewestBytes(() => conv.Compute(input, depth, height, width, weights, bias, output)));
            var expected = new float[output.Length];
            conv.Prepare(weights, bias).Compute(input, depth, height, width, expected);
            Assert.Equal(expected, output);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            // The last case does run the in-place slices.
            var (inPlace, d, h, w) = cases[^1];
            var prepared = inPlace.Prepare(Case3D.Values(inPlace.WeightsLength, 1));
            prepared.Compute(Case3D.Values(inPlace.GetInputLength(1, d, h, w), 3), d, h, w, new float[inPlace.GetOutputLength(1, d, h, w)]);
            Assert.True(prepared.PacksPlaneTaps);
        }
    }

    [Fact]
    public void TheLayoutNamesOfEachRankAreTheSameOrders()
    {
        Assert.Equal(TensorLayout.Nchw, TensorLayout.Ncdhw);
        Assert.Equal(TensorLayout.Nhwc, TensorLayout.Ndhwc);
        Assert.Equal(TensorLayout.Ncdhw, new ConvTranspose3D(1, 1, 1).Layout);
        Assert.Contains("NDHWC", new ConvTranspose3D(1, 1, 1) { Layout = TensorLayout.Ndhwc }.ToString());
    }

    /// <summary>
    /// The 2-D layer the depth taps run on is built once, after the init-only properties are set: every prepared copy's taps
    /// (and the unprepared path's) run on the definition's one plane, which has the final thread cap, the slices' layout
    /// and no activation (that follows per finished slice).
    /// </summary>
    [Theory]
    [InlineData(TensorLayout.Ncdhw, 4, 2, TensorLayout.Nchw)]
    [InlineData(TensorLayout.Ncdhw, 8, 16, TensorLayout.Nhwc)]
    [InlineData(TensorLayout.Ndhwc, 4, 2, TensorLayout.Nhwc)]
    public void EveryDepthTapRunsOnTheDefinitionsOnePlane(TensorLayout layout, int inChannels, int outChannels, TensorLayout slices)
    {
        var conv = new ConvTranspose3D(inChannels, outChannels, (3, 2, 2), stride: 2)
        {
            Layout = layout,
            Activation = FusedActivation.Relu,
            MaxDegreeOfParallelism = 3,
        };
        var weights = ConvCase.Values(conv.WeightsLength, 7);
        var first = conv.Prepare(weights);
        var second = conv.Prepare(weights);
        Assert.Equal(3, first.Taps.Count);
        Assert.All(first.Taps.Concat(second.Taps), tap => Assert.Same(conv.Plane, tap.Definition));
        Assert.Equal(slices, conv.Plane.Layout);
        Assert.Equal(3, conv.Plane.MaxDegreeOfParallelism);
        Assert.Equal(FusedActivation.None, conv.Plane.Activation);

        // The unprepared path runs on it too, and gives the prepared result.
        var input = ConvCase.Values(conv.GetInputLength(1, 3, 4, 5), 8);
        float[] prepared = new float[conv.GetOutputLength(1, 3, 4, 5)], unprepared = new float[prepared.Length];
        first.Compute(input, 3, 4, 5, prepared);
        var plane = conv.Plane;
        conv.Compute(input, 3, 4, 5, weights, default, unprepared);
        Assert.Same(plane, conv.Plane);
        Assert.Equal(prepared, unprepared);
    }

    /// <summary>
    /// The depth taps of one depth phase run as one 2-D pass over their input slices stacked as channels wherever every slice
    /// they read is inside the input (the taps one by one at the depth edges): against the naive reference, prepared and not,
    /// on one and two threads, for NHWC slices (interleaved per pixel), NCHW slices (consecutive: read in place) and slices
    /// two apart (stride 3, dilation 2: copied), with the channel kernel (32 -> 16) and the width kernel (4 -> 3); 13 channels
    /// leave a remainder past the interleaving's vectors.
    /// </summary>
    [Theory]
    [InlineData(false, 32, 16, 3, 2, 1, 1)]
    [InlineData(true, 32, 16, 3, 2, 1, 1)]
    [InlineData(false, 4, 3, 3, 2, 1, 1)]
    [InlineData(false, 4, 3, 5, 3, 2, 2)]
    [InlineData(true, 8, 16, 5, 3, 2, 2)]
    [InlineData(true, 13, 16, 3, 2, 1, 1)]
    [InlineData(false, 16, 16, 4, 2, 1, 2)]
    public void DepthPhasesRunAsOneStackedPass(bool channelsLast, int inChannels, int outChannels, int kernelDepth, int strideDepth,
        int dilationDepth, int stackedPhases)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            var c = new Case3D(2, inChannels, outChannels, 1, (5, 4, 5), (kernelDepth, 3, 2), (strideDepth, 2, 1), (1, 1, 0), (1, 0, 0),
                (1, 1, 0), (dilationDepth, 1, 1), channelsLast, HasBias: true, FusedActivation.Relu, Seed: 40 + kernelDepth);
            Assert.Equal(stackedPhases, c.Create(threads).Prepare(c.Weights(), c.Bias()).StackedPhases);
            AssertMatchesReference(c, prepared: true, threads);
            AssertMatchesReference(c, prepared: false, threads);
        }
    }

    /// <summary>
    /// NHWC slices whose passes all run the channel kernel on one thread are padded once per input slice for every pass
    /// that reads them (stacked or not) rather than by each pass: against the naive reference, prepared and not, NCDHW
    /// (each padded row transposed from the channels' rows) and NDHWC (copied), volume_k3's geometry (32 -> 16, kernel 3,
    /// stride 2, padding 1, output padding 1) on odd heights and widths, with the depth edges' single taps, asymmetric
    /// padding (other row and column shifts), bias, and activations finished while the planes are written (ReLU) or
    /// after (leaky ReLU); a batch of two reuses the padded slices' buffer. Two threads: each pass as its size plans it.
    /// </summary>
    [Theory]
    [InlineData(false, 3, 5, 7, 1, 1, FusedActivation.Relu)]
    [InlineData(false, 4, 8, 8, 1, 1, FusedActivation.None)]
    [InlineData(false, 2, 7, 3, 0, 2, FusedActivation.LeakyRelu)]
    [InlineData(true, 3, 5, 7, 1, 1, FusedActivation.LeakyRelu)]
    [InlineData(true, 5, 6, 9, 2, 0, FusedActivation.Relu)]
    [InlineData(false, 6, 5, 7, 1, 1, FusedActivation.None, 5)]  // kernel 5: stacked passes of 3 and of 2 depth taps share one buffer
    [InlineData(true, 6, 6, 9, 2, 2, FusedActivation.Relu, 5)]
    public void InputSlicesArePaddedOnceForEveryPass(bool channelsLast, int depth, int height, int width, int padBegin, int padEnd,
        FusedActivation activation, int kernel = 3)
    {
        var c = new Case3D(2, 32, 16, 1, (depth, height, width), (kernel, 3, 3), (2, 2, 2), (1, padBegin, padBegin), (1, padEnd, padEnd),
            (1, 1, 1), (1, 1, 1), channelsLast, HasBias: true, activation, Seed: 60 + depth * height);
        // The channel kernel runs wherever some vector width is accelerated (else the exact kernel: no padding at all).
        if (Vector128.IsHardwareAccelerated && c.Create(1).Plane.Layout == TensorLayout.Nhwc)
            Assert.True(c.Create(1).Prepare(c.Weights(), c.Bias()).PadsSlicesOnceFor(height, width));
        foreach (int threads in new[] { 1, 2 })
        {
            AssertMatchesReference(c, prepared: true, threads);
            AssertMatchesReference(c, prepared: false, threads);
        }
    }

    /// <summary>
    /// The stacking's interleave (which writes through unchecked references) copies each pixel's channels, vectors and the
    /// remainder, to its place <c>pitch</c> apart and leaves the gaps alone; and refuses a destination one float short of
    /// its last pixel's run, having written nothing, rather than write past it.
    /// </summary>
    [Theory]
    [InlineData(13, 3)]
    [InlineData(32, 2)]
    public void InterleaveCopiesPixelsPitchApartAndRefusesAShortDestination(int channels, int count)
    {
        const int pixels = 5;
        int pitch = count * channels;
        var source = ConvCase.Values(pixels * channels, 3);
        var destination = new float[pixels * pitch];
        destination.AsSpan().Fill(42f);
        PreparedConvTranspose3D.Interleave(source, destination.AsSpan(channels), channels, pitch);
        for (int i = 0; i < destination.Length; i++)
        {
            int p = (i - channels) / pitch, c = (i - channels) % pitch;
            bool copied = i >= channels && c < channels;
            Assert.Equal(copied ? source[p * channels + c] : 42f, destination[i]);
        }

        var shortDestination = new float[(pixels - 1) * pitch + channels - 1];
        Assert.Throws<ArgumentException>(() => PreparedConvTranspose3D.Interleave(source, shortDestination, channels, pitch));
        Assert.All(shortDestination, value => Assert.Equal(0f, value));
    }

    private static void AssertMatchesReference(Case3D c, bool prepared, int threads)
    {
        var conv = c.Create(threads);
        var expected = c.Expected();
        var output = new float[expected.Length + 3];
        output.AsSpan(expected.Length).Fill(42f);
        if (prepared) conv.Prepare(c.Weights(), c.Bias()).Compute(c.Input(), c.Size.D, c.Size.H, c.Size.W, output);
        else conv.Compute(c.Input(), c.Size.D, c.Size.H, c.Size.W, c.Weights(), c.Bias(), output);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - output[i]) <= c.Tolerance, $"{c}: output[{i}] = {output[i]}, expected {expected[i]}");
        Assert.All(output[expected.Length..], v => Assert.Equal(42f, v));
    }

    private static JsonDocument LoadFixture() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "conv_transpose3d.json")));
}

/// <summary>A random 3-D case: geometry, layout, activation and data, with a naive reference computed in double.</summary>
public sealed record Case3D(int Batch, int InChannels, int OutChannels, int Groups, (int D, int H, int W) Size, (int D, int H, int W) Kernel,
    (int D, int H, int W) Stride, (int D, int H, int W) PadBegin, (int D, int H, int W) PadEnd, (int D, int H, int W) OutputPadding,
    (int D, int H, int W) Dilation, bool ChannelsLast, bool HasBias, FusedActivation Activation, int Seed)
{
    public ConvTranspose3D Create(int threads) =>
        new(InChannels, OutChannels, Kernel, Stride, Padding3D.Asymmetric(PadBegin.D, PadBegin.H, PadBegin.W, PadEnd.D, PadEnd.H, PadEnd.W),
            OutputPadding, Dilation, Groups)
        {
            Layout = ChannelsLast ? TensorLayout.Ndhwc : TensorLayout.Ncdhw,
            Activation = Activation,
            MaxDegreeOfParallelism = threads,
        };

    private static int Out(int input, int kernel, int stride, int begin, int end, int outputPadding, int dilation) =>
        (input - 1) * stride - begin - end + dilation * (kernel - 1) + outputPadding + 1;

    public (int D, int H, int W) OutputSize => (
        Out(Size.D, Kernel.D, Stride.D, PadBegin.D, PadEnd.D, OutputPadding.D, Dilation.D),
        Out(Size.H, Kernel.H, Stride.H, PadBegin.H, PadEnd.H, OutputPadding.H, Dilation.H),
        Out(Size.W, Kernel.W, Stride.W, PadBegin.W, PadEnd.W, OutputPadding.W, Dilation.W));

    public float[] Input() => Values(Batch * InChannels * Size.D * Size.H * Size.W, Seed);

    public float[] Weights() => Values(InChannels * (OutChannels / Groups) * Kernel.D * Kernel.H * Kernel.W, Seed + 1);

    public float[] Bias() => HasBias ? Values(OutChannels, Seed + 2) : [];

    /// <summary>As <see cref="ConvCase.Tolerance"/>: <c>1e-5 * (4 + n)</c> with <c>n = Cin/G * kD * kH * kW</c> products per output.</summary>
    public float Tolerance => 1e-5f * (4 + InChannels / Groups * Kernel.D * Kernel.H * Kernel.W);

    /// <summary>The definition, scattered (<see cref="NaiveReference3D"/>).</summary>
    public float[] Expected() =>
        NaiveReference3D.ConvTranspose3D(Input(), Weights(), Bias(), Batch, InChannels, OutChannels, Groups, Size, OutputSize, Kernel, Stride, PadBegin,
            Dilation, ChannelsLast, Activation, 0.01f);

    public static float[] Values(int count, int seed) => ConvCase.Values(count, seed);

    private static readonly Gen<(int, int, int, int, int)> Axis =
        from kernel in Gen.Int[1, 4]
        from stride in Gen.Int[1, 3]
        from dilation in Gen.Int[1, 2]
        from input in Gen.Int[1, 5]
        from outputPadding in Gen.Int[0, Math.Max(stride, dilation) - 1]
        select (kernel, stride, dilation, input, outputPadding);

    public static readonly Gen<Case3D> Generator =
        from depth in Axis
        from height in Axis
        from width in Axis
        from groups in Gen.Int[1, 2]
        from inPerGroup in Gen.Int[1, 4]
        from outPerGroup in Gen.OneOf(Gen.Int[1, 4], Gen.Int[7, 17])
        from pads in Gen.Int[0, 2].Array[6]
        from batch in Gen.Int[1, 2]
        from channelsLast in Gen.Bool
        from hasBias in Gen.Bool
        from activation in Gen.Enum<FusedActivation>()
        from seed in Gen.Int
        let c = new Case3D(batch, groups * inPerGroup, groups * outPerGroup, groups, (depth.Item4, height.Item4, width.Item4),
            (depth.Item1, height.Item1, width.Item1), (depth.Item2, height.Item2, width.Item2), (pads[0], pads[1], pads[2]), (pads[3], pads[4], pads[5]),
            (depth.Item5, height.Item5, width.Item5), (depth.Item3, height.Item3, width.Item3), channelsLast, hasBias, activation, seed)
        where c.OutputSize.D >= 1 && c.OutputSize.H >= 1 && c.OutputSize.W >= 1
        select c;
}
