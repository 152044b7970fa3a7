using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;

namespace KernelGen.Generator.Tests;

/// <summary>
/// Kernels declared in every kind of type C# allows, side by side in one compilation, including names that map to the
/// same file name and a file-local type the generator cannot add to: that one gets its own KG error, and every other
/// kernel is generated and computes the course example (a generator that threw would leave them all without a body).
/// </summary>
public class ContainerTests
{
    private const string Seed = "[GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)]";
    private const string Parameters = "(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output)";

    /// <summary>Each declaration, and the C# expression that calls it from the static test method.</summary>
    private static readonly (string Declaration, string Call)[] Kernels =
    [
        ("public static partial class GlobalNamespace { " + Seed + " public static partial void K" + Parameters + "; }", "global::GlobalNamespace.K"),
        ("namespace A.B { public static partial class Layers { " + Seed + " public static partial void K" + Parameters + "; } }", "global::A.B.Layers.K"),
        // Outer_1 and Outer<T> (metadata name Outer`1) once mapped to the same file name.
        ("public partial class Outer_1 { public static partial class Inner { " + Seed + " public static partial void K" + Parameters + "; } }", "global::Outer_1.Inner.K"),
        ("public partial class Outer<T> { public static partial class Inner { " + Seed + " public static partial void K" + Parameters + "; } }", "global::Outer<int>.Inner.K"),
        // Two types whose names differ only in case: file names must differ ignoring case.
        ("public static partial class Layer { " + Seed + " public static partial void K" + Parameters + "; }", "global::Layer.K"),
        ("public static partial class layer { " + Seed + " public static partial void K" + Parameters + "; }", "global::layer.K"),
        ("public partial record Record(int A) { " + Seed + " public static partial void K" + Parameters + "; }", "global::Record.K"),
        ("public partial record struct RecordStruct(int A) { " + Seed + " public static partial void K" + Parameters + "; }", "global::RecordStruct.K"),
        ("public partial struct Struct { " + Seed + " internal static partial void K" + Parameters + "; }", "global::Struct.K"),
        ("public ref partial struct RefStruct { " + Seed + " private static partial void K" + Parameters + "; public static void Call" + Parameters + " => K(input, weights, output); }", "global::RefStruct.Call"),
        // A classic partial method (no accessibility): without a body every call to it would be removed, silently.
        ("public static partial class Classic { " + Seed + " static partial void K" + Parameters + "; public static void Call" + Parameters + " => K(input, weights, output); }", "global::Classic.Call"),
        ("public static partial class Overloads { " + Seed + " public static partial void K" + Parameters + "; }", "global::Overloads.K"),
        ("public partial class Generic<T1, T2> where T1 : class, new() where T2 : struct { public partial class Nested<T3> { " + Seed + " public static partial void K" + Parameters + "; } }", "global::Generic<object, int>.Nested<string>.K"),
        ("public static partial class @class { " + Seed + " public static partial void @void(ReadOnlySpan<float> @in, ReadOnlySpan<float> @out, Span<float> @ref); }", "global::@class.@void"),
    ];

    [Fact]
    public void EveryKernelIsGeneratedBesideOneTheGeneratorCannotImplement()
    {
        string fileLocal = "file static partial class FileLocal { " + Seed + " static partial void K" + Parameters + "; }";
        string calls = "namespace Calls { public static class Run { public static float[][] All() { float[] x = [2, 1, 3, 2]; float[] w = [1, 2, 1, 2, 0, 1, 0, 2, 1]; return ["
            + string.Join(", ", Kernels.Select(k => "Call(" + k.Call + ", x, w)"))
            + "]; } private delegate void Kernel(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);"
            + " private static float[] Call(Kernel kernel, float[] x, float[] w) { var y = new float[16]; kernel(x, w, y); return y; } } }";
        var sources = Kernels.Select(k => "using System;\nusing KernelGen;\n" + k.Declaration).Append("using System;\nusing KernelGen;\n" + fileLocal).Append("using System;\n" + calls);
        var compilation = GeneratorHarness.Compile(sources);
        var (result, output) = GeneratorHarness.Run(compilation);

        Assert.Null(result.Results.Single().Exception);
        Assert.Equal("KG0014", Assert.Single(result.Diagnostics).Id);
        var hintNames = result.Results.Single().GeneratedSources.Select(s => s.HintName).ToArray();
        Assert.Equal(Kernels.Length, hintNames.Length);
        Assert.Equal(hintNames.Length, hintNames.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Contains("Outer_1+Inner.K.g.cs", hintNames);
        Assert.Contains("Outer_1+Inner.K_2.g.cs", hintNames);   // Outer`1+Inner.K, the later of the two in ordinal order
        Assert.Contains("layer.K_2.g.cs", hintNames);      // layer.K, after Layer.K in ordinal order

        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        image.Position = 0;
        var context = new AssemblyLoadContext("Containers", isCollectible: true);
        try
        {
            var run = context.LoadFromStream(image).GetType("Calls.Run", throwOnError: true)!.GetMethod("All", BindingFlags.Public | BindingFlags.Static)!;
            var outputs = (float[][])run.Invoke(null, null)!;
            Assert.All(outputs, y => Assert.Equal([0, 4, 0, 1, 10, 7, 6, 3, 0, 7, 0, 2, 6, 3, 4, 2], y));
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void AFailureWhileEmittingOneKernelIsThatKernelsErrorAndItsBodyThrows()
    {
        // A model the parser never makes (it validates first): the emitter divides by zero groups.
        var target = new Model.KernelTarget("N", new Model.EquatableArray<Model.ContainingType>([new Model.ContainingType("class", "C")]), "K",
            "public static partial void K(global::System.ReadOnlySpan<float> input, global::System.ReadOnlySpan<float> weights, global::System.Span<float> output)",
            "public", new Model.EquatableArray<string>(["input", "weights", "output"]), "N.C.K", true);
        var spec = new Model.KernelSpec(1, 1, 0, 2, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, false, Model.KernelActivation.None, 0.01f, false, 0);
        var declaration = new Model.KernelDeclaration(target, spec, null, null, null, "N.C.K.g.cs");

        string? source = ConvTransposeGenerator.EmitSafely(declaration, 0, out string? failure);

        Assert.NotNull(failure);
        Assert.Contains("throw new global::System.InvalidOperationException(\"KG0015: KernelGen could not generate this kernel: ", source);
    }
}
