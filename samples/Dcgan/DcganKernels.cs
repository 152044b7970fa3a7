using KernelGen;

namespace Dcgan;

/// <summary>
/// The five layers of the DCGAN generator, each a kernel that KernelGen's source generator writes at compile time for
/// exactly its shape, with the layer's activation fused into the store. Weights are in PyTorch's layout
/// <c>(Cin, Cout, 4, 4)</c> with the batch normalisation already folded in (see <see cref="BatchNormFolding"/>); inputs and
/// outputs are in <see cref="ActivationLayout"/>.
/// </summary>
/// <remarks>The sizes of each layer are compile-time constants in the generated <c>{Method}Shape</c> classes.</remarks>
public static partial class DcganKernels
{
    /// <summary>
    /// The memory order of every activation of the network, the generated kernels' and the runtime path's alike: NCHW,
    /// the layout the generated kernels of these five shapes are fastest at (see <see cref="DcganNetwork"/> for the
    /// measurements). One constant, so that the choice can be measured again by changing one line.
    /// </summary>
    public const TensorLayout ActivationLayout = TensorLayout.Nchw;

    // Real layers are far above the generator's default unroll budget: their spatial and channel loops stay loops and
    // only the taps are unrolled. That is the intended outcome, which the generator reports as warning KG0009.
#pragma warning disable KG0009

    /// <summary>Layer 1: the latent vector, read as a 1x1 image with 100 channels, to 4x4x512; bias (folded BN) and ReLU.</summary>
    [GeneratedConvTranspose2D(inChannels: 100, outChannels: 512, inputHeight: 1, inputWidth: 1, kernelSize: 4,
        Stride = 1, Padding = 0, Layout = ActivationLayout, Activation = FusedActivation.Relu)]
    public static partial void ProjectLatent(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>Layer 2: 4x4x512 to 8x8x256; bias (folded BN) and ReLU.</summary>
    [GeneratedConvTranspose2D(inChannels: 512, outChannels: 256, inputHeight: 4, inputWidth: 4, kernelSize: 4,
        Stride = 2, Padding = 1, Layout = ActivationLayout, Activation = FusedActivation.Relu)]
    public static partial void UpsampleTo8(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>Layer 3: 8x8x256 to 16x16x128; bias (folded BN) and ReLU.</summary>
    [GeneratedConvTranspose2D(inChannels: 256, outChannels: 128, inputHeight: 8, inputWidth: 8, kernelSize: 4,
        Stride = 2, Padding = 1, Layout = ActivationLayout, Activation = FusedActivation.Relu)]
    public static partial void UpsampleTo16(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>Layer 4: 16x16x128 to 32x32x64; bias (folded BN) and ReLU.</summary>
    [GeneratedConvTranspose2D(inChannels: 128, outChannels: 64, inputHeight: 16, inputWidth: 16, kernelSize: 4,
        Stride = 2, Padding = 1, Layout = ActivationLayout, Activation = FusedActivation.Relu)]
    public static partial void UpsampleTo32(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>Layer 5: 32x32x64 to the 64x64 RGB image; bias and tanh (no normalisation on the output layer).</summary>
    [GeneratedConvTranspose2D(inChannels: 64, outChannels: 3, inputHeight: 32, inputWidth: 32, kernelSize: 4,
        Stride = 2, Padding = 1, Layout = ActivationLayout, Activation = FusedActivation.Tanh)]
    public static partial void ToImage(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

#pragma warning restore KG0009
}
