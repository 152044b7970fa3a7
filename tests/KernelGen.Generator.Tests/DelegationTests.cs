using System.Reflection;
using KernelGen.Generator.Model;
using KernelGen.Generator.Strategy;
using KernelGen.Tests;

namespace KernelGen.Generator.Tests;

/// <summary>
/// Layers that call the library's kernel instead of an unrolled body (<c>KernelGenDelegation</c>): the planner's decision,
/// the emitted source (snapshots), the results (bit for bit the runtime's prepared kernel, which is the code they run),
/// changed weights between calls, the exceptions of bad calls (the unrolled method's, word for word) and what the short
/// method still promises about its first call.
/// </summary>
public class DelegationTests
{
    private static string Generate(string declaration, string delegation) => SnapshotTests.Generate(declaration, delegation);

    /// <summary>DCGAN layer 1's form (a 1 x 1 input, many output channels: channel-vectorised), delegated under "auto".</summary>
    [Fact]
    public void DelegatedChannelVectorisedLayer() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose2D(inChannels: 10, outChannels: 32, inputHeight: 1, inputWidth: 1, kernelSize: 4, Activation = FusedActivation.Relu)]\n"
        + "    public static partial void Project(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);", "auto"));

    /// <summary>A 1-D layer without bias, delegated under "all", its parameters named otherwise (one of them a keyword).</summary>
    [Fact]
    public void DelegatedOneDimensionalLayer() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose1D(inChannels: 8, outChannels: 4, inputLength: 8, kernelSize: 8, Stride = 4, Padding = 2, Activation = FusedActivation.LeakyRelu, LeakyReluSlope = 0.1f)]\n"
        + "    public static partial void VocoderUp(ReadOnlySpan<float> @in, ReadOnlySpan<float> w, Span<float> y);", "all"));

    /// <summary>A 3-D layer, delegated under "all".</summary>
    [Fact]
    public void DelegatedThreeDimensionalLayer() => SnapshotAssert.Matches(Generate(
        "    [GeneratedConvTranspose3D(inChannels: 4, outChannels: 4, inputDepth: 3, inputHeight: 3, inputWidth: 4, kernelSize: 2, Stride = 2, Activation = FusedActivation.Relu)]\n"
        + "    public static partial void VolumeUp(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);", "all"));

    [Fact]
    public void AutoLeavesWidthVectorisedLayersUnrolledAndNoneLeavesEveryLayerUnrolled()
    {
        const string Width = "    [GeneratedConvTranspose2D(inChannels: 16, outChannels: 8, inputHeight: 8, inputWidth: 8, kernelSize: 4, Stride = 2, Padding = 1)]\n"
            + "    public static partial void DcganUp(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);";
        const string Channel = "    [GeneratedConvTranspose2D(inChannels: 10, outChannels: 32, inputHeight: 1, inputWidth: 1, kernelSize: 4)]\n"
            + "    public static partial void Project(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);";
        string unrolled = Generate(Width, "none");
        Assert.Equal(unrolled, Generate(Width, "auto"));
        Assert.Equal(unrolled, Generate(Width, "nonsense"));
        Assert.DoesNotContain("DelegatedConvTranspose", unrolled);
        Assert.Contains("DelegatedConvTranspose2D", Generate(Width, "ALL"));
        Assert.DoesNotContain("DelegatedConvTranspose", Generate(Channel, ""));
        Assert.Contains("DelegatedConvTranspose2D", Generate(Channel, " auto "));
    }

    /// <summary>The decision on the five layers of samples/Dcgan: under "auto" the three channel-vectorised ones delegate.</summary>
    [Fact]
    public void AutoDelegatesTheChannelVectorisedDcganLayers()
    {
        KernelSpec Layer(int cin, int cout, int size, int stride, int padding) =>
            new(cin, cout, 1, size, size, 4, 4, stride, stride, padding, padding, padding, padding, 0, 0, 1, 1, false, KernelActivation.Relu, 0.01f, true, 0,
                MultiplyAddEstimate: true);
        KernelSpec[] layers = [Layer(100, 512, 1, 1, 0), Layer(512, 256, 4, 2, 1), Layer(256, 128, 8, 2, 1), Layer(128, 64, 16, 2, 1), Layer(64, 3, 32, 2, 1)];
        bool[] auto = [.. layers.Select(spec => DelegationPlanner.Reason(KernelPlanner.Plan(spec, 0), DelegationMode.Auto) is not null)];
        Assert.Equal([true, true, true, false, false], auto);
        Assert.All(layers, spec => Assert.Null(DelegationPlanner.Reason(KernelPlanner.Plan(spec, 0), DelegationMode.None)));
        Assert.All(layers, spec => Assert.NotNull(DelegationPlanner.Reason(KernelPlanner.Plan(spec, 0), DelegationMode.All)));
        Assert.Equal(DelegationMode.None, DelegationPlanner.Parse(null));
        Assert.Equal(DelegationMode.Auto, DelegationPlanner.Parse("Auto"));
    }

    /// <summary>
    /// Every edge case of the equivalence tests (2-D and 1-D) and of the 3-D ones, delegated: bit for bit the runtime layer on one
    /// thread (the same kernels), within tolerance of the naive reference, nothing written past the output; NaN and infinities
    /// in the weights as the runtime gives them.
    /// </summary>
    [Fact]
    public void DelegatedLayersComputeTheRuntimesResultBitForBit()
    {
        var cases = EquivalenceTests.EdgeCases;
        GeneratorHarness.CompileAndLoad(KernelCase.Source("Delegated", cases), projectBudget: 300, null, assembly =>
        {
            var kernels = assembly.GetType("Delegated.Kernels", throwOnError: true)!;
            for (int i = 0; i < cases.Length; i++)
            {
                var c = cases[i];
                var method = kernels.GetMethod("K" + i)!;
                float[] input = c.Input(), weights = c.Weights(), bias = c.Bias();
                foreach (bool special in new[] { false, true })
                {
                    if (special) SpecialValues.Sprinkle(weights, 2, new Random(c.Seed));
                    var expected = Runtime(c, input, weights, bias);
                    var output = new float[expected.Length + 3];
                    output.AsSpan().Fill(-7f);
                    Call(method, c, input, weights, bias, output);
                    AssertBits(expected, output.AsSpan(0, expected.Length), $"K{i} {c}");
                    Assert.All(output[expected.Length..], v => Assert.Equal(-7f, v));
                    if (!special)
                    {
                        var naive = c.Naive();
                        for (int j = 0; j < naive.Length; j++)
                            Assert.True(Math.Abs(naive[j] - output[j]) <= c.Tolerance, $"K{i}[{j}]: {output[j]} against {naive[j]} {c}");
                    }
                }
            }
        }, delegation: "all");

        var cases3D = Equivalence3DTests.EdgeCases;
        GeneratorHarness.CompileAndLoad(KernelCase3D.Source("Delegated3D", cases3D), projectBudget: 300, null, assembly =>
        {
            var kernels = assembly.GetType("Delegated3D.Kernels", throwOnError: true)!;
            for (int i = 0; i < cases3D.Length; i++)
            {
                var c = cases3D[i];
                var expected = c.Runtime();
                var output = new float[expected.Length];
                var method = kernels.GetMethod("K" + i)!;
                if (c.HasBias) method.CreateDelegate<Kernel4>()(c.Input(), c.Weights(), c.Bias(), output);
                else method.CreateDelegate<Kernel3>()(c.Input(), c.Weights(), output);
                AssertBits(expected, output, $"3-D K{i} {c}");
            }
        }, delegation: "all");
    }

    [Fact]
    public void ChangedWeightsBetweenCallsChangeTheResult()
    {
        var c = KernelCase.Square(3, 16, 1, 1, 4, bias: true);
        GeneratorHarness.CompileAndLoad(KernelCase.Source("Changes", [c]), projectBudget: null, null, assembly =>
        {
            var kernel = assembly.GetType("Changes.Kernels", throwOnError: true)!.GetMethod("K0")!.CreateDelegate<Kernel4>();
            float[] input = c.Input(), weights = c.Weights(), bias = c.Bias();
            var first = new float[c.OutputLength];
            kernel(input, weights, bias, first);
            AssertBits(Runtime(c, input, weights, bias), first, "first weights");

            // The same arrays, changed in place: the comparison with the kept copy, not the address, decides.
            float keptWeight = weights[5], keptBias = bias[0];
            weights[5] += 1f;
            var second = new float[c.OutputLength];
            kernel(input, weights, bias, second);
            AssertBits(Runtime(c, input, weights, bias), second, "changed weights");
            Assert.NotEqual(first, second);

            bias[0] += 1f;
            var third = new float[c.OutputLength];
            kernel(input, weights, bias, third);
            AssertBits(Runtime(c, input, weights, bias), third, "changed bias");
            Assert.NotEqual(second, third);

            weights[5] = keptWeight;
            bias[0] = keptBias;
            var again = new float[c.OutputLength];
            kernel(input, weights, bias, again);
            AssertBits(first, again, "the first weights again");
        }, delegation: "auto");
    }

    /// <summary>Every bad call throws the unrolled method's exception, message and parameter name included.</summary>
    [Fact]
    public void BadCallsThrowTheUnrolledMethodsExceptions()
    {
        KernelCase[] cases =
        [
            KernelCase.Square(3, 16, 1, 1, 4, bias: true),
            KernelCase.Square(2, 3, 3, 4, 2, stride: 2, batch: 2),
            new KernelCase(1, 4, 6, 1, 1, 9, (1, 4), (1, 2), (0, 1, 0, 1), (0, 0), (1, 1), false, true, FusedActivation.None, 0.01f, 0, 3).As1D(),
        ];
        string source = KernelCase.Source("Bad", cases);
        GeneratorHarness.CompileAndLoad(source, projectBudget: null, null, unrolled =>
            GeneratorHarness.CompileAndLoad(source, projectBudget: null, null, delegated =>
            {
                for (int i = 0; i < cases.Length; i++)
                {
                    var c = cases[i];
                    var expectedMethod = unrolled.GetType("Bad.Kernels", throwOnError: true)!.GetMethod("K" + i)!;
                    var actualMethod = delegated.GetType("Bad.Kernels", throwOnError: true)!.GetMethod("K" + i)!;
                    Assert.Contains("Delegated", delegated.GetType("KernelGen.Generated.Bad_Kernels_K" + i, throwOnError: true)!.GetFields(BindingFlags.Static | BindingFlags.NonPublic).Single().FieldType.Name);
                    foreach (var (what, call) in BadCalls(c))
                    {
                        var expected = Assert.ThrowsAny<ArgumentException>(() => call(expectedMethod));
                        var actual = Assert.ThrowsAny<ArgumentException>(() => call(actualMethod));
                        Assert.True(expected.GetType() == actual.GetType() && expected.Message == actual.Message && expected.ParamName == actual.ParamName,
                            $"K{i}, {what}: unrolled {expected.GetType().Name} '{expected.Message}', delegated {actual.GetType().Name} '{actual.Message}'");
                    }
                }
            }, delegation: "all"));
    }

    /// <summary>A delegating layer unrolls nothing, so the budget's warning (KG0009) is not reported for it; the others keep it.</summary>
    [Fact]
    public async Task ADelegatingLayerReportsNoKeptLoops()
    {
        var test = new AnalyzerTest("public static partial class Layers\n{\n"
            + "[GeneratedConvTranspose2D(10, 32, 1, 1, 4, UnrollBudget = 10)]\n"
            + "public static partial void Delegated(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n"
            + "[{|KG0009:GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1, UnrollBudget = 10)|}]\n"
            + "public static partial void Unrolled(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);\n}\n");
        test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig", "is_global = true\nbuild_property.KernelGenDelegation = auto\n"));
        await test.RunAsync();
    }

    private static IEnumerable<(string What, Action<MethodInfo> Call)> BadCalls(KernelCase c)
    {
        int input = c.Batch * c.InputLength, output = c.Batch * c.OutputLength;
        float[] weights = c.Weights(), bias = c.Bias();
        yield return ("input length", m => Call(m, c, new float[input + 1], weights, bias, new float[output]));
        yield return ("weights length", m => Call(m, c, new float[input], new float[weights.Length - 1], bias, new float[output]));
        if (c.HasBias) yield return ("bias length", m => Call(m, c, new float[input], weights, new float[bias.Length + 1], new float[output]));
        yield return ("output length", m => Call(m, c, new float[input], weights, bias, new float[output - 1]));
        yield return ("input overlaps output", m =>
        {
            var buffer = new float[input + output];
            Call(m, c, buffer.AsSpan(0, input), weights, bias, buffer.AsSpan(input - 1, output));
        });
        yield return ("weights overlap output", m =>
        {
            var buffer = new float[weights.Length + output];
            Call(m, c, new float[input], buffer.AsSpan(0, weights.Length), bias, buffer.AsSpan(weights.Length - 1, output));
        });
        if (c.HasBias)
        {
            yield return ("bias overlaps output", m =>
            {
                var buffer = new float[bias.Length + output];
                Call(m, c, new float[input], weights, buffer.AsSpan(0, bias.Length), buffer.AsSpan(bias.Length - 1, output));
            });
        }
    }

    /// <summary>
    /// The short method is still compiled optimised from its first call (AggressiveOptimization, as every generated method),
    /// and so is the library's entry point it calls; its kernel class holds the layer and no code of its own.
    /// </summary>
    [Fact]
    public void TheDelegatingMethodAndTheLibrarysEntryPointAreCompiledOptimisedFromTheirFirstCall()
    {
        var cases = EquivalenceTests.EdgeCases;
        GeneratorHarness.CompileAndLoad(KernelCase.Source("FirstCalls", cases), projectBudget: 300, null, assembly =>
        {
            for (int i = 0; i < cases.Length; i++)
            {
                var entry = assembly.GetType("FirstCalls.Kernels", throwOnError: true)!.GetMethod("K" + i)!;
                Assert.True(entry.MethodImplementationFlags.HasFlag(MethodImplAttributes.AggressiveOptimization), $"K{i} is not optimised from its first call");
                var kernel = assembly.GetType("KernelGen.Generated.FirstCalls_Kernels_K" + i, throwOnError: true)!;
                Assert.Empty(kernel.GetMethods(BindingFlags.DeclaredOnly | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic));
            }
        }, delegation: "all");

        foreach (var type in new[] { typeof(KernelGen.CompilerServices.DelegatedConvTranspose1D), typeof(KernelGen.CompilerServices.DelegatedConvTranspose2D),
            typeof(KernelGen.CompilerServices.DelegatedConvTranspose3D) })
        {
            Assert.True(type.GetMethod("Compute")!.MethodImplementationFlags.HasFlag(MethodImplAttributes.AggressiveOptimization), type.Name);
        }
    }

    private static void Call(MethodInfo method, KernelCase c, ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output)
    {
        ReadOnlySpan<float> first = c.WeightsFirst ? weights : input, second = c.WeightsFirst ? input : weights;
        if (c.HasBias) method.CreateDelegate<Kernel4>()(first, second, bias, output);
        else method.CreateDelegate<Kernel3>()(first, second, output);
    }

    /// <summary>The runtime layer on one thread, its weights prepared once.</summary>
    private static float[] Runtime(KernelCase c, float[] input, float[] weights, float[] bias)
    {
        var conv = new ConvTranspose2D(c.InChannels, c.OutChannels, (c.Kernel.H, c.Kernel.W), (c.Stride.H, c.Stride.W),
            Padding2D.Asymmetric(c.Padding.Top, c.Padding.Left, c.Padding.Bottom, c.Padding.Right), (c.OutputPadding.H, c.OutputPadding.W),
            (c.Dilation.H, c.Dilation.W), c.Groups)
        {
            Layout = c.ChannelsLast ? TensorLayout.Nhwc : TensorLayout.Nchw,
            Activation = c.Activation,
            LeakyReluSlope = c.Slope,
            MaxDegreeOfParallelism = 1,
        };
        var output = new float[c.Batch * c.OutputLength];
        conv.Prepare(weights, bias).Compute(input, c.InputHeight, c.InputWidth, output);
        return output;
    }

    private static void AssertBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]}, the runtime's {expected[i]}");
        }
    }
}
