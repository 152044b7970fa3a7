using KernelGen;

namespace KernelGen.Consumer.Tests;

/// <summary>The kernels of the issue, declared as a user would.</summary>
public static partial class Upsamplers
{
    /// <summary>The course example: 1 -> 1 channel, 2x2 input, 3x3 kernel, stride 2, padding 1, output padding 1: a 4x4 output.</summary>
    [GeneratedConvTranspose2D(inChannels: 1, outChannels: 1, inputHeight: 2, inputWidth: 2, kernelSize: 3,
        Stride = 2, Padding = 1, OutputPadding = 1)]
    public static partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

#pragma warning disable KG0009 // Above the default unroll budget: its spatial loops stay loops.
    /// <summary>The benchmark's small_fixed layer: 4 -> 4 channels, 8x8 -> 16x16.</summary>
    [GeneratedConvTranspose2D(inChannels: 4, outChannels: 4, inputHeight: 8, inputWidth: 8, kernelSize: 3, Stride = 2, Padding = 1, OutputPadding = 1)]
    public static partial void SmallFixed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);
#pragma warning restore KG0009

#pragma warning disable KG0009 // A real layer: far above the default unroll budget, so its spatial loops stay loops (by design).
    /// <summary>The U-Net/DCGAN-style layer: 128 -> 64 channels, 16x16 -> 32x32, bias and ReLU fused.</summary>
    [GeneratedConvTranspose2D(inChannels: 128, outChannels: 64, inputHeight: 16, inputWidth: 16, kernelSize: 4,
        Stride = 2, Padding = 1, Activation = FusedActivation.Relu)]
    public static partial void Up3(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);
#pragma warning restore KG0009
}

/// <summary>A kernel nested two levels deep, internal and on an instance method of a generic struct.</summary>
public partial class Outer
{
    internal partial struct Holder<T>
    {
        public T Tag;

        [GeneratedConvTranspose2D(inChannels: 2, outChannels: 3, inputHeight: 3, inputWidth: 5, kernelSize: 2,
            Stride = 2, Layout = TensorLayout.Nhwc, Activation = FusedActivation.LeakyRelu, LeakyReluSlope = 0.2f)]
        internal partial void Nested(ReadOnlySpan<float> source, ReadOnlySpan<float> filter, ReadOnlySpan<float> offsets, Span<float> destination);
    }
}

/// <summary>Kernels that would need the most stack: NHWC with many input channels, whose weights each call packs per phase.</summary>
public static partial class StackKernels
{
#pragma warning disable KG0009 // A real layer: its spatial loops stay loops.
    /// <summary>The benchmark's unet_up_nhwc layer: 128 -> 64 channels, kernel 2, stride 2, NHWC.</summary>
    [GeneratedConvTranspose2D(128, 64, 32, 32, 2, Stride = 2, Layout = TensorLayout.Nhwc)]
    public static partial void WideNhwc(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    /// <summary>The benchmark's dcgan layer in NHWC: 128 -> 64 channels, kernel 4, stride 2, padding 1 (4 taps per phase).</summary>
    [GeneratedConvTranspose2D(128, 64, 16, 16, 4, Stride = 2, Padding = 1, Layout = TensorLayout.Nhwc)]
    public static partial void DcganNhwc(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);
#pragma warning restore KG0009
}
