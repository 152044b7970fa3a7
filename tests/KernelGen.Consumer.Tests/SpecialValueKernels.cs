using KernelGen;

namespace KernelGen.Consumer.Tests;

/// <summary>
/// Kernels for the PyTorch golden cases of <c>tests/KernelGen.Tests/Fixtures/special_values.txt</c> (named in each comment):
/// NaN and infinities through the width paths (plain, stride-2 pairs, blocks of channels) and the channel paths (NHWC, NCHW).
/// </summary>
public static partial class SpecialValueKernels
{
#pragma warning disable KG0009 // Above the default unroll budget: the spatial loops stay loops, by design.
    /// <summary>inf-weight-64x64: the repro (ones in, +Inf at weight 0).</summary>
    [GeneratedConvTranspose2D(1, 1, 64, 64, 3, Padding = 1)]
    public static partial void InfWeight64(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    /// <summary>stride2-inf-weights.</summary>
    [GeneratedConvTranspose2D(2, 1, 20, 40, 4, Stride = 2, Padding = 1, Activation = FusedActivation.Relu)]
    public static partial void Stride2Relu(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>stride2-special-inputs.</summary>
    [GeneratedConvTranspose2D(2, 1, 20, 40, 4, Stride = 2, Padding = 1, Activation = FusedActivation.LeakyRelu, LeakyReluSlope = 0.2f)]
    public static partial void Stride2LeakyRelu(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>blocked-special-inputs.</summary>
    [GeneratedConvTranspose2D(3, 8, 10, 36, 3, Stride = 2, Padding = 1, OutputPadding = 1, Activation = FusedActivation.Sigmoid)]
    public static partial void EightChannelsSigmoid(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>channel-nhwc-special-inputs.</summary>
    [GeneratedConvTranspose2D(4, 16, 9, 9, 4, Stride = 2, Padding = 1, Layout = TensorLayout.Nhwc)]
    public static partial void Nhwc(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>channel-nhwc-inf-weights.</summary>
    [GeneratedConvTranspose2D(4, 16, 9, 9, 4, Stride = 2, Padding = 1, Layout = TensorLayout.Nhwc, Activation = FusedActivation.Relu)]
    public static partial void NhwcRelu(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>channel-nchw-inf-weight.</summary>
    [GeneratedConvTranspose2D(8, 12, 7, 6, 3, Padding = 1, Activation = FusedActivation.Sigmoid)]
    public static partial void TwelveChannelsSigmoid(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    public delegate void WithBias(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>The golden case each kernel computes, by the case's name.</summary>
    public static readonly Dictionary<string, WithBias> ByCase = new()
    {
        ["inf-weight-64x64"] = (x, w, _, y) => InfWeight64(x, w, y),
        ["stride2-inf-weights"] = Stride2Relu,
        ["stride2-special-inputs"] = Stride2LeakyRelu,
        ["blocked-special-inputs"] = EightChannelsSigmoid,
        ["channel-nhwc-special-inputs"] = Nhwc,
        ["channel-nhwc-inf-weights"] = NhwcRelu,
        ["channel-nchw-inf-weight"] = TwelveChannelsSigmoid,
    };
}
#pragma warning restore KG0009
