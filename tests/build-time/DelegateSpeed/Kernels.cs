using KernelGen;
namespace DelegateSpeed;
public static partial class K
{
    [GeneratedConvTranspose2D(inChannels: 100, outChannels: 512, inputHeight: 1, inputWidth: 1, kernelSize: 4, Stride = 1, Padding = 0, Layout = TensorLayout.Nchw, Activation = FusedActivation.Relu)]
    public static partial void L1(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);
    [GeneratedConvTranspose2D(inChannels: 512, outChannels: 256, inputHeight: 4, inputWidth: 4, kernelSize: 4, Stride = 2, Padding = 1, Layout = TensorLayout.Nchw, Activation = FusedActivation.Relu)]
    public static partial void L2(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);
    [GeneratedConvTranspose2D(inChannels: 256, outChannels: 128, inputHeight: 8, inputWidth: 8, kernelSize: 4, Stride = 2, Padding = 1, Layout = TensorLayout.Nchw, Activation = FusedActivation.Relu)]
    public static partial void L3(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);
    [GeneratedConvTranspose2D(inChannels: 128, outChannels: 64, inputHeight: 16, inputWidth: 16, kernelSize: 4, Stride = 2, Padding = 1, Layout = TensorLayout.Nchw, Activation = FusedActivation.Relu)]
    public static partial void L4(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);
    [GeneratedConvTranspose2D(inChannels: 64, outChannels: 3, inputHeight: 32, inputWidth: 32, kernelSize: 4, Stride = 2, Padding = 1, Layout = TensorLayout.Nchw, Activation = FusedActivation.Tanh)]
    public static partial void L5(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);
}
