namespace KernelGen.Generator.Tests;

/// <summary>The emitted source of representative kernels, pinned by the snapshots in <c>Snapshots/</c>.</summary>
public class SnapshotTests
{
    /// <summary>The generated source of one declaration in <c>Snapshots.Layers</c>; <paramref name="delegation"/>: the project's <c>KernelGenDelegation</c>.</summary>
    internal static string Generate(string declaration, string? delegation = null)
    {
        string source = "using System;\nusing KernelGen;\n\nnamespace Snapshots;\n\npublic static partial class Layers\n{\n" + declaration + "\n}\n";
        var (result, output) = GeneratorHarness.Run(GeneratorHarness.Compile(source), delegation: delegation);
        Assert.Empty(result.Diagnostics);
        Assert.Null(result.Results.Single().Exception);
        var problems = output.GetDiagnostics().Where(d => d.Severity >= Microsoft.CodeAnalysis.DiagnosticSeverity.Info).ToArray();
        Assert.True(problems.Length == 0, string.Join("\n", problems));
        return result.Results.Single().GeneratedSources.Single().SourceText.ToString();
    }

    [Fact]
    public void CourseExample() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose2D(inChannels: 1, outChannels: 1, inputHeight: 2, inputWidth: 2, kernelSize: 3, Stride = 2, Padding = 1, OutputPadding = 1)]\n"
        + "    public static partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    [Fact]
    public void UNetKernel2Stride2() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose2D(inChannels: 16, outChannels: 8, inputHeight: 8, inputWidth: 8, kernelSize: 2, Stride = 2)]\n"
        + "    public static partial void UNetUp(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    [Fact]
    public void DcganKernel4Stride2Padding1() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose2D(inChannels: 16, outChannels: 8, inputHeight: 8, inputWidth: 8, kernelSize: 4, Stride = 2, Padding = 1)]\n"
        + "    public static partial void DcganUp(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);"));

    [Fact]
    public void Depthwise() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose2D(inChannels: 4, outChannels: 4, inputHeight: 4, inputWidth: 8, kernelSize: 4, Stride = 2, Padding = 1, Groups = 4)]\n"
        + "    public static partial void Depthwise(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    [Fact]
    public void ChannelsLast() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose2D(inChannels: 2, outChannels: 12, inputHeight: 2, inputWidth: 3, kernelSize: 3, Stride = 2, Padding = 1, OutputPadding = 1, Layout = TensorLayout.Nhwc)]\n"
        + "    internal static partial void ChannelsLast(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    [Fact]
    public void ChannelsLastWithPackedWeights() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose2D(inChannels: 8, outChannels: 32, inputHeight: 4, inputWidth: 4, kernelSize: 2, Stride = 2, Layout = TensorLayout.Nhwc)]\n"
        + "    internal static partial void PackedUp(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);"));

    [Fact]
    public void BiasAndRelu() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose2D(inChannels: 2, outChannels: 2, inputHeight: 3, inputWidth: 8, kernelSize: 3, Padding = 1, Activation = FusedActivation.Relu)]\n"
        + "    public static partial void BiasRelu(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);"));

    [Fact]
    public void OverTheUnrollBudget() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose2D(inChannels: 2, outChannels: 1, inputHeight: 6, inputWidth: 12, kernelSize: 3, Stride = 2, Padding = 1, OutputPadding = 1, UnrollBudget = 100)]\n"
        + "    public static partial void Looped(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    [Fact]
    public void OneDimensionalVocoderUpsampling() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose1D(inChannels: 8, outChannels: 4, inputLength: 8, kernelSize: 8, Stride = 4, Padding = 2, Activation = FusedActivation.LeakyRelu, LeakyReluSlope = 0.1f)]\n"
        + "    public static partial void VocoderUp(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);"));

    /// <summary>
    /// A vocoder layer whose weights (256 x 128 x 16 floats) outgrow the L2 cache: tap vectors, which read the caller's (Cin, Cout, k)
    /// weights as they lie, tiles of output channels x input positions, the rows' cropped ends added lane by lane.
    /// </summary>
    [Fact]
    public void OneDimensionalTapVectors() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose1D(inChannels: 256, outChannels: 128, inputLength: 8, kernelSize: 16, Stride = 8, Padding = 4)]\n"
        + "    public static partial void VocoderLarge(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    /// <summary>A 3-D U-Net decoder step (kernel 2, stride 2): one (input slice, depth tap) pair per output slice, each plane written in one pass.</summary>
    [Fact]
    public void ThreeDimensionalVolumeUpsampling() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose3D(inChannels: 4, outChannels: 4, inputDepth: 3, inputHeight: 3, inputWidth: 4, kernelSize: 2, Stride = 2, Activation = FusedActivation.Relu)]\n"
        + "    public static partial void VolumeUp(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);"));

    /// <summary>Kernel 3, stride 2, padding 1, NDHWC: output slices of one and two pairs (set, add and activate), channel vectors.</summary>
    [Fact]
    public void ThreeDimensionalKernel3ChannelsLast() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose3D(inChannels: 2, outChannels: 8, inputDepth: 2, inputHeight: 2, inputWidth: 2, kernelSize: 3, Stride = 2, Padding = 1, OutputPadding = 1, "
        + "Layout = TensorLayout.Ndhwc, Activation = FusedActivation.LeakyRelu, LeakyReluSlope = 0.2f)]\n"
        + "    internal static partial void VolumeK3(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);"));

    [Fact]
    public void InvalidDeclarationThrowsNamingTheDiagnostic() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 0)]\n"
        + "    public static partial void Broken(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    [Fact]
    public void SnapshotsNormaliseTheGeneratorVersion()
    {
        string text = SnapshotAssert.Normalize("[global::System.CodeDom.Compiler.GeneratedCode(\"KernelGen.Generator\", \"1.2.3.4\")]\r\n");
        Assert.Equal("[global::System.CodeDom.Compiler.GeneratedCode(\"KernelGen.Generator\", \"%VERSION%\")]\n", text);
    }
}
