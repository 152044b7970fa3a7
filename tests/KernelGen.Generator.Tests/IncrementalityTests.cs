using System.Collections;
using System.Reflection;
using KernelGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace KernelGen.Generator.Tests;

/// <summary>The pipeline caches: an edit away from the annotated methods re-emits nothing, and the models hold no compiler objects.</summary>
public class IncrementalityTests
{
    private const string Source = """
        using System;
        using KernelGen;

        namespace App;

        public static partial class Layers
        {
            [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
            public static partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

            [GeneratedConvTranspose2D(2, 8, 3, 3, 2, Stride = 2, Layout = TensorLayout.Nhwc, Activation = FusedActivation.Relu)]
            internal static partial void Up(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

            [GeneratedConvTranspose3D(2, 2, 2, 3, 3, 3, StrideDepth = 2, PaddingDepth = 1, Activation = FusedActivation.Tanh)]
            public static partial void Volume(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

            [GeneratedConvTranspose1D(4, 2, 16, 4, Stride = 2, Padding = 1)]
            public static partial void Signal(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);
        }
        """;

    private static (GeneratorDriver Driver, CSharpCompilation Compilation) FirstRun()
    {
        var compilation = GeneratorHarness.Compile(Source);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);
        return (driver, compilation);
    }

    private static object?[] Models(GeneratorRunResult result) =>
        [.. result.TrackedSteps[ConvTransposeGenerator.DeclarationStep].SelectMany(step => step.Outputs).Select(output => output.Value)];

    [Fact]
    public void AnUnrelatedEditLeavesEveryStepCached()
    {
        var (driver, compilation) = FirstRun();
        var first = driver.GetRunResult().Results.Single();
        Assert.Equal(4, first.GeneratedSources.Length);

        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace App; public class Unrelated { public int Value => 42; }",
            GeneratorHarness.ParseOptions(), path: "Unrelated.cs"));
        var second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        // Every step after Roslyn's own inputs: the Compilation itself and ForAttributeWithMetadataName's first internal step
        // necessarily see the new tree; everything downstream of them, ours included, must not run again.
        var steps = second.TrackedSteps
            .Where(pair => pair.Key != "Compilation" && !pair.Key.StartsWith("compilationAndGroupedNodes_", StringComparison.Ordinal))
            .Concat(second.TrackedOutputSteps)
            .SelectMany(pair => pair.Value.SelectMany(step => step.Outputs).Select(output => (pair.Key, output.Reason)))
            .ToArray();
        Assert.Contains(steps, step => step.Key == ConvTransposeGenerator.DeclarationStep);
        Assert.Contains(steps, step => step.Key == ConvTransposeGenerator.BudgetStep);
        Assert.Contains(steps, step => step.Key == ConvTransposeGenerator.DelegationStep);
        Assert.Contains(steps, step => step.Key == "SourceOutput");
        Assert.All(steps, step => Assert.True(step.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step.Key} ran again: {step.Reason}"));
        Assert.Equal(Models(first), Models(second));
    }

    [Fact]
    public void AnEditToADeclarationIsNoticed()
    {
        var (driver, compilation) = FirstRun();
        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(tree.GetText().Replace(
            Source.IndexOf("Stride = 2, Padding = 1", StringComparison.Ordinal) + "Stride = ".Length, 1, "3")));
        var second = driver.RunGenerators(edited).GetRunResult().Results.Single();
        var reasons = second.TrackedSteps[ConvTransposeGenerator.DeclarationStep].SelectMany(step => step.Outputs).Select(output => output.Reason);
        Assert.Contains(IncrementalStepRunReason.Modified, reasons);
    }

    /// <summary>An edit to the 3-D declaration re-parses that one alone: the 2-D declarations' models stay cached.</summary>
    [Fact]
    public void AnEditToA3DDeclarationIsNoticedAndTouchesNoOther()
    {
        var (driver, compilation) = FirstRun();
        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(tree.GetText().Replace(
            Source.IndexOf("StrideDepth = 2", StringComparison.Ordinal) + "StrideDepth = ".Length, 1, "3")));
        var second = driver.RunGenerators(edited).GetRunResult().Results.Single();
        var outputs = second.TrackedSteps[ConvTransposeGenerator.DeclarationStep].SelectMany(step => step.Outputs).ToArray();
        Assert.Single(outputs, output => output.Reason == IncrementalStepRunReason.Modified);
        var modified = (KernelDeclaration)outputs.Single(output => output.Reason == IncrementalStepRunReason.Modified).Value;
        Assert.Equal(3, modified.Spec!.StrideDepth);
        Assert.Equal(3, modified.Spec.Rank);
        Assert.All(outputs.Where(output => output.Reason != IncrementalStepRunReason.Modified),
            output => Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, output.Reason.ToString()));
    }

    /// <summary>An edit to the 1-D declaration re-parses that one alone, and re-emits that one file alone.</summary>
    [Fact]
    public void AnEditToA1DDeclarationIsNoticedAndTouchesNoOther()
    {
        var (driver, compilation) = FirstRun();
        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(tree.GetText().Replace(
            Source.IndexOf("16, 4, Stride = 2", StringComparison.Ordinal) + "16, 4, Stride = ".Length, 1, "4")));
        var second = driver.RunGenerators(edited).GetRunResult().Results.Single();
        var outputs = second.TrackedSteps[ConvTransposeGenerator.DeclarationStep].SelectMany(step => step.Outputs).ToArray();
        var modified = (KernelDeclaration)Assert.Single(outputs, output => output.Reason == IncrementalStepRunReason.Modified).Value;
        Assert.Equal(1, modified.Spec!.Rank);
        Assert.Equal(4, modified.Spec.StrideWidth);
        Assert.All(outputs.Where(output => output.Reason != IncrementalStepRunReason.Modified),
            output => Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, output.Reason.ToString()));
        var emitted = second.TrackedOutputSteps["SourceOutput"].SelectMany(step => step.Outputs).ToArray();
        Assert.Single(emitted, output => output.Reason == IncrementalStepRunReason.Modified);
    }

    /// <summary>
    /// What the compilation's runtime offers is part of the model (it decides how multiply-adds are written), so it must
    /// compare equal from run to run: a compilation of the same runtime leaves every model cached.
    /// </summary>
    [Fact]
    public void TheRuntimesMultiplyAddEstimateIsSeenAndStable()
    {
        var models = Models(FirstRun().Driver.GetRunResult().Results.Single()).Cast<KernelDeclaration>().ToArray();
        Assert.All(models, model => Assert.True(model.Spec!.MultiplyAddEstimate, model.Target.DisplayName));
    }

    [Fact]
    public void EqualDeclarationsGiveEqualModels()
    {
        var first = Models(FirstRun().Driver.GetRunResult().Results.Single());
        var again = Models(FirstRun().Driver.GetRunResult().Results.Single());
        Assert.Equal(first, again);
        Assert.Equal(first.Select(m => m!.GetHashCode()), again.Select(m => m!.GetHashCode()));
    }

    private static readonly Type[] Forbidden = [typeof(ISymbol), typeof(SyntaxNode), typeof(Compilation), typeof(Location), typeof(SemanticModel), typeof(SyntaxTree)];

    [Fact]
    public void ModelTypesHoldNoCompilerObjects()
    {
        var seen = new HashSet<Type>();
        void Walk(Type type, string path)
        {
            if (!seen.Add(type) || type.IsPrimitive || type == typeof(string) || type.IsEnum) return;
            Assert.False(Forbidden.Any(f => f.IsAssignableFrom(type)), $"{path} is a {type}");
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                var fieldType = field.FieldType.IsArray ? field.FieldType.GetElementType()! : field.FieldType;
                Walk(fieldType, path + "." + field.Name);
                foreach (var argument in fieldType.IsGenericType ? fieldType.GetGenericArguments() : []) Walk(argument, path + "." + field.Name + "<>");
            }
        }

        Walk(typeof(KernelDeclaration), nameof(KernelDeclaration));
        Assert.Contains(typeof(KernelSpec), seen);
        Assert.Contains(typeof(ContainingType), seen);
    }

    [Fact]
    public void ModelValuesHoldNoCompilerObjects()
    {
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        void Walk(object? value, string path)
        {
            if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !visited.Add(value)) return;
            Assert.False(Forbidden.Any(f => f.IsInstanceOfType(value)), $"{path} is a {value.GetType()}");
            if (value is IEnumerable items)
            {
                int i = 0;
                foreach (var item in items) Walk(item, $"{path}[{i++}]");
            }

            foreach (var field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
                Walk(field.GetValue(value), path + "." + field.Name);
        }

        var models = Models(FirstRun().Driver.GetRunResult().Results.Single());
        Assert.Equal(4, models.Length);
        foreach (var model in models) Walk(model, "model");
    }
}
