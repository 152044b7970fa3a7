// Kernels in every kind of type a user may declare them in, built by the real compiler with the generator as an
// analyzer. Two of them once shared a generated file name (Outer_1.Inner.K and Outer<T>.Inner.K), which made the
// generator throw and every kernel of the project lose its body; ContainerKernelTests runs each.
using KernelGen;

#pragma warning disable CA1050 // a type in the global namespace is the point
#pragma warning disable IDE1006, CS8981 // a lower-case type name that differs from another only in case is the point

public static partial class GlobalNamespaceKernels
{
    [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
    public static partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);
}

public static partial class globalnamespacekernels
{
    [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
    public static partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);
}

namespace KernelGen.Consumer.Tests
{
    public partial class Outer_1
    {
        public static partial class Inner
        {
            [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
            public static partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);
        }
    }

    public partial class Outer_1<T>
    {
        public static partial class Inner
        {
            [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
            public static partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);
        }
    }

    public partial record LayerRecord(string Name)
    {
        [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
        public static partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);
    }

    public partial record struct LayerRecordStruct(int Id)
    {
        [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
        public readonly partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);
    }

    public partial struct LayerStruct
    {
        [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
        internal static partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);
    }

    public static partial class ClassicPartial
    {
        // No accessibility modifier: a classic partial method, whose calls the compiler removes if it has no body.
        [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
        static partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

        public static void Run(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output) => Seed(input, weights, output);
    }
}
