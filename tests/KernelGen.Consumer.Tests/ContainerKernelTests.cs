namespace KernelGen.Consumer.Tests;

/// <summary>Every kernel of Containers.cs computes the course example (a kernel without a body would leave zeros or throw).</summary>
public class ContainerKernelTests
{
    private delegate void Kernel(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    public static TheoryData<string> Names => [.. Kernels.Keys];

    private static readonly Dictionary<string, Kernel> Kernels = new()
    {
        ["global namespace"] = GlobalNamespaceKernels.Seed,
        ["global namespace, same name in other case"] = globalnamespacekernels.Seed,
        ["Outer_1.Inner"] = Outer_1.Inner.Seed,
        ["Outer_1<T>.Inner"] = Outer_1<int>.Inner.Seed,
        ["record"] = LayerRecord.Seed,
        ["record struct, readonly instance method"] = (input, weights, output) => new LayerRecordStruct(1).Seed(input, weights, output),
        ["struct, internal"] = LayerStruct.Seed,
        ["classic partial method"] = ClassicPartial.Run,
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void ComputesTheCourseExample(string name)
    {
        var output = new float[16];
        Kernels[name]([2, 1, 3, 2], [1, 2, 1, 2, 0, 1, 0, 2, 1], output);
        Assert.Equal([0, 4, 0, 1, 10, 7, 6, 3, 0, 7, 0, 2, 6, 3, 4, 2], output);
    }
}
