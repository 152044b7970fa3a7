using KernelGen;

namespace KernelGen.Consumer.Tests;

/// <summary>3-D kernels declared as a user would, compiled by the real compiler with the generator.</summary>
public static partial class Volumes3D
{
    /// <summary>
    /// The course example stacked in depth: input slices x and -x, filter slices f and 2f, stride 2, padding (0, 1, 1), output
    /// padding (0, 1, 1): one (input slice, depth tap) pair per output slice.
    /// </summary>
    [GeneratedConvTranspose3D(inChannels: 1, outChannels: 1, inputDepth: 2, inputHeight: 2, inputWidth: 2, kernelSize: 3, KernelDepth = 2, Stride = 2,
        PaddingHeight = 1, PaddingWidth = 1, OutputPaddingHeight = 1, OutputPaddingWidth = 1)]
    public static partial void Course(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    /// <summary>The same, channels-last (NDHWC; with one channel the same memory).</summary>
    [GeneratedConvTranspose3D(1, 1, 2, 2, 2, 3, KernelDepth = 2, Stride = 2, PaddingHeight = 1, PaddingWidth = 1, OutputPaddingHeight = 1, OutputPaddingWidth = 1,
        Layout = TensorLayout.Ndhwc)]
    public static partial void CourseNdhwc(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    /// <summary>
    /// The course example with three filter slices f, 2f, 3f and padding 1 on every axis: the second output slice takes two pairs
    /// (set, then add and activate), so the generated kernel's accumulation across depth taps is checked by hand.
    /// </summary>
    [GeneratedConvTranspose3D(1, 1, 2, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1, Activation = FusedActivation.Relu)]
    public static partial void CourseTwoPairs(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

#pragma warning disable KG0009 // Real layers: above the default unroll budget, so their loops stay loops (by design).
    /// <summary>A 3-D U-Net decoder step, reduced: 16 -> 8 channels, 6^3 -> 12^3, kernel 2, stride 2, ReLU fused.</summary>
    [GeneratedConvTranspose3D(inChannels: 16, outChannels: 8, inputDepth: 6, inputHeight: 6, inputWidth: 6, kernelSize: 2, Stride = 2, Activation = FusedActivation.Relu)]
    public static partial void VolumeUp(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>The same layer channels-last (NDHWC).</summary>
    [GeneratedConvTranspose3D(16, 8, 6, 6, 6, 2, Stride = 2, Layout = TensorLayout.Ndhwc, Activation = FusedActivation.Relu)]
    public static partial void VolumeUpNdhwc(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>Kernel 3, stride 2, padding 1, output padding 1 (volume_k3, reduced): slices of one and of two pairs, leaky ReLU after the last.</summary>
    [GeneratedConvTranspose3D(8, 4, 4, 4, 4, 3, Stride = 2, Padding = 1, OutputPadding = 1, Activation = FusedActivation.LeakyRelu, LeakyReluSlope = 0.1f)]
    public static partial void VolumeK3(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>The same layer channels-last (NDHWC).</summary>
    [GeneratedConvTranspose3D(8, 4, 4, 4, 4, 3, Stride = 2, Padding = 1, OutputPadding = 1, Layout = TensorLayout.Ndhwc, Activation = FusedActivation.LeakyRelu, LeakyReluSlope = 0.1f)]
    public static partial void VolumeK3Ndhwc(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    // PyTorch 1.13's conv_transpose3d on the cases of tests/KernelGen.Tests/Fixtures/conv_transpose3d.json, declared in ONNX's pad order.

    /// <summary>Fixture volume_up_small.</summary>
    [GeneratedConvTranspose3D(4, 2, 3, 4, 5, 2, Stride = 2)]
    public static partial void VolumeUpSmall(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>Fixture volume_k3.</summary>
    [GeneratedConvTranspose3D(3, 2, 3, 3, 3, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
    public static partial void VolumeK3Small(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>Fixture anisotropic.</summary>
    [GeneratedConvTranspose3D(2, 3, 2, 3, 4, 3, KernelHeight = 1, KernelWidth = 2, StrideDepth = 1, StrideHeight = 2, StrideWidth = 3,
        PaddingFront = 1, PaddingLeft = 1, OutputPaddingHeight = 1, OutputPaddingWidth = 2)]
    public static partial void Anisotropic(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    /// <summary>Fixture grouped_dilated.</summary>
    [GeneratedConvTranspose3D(4, 6, 3, 2, 3, 2, KernelHeight = 3, StrideDepth = 2, StrideHeight = 1, StrideWidth = 2, PaddingTop = 1, PaddingBack = 1, PaddingBottom = 1,
        OutputPaddingDepth = 1, OutputPaddingWidth = 1, DilationDepth = 2, DilationWidth = 2, Groups = 2)]
    public static partial void GroupedDilated(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>Fixture depthwise.</summary>
    [GeneratedConvTranspose3D(3, 3, 4, 3, 3, 4, KernelHeight = 2, KernelWidth = 3, StrideDepth = 3, StrideHeight = 2, StrideWidth = 1,
        PaddingFront = 2, PaddingLeft = 1, PaddingBack = 1, PaddingRight = 1, OutputPaddingDepth = 2, OutputPaddingHeight = 1, Groups = 3)]
    public static partial void Depthwise(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    /// <summary>Fixture many_channels.</summary>
    [GeneratedConvTranspose3D(16, 24, 2, 3, 3, 3, KernelDepth = 2, Stride = 2, PaddingHeight = 1, PaddingWidth = 1, OutputPaddingHeight = 1, OutputPaddingWidth = 1)]
    public static partial void ManyChannels(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);
#pragma warning restore KG0009
}
