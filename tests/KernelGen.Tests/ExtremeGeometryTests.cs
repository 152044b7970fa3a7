using System.Numerics;
using CsCheck;
using KernelGen.Planning;

namespace KernelGen.Tests;

/// <summary>
/// Geometries at and past the limits of Int32 arithmetic: huge and near-overflow paddings, kernels, strides, dilations,
/// sizes and batches. Every public method either returns exactly what an independent BigInteger model of the rules says,
/// or throws an <see cref="ArgumentException"/> whose ParamName is one of its own parameters (and whose message holds
/// the offending value); never another exception, never a write to a rejected call's output, never scratch memory out of
/// proportion to the data. Where the data is small enough, the result is checked against the naive reference.
/// </summary>
[Collection(ProcessWideSettingsCollection.Name)]
public class ExtremeGeometryTests
{
    /// <summary>Calls whose input, output and weights all hold at most this many floats are computed and checked.</summary>
    private const long MaxCheckedLength = 1 << 16;

    /// <summary>Calls whose naive reference would take more multiply-adds than this are only validated, not computed.</summary>
    private const long MaxCheckedWork = 1 << 22;

    /// <summary>One random geometry and call: any of its values may be absurd.</summary>
    public sealed record Geometry(int InChannels, int OutChannels, int Groups, (int H, int W) Kernel, (int H, int W) Stride,
        (int Top, int Left, int Bottom, int Right) Padding, (int H, int W) OutputPadding, (int H, int W) Dilation,
        int InputHeight, int InputWidth, int Batch, bool ChannelsLast, int Seed);

    /// <summary>
    /// Mostly small valid values; one in eight a boundary value of Int32 arithmetic or anything up to Int32.MaxValue; one in
    /// fifty below the allowed minimum.
    /// </summary>
    private static Gen<int> Value(int min, int small) => Gen.Frequency(
        (40, Gen.Int[min, min + small]),
        (3, Gen.OneOf(Gen.Const(46340), Gen.Const(46341), Gen.Const(65536), Gen.Const(30000), Gen.Const((1 << 29) - 1), Gen.Const(1 << 29),
            Gen.Const(1 << 30), Gen.Const(int.MaxValue - 1), Gen.Const(int.MaxValue))),
        (3, Gen.Int[min, int.MaxValue]),
        (1, Gen.Int[min - 2, min - 1]));

    /// <summary>Output padding: mostly valid for the axis (below its stride or dilation), sometimes anything.</summary>
    private static Gen<int> OutputPadding(int stride, int dilation) => Gen.Frequency(
        (8, Gen.Int[0, Math.Clamp(Math.Max(stride, dilation) - 1, 0, 3)]),
        (1, Value(0, 3)));

    /// <summary>
    /// Mostly valid geometries with extreme values: the pads are often chosen to crop a huge uncropped output down to a few
    /// cells, so that calls with huge kernels, dilations, strides and pads still have small data and are computed.
    /// </summary>
    public static readonly Gen<Geometry> Geometries =
        from groups in Gen.Frequency((8, Gen.Int[1, 3]), (1, Value(1, 2)))
        from inPerGroup in Value(1, 3)
        from outPerGroup in Value(1, 19)
        from kernelH in Value(1, 4)
        from kernelW in Value(1, 4)
        from strideH in Value(1, 3)
        from strideW in Value(1, 3)
        from dilationH in Value(1, 2)
        from dilationW in Value(1, 2)
        from opH in OutputPadding(strideH, dilationH)
        from opW in OutputPadding(strideW, dilationW)
        from inputH in Value(1, 5)
        from inputW in Value(1, 11)
        from cropH in Gen.Int[0, 2]
        from cropW in Gen.Int[0, 2]
        from outH in Gen.Int[1, 4]
        from outW in Gen.Int[1, 6]
        from fractionH in Gen.Double[0, 1]
        from fractionW in Gen.Double[0, 1]
        from pads in Value(0, 3).Array[4]
        from batch in Value(0, 2)
        from channelsLast in Gen.Bool
        from seed in Gen.Int[0, 1000]
        let padH = cropH > 0 ? Crop(inputH, strideH, dilationH, kernelH, opH, outH, fractionH) : (Begin: pads[0], End: pads[2])
        let padW = cropW > 0 ? Crop(inputW, strideW, dilationW, kernelW, opW, outW, fractionW) : (Begin: pads[1], End: pads[3])
        select new Geometry(Product(groups, inPerGroup), Product(groups, outPerGroup), groups, (kernelH, kernelW), (strideH, strideW),
            (padH.Begin, padW.Begin, padH.End, padW.End), (opH, opW), (dilationH, dilationW), inputH, inputW, batch, channelsLast, seed);

    [Fact]
    public void ExtremeGeometriesReturnExactSizesOrThrowArgumentExceptionsNamingTheParameter() =>
        Geometries.Sample(Check, iter: 6000, threads: 1);

    /// <summary>
    /// The issue's cases. Pads of 2^29 and a 2^30 x 2^30 input: 16 * 2^60 input elements per sample (0 as a wrapped long)
    /// must be rejected, not returned as 0 and divided by.
    /// </summary>
    [Fact]
    public void SampleLengthsThatOverflowAreRejectedNamingTheInputSize()
    {
        var conv = new ConvTranspose2D(16, 1, 1, padding: Padding2D.Asymmetric(1 << 29, 1 << 29, (1 << 29) - 1, (1 << 29) - 1));
        Assert.Equal((1, 1), conv.GetOutputSize(1 << 30, 1 << 30));
        var e = Assert.ThrowsAny<ArgumentException>(() => conv.GetInputLength(1, 1 << 30, 1 << 30));
        Assert.Equal("inputHeight", e.ParamName);
        Assert.Contains("inputHeight is 1073741824", e.Message);
        Assert.Contains("18446744073709551616", e.Message);
        Assert.Equal("inputHeight", Assert.ThrowsAny<ArgumentException>(() => conv.GetOutputLength(0, 1 << 30, 1 << 30)).ParamName);
        var output = Enumerable.Repeat(42f, 4).ToArray();
        Assert.Equal("inputHeight", Assert.ThrowsAny<ArgumentException>(() => conv.Compute(new float[16], 1 << 30, 1 << 30, new float[16], default, output)).ParamName);
        Assert.Equal("inputHeight", Assert.ThrowsAny<ArgumentException>(() => conv.Prepare(new float[16]).Compute(new float[16], 1 << 30, 1 << 30, output)).ParamName);
        Assert.All(output, v => Assert.Equal(42f, v));
    }

    /// <summary>
    /// A 1 -> 16, 1 x 1 input with kernel 2 and dilation 30000 (or 46341, or 2^30): the uncropped output is 30001 (...) wide,
    /// the pads crop it to a few cells. The zero-bordered copy once spanned the dilated kernel (3.6 GB at 30000, an Int32
    /// overflow from 46341 on); now the call allocates about what its data takes, and gives the reference's result.
    /// </summary>
    [Theory]
    [InlineData(30000, 14999, 14999)]
    [InlineData(30000, 0, 29996)]
    [InlineData(30000, 29997, 0)]
    [InlineData(46341, 0, 46337)]
    [InlineData(46341, 46338, 0)]
    [InlineData(1 << 30, 0, (1 << 30) - 4)]
    [InlineData(1 << 30, (1 << 30) - 3, 0)]
    public void ScratchMemoryDoesNotGrowWithTheDilation(int dilation, int padBegin, int padEnd)
    {
        var g = new Geometry(1, 16, 1, (2, 2), (1, 1), (padBegin, padBegin, padEnd, padEnd), (0, 0), (dilation, dilation), 1, 1, 1, false, 3);
        Check(g);
        var conv = Create(g, threads: 1);
        var (outH, outW) = conv.GetOutputSize(1, 1);
        Assert.InRange(outH * outW, 1, 25);
        var weights = ConvCase.Values(conv.WeightsLength, 1);
        var bias = ConvCase.Values(16, 2);
        var output = new float[conv.GetOutputLength(1, 1, 1)];
        conv.Compute([0.5f], 1, 1, weights, bias, output); // plans and scratch made here
        long before = GC.GetAllocatedBytesForCurrentThread();
        var prepared = conv.Prepare(weights, bias);
        prepared.Compute([0.5f], 1, 1, output);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 64 * 1024);
    }

    /// <summary>
    /// Geometries the property test found. Pads of 2^30 and a dilation of 2^30 with groups: phase positions near 2^29 whose
    /// only tap has an offset near 2^29, so that the kernels' per-position addresses (before the tap offset is taken off)
    /// ran far past the zero-bordered copy and, times the channels, wrapped (an access violation).
    /// </summary>
    [Fact]
    public void GeometriesFoundByThePropertyTestHold()
    {
        Check(new Geometry(4, 26, 2, (3, 2), (2, 2), (0, 1073741825, 8, 0), (2, 2), (3, 1073741824), 2, 2, 1, false, 650));
        Check(new Geometry(4, 26, 2, (2, 3), (2, 2), (1073741825, 0, 0, 8), (2, 2), (1073741824, 3), 2, 2, 1, true, 651));
        Check(new Geometry(1, 3, 1, (2, 2), (2, 2), (1073741825, 1073741825, 0, 0), (1, 1), (1073741824, 1073741824), 2, 2, 2, false, 652));
    }

    /// <summary>An empty batch of any valid geometry is a valid call: it allocates no plan and writes nothing, however large one sample would be.</summary>
    [Fact]
    public void AnEmptyBatchOfAHugeGeometryAllocatesNothing()
    {
        // One sample would be 3 * 8385 * 8385 output floats (844 MB).
        var conv = new ConvTranspose2D(2, 3, 3, stride: 64, dilation: 1024);
        Assert.Equal(3 * 8385 * 8385, conv.GetOutputLength(1, 100, 100));
        var weights = new float[conv.WeightsLength];
        var output = new float[] { 42f };
        conv.Compute([], 100, 100, weights, default, output);
        long before = GC.GetAllocatedBytesForCurrentThread();
        conv.Compute([], 100, 100, weights, default, output);
        var prepared = conv.Prepare(weights);
        prepared.Compute([], 100, 100, output);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 4096);
        Assert.Equal(42f, output[0]);
    }

    /// <summary>Typical layers (the benchmark's shapes and the random ones of the other tests) never fall back to the exact kernel.</summary>
    [Fact]
    public void TypicalLayersRunTheSimdKernels()
    {
        var shapes = new (ConvTranspose2D Conv, int H, int W)[]
        {
            (new(4, 4, 3, 2, 1, 1), 8, 8), (new(16, 8, 3, 2, 1, 1), 64, 64), (new(1, 1, 4, 2, 1), 256, 256), (new(128, 64, 2, 2), 32, 32),
            (new(128, 64, 4, 2, 1), 16, 16), (new(32, 32, 4, 2, 1, groups: 32), 64, 64), (new(32, 32, 3, 1, 1), 32, 32),
            (new(128, 64, 2, 2) { Layout = TensorLayout.Nhwc }, 32, 32), (new(512, 3, 4, 2, 1), 64, 64), (new(1024, 4, 3, 1, 1), 16, 1),
        };
        foreach (var (conv, h, w) in shapes)
            Assert.False(Plans.Of(conv, h, w).Exact, conv.ToString());
        ConvCase.Generator.Sample(c => Assert.False(Plans.Of(c.Create(), c.InputHeight, c.InputWidth).Exact, c.ToString()), iter: 500);
    }

    private static void Check(Geometry g)
    {
        var model = new Model(g);
        long before = GC.GetAllocatedBytesForCurrentThread();
        ConvTranspose2D conv;
        try
        {
            conv = Create(g, threads: 1 + g.Seed % 2);
        }
        catch (Exception e)
        {
            AssertArgumentException(e, g, "inChannels", "outChannels", "kernelSize", "stride", "padding", "outputPadding", "dilation", "groups");
            Assert.False(model.LayerIsValid, $"{g}: the constructor threw {e.Message}");
            return;
        }

        Assert.True(model.LayerIsValid, $"{g}: the constructor accepted the layer");
        Assert.Equal(model.WeightsLength, conv.WeightsLength);

        // Sizes: exactly the model's, or an ArgumentException; and nothing allocated but the layer and the exceptions.
        AssertReturnsOrThrows(() => conv.GetOutputSize(g.InputHeight, g.InputWidth), model.OutputSizeIsValid ? model.OutputSize : null, g, "inputHeight", "inputWidth");
        AssertReturnsOrThrows(() => conv.GetInputLength(g.Batch, g.InputHeight, g.InputWidth), model.InputLength, g, "inputHeight", "inputWidth", "batch");
        AssertReturnsOrThrows(() => conv.GetOutputLength(g.Batch, g.InputHeight, g.InputWidth), model.OutputLength, g, "inputHeight", "inputWidth", "batch");
        AssertAllocatedAtMost(before, 256 * 1024, g, "the layer and its size queries (exceptions included)");

        // Calls. Data is only made when it is small; otherwise the call is made with one input element, which must be
        // rejected (unless it is a whole sample whose output fits).
        bool small = model.WeightsLength <= MaxCheckedLength && model.InputLength is { } inLength && inLength <= MaxCheckedLength
            && model.OutputLength is { } outLength && outLength <= MaxCheckedLength;
        if (small && model.Work <= MaxCheckedWork)
        {
            ComputeAndCompare(g, conv, model);
        }
        else if (model.WeightsLength <= MaxCheckedLength)
        {
            var weights = new float[model.WeightsLength];
            var output = Enumerable.Repeat(42f, 8).ToArray();
            before = GC.GetAllocatedBytesForCurrentThread();
            var e = Record.Exception(() => conv.Compute([1f], g.InputHeight, g.InputWidth, weights, default, output));
            if (e is null)
            {
                Assert.True(model.InputSample == 1 && model.OutputSample <= 8, $"{g}: a call of 1 input element was accepted");
            }
            else
            {
                AssertArgumentException(e, g, "inputHeight", "inputWidth", "input", "output");
                Assert.All(output, v => Assert.Equal(42f, v));
                AssertAllocatedAtMost(before, 256 * 1024, g, "a rejected call");
            }
        }
    }

    private static void ComputeAndCompare(Geometry g, ConvTranspose2D conv, Model model)
    {
        var input = ConvCase.Values(model.InputLength!.Value, g.Seed);
        var weights = ConvCase.Values(model.WeightsLength, g.Seed + 1);
        var bias = ConvCase.Values(g.OutChannels, g.Seed + 2);
        var expected = model.Naive(input, weights, bias);
        var output = new float[expected.Length + 2];
        // As ConvCase.Tolerance: data in [-1, 1], at most Cin/G * kH * kW products per output.
        float tolerance = 1e-5f * (4 + (float)Math.Min((long)g.InChannels / g.Groups * g.Kernel.H * g.Kernel.W, 1 << 20));

        // What a call may allocate: packed weights (a few copies, channel padding included), both axes' plans, and scratch
        // within ExecutionPlan.ScratchBudget of the data; never more. An axis plan holds a few ints per output cell and kernel
        // tap, and per stride phase that has outputs (at most one per output cell) a phase with its tap lists, a few hundred
        // bytes: 256 bytes per output cell of an axis bounds both (an output 19 198 cells high with stride 65 536 has 19 198
        // phases, 4.5 MB), linear in the output, never in the stride or the dilation.
        long bound = 4 * (ExecutionPlan.ScratchBudget(g.InChannels, model.InputLength.Value, model.OutputLength!.Value) + 8L * model.WeightsLength)
            + 256L * (model.OutputSize.Height + model.OutputSize.Width + g.Kernel.H + g.Kernel.W) + (1 << 20);
        long before = GC.GetAllocatedBytesForCurrentThread();
        conv.Compute(input, g.InputHeight, g.InputWidth, weights, bias, output);
        AssertAllocatedAtMost(before, bound, g, "Compute");
        SpecialValues.AssertSame(expected, output.AsSpan(0, expected.Length), tolerance, $"{g} (Compute)");
        Assert.Equal([0f, 0f], output[expected.Length..]);
        Array.Clear(output);
        before = GC.GetAllocatedBytesForCurrentThread();
        conv.Prepare(weights, bias).Compute(input, g.InputHeight, g.InputWidth, output);
        AssertAllocatedAtMost(before, bound, g, "Prepare and Compute");
        SpecialValues.AssertSame(expected, output.AsSpan(0, expected.Length), tolerance, $"{g} (prepared)");
    }

    private static void AssertAllocatedAtMost(long before, long bound, Geometry g, string what)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated <= bound, $"{g}: {what} allocated {allocated} bytes, more than {bound}");
    }

    private static ConvTranspose2D Create(Geometry g, int threads) =>
        new(g.InChannels, g.OutChannels, (g.Kernel.H, g.Kernel.W), (g.Stride.H, g.Stride.W),
            Padding2D.Asymmetric(g.Padding.Top, g.Padding.Left, g.Padding.Bottom, g.Padding.Right), (g.OutputPadding.H, g.OutputPadding.W),
            (g.Dilation.H, g.Dilation.W), g.Groups)
        {
            Layout = g.ChannelsLast ? TensorLayout.Nhwc : TensorLayout.Nchw,
            MaxDegreeOfParallelism = threads,
        };

    private static void AssertReturnsOrThrows<T>(Func<T> call, T? expected, Geometry g, params string[] parameters) where T : struct
    {
        T result;
        try
        {
            result = call();
        }
        catch (Exception e)
        {
            AssertArgumentException(e, g, parameters);
            Assert.True(expected is null, $"{g}: threw {e.Message}, expected {expected}");
            return;
        }

        Assert.True(expected is not null, $"{g}: returned {result}, expected an ArgumentException");
        Assert.Equal(expected!.Value, result);
    }

    private static void AssertArgumentException(Exception e, Geometry g, params string[] parameters)
    {
        Assert.True(e is ArgumentException, $"{g}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
        var argument = (ArgumentException)e;
        Assert.True(parameters.Contains(argument.ParamName), $"{g}: ParamName {argument.ParamName}, expected one of {string.Join(", ", parameters)}: {e.Message}");
        // "<parameter> is <value>, but <rule>." or "<span> has <n> elements, but <rule>."
        Assert.True(e.Message.StartsWith(argument.ParamName + " is ", StringComparison.Ordinal) || e.Message.StartsWith(argument.ParamName + " has ", StringComparison.Ordinal)
            || e.Message.StartsWith(argument.ParamName + ".", StringComparison.Ordinal), $"{g}: {e.Message}");
        Assert.Contains(", but ", e.Message);
    }

    private static (int Begin, int End) Crop(int input, int stride, int dilation, int kernel, int outputPadding, int output, double fraction)
    {
        // Pads that leave `output` cells of an uncropped axis of (input - 1) * stride + dilation * (kernel - 1) + 1 + outputPadding.
        BigInteger full = (BigInteger)(input - 1) * stride + (BigInteger)dilation * (kernel - 1) + 1 + outputPadding;
        BigInteger crop = full - output;
        if (crop < 0) return (0, 0);
        var begin = (BigInteger)Math.Floor((double)crop * fraction);
        BigInteger end = crop - begin;
        return (Clamp(begin), Clamp(end));
    }

    private static int Clamp(BigInteger value) => value > int.MaxValue ? int.MaxValue : value < int.MinValue ? int.MinValue : (int)value;

    private static int Product(int a, int b) => Clamp((BigInteger)a * b);

    /// <summary>The rules, in BigInteger arithmetic that cannot overflow: what each method must return, or that it must throw.</summary>
    private sealed class Model
    {
        private readonly Geometry _g;

        public Model(Geometry g)
        {
            _g = g;
            var (k, s, d, op) = (g.Kernel, g.Stride, g.Dilation, g.OutputPadding);
            var p = g.Padding;
            bool axes = k.H >= 1 && k.W >= 1 && s.H >= 1 && s.W >= 1 && d.H >= 1 && d.W >= 1 && p.Top >= 0 && p.Left >= 0 && p.Bottom >= 0 && p.Right >= 0
                && op.H >= 0 && op.W >= 0 && (op.H < s.H || op.H < d.H) && (op.W < s.W || op.W < d.W)
                && (BigInteger)d.H * (k.H - 1) + 1 + op.H <= int.MaxValue && (BigInteger)d.W * (k.W - 1) + 1 + op.W <= int.MaxValue;
            bool channels = g.InChannels >= 1 && g.OutChannels >= 1 && g.Groups >= 1 && g.InChannels % g.Groups == 0 && g.OutChannels % g.Groups == 0;
            BigInteger weights = channels && axes ? (BigInteger)g.InChannels * (g.OutChannels / g.Groups) * k.H * k.W : 0;
            LayerIsValid = channels && axes && weights <= Array.MaxLength;
            if (!LayerIsValid) return;
            WeightsLength = (int)weights;

            BigInteger Out(int input, int kernel, int stride, int dilation, int op, int begin, int end) =>
                (BigInteger)(input - 1) * stride - begin - end + (BigInteger)dilation * (kernel - 1) + op + 1;
            BigInteger Uncropped(int input, int kernel, int stride, int dilation, int op) =>
                (BigInteger)(input - 1) * stride + (BigInteger)dilation * (kernel - 1) + 1 + op;
            BigInteger outH = Out(g.InputHeight, k.H, s.H, d.H, op.H, p.Top, p.Bottom), outW = Out(g.InputWidth, k.W, s.W, d.W, op.W, p.Left, p.Right);
            OutputSizeIsValid = g.InputHeight >= 1 && g.InputWidth >= 1 && outH >= 1 && outW >= 1
                && Uncropped(g.InputHeight, k.H, s.H, d.H, op.H) <= int.MaxValue && Uncropped(g.InputWidth, k.W, s.W, d.W, op.W) <= int.MaxValue;
            if (!OutputSizeIsValid) return;
            OutputSize = ((int)outH, (int)outW);
            BigInteger inputSample = (BigInteger)g.InChannels * g.InputHeight * g.InputWidth, outputSample = (BigInteger)g.OutChannels * outH * outW;
            if (inputSample > int.MaxValue || outputSample > int.MaxValue) return;
            InputSample = (int)inputSample;
            OutputSample = (int)outputSample;
            if (g.Batch < 0) return;
            if (g.Batch * inputSample <= int.MaxValue) InputLength = (int)(g.Batch * inputSample);
            if (g.Batch * outputSample <= int.MaxValue) OutputLength = (int)(g.Batch * outputSample);
            Work = (long)BigInteger.Min(long.MaxValue, (BigInteger)g.Batch * g.InChannels * g.InputHeight * g.InputWidth * (g.OutChannels / g.Groups) * k.H * k.W);
        }

        public bool LayerIsValid { get; }

        public int WeightsLength { get; }

        public bool OutputSizeIsValid { get; }

        public (int Height, int Width) OutputSize { get; }

        public int InputSample { get; }

        public int OutputSample { get; }

        /// <summary>The input length of the call's batch when every rule holds (the output's is checked on its own).</summary>
        public int? InputLength { get; }

        /// <inheritdoc cref="InputLength"/>
        public int? OutputLength { get; }

        /// <summary>Multiply-adds of the naive reference.</summary>
        public long Work { get; } = long.MaxValue;

        public float[] Naive(float[] input, float[] weights, float[] bias) => NaiveReference.ConvTranspose2D(input, _g.Batch, _g.InChannels, _g.InputHeight,
            _g.InputWidth, weights, bias, _g.OutChannels, _g.Kernel, _g.Stride, _g.Padding, _g.OutputPadding, _g.Dilation, _g.Groups, _g.ChannelsLast);
    }
}
