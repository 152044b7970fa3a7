using System.Text.Json;
using CsCheck;

namespace KernelGen.Tests;

/// <summary>
/// <see cref="ConvTranspose1D"/>: the course example in 1-D worked by hand, PyTorch's own outputs, random geometries against a
/// naive 1-D reference written here (independent of the 2-D code), every bad input, and no allocation once prepared. CI runs
/// this class once per instruction set (AVX-512, AVX2, SSE, scalar) and on arm64.
/// </summary>
public class ConvTranspose1DTests
{
    /// <summary>
    /// The course example's second row as a sequence: x = [2, 1, 3, 2], filter [2, 0, 1], stride 2, padding 1, output padding 1.
    /// Each input cell pastes a scaled copy of the filter, moved by the stride, onto a canvas of (4 - 1) * 2 + 3 = 9 cells plus
    /// one of output padding:
    /// <code>
    /// canvas cell   0   1   2   3   4   5   6   7   8   9
    /// 2 * f at 0    4   0   2
    /// 1 * f at 2            2   0   1
    /// 3 * f at 4                    6   0   3
    /// 2 * f at 6                            4   0   2
    /// sum           4   0   4   0   7   0   7   0   2   0
    /// </code>
    /// Padding 1 crops cell 0 and, with the output padding's cell 9 added at the end, leaves cells 1 to 8:
    /// (4 - 1) * 2 - 2 + 1 * (3 - 1) + 1 + 1 = 8 outputs. PyTorch's <c>conv_transpose1d</c> gives the same.
    /// </summary>
    public static readonly float[] CourseInput = [2, 1, 3, 2], CourseFilter = [2, 0, 1], CourseOutput = [0, 4, 0, 7, 0, 7, 0, 2];

    [Theory]
    [InlineData(TensorLayout.Ncl)]
    [InlineData(TensorLayout.Nlc)]
    public void TheCourseExampleIn1DHoldsExactly(TensorLayout layout)
    {
        var conv = new ConvTranspose1D(inChannels: 1, outChannels: 1, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1) { Layout = layout };
        Assert.Equal(8, conv.GetOutputSize(inputLength: 4));

        var output = new float[8];
        conv.Compute(CourseInput, inputLength: 4, CourseFilter, bias: ReadOnlySpan<float>.Empty, output);
        Assert.Equal(CourseOutput, output);

        var prepared = conv.Prepare(CourseFilter);
        Array.Clear(output);
        prepared.Compute(CourseInput, inputLength: 4, output);
        Assert.Equal(CourseOutput, output);
    }

    public static TheoryData<string> PyTorchCases()
    {
        var data = new TheoryData<string>();
        foreach (var c in LoadFixture().RootElement.GetProperty("cases").EnumerateArray())
            data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    /// <summary>PyTorch 1.13's outputs (Fixtures/conv_transpose1d.py): values are multiples of 1/8, so every sum is exact and the results must be equal.</summary>
    [Theory]
    [MemberData(nameof(PyTorchCases))]
    public void MatchesPyTorchExactly(string name)
    {
        var c = LoadFixture().RootElement.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        int Int(string property) => c.GetProperty(property).GetInt32();
        float[] Floats(string property) => c.GetProperty(property).EnumerateArray().Select(v => v.GetSingle()).ToArray();

        var conv = new ConvTranspose1D(Int("inChannels"), Int("outChannels"), Int("kernelSize"), Int("stride"),
            Padding1D.Asymmetric(Int("padBegin"), Int("padEnd")), Int("outputPadding"), Int("dilation"), Int("groups"));
        int length = Int("inputLength");
        Assert.Equal(Int("outputLength"), conv.GetOutputSize(length));
        float[] expected = Floats("output");
        var output = new float[expected.Length];
        conv.Compute(Floats("input"), length, Floats("weights"), Floats("bias"), output);
        Assert.Equal(expected, output);

        // The same through the prepared path, with every thread count the machine offers.
        var prepared = new ConvTranspose1D(conv.InChannels, conv.OutChannels, conv.KernelSize, conv.Stride, conv.Padding, conv.OutputPadding,
            conv.Dilation, conv.Groups) { MaxDegreeOfParallelism = 2 }.Prepare(Floats("weights"), Floats("bias"));
        Array.Clear(output);
        prepared.Compute(Floats("input"), length, output);
        Assert.Equal(expected, output);
    }

    [Fact]
    public void RandomGeometriesMatchTheNaiveReference() =>
        Case1D.Generator.Sample(c => AssertMatchesReference(c, prepared: false, threads: 1), iter: 300);

    [Fact]
    public void RandomGeometriesMatchTheNaiveReferencePreparedAndOnTwoThreads() =>
        Case1D.Generator.Sample(c => AssertMatchesReference(c, prepared: true, threads: 2), iter: 150);

    [Fact]
    public void ALayerIsTheSameAsTheTwoDimensionalLayerOfHeightOne() =>
        Case1D.Generator.Sample(c =>
        {
            var conv = c.Create(1);
            var plane = new ConvTranspose2D(c.InChannels, c.OutChannels, (1, c.Kernel), (1, c.Stride), Padding2D.Asymmetric(0, c.PadBegin, 0, c.PadEnd),
                (0, c.OutputPadding), (1, c.Dilation), c.Groups) { Layout = conv.Layout, Activation = c.Activation, MaxDegreeOfParallelism = 1 };
            var a = new float[conv.GetOutputLength(c.Batch, c.Length)];
            var b = new float[a.Length];
            conv.Compute(c.Input(), c.Length, c.Weights(), c.Bias(), a);
            plane.Compute(c.Input(), 1, c.Length, c.Weights(), c.Bias(), b);
            Assert.Equal(b, a);
        }, iter: 100);

    [Fact]
    public void AnEmptyBatchWritesNothing()
    {
        var conv = new ConvTranspose1D(2, 3, 4, stride: 2);
        var output = new float[5];
        Array.Fill(output, 42f);
        conv.Compute(ReadOnlySpan<float>.Empty, 7, new float[conv.WeightsLength], ReadOnlySpan<float>.Empty, output);
        conv.Prepare(new float[conv.WeightsLength]).Compute(ReadOnlySpan<float>.Empty, 7, output);
        Assert.All(output, v => Assert.Equal(42f, v));
        Assert.Equal(0, conv.GetInputLength(0, 7));
    }

    [Fact]
    public void SizesFollowPyTorchsFormula()
    {
        // (in - 1) * stride - padBegin - padEnd + dilation * (kernel - 1) + outputPadding + 1
        var conv = new ConvTranspose1D(512, 256, kernelSize: 16, stride: 8, padding: 4);
        Assert.Equal(256, conv.GetOutputSize(32));                    // HiFi-GAN's first up-sampling layer: x8
        Assert.Equal(512 * 32, conv.GetInputLength(1, 32));
        Assert.Equal(3 * 256 * 256, conv.GetOutputLength(3, 32));
        Assert.Equal(512 * 256 * 16, conv.WeightsLength);
        Assert.Equal(4096, new ConvTranspose1D(128, 64, 4, stride: 2, padding: 1).GetOutputSize(2048));
        Assert.Equal(7 * 3 - 2 - 5 + 2 * 4 + 1 + 1, new ConvTranspose1D(1, 1, 5, 3, Padding1D.Asymmetric(2, 5), 1, 2).GetOutputSize(8));
    }

    [Fact]
    public void OutputSizeRequestsAndOnnxAutoPadResolveAsIn2D()
    {
        // PyTorch's output_size, stride 2, kernel 3: from 9, 19 or 20 with padding 0, 17 or 18 with padding 1.
        var requested = ConvTranspose1D.ForOutputSize(1, 1, 3, inputLength: 9, outputLength: 20, stride: 2);
        Assert.Equal((1, 20), (requested.OutputPadding, requested.GetOutputSize(9)));
        Assert.Equal(1, ConvTranspose1D.ForOutputSize(1, 1, 3, 9, 18, stride: 2, padding: 1).OutputPadding);
        var tooLong = Assert.Throws<ArgumentOutOfRangeException>(() => ConvTranspose1D.ForOutputSize(1, 1, 3, 9, 19, stride: 2, padding: 1));
        Assert.Equal("outputLength", tooLong.ParamName);

        foreach (var (autoPad, begin, end) in new[] { (OnnxAutoPad.SameUpper, 0, 1), (OnnxAutoPad.SameLower, 1, 0) })
        {
            // Kernel 3, stride 2, output 5 * 2 = 10: total padding (5 - 1) * 2 + (3 - 1) + 1 - 10 = 1 cell, at the end for SAME_UPPER.
            var conv = ConvTranspose1D.FromOnnx(2, 2, 3, inputLength: 5, autoPad, stride: 2);
            Assert.Equal(10, conv.GetOutputSize(5));
            Assert.Equal(Padding1D.Asymmetric(begin, end), conv.Padding);
            var other = ConvTranspose2D.FromOnnx(2, 2, (1, 3), (1, 5), autoPad, stride: (1, 2));
            Assert.Equal((other.Padding.Left, other.Padding.Right), (conv.Padding.Begin, conv.Padding.End));
        }

        var shaped = ConvTranspose1D.FromOnnx(1, 1, 3, inputLength: 9, outputShape: 20, stride: 2);
        Assert.Equal(20, shaped.GetOutputSize(9));
        Assert.Throws<ArgumentException>(() => ConvTranspose1D.FromOnnx(1, 1, 3, 9, OnnxAutoPad.SameUpper, pads: 1));
    }

    [Fact]
    public void EveryBadLayerIsRejectedNamingTheParameter()
    {
        (string Parameter, Func<ConvTranspose1D> Make)[] bad =
        [
            ("inChannels", () => new ConvTranspose1D(0, 1, 3)),
            ("outChannels", () => new ConvTranspose1D(1, 0, 3)),
            ("groups", () => new ConvTranspose1D(4, 6, 3, groups: 4)),
            ("groups", () => new ConvTranspose1D(4, 4, 3, groups: 0)),
            ("kernelSize", () => new ConvTranspose1D(1, 1, 0)),
            ("stride", () => new ConvTranspose1D(1, 1, 3, stride: 0)),
            ("padding", () => new ConvTranspose1D(1, 1, 3, padding: -1)),
            ("padding", () => new ConvTranspose1D(1, 1, 3, padding: Padding1D.Asymmetric(0, -2))),
            ("outputPadding", () => new ConvTranspose1D(1, 1, 3, stride: 2, outputPadding: 2)),
            ("outputPadding", () => new ConvTranspose1D(1, 1, 3, outputPadding: -1)),
            ("dilation", () => new ConvTranspose1D(1, 1, 3, dilation: 0)),
            ("dilation", () => new ConvTranspose1D(1, 1, 3, dilation: int.MaxValue)),
            ("inChannels", () => new ConvTranspose1D(1 << 20, 1 << 20, 1 << 10)),
            ("Layout", () => new ConvTranspose1D(1, 1, 3) { Layout = (TensorLayout)7 }),
            ("Activation", () => new ConvTranspose1D(1, 1, 3) { Activation = (FusedActivation)9 }),
            ("LeakyReluSlope", () => new ConvTranspose1D(1, 1, 3) { LeakyReluSlope = float.NaN }),
            ("MaxDegreeOfParallelism", () => new ConvTranspose1D(1, 1, 3) { MaxDegreeOfParallelism = 0 }),
        ];
        foreach (var (parameter, make) in bad)
        {
            var e = Assert.ThrowsAny<ArgumentException>(() => make());
            Assert.Equal(parameter, e.ParamName);
            Assert.Matches(@"^\S+ is .+, but .+", e.Message);
        }
    }

    [Fact]
    public void EveryBadCallIsRejectedNamingTheParameterBeforeAnythingIsWritten()
    {
        var conv = new ConvTranspose1D(2, 3, 4, stride: 2, padding: 1);  // length 5 -> 10
        var weights = new float[conv.WeightsLength];
        var input = new float[2 * 5];
        var prepared = conv.Prepare(weights);

        void Rejected(string parameter, string inMessage, Action<float[]> call)
        {
            var output = new float[64];
            Array.Fill(output, 42f);
            var e = Assert.ThrowsAny<ArgumentException>(() => call(output));
            Assert.Equal(parameter, e.ParamName);
            Assert.Contains(inMessage, e.Message);
            Assert.All(output, v => Assert.Equal(42f, v));
        }

        Rejected("inputLength", "inputLength is 0", o => conv.Compute(input, 0, weights, default, o));
        Rejected("inputLength", "inputLength is 0", o => prepared.Compute(input, 0, o));
        Rejected("inputLength", "must be at least 1", o => new ConvTranspose1D(1, 1, 1, padding: 1).Compute(new float[1], 1, new float[1], default, o));
        Rejected("input", "whole number of samples of inChannels * inputLength = 10", o => conv.Compute(new float[11], 5, weights, default, o));
        Rejected("input", "whole number of samples", o => prepared.Compute(new float[11], 5, o));
        Rejected("output", "batch * outChannels * outputLength = 1 * 3 * 10 = 30", o => conv.Compute(input, 5, weights, default, o.AsSpan(0, 29)));
        Rejected("output", "at least", o => prepared.Compute(input, 5, o.AsSpan(0, 29)));
        Rejected("weights", "inChannels * (outChannels / groups) * kernelSize = 2 * 3 * 4 = 24", o => conv.Compute(input, 5, new float[23], default, o));
        Rejected("bias", "outChannels = 3", o => conv.Compute(input, 5, weights, new float[2], o));
        Rejected("output", "input overlaps output", o => conv.Compute(o.AsSpan(0, 10), 5, weights, default, o.AsSpan(5, 30)));
        Rejected("output", "weights overlaps output", o => conv.Compute(input, 5, o.AsSpan(0, 24), default, o.AsSpan(10, 30)));
        Rejected("inputLength", "must fit in an Int32", o => new ConvTranspose1D(1 << 12, 1, 1).Compute(input, 1 << 20, new float[1 << 12], default, o));

        Assert.Throws<ArgumentException>("weights", () => conv.Prepare(new float[25]));
        Assert.Throws<ArgumentException>("bias", () => conv.Prepare(weights, new float[4]));
        Assert.Throws<ArgumentOutOfRangeException>("batch", () => conv.GetInputLength(-1, 5));
        Assert.Throws<ArgumentOutOfRangeException>("batch", () => conv.GetOutputLength(int.MaxValue, 5));
    }

    [Fact]
    public void PreparedComputeAllocatesNothing()
    {
        // A vocoder-like layer (channel kernel) and a thin one (width kernel), NCL and NLC.
        foreach (var (cin, cout) in new[] { (32, 16), (2, 3) })
        foreach (var layout in new[] { TensorLayout.Ncl, TensorLayout.Nlc })
        {
            var conv = new ConvTranspose1D(cin, cout, 16, stride: 8, padding: 4) { Layout = layout, MaxDegreeOfParallelism = 1 };
            var prepared = conv.Prepare(Case1D.Values(conv.WeightsLength, 1), Case1D.Values(cout, 2));
            var input = Case1D.Values(cin * 32, 3);
            var output = new float[conv.GetOutputLength(1, 32)];
            prepared.Compute(input, 32, output);
            prepared.Compute(input, 32, output);
            Assert.Equal(0, Allocations.FewestBytes(() => prepared.Compute(input, 32, output)));
        }
    }

    [Fact]
    public void TheLayoutNamesOfEachRankAreTheSameOrders()
    {
        Assert.Equal(TensorLayout.Nchw, TensorLayout.Ncl);
        Assert.Equal(TensorLayout.Nhwc, TensorLayout.Nlc);
        Assert.Equal(TensorLayout.Ncl, new ConvTranspose1D(1, 1, 1).Layout);
        Assert.Contains("NLC", new ConvTranspose1D(1, 1, 1) { Layout = TensorLayout.Nlc }.ToString());
    }

    private static void AssertMatchesReference(Case1D c, bool prepared, int threads)
    {
        var conv = c.Create(threads);
        var expected = c.Expected();
        var output = new float[expected.Length + 3];
        output.AsSpan(expected.Length).Fill(42f);
        if (prepared) conv.Prepare(c.Weights(), c.Bias()).Compute(c.Input(), c.Length, output);
        else conv.Compute(c.Input(), c.Length, c.Weights(), c.Bias(), output);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - output[i]) <= c.Tolerance, $"{c}: output[{i}] = {output[i]}, expected {expected[i]}");
        Assert.All(output[expected.Length..], v => Assert.Equal(42f, v));
    }

    private static JsonDocument LoadFixture() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "conv_transpose1d.json")));
}

/// <summary>A random 1-D case: geometry, layout, activation and data, with a naive reference computed in double.</summary>
public sealed record Case1D(int Batch, int InChannels, int OutChannels, int Groups, int Length, int Kernel, int Stride,
    int PadBegin, int PadEnd, int OutputPadding, int Dilation, bool ChannelsLast, bool HasBias, FusedActivation Activation, int Seed)
{
    public ConvTranspose1D Create(int threads) =>
        new(InChannels, OutChannels, Kernel, Stride, Padding1D.Asymmetric(PadBegin, PadEnd), OutputPadding, Dilation, Groups)
        {
            Layout = ChannelsLast ? TensorLayout.Nlc : TensorLayout.Ncl,
            Activation = Activation,
            MaxDegreeOfParallelism = threads,
        };

    public int OutputLength => (Length - 1) * Stride - PadBegin - PadEnd + Dilation * (Kernel - 1) + OutputPadding + 1;

    public float[] Input() => Values(Batch * InChannels * Length, Seed);

    public float[] Weights() => Values(InChannels * (OutChannels / Groups) * Kernel, Seed + 1);

    public float[] Bias() => HasBias ? Values(OutChannels, Seed + 2) : [];

    /// <summary>As <see cref="ConvCase.Tolerance"/>: <c>1e-5 * (4 + n)</c> with <c>n = Cin/G * k</c> products per output.</summary>
    public float Tolerance => 1e-5f * (4 + InChannels / Groups * Kernel);

    /// <summary>
    /// The definition, scattered: every input cell adds its value times each tap at <c>i * stride + t * dilation - padBegin</c>,
    /// when that lands in the output (the cells past the uncropped output, up to the output padding, receive nothing).
    /// </summary>
    public float[] Expected()
    {
        float[] x = Input(), w = Weights(), b = Bias();
        int outLength = OutputLength, inPerGroup = InChannels / Groups, outPerGroup = OutChannels / Groups;
        var sums = new double[Batch * OutChannels * outLength];
        int Index(int n, int c, int l, int channels, int length) => ChannelsLast ? (n * length + l) * channels + c : (n * channels + c) * length + l;
        for (int n = 0; n < Batch; n++)
        for (int ci = 0; ci < InChannels; ci++)
        for (int i = 0; i < Length; i++)
        for (int co = 0; co < outPerGroup; co++)
        for (int t = 0; t < Kernel; t++)
        {
            int o = i * Stride + t * Dilation - PadBegin;
            if (o < 0 || o >= outLength) continue;
            int g = ci / inPerGroup;
            sums[Index(n, g * outPerGroup + co, o, OutChannels, outLength)] +=
                (double)x[Index(n, ci, i, InChannels, Length)] * w[(ci * outPerGroup + co) * Kernel + t];
        }

        var output = new float[sums.Length];
        for (int n = 0; n < Batch; n++)
        for (int c = 0; c < OutChannels; c++)
        for (int l = 0; l < outLength; l++)
        {
            int k = Index(n, c, l, OutChannels, outLength);
            output[k] = (float)NaiveReference.Activate(sums[k] + (HasBias ? b[c] : 0), Activation, 0.01f);
        }

        return output;
    }

    public static float[] Values(int count, int seed) => ConvCase.Values(count, seed);

    public static readonly Gen<Case1D> Generator =
        from kernel in Gen.OneOf(Gen.Int[1, 5], Gen.Int[8, 16])
        from stride in Gen.Int[1, 8]
        from dilation in Gen.Int[1, 3]
        from groups in Gen.Int[1, 3]
        from inPerGroup in Gen.Int[1, 6]
        from outPerGroup in Gen.OneOf(Gen.Int[1, 4], Gen.Int[7, 20])
        from length in Gen.Int[1, 40]
        from padBegin in Gen.Int[0, 6]
        from padEnd in Gen.Int[0, 6]
        from outputPadding in Gen.Int[0, Math.Max(stride, dilation) - 1]
        from batch in Gen.Int[1, 2]
        from channelsLast in Gen.Bool
        from hasBias in Gen.Bool
        from activation in Gen.Enum<FusedActivation>()
        from seed in Gen.Int
        let c = new Case1D(batch, groups * inPerGroup, groups * outPerGroup, groups, length, kernel, stride, padBegin, padEnd, outputPadding,
            dilation, channelsLast, hasBias, activation, seed)
        where c.OutputLength >= 1
        select c;
}
