using CsCheck;
using KernelGen.Kernels;

namespace KernelGen.Tests;

/// <summary>
/// NaN and infinities in the input, the weights and the bias give PyTorch's result on every kernel and every vector width:
/// only (input cell, tap) pairs that exist are multiplied, so a weight of +Inf never meets the zero border (0 x Inf would
/// be NaN where PyTorch has a finite value), and the activations keep NaN as PyTorch does. The golden outputs come from
/// PyTorch itself (<c>Fixtures/special_values.py</c>); the random cases are checked against the naive reference, which
/// the golden cases check too. CI reruns all of this with AVX-512, AVX2 and every intrinsic switched off.
/// </summary>
[Collection(ProcessWideSettingsCollection.Name)]
public class SpecialValueTests
{
    /// <summary>Every path a call may take: the tap-list threshold at its default or forced off, at each vector width, one or two threads.</summary>
    public static TheoryData<string, int?, bool> GoldenCasesOnEveryPath
    {
        get
        {
            var data = new TheoryData<string, int?, bool>();
            foreach (var c in GoldenCase.All)
            {
                foreach (int? lanes in new int?[] { 1, 4, 8, null })
                {
                    data.Add(c.Name, lanes, false);
                    data.Add(c.Name, lanes, true);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(GoldenCasesOnEveryPath))]
    public void GoldenCasesMatchPyTorch(string name, int? lanes, bool simdOnly)
    {
        var c = GoldenCase.Named(name);
        var options = Force.Lanes(lanes, simdOnly ? Force.SimdKernels() : null);
        foreach (int threads in new[] { 1, 2 })
        {
            var conv = c.Create(threads).With(options);
            var output = new float[c.Output.Length];
            conv.Compute(c.Input, c.InputHeight, c.InputWidth, c.Weights, c.Bias, output);
            SpecialValues.AssertSame(c.Output, output, c.Tolerance, $"{c} (Compute, {threads} threads)");
            Array.Fill(output, 42f);
            conv.Prepare(c.Weights, c.Bias).Compute(c.Input, c.InputHeight, c.InputWidth, output);
            SpecialValues.AssertSame(c.Output, output, c.Tolerance, $"{c} (prepared, {threads} threads)");
            // The channel kernel's fused relayout in chunks of one or a few rows (NCHW layers with many channels).
            Array.Fill(output, 42f);
            c.Create(threads).With(Force.RelayoutChunk(17, options)).Compute(c.Input, c.InputHeight, c.InputWidth, c.Weights, c.Bias, output);
            SpecialValues.AssertSame(c.Output, output, c.Tolerance, $"{c} (small chunks, {threads} threads)");
        }
    }

    /// <summary>The naive reference, the oracle of the random cases here and in the generator's tests, agrees with PyTorch on special values.</summary>
    [Theory]
    [MemberData(nameof(GoldenCase.Names), MemberType = typeof(GoldenCase))]
    public void TheNaiveReferenceMatchesPyTorch(string name)
    {
        var c = GoldenCase.Named(name);
        SpecialValues.AssertSame(c.Output, c.Naive(), c.Tolerance, c.Name);
    }

    /// <summary>
    /// The repro: ones in, +Inf at weight 0, kernel 3, padding 1. PyTorch's output is +Inf wherever tap 0 lands on an
    /// input and finite elsewhere (the last row and column), with no NaN, on the 4x4 input (the scalar kernel) and on the
    /// 64x64 one (the SIMD width kernel, which used to give 127 NaNs there).
    /// </summary>
    [Theory]
    [InlineData("inf-weight-4x4", 4)]
    [InlineData("inf-weight-64x64", 64)]
    public void AnInfiniteWeightGivesNoNaNOnTheBorder(string name, int size)
    {
        var c = GoldenCase.Named(name);
        var output = new float[c.Output.Length];
        c.Create().Compute(c.Input, c.InputHeight, c.InputWidth, c.Weights, c.Bias, output);
        Assert.DoesNotContain(output, float.IsNaN);
        Assert.Equal((size - 1) * (size - 1), output.Count(float.IsPositiveInfinity));
        SpecialValues.AssertSame(c.Output, output, c.Tolerance, c.Name);
    }

    /// <summary>Random layers with a few special values in the input, the weights or the bias, against the naive reference, at each width.</summary>
    [Theory]
    [MemberData(nameof(Force.AllWidths), MemberType = typeof(Force))]
    public void RandomSpecialValuesMatchTheNaiveReference(int? lanes)
    {
        Gen.Select(ConvCase.Generator, Gen.Int[0, 3], Gen.Int[0, 2], Gen.Int[0, 2], Gen.Bool).Sample((c, inInput, inWeights, inBias, simdOnly) =>
        {
            var random = new Random(c.Seed);
            float[] input = c.Input(), weights = c.Weights();
            float[]? bias = c.Bias();
            SpecialValues.Sprinkle(input, inInput, random);
            SpecialValues.Sprinkle(weights, inWeights, random);
            if (bias is not null) SpecialValues.Sprinkle(bias, inBias, random);
            var expected = NaiveReference.ConvTranspose2D(input, c.Batch, c.InChannels, c.InputHeight, c.InputWidth, weights, bias, c.OutChannels,
                c.Kernel, c.Stride, c.Padding, c.OutputPadding, c.Dilation, c.Groups, c.ChannelsLast, c.Activation, c.LeakyReluSlope);
            var output = new float[expected.Length];
            c.Create().With(Force.Lanes(lanes, simdOnly ? Force.SimdKernels() : null)).Compute(input, c.InputHeight, c.InputWidth, weights, bias, output);
            SpecialValues.AssertSame(expected, output, c.Tolerance, c.ToString());
        }, iter: 150, threads: 1);
    }

    /// <summary>
    /// The activations on NaN, the infinities and -0, by both the vector loop and the scalar tail of
    /// <see cref="Activations.Apply"/> and by <see cref="Activations.Activate"/>, against PyTorch 1.13's values:
    /// relu(NaN) = NaN (x86's maxps alone would give 0), relu(-0) = -0, sigmoid(+Inf) = 1, sigmoid(-Inf) = 0, tanh(±Inf) = ±1,
    /// leaky_relu(-Inf, 0) = NaN (-Inf * 0).
    /// </summary>
    [Theory]
    [InlineData(FusedActivation.Relu, 0.01f, new[] { float.NaN, 0f, float.PositiveInfinity, -0f, 0f, 2f })]
    [InlineData(FusedActivation.LeakyRelu, 0.2f, new[] { float.NaN, float.NegativeInfinity, float.PositiveInfinity, -0f, -0.2f, 2f })]
    [InlineData(FusedActivation.LeakyRelu, 0f, new[] { float.NaN, float.NaN, float.PositiveInfinity, -0f, -0f, 2f })]
    [InlineData(FusedActivation.Sigmoid, 0.01f, new[] { float.NaN, 0f, 1f, 0.5f, 0.268941432f, 0.880797088f })]
    [InlineData(FusedActivation.Tanh, 0.01f, new[] { float.NaN, -1f, 1f, -0f, -0.761594176f, 0.964027584f })]
    public void ActivationsKeepPyTorchsSpecialValues(FusedActivation activation, float slope, float[] expected)
    {
        float[] x = [float.NaN, float.NegativeInfinity, float.PositiveInfinity, -0f, -1f, 2f];
        for (int copies = 1; copies <= 8; copies *= 2)
        {
            // Long enough for the vector loop, with a scalar tail.
            float[] values = Enumerable.Repeat(x, copies * 4).SelectMany(v => v).Append(float.NaN).ToArray();
            Activations.Apply(values, activation, slope);
            for (int i = 0; i < values.Length - 1; i++)
                AssertBitwiseOrClose(expected[i % x.Length], values[i], $"{activation}({x[i % x.Length]}) at {i}");
            Assert.True(float.IsNaN(values[^1]));
        }

        for (int i = 0; i < x.Length; i++)
            AssertBitwiseOrClose(expected[i], Activations.Activate(x[i], activation, slope), $"{activation}({x[i]})");
    }

    private static void AssertBitwiseOrClose(float expected, float actual, string what)
    {
        bool same = float.IsNaN(expected) ? float.IsNaN(actual)
            : expected == 0 ? BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual)
            : float.IsInfinity(expected) ? actual == expected
            : Math.Abs(expected - actual) <= 1e-6f * Math.Max(1, Math.Abs(expected));
        Assert.True(same, $"{what} = {actual}, expected {expected}");
    }
}
