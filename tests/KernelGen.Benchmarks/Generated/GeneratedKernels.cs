namespace KernelGen.Benchmarks.Generated;

/// <summary>
/// One generated kernel per benchmark shape, declared exactly as a user declares one. Compiled only when the project is
/// built with <c>BenchmarkGeneratedKernels=true</c> (the default when the generator exists). The attribute arguments must be
/// constants, so they repeat <see cref="Shapes.ShapeTable"/>; <see cref="GeneratedEngine"/> checks at run time that every
/// declaration matches its table entry, so the two cannot drift apart silently.
/// </summary>
// Every layer of the suite but the course example is above the default unroll budget: its spatial loops stay loops (by design).
#pragma warning disable KG0009
internal static partial class GeneratedKernels
{
    [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
    public static partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    [GeneratedConvTranspose2D(4, 4, 8, 8, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
    public static partial void SmallFixed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    [GeneratedConvTranspose2D(16, 8, 64, 64, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
    public static partial void GameUp(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    [GeneratedConvTranspose2D(1, 1, 256, 256, 4, Stride = 2, Padding = 1)]
    public static partial void MonoUp(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    [GeneratedConvTranspose2D(128, 64, 32, 32, 2, Stride = 2)]
    public static partial void UnetUp(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    [GeneratedConvTranspose2D(128, 64, 16, 16, 4, Stride = 2, Padding = 1)]
    public static partial void Dcgan(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    [GeneratedConvTranspose2D(32, 32, 64, 64, 4, Stride = 2, Padding = 1, Groups = 32)]
    public static partial void Depthwise(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    [GeneratedConvTranspose2D(32, 32, 32, 32, 3, Stride = 1, Padding = 1)]
    public static partial void Stride1(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    [GeneratedConvTranspose2D(128, 64, 32, 32, 2, Stride = 2, Layout = TensorLayout.Nhwc)]
    public static partial void UnetUpNhwc(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    [GeneratedConvTranspose1D(512, 256, 32, 16, Stride = 8, Padding = 4)]
    public static partial void VocoderUp(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    [GeneratedConvTranspose1D(128, 64, 2048, 4, Stride = 2, Padding = 1)]
    public static partial void VocoderUp2(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    [GeneratedConvTranspose3D(64, 32, 16, 16, 16, 2, Stride = 2)]
    public static partial void VolumeUp(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    [GeneratedConvTranspose3D(32, 16, 8, 8, 8, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
    public static partial void VolumeK3(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);
}
#pragma warning restore KG0009
