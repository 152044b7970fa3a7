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
    private static readonly LibraryLayer s_ProjectLatent = new(100, 512, 1, 1, 0, FusedActivation.Relu);

    /// <summary>The layer <c>ProjectLatent</c>, on the library kernel.</summary>
    public static void ProjectLatent(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output) =>
        s_ProjectLatent.Compute(input, weights, bias, output);

    /// <summary>The sizes of <c>ProjectLatent</c> (what the generator emits beside a delegating method too).</summary>
    public static class ProjectLatentShape
    {
        /// <summary>Input channels.</summary>
        public const int InChannels = 100;
        /// <summary>Output channels.</summary>
        public const int OutChannels = 512;
        /// <summary>Output height.</summary>
        public const int OutputHeight = 4;
        /// <summary>Elements of one input sample.</summary>
        public const int InputLength = 100;
        /// <summary>Elements of one output sample.</summary>
        public const int OutputLength = 8192;
    }

    /// <summary>Layer 2: 4x4x512 to 8x8x256; bias (folded BN) and ReLU.</summary>
    private static readonly LibraryLayer s_UpsampleTo8 = new(512, 256, 4, 2, 1, FusedActivation.Relu);

    /// <summary>The layer <c>UpsampleTo8</c>, on the library kernel.</summary>
    public static void UpsampleTo8(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output) =>
        s_UpsampleTo8.Compute(input, weights, bias, output);


    /// <summary>Layer 3: 8x8x256 to 16x16x128; bias (folded BN) and ReLU.</summary>
    private static readonly LibraryLayer s_UpsampleTo16 = new(256, 128, 8, 2, 1, FusedActivation.Relu);

    /// <summary>The layer <c>UpsampleTo16</c>, on the library kernel.</summary>
    public static void UpsampleTo16(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output) =>
        s_UpsampleTo16.Compute(input, weights, bias, output);


    /// <summary>Layer 4: 16x16x128 to 32x32x64; bias (folded BN) and ReLU.</summary>
    private static readonly LibraryLayer s_UpsampleTo32 = new(128, 64, 16, 2, 1, FusedActivation.Relu);

    /// <summary>The layer <c>UpsampleTo32</c>, on the library kernel.</summary>
    public static void UpsampleTo32(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output) =>
        s_UpsampleTo32.Compute(input, weights, bias, output);


    /// <summary>Layer 5: 32x32x64 to the 64x64 RGB image; bias and tanh (no normalisation on the output layer).</summary>
    private static readonly LibraryLayer s_ToImage = new(64, 3, 32, 2, 1, FusedActivation.Tanh);

    /// <summary>The layer <c>ToImage</c>, on the library kernel.</summary>
    public static void ToImage(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output) =>
        s_ToImage.Compute(input, weights, bias, output);

    /// <summary>The sizes of <c>ToImage</c> (what the generator emits beside a delegating method too).</summary>
    public static class ToImageShape
    {
        /// <summary>Input channels.</summary>
        public const int InChannels = 64;
        /// <summary>Output channels.</summary>
        public const int OutChannels = 3;
        /// <summary>Output height.</summary>
        public const int OutputHeight = 64;
        /// <summary>Elements of one input sample.</summary>
        public const int InputLength = 65536;
        /// <summary>Elements of one output sample.</summary>
        public const int OutputLength = 12288;
    }

#pragma warning restore KG0009
}
