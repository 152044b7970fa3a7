using System.Collections.Immutable;
using KernelGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace KernelGen.Generator.Tests;

/// <summary>Every KernelGen diagnostic: what triggers it, where it points, and that valid declarations get none.</summary>
public class DiagnosticTests
{
    private const string Seed =
        "[GeneratedConvTranspose2D(inChannels: 1, outChannels: 1, inputHeight: 2, inputWidth: 2, kernelSize: 3, Stride = 2, Padding = 1, OutputPadding = 1)]";

    private static string InClass(string members) => "public static partial class Kernels\n{\n" + members + "\n}\n";

    [Fact]
    public Task ValidDeclarationsGetNoDiagnostic() => BuildTest.VerifyAsync(
        InClass(Seed + "\npublic static partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n"
            + "[GeneratedConvTranspose2D(4, 8, 2, 2, 2, Stride = 2, Groups = 2, Layout = TensorLayout.Nhwc, Activation = FusedActivation.Tanh)]\n"
            + "internal static partial void WithBias(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y);\n"
            + Seed + "\npublic static partial void ByName(Span<float> output, ReadOnlySpan<float> bias, ReadOnlySpan<float> weights, ReadOnlySpan<float> input);\n"
            + "[GeneratedConvTranspose2D(1, 1, 2, 2, 3, PaddingTop = 1, PaddingRight = 2, AutoPad = OnnxAutoPad.NotSet)]\n"
            + "public static partial void PerSide(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n"
            + "[GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, AutoPad = OnnxAutoPad.SameLower, OutputWidth = 5)]\n"
            + "public static partial void Onnx(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n"
            + "[GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputHeight = 4, OutputWidth = 3)]\n"
            + "public static partial void PyTorch(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);")
        + "public partial class Outer { private partial struct Inner<T> { [GeneratedConvTranspose2D(1, 2, 3, 4, 1)] public partial void Run(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output); } }");

    [Theory]
    [InlineData("{|KG0001:inChannels: 0|}, outChannels: 1, inputHeight: 2, inputWidth: 2, kernelSize: 3")]
    [InlineData("1, {|KG0001:0|}, 2, 2, 3")]
    [InlineData("1, 1, 2, 2, {|KG0001:0|}")]
    [InlineData("1, 1, 2, 2, 3, {|KG0001:Stride = 0|}")]
    [InlineData("1, 1, 2, 2, 3, {|KG0001:StrideWidth = -2|}")]
    [InlineData("1, 1, 2, 2, 3, {|KG0001:Padding = -1|}")]
    [InlineData("1, 1, 2, 2, 3, Stride = 2, {|KG0001:OutputPadding = 2|}")]
    [InlineData("1, 1, 2, 2, 3, {|KG0001:DilationHeight = 0|}")]
    [InlineData("4, 6, 2, 2, 3, {|KG0001:Groups = 4|}")]
    [InlineData("1, 1, {|KG0001:0|}, 2, 3")]
    [InlineData("1, 1, 2, 2, 3, {|KG0001:KernelWidth = 0|}")]
    [InlineData("1, 1, 2, 2, 3, {|KG0001:Layout = (TensorLayout)7|}")]
    [InlineData("1, 1, 2, 2, 3, {|KG0001:Activation = (FusedActivation)9|}")]
    [InlineData("1, 1, 2, 2, 3, Activation = FusedActivation.LeakyRelu, {|KG0001:LeakyReluSlope = float.NaN|}")]
    [InlineData("1, 1, 2, 2, 3, Padding = 1, {|KG0001:PaddingTop = 2|}")]                                 // per side and symmetric mixed
    [InlineData("1, 1, 2, 2, 3, {|KG0001:PaddingRight = 2|}, PaddingWidth = 1")]
    [InlineData("1, 1, 2, 2, 3, {|KG0001:PaddingBottom = -1|}")]
    [InlineData("1, 1, 2, 2, 3, Stride = 2, {|KG0001:AutoPad = OnnxAutoPad.SameUpper|}, Padding = 1")]     // ONNX: pads and auto_pad exclude each other
    [InlineData("1, 1, 2, 2, 3, {|KG0001:AutoPad = (OnnxAutoPad)4|}")]
    [InlineData("1, 1, 2, 2, 3, Stride = 2, OutputPadding = 1, {|KG0001:OutputHeight = 5|}")]              // PyTorch: output_size derives the output padding
    [InlineData("1, 1, 2, 2, 3, Stride = 2, {|KG0001:OutputHeight = 7|}")]                                 // PyTorch: 5 or 6 for an input of 2
    [InlineData("1, 1, 2, 2, 3, Stride = 2, {|KG0001:OutputWidth = -1|}")]
    [InlineData("1, 1, 2, 2, 3, Stride = 2, AutoPad = OnnxAutoPad.NotSet, {|KG0001:OutputHeight = 8|}")]  // ONNX: 3 cells larger than the uncropped 5, stride 2
    public Task InvalidGeometryPointsAtTheArgument(string arguments) => BuildTest.VerifyAsync(
        InClass($"[GeneratedConvTranspose2D({arguments})]\npublic static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    [Fact]
    public Task Valid1DDeclarationsGetNoDiagnostic() => BuildTest.VerifyAsync(
        InClass("[GeneratedConvTranspose1D(inChannels: 1, outChannels: 1, inputLength: 4, kernelSize: 3, Stride = 2, Padding = 1, OutputPadding = 1)]\n"
            + "public static partial void Row(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n"
            + "[GeneratedConvTranspose1D(8, 4, 9, 16, Stride = 8, PaddingBegin = 4, PaddingEnd = 3, Groups = 2, Layout = TensorLayout.Nlc, Activation = FusedActivation.Tanh, UnrollBudget = 8000)]\n"
            + "internal static partial void Vocoder(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y);\n"
            + "[GeneratedConvTranspose1D(1, 1, 5, 3, Stride = 2, AutoPad = OnnxAutoPad.SameUpper, OutputLength = 10)]\n"
            + "public static partial void Onnx(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n"
            + "[GeneratedConvTranspose1D(1, 1, 9, 3, Stride = 2, Padding = 1, OutputLength = 18)]\n"
            + "public static partial void PyTorch(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    /// <summary>A 1-D declaration's errors name its own properties and sit on its own arguments.</summary>
    [Theory]
    [InlineData("{|KG0001:inChannels: 0|}, outChannels: 1, inputLength: 4, kernelSize: 3")]
    [InlineData("1, 1, {|KG0001:0|}, 3")]
    [InlineData("1, 1, 4, {|KG0001:0|}")]
    [InlineData("1, 1, 4, {|KG0001:kernelSize: -1|}")]
    [InlineData("1, 1, 4, 3, {|KG0001:Stride = 0|}")]
    [InlineData("1, 1, 4, 3, {|KG0001:Padding = -1|}")]
    [InlineData("1, 1, 4, 3, Stride = 2, {|KG0001:OutputPadding = 2|}")]
    [InlineData("1, 1, 4, 3, {|KG0001:Dilation = 0|}")]
    [InlineData("4, 6, 4, 3, {|KG0001:Groups = 4|}")]
    [InlineData("1, 1, 4, 3, {|KG0001:Layout = (TensorLayout)7|}")]
    [InlineData("1, 1, 4, 3, Padding = 1, {|KG0001:PaddingEnd = 2|}")]
    [InlineData("1, 1, 4, 3, {|KG0001:PaddingBegin = -1|}")]
    [InlineData("1, 1, 4, 3, Stride = 2, {|KG0001:AutoPad = OnnxAutoPad.SameUpper|}, Padding = 1")]
    [InlineData("1, 1, 4, 3, Stride = 2, OutputPadding = 1, {|KG0001:OutputLength = 9|}")]
    [InlineData("1, 1, 4, 3, Stride = 2, {|KG0001:OutputLength = 12|}")]
    [InlineData("1, 1, 4, 3, {|KG0010:UnrollBudget = -1|}")]
    [InlineData("1, 1, {|KG0002:1|}, 1, Padding = 1")]
    [InlineData("1, 1, 4, {|KG0007:100|}")]
    public Task Invalid1DGeometryPointsAtTheArgument(string arguments) => BuildTest.VerifyAsync(
        InClass($"[GeneratedConvTranspose1D({arguments})]\npublic static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    [Fact]
    public async Task Invalid1DGeometryMessageSpeaksIn1DTerms()
    {
        var test = new AnalyzerTest(InClass("[GeneratedConvTranspose1D(1, 1, 4, 3, Padding = 1, {|#0:PaddingEnd = 2|})]\n"
            + "public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.InvalidGeometry).WithLocation(0)
            .WithArguments("PaddingEnd is 2, but it cannot be combined with Padding: give the padding per side (PaddingBegin, PaddingEnd; a side not given is 0) or symmetric (Padding)."));
        await test.RunAsync();
    }

    [Fact]
    public Task Valid3DDeclarationsGetNoDiagnostic() => BuildTest.VerifyAsync(
        InClass("[GeneratedConvTranspose3D(inChannels: 1, outChannels: 1, inputDepth: 2, inputHeight: 2, inputWidth: 2, kernelSize: 3, Stride = 2, Padding = 1, OutputPadding = 1)]\n"
            + "public static partial void Cube(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n"
            + "[GeneratedConvTranspose3D(8, 4, 3, 4, 5, 2, KernelDepth = 3, StrideDepth = 1, StrideHeight = 2, StrideWidth = 3, PaddingFront = 1, PaddingBack = 2, PaddingLeft = 1, "
            + "DilationDepth = 2, OutputPaddingHeight = 1, Groups = 2, Layout = TensorLayout.Ndhwc, Activation = FusedActivation.Tanh, UnrollBudget = 20000)]\n"
            + "internal static partial void Volume(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y);\n"
            + "[GeneratedConvTranspose3D(1, 1, 3, 3, 3, 3, Stride = 2, AutoPad = OnnxAutoPad.SameUpper, OutputDepth = 6, OutputHeight = 6, OutputWidth = 6)]\n"
            + "public static partial void Onnx(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n"
            + "[GeneratedConvTranspose3D(1, 1, 3, 3, 3, 3, Stride = 2, Padding = 1, OutputDepth = 6, OutputHeight = 5, OutputWidth = 6)]\n"
            + "public static partial void PyTorch(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    /// <summary>A 3-D declaration's errors name its own properties and sit on its own arguments (the depth ones included).</summary>
    [Theory]
    [InlineData("{|KG0001:inChannels: 0|}, outChannels: 1, inputDepth: 2, inputHeight: 2, inputWidth: 2, kernelSize: 3")]
    [InlineData("1, 1, {|KG0001:0|}, 2, 2, 3")]
    [InlineData("1, 1, 2, {|KG0001:0|}, 2, 3")]
    [InlineData("1, 1, 2, 2, {|KG0001:0|}, 3")]
    [InlineData("1, 1, 2, 2, 2, {|KG0001:0|}")]
    [InlineData("1, 1, 2, 2, 2, 3, {|KG0001:KernelDepth = 0|}")]
    [InlineData("1, 1, 2, 2, 2, 3, {|KG0001:StrideDepth = 0|}")]
    [InlineData("1, 1, 2, 2, 2, 3, {|KG0001:PaddingDepth = -1|}")]
    [InlineData("1, 1, 2, 2, 2, 3, {|KG0001:PaddingFront = -1|}")]
    [InlineData("1, 1, 2, 2, 2, 3, StrideDepth = 2, {|KG0001:OutputPaddingDepth = 2|}")]
    [InlineData("1, 1, 2, 2, 2, 3, {|KG0001:DilationDepth = 0|}")]
    [InlineData("4, 6, 2, 2, 2, 3, {|KG0001:Groups = 4|}")]
    [InlineData("1, 1, 2, 2, 2, 3, {|KG0001:Layout = (TensorLayout)7|}")]
    [InlineData("1, 1, 2, 2, 2, 3, PaddingDepth = 1, {|KG0001:PaddingBack = 2|}")]
    [InlineData("1, 1, 2, 2, 2, 3, Stride = 2, {|KG0001:AutoPad = OnnxAutoPad.SameUpper|}, PaddingDepth = 1")]
    [InlineData("1, 1, 2, 2, 2, 3, Stride = 2, OutputPadding = 1, {|KG0001:OutputDepth = 4|}")]
    [InlineData("1, 1, 2, 2, 2, 3, Stride = 2, {|KG0001:OutputDepth = 12|}")]
    [InlineData("1, 1, 2, 2, 2, 3, {|KG0010:UnrollBudget = -1|}")]
    [InlineData("1, 1, {|KG0002:1|}, 2, 2, 1, PaddingDepth = 1")]
    [InlineData("1, 1, 2, {|KG0002:1|}, 2, 1, PaddingHeight = 1")]
    [InlineData("1, 1, 2, 2, 2, 3, {|KG0007:KernelDepth = 100|}")]
    public Task Invalid3DGeometryPointsAtTheArgument(string arguments) => BuildTest.VerifyAsync(
        InClass($"[GeneratedConvTranspose3D({arguments})]\npublic static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    [Fact]
    public async Task Invalid3DGeometryMessageSpeaksIn3DTerms()
    {
        var test = new AnalyzerTest(InClass("[GeneratedConvTranspose3D(1, 1, 2, 2, 2, 3, Padding = 1, {|#0:PaddingFront = 2|})]\n"
            + "public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.InvalidGeometry).WithLocation(0)
            .WithArguments("PaddingFront is 2, but it cannot be combined with Padding: give the padding per side (PaddingFront, PaddingTop, PaddingLeft, PaddingBack, "
                + "PaddingBottom, PaddingRight; a side not given is 0) or symmetric (Padding, PaddingDepth, PaddingHeight, PaddingWidth)."));
        await test.RunAsync();
    }

    [Fact]
    public async Task A3DOutputTooSmallNamesTheDepth()
    {
        var test = new AnalyzerTest(InClass("[GeneratedConvTranspose3D(1, 1, {|#0:1|}, 2, 2, 1, PaddingDepth = 1)]\n"
            + "public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.OutputTooSmall).WithLocation(0)
            .WithArguments("depth", "-1", "1", "1", "1", "1", "1", "1", "0"));
        await test.RunAsync();
    }

    [Fact]
    public async Task A3DKernelOverTheBudgetKeepsLoopsWithAWarning()
    {
        var test = new AnalyzerTest(InClass("[{|#0:GeneratedConvTranspose3D(2, 2, 3, 3, 3, 3, Stride = 2, Padding = 1, OutputPadding = 1, Activation = FusedActivation.Relu, UnrollBudget = 10)|}]\n"
            + "public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));
        // The numbers count every plane variant the depth axis needs (three here: set, set and activate, add and activate).
        var plan = KernelGen.Generator.Strategy.KernelPlanner.Plan(PlannerTests.Spec(KernelCase3D.Cube(2, 2, 3, 3, stride: 2, padding: 1, outputPadding: 1,
            activation: FusedActivation.Relu), budget: 10), 0);
        Assert.Equal(3, plan.PlaneModes.Length);
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.KeptLoops).WithLocation(0).WithArguments(
            "K", plan.UnrolledStatements.ToString(System.Globalization.CultureInfo.InvariantCulture), "10",
            "the spatial, group, output-channel and input-channel loops", plan.EmittedStatements.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        await test.RunAsync();
    }

    /// <summary>Attributes of two ranks on one method: one error on the first, and one throwing body (two bodies would not compile).</summary>
    [Fact]
    public Task TwoKernelAttributesOnOneMethodAreOneError() => BuildTest.VerifyAsync(
        InClass("[{|KG0016:GeneratedConvTranspose3D(1, 1, 2, 2, 2, 3)|}]\n[GeneratedConvTranspose2D(1, 1, 2, 2, 3)]\n"
            + "public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n"
            + "[{|KG0016:GeneratedConvTranspose1D(1, 1, 2, 3)|}, GeneratedConvTranspose2D(1, 1, 2, 2, 3)]\n"
            + "public static partial void L(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    [Fact]
    public async Task InvalidGeometryMessageSaysWhatIsAllowed()
    {
        var test = new AnalyzerTest(InClass("[GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, {|#0:OutputPadding = 2|})]\n"
            + "public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.InvalidGeometry).WithLocation(0)
            .WithArguments("OutputPadding is 2, but it must be smaller than the stride (2) or the dilation (1)."));
        await test.RunAsync();
    }

    [Fact]
    public Task OutputBelowOnePointsAtTheInputSize() => BuildTest.VerifyAsync(
        InClass("[GeneratedConvTranspose2D(1, 1, {|KG0002:1|}, 2, 1, PaddingHeight = 1)]\n"
            + "public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    [Theory]
    [InlineData("public static partial void K(ReadOnlySpan<float> input, {|KG0003:float[] weights|}, Span<float> output);")]
    [InlineData("public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, {|KG0003:ReadOnlySpan<float> output|});")]
    [InlineData("public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, {|KG0003:Span<double> output|});")]
    [InlineData("public static partial void K{|KG0003:(ReadOnlySpan<float> input, Span<float> output)|};")]
    [InlineData("public static partial {|KG0003:int|} K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);")]
    [InlineData("public static partial void K(ReadOnlySpan<float> input, {|KG0003:in ReadOnlySpan<float> weights|}, Span<float> output);")]
    [InlineData("public static partial void K(ReadOnlySpan<float> x, {|KG0003:ReadOnlySpan<float> input|}, Span<float> y);")]       // named like another position
    [InlineData("public static partial void K(ReadOnlySpan<float> output, ReadOnlySpan<float> weights, {|KG0003:Span<float> input|});")] // bound by name: the input must be read-only
    public Task SignatureMismatchPointsAtTheOffendingPart(string method) => BuildTest.VerifyAsync(InClass(Seed + "\n" + method));

    [Fact]
    public async Task SignatureMismatchMessageStatesTheExpectedSignatures()
    {
        var test = new AnalyzerTest(InClass(Seed + "\npublic static partial void K(ReadOnlySpan<float> input, {|#0:float[] weights|}, Span<float> output);"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.SignatureMismatch).WithLocation(0)
            .WithArguments("K", "has parameter 'weights' of type float[]"));
        await test.RunAsync();
        Assert.Contains("void (ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output)",
            DiagnosticDescriptors.SignatureMismatch.MessageFormat.ToString());
    }

    [Theory]
    [InlineData("public static void {|KG0004:K|}(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output) { }")]
    [InlineData("public static partial void {|CS0759:{|KG0004:K|}|}(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output) { }")]
    [InlineData("public static void {|CS0501:{|KG0004:K|}|}(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);")]
    [InlineData("public static extern void {|KG0004:K|}(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);")]
    public Task NonPartialOrBodiedMethodsAreRejected(string method) => BuildTest.VerifyAsync(InClass(Seed + "\n" + method));

    [Fact]
    public Task AUserWrittenImplementationIsRejected() => BuildTest.VerifyAsync(InClass(Seed
        + "\npublic static partial void {|KG0004:K|}(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n"
        + "public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output) { }"));

    [Fact]
    public Task EveryContainingTypeMustBePartial() => BuildTest.VerifyAsync(
        "public static class {|CS0260:{|KG0005:Outer|}|}\n{\n    public static partial class Middle\n    {\n        internal partial struct Inner { }\n"
        + "        internal struct {|CS0260:{|KG0005:Inner|}|}\n        {\n            " + Seed
        + "\n            public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n        }\n    }\n}");

    [Fact]
    public Task GenericMethodsAreRejected() => BuildTest.VerifyAsync(InClass(Seed
        + "\npublic static partial void K{|KG0006:<T>|}(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    [Theory]
    [InlineData("{|KG0007:GeneratedConvTranspose2D(65536, 65536, 8, 8, 3)|}")]                       // weights above Int32.MaxValue elements
    [InlineData("GeneratedConvTranspose2D(1, 1, {|KG0007:100000|}, 8, 3)")]                            // an output axis above the cap
    [InlineData("GeneratedConvTranspose2D(1, 1, 8, 8, {|KG0007:65|})")]                                // a kernel above the per-axis cap
    [InlineData("GeneratedConvTranspose2D(1, 1, 8, 8, 3, {|KG0007:StrideHeight = 100|})")]
    [InlineData("{|KG0007:GeneratedConvTranspose2D(2, 64, 96, 96, 48, Padding = 20)|}")]               // even with every loop kept, too many statements
    public Task OversizedKernelsAreRejected(string attribute) => BuildTest.VerifyAsync(
        InClass($"[{attribute}]\npublic static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    [Fact]
    public Task LanguageVersionBelowCSharp9IsRejected() => BuildTest.VerifyAsync(
        InClass("[{|KG0008:GeneratedConvTranspose2D(1, 1, 2, 2, 3)|}]\npublic static partial void {|CS8400:K|}(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"),
        LanguageVersion.CSharp8, errorsInGeneratedCode: ["CS8400"]); // the same "use C# 9" error on the body; without it, CS8795 "must have an implementation"

    [Theory]
    [InlineData(LanguageVersion.CSharp8)]
    [InlineData(LanguageVersion.CSharp7_3)]
    public Task AClassicPartialMethodBelowCSharp9GetsOnlyTheKernelGenError(LanguageVersion version) => BuildTest.VerifyAsync(
        InClass("[{|KG0008:GeneratedConvTranspose2D(1, 1, 2, 2, 3)|}]\nstatic partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"),
        version);

    [Fact]
    public async Task KeptLoopsAreAWarningThatStatesTheNumbers()
    {
        var test = new AnalyzerTest(InClass("[{|#0:GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1, UnrollBudget = 10)|}]\n"
            + "public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.KeptLoops).WithLocation(0).WithArguments(
            "K", "75", "10", "the spatial, group, output-channel and input-channel loops", "41"));
        await test.RunAsync();
        Assert.Equal(DiagnosticSeverity.Warning, DiagnosticDescriptors.KeptLoops.DefaultSeverity);
    }

    [Fact]
    public async Task TheProjectBudgetComesFromTheMSBuildProperty()
    {
        var test = new AnalyzerTest(InClass("[{|KG0009:GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)|}]\n"
            + "public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n"
            + "[GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1, UnrollBudget = 100)]\n"
            + "public static partial void WithItsOwnBudget(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));
        test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig", "is_global = true\nbuild_property.KernelGenUnrollBudget = 20\n"));
        await test.RunAsync();
    }

    [Fact]
    public async Task ConfiguredSeverityApplies()
    {
        // .editorconfig's dotnet_diagnostic.KG0009.severity and <WarningsAsErrors> both end up as a per-id severity.
        const string source = "using System;\nusing KernelGen;\npublic static partial class C { [GeneratedConvTranspose2D(1, 1, 2, 2, 3, UnrollBudget = 1)] "
            + "public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output); }";
        var compilation = GeneratorHarness.Compile(source);
        var asError = compilation.WithOptions(compilation.Options.WithSpecificDiagnosticOptions([new("KG0009", ReportDiagnostic.Error)]));
        var asNone = compilation.WithOptions(compilation.Options.WithSpecificDiagnosticOptions([new("KG0009", ReportDiagnostic.Suppress)]));

        Assert.Equal(DiagnosticSeverity.Error, Assert.Single(await asError.WithAnalyzers([new KernelGenAnalyzer()]).GetAnalyzerDiagnosticsAsync()).Severity);
        Assert.Empty(await asNone.WithAnalyzers([new KernelGenAnalyzer()]).GetAnalyzerDiagnosticsAsync());
        Assert.All(new KernelGenAnalyzer().SupportedDiagnostics, d => Assert.DoesNotContain(WellKnownDiagnosticTags.NotConfigurable, d.CustomTags));
    }

    [Fact]
    public Task NegativeUnrollBudgetIsRejected() => BuildTest.VerifyAsync(
        InClass("[GeneratedConvTranspose2D(1, 1, 2, 2, 3, {|KG0010:UnrollBudget = -1|})]\npublic static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"));

    [Fact]
    public Task TwoKernelsWithOneNameAreRejected() => BuildTest.VerifyAsync(InClass(
        Seed + "\npublic static partial void {|KG0011:K|}(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n"
        + Seed + "\npublic static partial void {|KG0011:K|}(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);"));

    [Theory]
    [InlineData("static void M() { [{|KG0012:GeneratedConvTranspose2D(1, 1, 2, 2, 3)|}] static void Local(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output) { } Local(default, default, default); }")]
    [InlineData("static void M() { Action a = [{|KG0012:GeneratedConvTranspose2D(1, 1, 2, 2, 3)|}] () => { }; a(); }")]
    [InlineData("static int P { [{|KG0012:GeneratedConvTranspose2D(1, 1, 2, 2, 3)|}] get => 0; }")]
    public Task TheAttributeOnALocalFunctionLambdaOrAccessorIsReported(string member) =>
        BuildTest.VerifyAsync(InClass(member));

    [Fact]
    public Task AMemberNamedLikeTheSizesClassIsAWarningAndTheKernelStillCompiles() => BuildTest.VerifyAsync(InClass(Seed
        + "\npublic static partial void {|KG0013:K|}(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n"
        + "public const int KShape = 3;"));

    [Fact]
    public Task AnInheritedMemberNamedLikeTheSizesClassIsReportedToo() => BuildTest.VerifyAsync(
        "public class Base { protected static int KShape; }\n"
        + "public partial class Derived : Base\n{\n" + Seed
        + "\npublic static partial void {|KG0013:K|}(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n}");

    [Fact]
    public Task AKernelInAFileLocalTypeIsReported() => BuildTest.VerifyAsync(
        "file partial class {|KG0014:Local|}\n{\n" + Seed
        + "\npublic static partial void {|CS8795:K|}(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n}");

    [Fact]
    public Task AnExtensionMethodIsASignatureMismatch() => BuildTest.VerifyAsync(InClass(Seed
        + "\npublic static partial void K({|KG0003:this ReadOnlySpan<float> input|}, ReadOnlySpan<float> weights, Span<float> output);"));

    [Fact]
    public void EveryDescriptorIsTestedAndReported()
    {
        var ids = new KernelGenAnalyzer().SupportedDiagnostics.Select(d => d.Id).ToArray();
        Assert.Equal(Enumerable.Range(1, 16).Select(i => $"KG{i:0000}"), ids.Order());
        var thisFile = File.ReadAllText(Path.Combine(SnapshotAssert.SourceDirectory(), "DiagnosticTests.cs"));
        // KG0015 (the generator failed on one declaration) has its own tests in RobustnessTests.
        Assert.All(ids.Where(id => id != "KG0015"), id => Assert.Contains("{|" + id + ":", thisFile.Replace("DiagnosticDescriptors.KeptLoops", "{|KG0009:")));
        Assert.All(new KernelGenAnalyzer().SupportedDiagnostics, d => Assert.Equal("KernelGen", d.Category));
    }

    [Fact]
    public async Task PragmaWarningDisableSuppressesTheBudgetWarning()
    {
        const string body = "[GeneratedConvTranspose2D(1, 1, 2, 2, 3, UnrollBudget = 1)]\n"
            + "public static partial void K(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);";
        var plain = await AnalyzerDiagnostics("using System;\nusing KernelGen;\n" + InClass(body));
        var suppressed = await AnalyzerDiagnostics("using System;\nusing KernelGen;\n" + InClass("#pragma warning disable KG0009\n" + body + "\n#pragma warning restore KG0009"));

        Assert.Equal("KG0009", Assert.Single(plain).Id);
        Assert.False(plain[0].IsSuppressed);
        Assert.Equal("KG0009", Assert.Single(suppressed).Id);
        Assert.True(suppressed[0].IsSuppressed);
    }

    private static async Task<ImmutableArray<Diagnostic>> AnalyzerDiagnostics(string source)
    {
        var compilation = GeneratorHarness.Compile(source);
        var options = new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), onAnalyzerException: null,
            concurrentAnalysis: false, logAnalyzerExecutionTime: false, reportSuppressedDiagnostics: true);
        return await compilation.WithAnalyzers([new KernelGenAnalyzer()], options).GetAnalyzerDiagnosticsAsync();
    }
}
