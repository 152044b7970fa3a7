using KernelGen;

namespace Digits;

/// <summary>
/// The three layers of the digits generator, each a kernel that KernelGen's source generator writes at compile time for
/// exactly its shape, with the layer's activation fused into the store. Weights are in PyTorch's layout
/// <c>(Cin, Cout, 4, 4)</c> with the batch normalisation already folded in (see <see cref="BatchNormFolding"/>); inputs and
/// outputs are NCHW (<see cref="ActivationLayout"/>), as PyTorch's.
/// </summary>
/// <remarks>The sizes of each layer are compile-time constants in the generated <c>{Method}Shape</c> classes; the
/// training script (<c>training/train_digits.py</c>) declares the same layers.</remarks>
public static partial class DigitsKernels
{
    /// <summary>The memory order of every activation: NCHW, PyTorch's, so the network's output is the image as it is.</summary>
    public const TensorLayout ActivationLayout = TensorLayout.Nchw;

    // Fully unrolled, these layers would be 52 thousand to a million statements, far above the generator's default unroll
    // budget: their spatial and channel loops stay loops. That is the intended outcome, which KernelGen reports as KG0009.
#pragma warning disable KG0009

    /// <summary>
    /// Layer 1 (<c>layers.0</c> + <c>layers.1</c> + ReLU): the latent vector and the digit's one-hot code, read as a 1x1
    /// image with 42 channels, to 4x4x64; bias (folded BN) and ReLU.
    /// </summary>
    [GeneratedConvTranspose2D(inChannels: 42, outChannels: 64, inputHeight: 1, inputWidth: 1, kernelSize: 4,
        Stride = 1, Padding = 0, Layout = ActivationLayout, Activation = FusedActivation.Relu)]
    public static partial void Project(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>Layer 2 (<c>layers.3</c> + <c>layers.4</c> + ReLU): 4x4x64 to 8x8x32; bias (folded BN) and ReLU.</summary>
    [GeneratedConvTranspose2D(inChannels: 64, outChannels: 32, inputHeight: 4, inputWidth: 4, kernelSize: 4,
        Stride = 2, Padding = 1, Layout = ActivationLayout, Activation = FusedActivation.Relu)]
    public static partial void UpsampleTo8(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

    /// <summary>Layer 3 (<c>layers.6</c> + tanh): 8x8x32 to the 16x16 grey image; bias and tanh (no normalisation on the output layer).</summary>
    [GeneratedConvTranspose2D(inChannels: 32, outChannels: 1, inputHeight: 8, inputWidth: 8, kernelSize: 4,
        Stride = 2, Padding = 1, Layout = ActivationLayout, Activation = FusedActivation.Tanh)]
    public static partial void ToImage(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

#pragma warning restore KG0009
}
