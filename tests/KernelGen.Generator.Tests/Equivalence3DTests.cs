using System.Reflection;
using System.Runtime.Intrinsics;
using CsCheck;
using KernelGen.Tests;

namespace KernelGen.Generator.Tests;

/// <summary>
/// Generated 3-D kernels (<c>[GeneratedConvTranspose3D]</c>), compiled and run as <see cref="EquivalenceTests"/> runs the 2-D
/// ones: through the public method and through each vector path this machine accelerates, against the runtime
/// <see cref="ConvTranspose3D"/> and a naive double-accumulating scatter of the definition; NaN and infinities as PyTorch.
/// </summary>
public class Equivalence3DTests
{
    /// <summary>The shapes every run covers (the random ones come on top).</summary>
    public static readonly KernelCase3D[] EdgeCases =
    [
        KernelCase3D.Cube(1, 1, 2, 3, stride: 2, padding: 1, outputPadding: 1),                       // the course example in 3-D
        KernelCase3D.Cube(1, 1, 1, 1),                                                                 // the smallest layer
        KernelCase3D.Cube(3, 5, 3, 1),                                                                 // k = 1: one pair per slice
        KernelCase3D.Cube(2, 3, 3, 2, stride: 3, bias: true),                                          // stride above the kernel: slices no pair reaches
        KernelCase3D.Cube(2, 2, 3, 1, stride: 2, bias: true, activation: FusedActivation.Sigmoid),     // ... filled with the activated bias
        KernelCase3D.Cube(1, 2, 3, 1, stride: 3, activation: FusedActivation.Sigmoid),                 // ... and with sigmoid(0), no bias
        KernelCase3D.Cube(8, 4, 4, 2, stride: 2, bias: true, activation: FusedActivation.Relu),        // volume_up-like: one pair per slice
        KernelCase3D.Cube(8, 4, 4, 2, stride: 2, channelsLast: true, bias: true),                      // ... NDHWC
        KernelCase3D.Cube(4, 6, 4, 3, stride: 2, padding: 1, outputPadding: 1, bias: true, activation: FusedActivation.LeakyRelu, slope: 0.2f), // volume_k3-like: set, add and activate
        KernelCase3D.Cube(4, 6, 4, 3, stride: 2, padding: 1, outputPadding: 1, channelsLast: true, bias: true, activation: FusedActivation.Tanh),
        KernelCase3D.Cube(2, 3, 3, 4, stride: 1, padding: 1, bias: true, activation: FusedActivation.Relu), // four pairs per slice: set, add, add, add and activate
        KernelCase3D.Cube(4, 4, 3, 3, stride: 2, padding: 1, groups: 2, bias: true),                  // groups
        KernelCase3D.Cube(4, 4, 3, 3, stride: 1, padding: 1, groups: 4, channelsLast: true),           // depthwise NDHWC
        KernelCase3D.Cube(2, 2, 3, 2, stride: 2, dilation: 2, outputPadding: 1),                       // dilation
        KernelCase3D.Cube(3, 4, 4, 3, stride: 2, padding: 1, outputPadding: 1, batch: 2, bias: true, activation: FusedActivation.Relu, budget: 40), // loops kept, batch 2
        KernelCase3D.Cube(16, 16, 3, 3, stride: 2, padding: 1, channelsLast: true, bias: true, activation: FusedActivation.Relu), // channel vectors, packed weights, adds
        // Channel vectors whose planes would pack weights, but no depth tap reaches the one output slice (id 0 and 1 land on od -1
        // and 1): no plane code is written, so no packed-weight buffer may be declared (it was warning CS0169 in the user's build).
        new(1, 4, 10, 2, (2, 4, 4), (1, 2, 3), (2, 2, 1), (1, 0, 0), (1, 0, 0), (0, 1, 0), (2, 1, 1), true, true, FusedActivation.Relu, 0.2f, 0, 119574),
        KernelCase3D.Cube(2, 3, 2, 3, stride: 2, padding: 1, channelsLast: false, bias: true) with { Size = (2, 3, 20) }, // NCDHW width vectors, stride-2 pairs interleaved and added
        // Many channels: the Vector256 planes stage their input slice row by row (KernelBodyWriter.StagesInput).
        KernelCase3D.Cube(32, 8, 2, 2, stride: 2, bias: true, activation: FusedActivation.Relu) with { Size = (2, 3, 16) }, // volume_up-like: one pair per slice
        KernelCase3D.Cube(32, 9, 2, 3, stride: 2, padding: 1, bias: true, activation: FusedActivation.LeakyRelu, slope: 0.2f) with { Size = (2, 3, 17) }, // set, add and activate
        // Rows of one Vector256 vector (8 pairs, unstaged), kernel 3, stride 2, padding 1: blocks of 6 channels x 2 phases and a
        // 4-channel tail (16 = 6 + 6 + 4), each vector shifted at an edge; set, add and activate.
        KernelCase3D.Cube(8, 16, 2, 3, stride: 2, padding: 1, outputPadding: 1, bias: true, activation: FusedActivation.LeakyRelu, slope: 0.2f) with { Size = (2, 3, 8) },
        new(1, 2, 3, 1, (3, 2, 5), (3, 2, 3), (2, 1, 2), (1, 0, 1), (2, 1, 0), (1, 0, 1), (1, 2, 1), false, true, FusedActivation.LeakyRelu, 0.1f, 0, 7), // per axis, asymmetric pads
        new(2, 4, 8, 2, (2, 3, 4), (2, 3, 2), (1, 2, 2), (0, 1, 0), (1, 1, 0), (0, 1, 1), (2, 1, 1), true, false, FusedActivation.Tanh, 0.01f, 30, 8), // per axis, NDHWC, loops
        new(1, 2, 2, 1, (3, 3, 3), (3, 3, 3), (2, 2, 2), (1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1), false, false, FusedActivation.None, 0.01f, 0, 9, OutputSizeForm: true), // PyTorch's output_size
    ];

    [Fact]
    public void GeneratedKernelsMatchTheRuntimeAndTheNaiveReference() =>
        KernelCase3D.Generator.Array[16].Sample(random => CompileAndCompare([.. EdgeCases, .. random]), iter: 1, threads: 1);

    internal static void CompileAndCompare(KernelCase3D[] cases)
    {
        var result = GeneratorHarness.CompileAndLoad(KernelCase3D.Source("Equivalence3D", cases), projectBudget: 300, assembly =>
        {
            var kernels = assembly.GetType("Equivalence3D.Kernels", throwOnError: true)!;
            for (int i = 0; i < cases.Length; i++)
                CheckCase(kernels, "K" + i, cases[i]);
        });
        Assert.Equal(cases.Length, result.GeneratedTrees.Length);
    }

    private static void CheckCase(Type kernels, string name, KernelCase3D c)
    {
        var naive = c.Naive();
        var runtime = c.Runtime();
        AssertClose(c, name + " (runtime vs naive)", runtime, naive);

        var method = kernels.GetMethod(name, BindingFlags.Public | BindingFlags.Static)!;
        var output = Sentinels(c.Batch * c.OutputLength + 3);
        Call(method, c, c.Input(), c.Weights(), c.Bias(), output);
        AssertClose(c, name, output.AsSpan(0, naive.Length), naive);
        AssertClose(c, name + " (generated vs runtime)", output.AsSpan(0, naive.Length), runtime);
        Assert.All(output[naive.Length..], v => Assert.Equal(Sentinel, v));

        foreach (var path in AcceleratedPaths(kernels, name))
        {
            var pathOutput = Sentinels(c.Batch * c.OutputLength);
            CallPath(path, c, c.Input(), c.Weights(), c.Bias(), pathOutput);
            AssertClose(c, name + "." + path.Name, pathOutput, naive);
        }

        // NaN and infinities: in the input and bias on every path; in the weights through the public method (the scalar path).
        var random = new Random(c.Seed);
        float[] input = c.Input(), weights = c.Weights(), bias = c.Bias();
        SpecialValues.Sprinkle(input, 1 + random.Next(3), random);
        SpecialValues.Sprinkle(bias, random.Next(2), random);
        float[] specialWeights = (float[])weights.Clone();
        SpecialValues.Sprinkle(specialWeights, 1 + random.Next(2), random);
        var expected = c.Naive(input, weights, bias);
        foreach (var path in AcceleratedPaths(kernels, name))
        {
            var pathOutput = Sentinels(expected.Length);
            CallPath(path, c, input, weights, bias, pathOutput);
            SpecialValues.AssertSame(expected, pathOutput, c.Tolerance, $"{name}.{path.Name} (special input and bias) {c}");
        }

        var special = Sentinels(expected.Length);
        Call(method, c, input, specialWeights, bias, special);
        SpecialValues.AssertSame(c.Naive(input, specialWeights, bias), special, c.Tolerance, $"{name} (special weights, input and bias) {c}");
    }

    private static void Call(MethodInfo method, KernelCase3D c, float[] input, float[] weights, float[] bias, float[] output)
    {
        if (c.HasBias) method.CreateDelegate<Kernel4>()(input, weights, bias, output);
        else method.CreateDelegate<Kernel3>()(input, weights, output);
    }

    /// <summary>A path called directly, one sample at a time, so that every width this machine has is checked in every run.</summary>
    private static void CallPath(MethodInfo path, KernelCase3D c, float[] input, float[] weights, float[] bias, float[] output)
    {
        for (int n = 0; n < c.Batch; n++)
        {
            if (c.HasBias)
                path.CreateDelegate<Path4>()(ref input[n * c.InputLength], ref weights[0], ref bias[0], ref output[n * c.OutputLength]);
            else
                path.CreateDelegate<Path3>()(ref input[n * c.InputLength], ref weights[0], ref output[n * c.OutputLength]);
        }
    }

    private static IEnumerable<MethodInfo> AcceleratedPaths(Type kernels, string name)
    {
        var paths = kernels.Assembly.GetType("KernelGen.Generated.Equivalence3D_Kernels_" + name, throwOnError: true)!;
        foreach (var (pathName, accelerated) in Paths)
        {
            if (accelerated && paths.GetMethod(pathName, BindingFlags.NonPublic | BindingFlags.Static) is { } path) yield return path;
        }
    }

    private static readonly (string Name, bool Accelerated)[] Paths =
    [
        ("Vector512Path", Vector512.IsHardwareAccelerated),
        ("Vector256Path", Vector256.IsHardwareAccelerated),
        ("Vector128Path", Vector128.IsHardwareAccelerated),
        ("ScalarPath", true),
    ];

    private const float Sentinel = 12345f;

    private static float[] Sentinels(int length) => Enumerable.Repeat(Sentinel, length).ToArray();

    private static void AssertClose(KernelCase3D c, string what, ReadOnlySpan<float> actual, float[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(actual[i] - expected[i]) <= c.Tolerance))
                Assert.Fail($"{what}: output[{i}] = {actual[i]}, expected {expected[i]} (tolerance {c.Tolerance}) for {c}");
        }
    }
}
