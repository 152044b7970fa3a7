using System.Reflection;

namespace KernelGen.Generator.Tests;

/// <summary>
/// The generated kernels are fast from their first call: every method of a kernel's call chain (the user's partial method,
/// Run, the per-width paths, the rows split into local functions, the activation, lane and scattered-store helpers) carries
/// <see cref="MethodImplAttributes.AggressiveOptimization"/>, so the JIT compiles it fully optimised at once instead of as
/// tier-0 code that tiered compilation replaces only after 30 calls and 100 ms (docs/first-calls.md has the measurements).
/// Code compiled that way gets no profile, so the JIT would not inline Run (nor a tiny kernel's paths) as tier 1 does:
/// those carry <see cref="MethodImplAttributes.AggressiveInlining"/> too. Checked on the compiled assembly, over the
/// equivalence tests' shapes, which reach every kind of generated method.
/// </summary>
public class FirstCallOptimizationTests
{
    [Fact]
    public void EveryMethodOfTheCallChainIsCompiledOptimisedFromItsFirstCall()
    {
        var cases = EquivalenceTests.EdgeCases;

        GeneratorHarness.CompileAndLoad(KernelCase.Source("FirstCalls", cases), projectBudget: 300, assembly =>
        {
            var kinds = new HashSet<string>();
            for (int i = 0; i < cases.Length; i++)
            {
                var entry = assembly.GetType("FirstCalls.Kernels", throwOnError: true)!.GetMethod("K" + i)!;
                AssertOptimised(entry);
                var kernel = assembly.GetType("KernelGen.Generated.FirstCalls_Kernels_K" + i, throwOnError: true)!;
                foreach (var method in kernel.GetMethods(BindingFlags.DeclaredOnly | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
                {
                    // The throw helpers run once, to throw: tiering them is right.
                    if (method.Name.StartsWith("Throw", StringComparison.Ordinal)) continue;
                    AssertOptimised(method);
                    kinds.Add(Kind(method.Name));
                    if (method.Name == "Run" || (i == 0 && method.Name.EndsWith("Path", StringComparison.Ordinal)))   // K0: the course example
                        Assert.True(method.MethodImplementationFlags.HasFlag(MethodImplAttributes.AggressiveInlining), $"K{i}.{method.Name} is not inlined");
                }
            }

            // The shapes reach every place the emitter writes a method; a kind missing here would go unchecked.
            Assert.Equal(["Activate", "AllFinite", "Lane helper", "Path", "Rows (local function)", "Run", "Scattered store"], kinds.Order(StringComparer.Ordinal));
        });
    }

    [Fact]
    public void ADeclarationWithItsOwnMethodImplKeepsItAndTheKernelBehindItIsStillOptimised()
    {
        // The implementing part of a partial method may not repeat [MethodImpl] (CS0579): the user's options are the method's.
        const string Source = """
            using System;
            using System.Runtime.CompilerServices;
            using KernelGen;

            namespace FirstCalls;

            public static partial class Kernels
            {
                [MethodImpl(MethodImplOptions.NoInlining)]
                [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
                public static partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);
            }
            """;
        GeneratorHarness.CompileAndLoad(Source, projectBudget: null, assembly =>
        {
            var entry = assembly.GetType("FirstCalls.Kernels", throwOnError: true)!.GetMethod("Seed")!;
            Assert.Equal(MethodImplAttributes.NoInlining, entry.MethodImplementationFlags);
            AssertOptimised(assembly.GetType("KernelGen.Generated.FirstCalls_Kernels_Seed", throwOnError: true)!.GetMethod("Run")!);

            var output = new float[16];
            entry.CreateDelegate<Kernel3>()(new float[] { 2, 1, 3, 2 }, new float[] { 1, 2, 1, 2, 0, 1, 0, 2, 1 }, output);
            Assert.Equal([0, 4, 0, 1, 10, 7, 6, 3, 0, 7, 0, 2, 6, 3, 4, 2], output);
        });
    }

    private static void AssertOptimised(MethodInfo method) =>
        Assert.True(method.MethodImplementationFlags.HasFlag(MethodImplAttributes.AggressiveOptimization),
            $"{method.DeclaringType}.{method.Name} is not marked AggressiveOptimization ({method.MethodImplementationFlags})");

    private static string Kind(string name) => name switch
    {
        "Run" => "Run",
        _ when name.EndsWith("Path", StringComparison.Ordinal) => "Path",
        _ when name.Contains("g__Rows", StringComparison.Ordinal) => "Rows (local function)",
        _ when name.StartsWith("Activate", StringComparison.Ordinal) => "Activate",
        _ when name.StartsWith("Interleave", StringComparison.Ordinal) || name.StartsWith("Shift", StringComparison.Ordinal) => "Lane helper",
        _ when name.StartsWith("StoreLanes", StringComparison.Ordinal) => "Scattered store",
        _ => name,
    };
}
