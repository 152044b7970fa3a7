using KernelGen;

namespace KernelGen.Consumer.Tests;

/// <summary>1-D kernels declared as a user would, compiled by the real compiler with the generator.</summary>
public static partial class Upsamplers1D
{
    /// <summary>The course example's second row as a sequence: [2, 1, 3, 2] with the filter [2, 0, 1], stride 2, padding 1, output padding 1.</summary>
    [GeneratedConvTranspose1D(inChannels: 1, outChannels: 1, inputLength: 4, kernelSize: 3, Stride = 2, Padding = 1, OutputPadding = 1)]
    public static partial void Row(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

#pragma warning disable KG0009 // A real layer: above the default unroll budget, so its loops stay loops (by design).
    /// <summary>A HiFi-GAN-style up-sampling layer, reduced: 32 -> 16 channels, length 16 -> 128, kernel 16, stride 8, padding 4, leaky ReLU fused.</summary>
    [GeneratedConvTranspose1D(inChannels: 32, outChannels: 16, inputLength: 16, kernelSize: 16, Stride = 8, Padding = 4,
        Activation = FusedActivation.LeakyRelu, LeakyReluSlope = 0.1f)]
    public static partial void Vocoder(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>The same layer channels-last (NLC).</summary>
    [GeneratedConvTranspose1D(inChannels: 32, outChannels: 16, inputLength: 16, kernelSize: 16, Stride = 8, Padding = 4,
        Layout = TensorLayout.Nlc, Activation = FusedActivation.LeakyRelu, LeakyReluSlope = 0.1f)]
    public static partial void VocoderNlc(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>
    /// A layer with 2 MB of weights, beyond what the width kernels take: the tap-vector kernel, which prefetches through and
    /// copies into buffers of the KernelGen library (GeneratedKernelSupport) on its 512- and 256-bit paths. 11 positions:
    /// more than one position tile on every path; 256 input channels: four blocks.
    /// </summary>
    [GeneratedConvTranspose1D(inChannels: 256, outChannels: 128, inputLength: 11, kernelSize: 16, Stride = 8, Padding = 4)]
    public static partial void VocoderWide(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);
#pragma warning restore KG0009
}
