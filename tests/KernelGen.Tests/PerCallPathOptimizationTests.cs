using System.Reflection;
using System.Runtime.CompilerServices;
using Xunit;

namespace KernelGen.Tests;

/// <summary>
/// The runtime must be as fast without tiered compilation (NativeAOT, <c>DOTNET_TieredCompilation=0</c>) and on its first
/// calls as tier-1 code is after thirty calls and a profile (issue 17). So every method a <c>Compute</c> call runs is
/// compiled fully optimised on its first call (<see cref="MethodImplOptions.AggressiveOptimization"/>), and the small
/// helpers those call are always inlined (<see cref="MethodImplOptions.AggressiveInlining"/>): without a profile the JIT's
/// inline budget in the large kernel methods left some helpers as calls, and a call keeps vector accumulators on the stack
/// (every SIMD register is caller-saved in the SysV ABI): dcgan ran 5 times slower under TieredCompilation=0. A kernel
/// method added without either attribute fails here.
/// </summary>
public sealed class PerCallPathOptimizationTests
{
    private const MethodImplAttributes Optimized = MethodImplAttributes.AggressiveOptimization;
    private const MethodImplAttributes Inlined = MethodImplAttributes.AggressiveInlining;

    /// <summary>Methods of the kernel classes that run once per layer or per input size, not per call.</summary>
    private static bool RunsOnceNotPerCall(MethodInfo method) =>
        method.Name.StartsWith("Pack", StringComparison.Ordinal) // packing runs at Prepare (or once per new layout)
        || method.Name.StartsWith("get_", StringComparison.Ordinal) // auto-properties: inlined as field reads
        || method.Name is "FindNonFiniteTaps" or "ToString" or "Equals" or "GetHashCode" or "Deconstruct" or "<Clone>$" or "PrintMembers";

    public static TheoryData<string> KernelTypes()
    {
        var data = new TheoryData<string>();
        foreach (var type in typeof(ConvTranspose2D).Assembly.GetTypes())
        {
            if (type.Namespace == "KernelGen.Kernels" && !type.IsInterface && !IsCompilerGenerated(type)) data.Add(type.FullName!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(KernelTypes))]
    public void EveryKernelMethodIsOptimisedOnItsFirstCallOrAlwaysInlined(string typeName)
    {
        var type = typeof(ConvTranspose2D).Assembly.GetType(typeName)!;
        var missing = type.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsAbstract && !IsCompilerGenerated(m) && !RunsOnceNotPerCall(m) && !HasBodyOfAFewInstructions(m))
            .Where(m => (m.MethodImplementationFlags & (Optimized | Inlined)) == 0)
            .Select(m => m.Name)
            .ToList();
        Assert.True(missing.Count == 0, $"{typeName}: methods without AggressiveOptimization or AggressiveInlining: {string.Join(", ", missing)}");
    }

    [Theory]
    [InlineData(typeof(PreparedConvTranspose2D), nameof(PreparedConvTranspose2D.Compute))]
    [InlineData(typeof(PreparedConvTranspose2D), "ComputeValidated")]
    [InlineData(typeof(PreparedConvTranspose2D), "GetPlan")]
    [InlineData(typeof(ConvTranspose2D), "ValidateCall")]
    [InlineData(typeof(PreparedConvTranspose1D), nameof(PreparedConvTranspose1D.Compute))]
    [InlineData(typeof(ConvTranspose1D), "ValidateCall")]
    [InlineData(typeof(ConvTranspose1D), "GetSampleSizes")]
    [InlineData(typeof(PreparedConvTranspose3D), nameof(PreparedConvTranspose3D.Compute))]
    [InlineData(typeof(PreparedConvTranspose3D), "ComputeValidated")]
    [InlineData(typeof(PreparedConvTranspose3D), "ComputeSample")]
    [InlineData(typeof(ConvTranspose3D), "ValidateCall")]
    [InlineData(typeof(ConvTranspose3D), "GetSampleSizes")]
    public void TheCallPathAboveTheKernelsIsOptimisedOnItsFirstCall(Type type, string name)
    {
        var methods = type.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
            .Where(m => m.Name == name)
            .ToList();
        Assert.NotEmpty(methods);
        Assert.All(methods, m => Assert.True((m.MethodImplementationFlags & Optimized) != 0, $"{type.Name}.{m.Name} lacks AggressiveOptimization"));
    }

    /// <summary>
    /// The plan's queries and the kernels' per-call set-up structs that a call runs every time: without either attribute the
    /// JIT left them as calls from the optimised methods, so they ran as tier-0 code (and their getters with them) until
    /// tiered compilation recompiled them after 30 calls and a delay, which made calls 2 to 10 of the smallest layers slower
    /// than the steady state (docs/nativeaot.md; <c>DOTNET_JitDisasmSummary=1</c> listed them recompiled at tier 1).
    /// </summary>
    [Theory]
    [InlineData("KernelGen.Planning.ExecutionPlan", "RunsExact")]
    [InlineData("KernelGen.Planning.ExecutionPlan", "SaturatingMultiply")]
    [InlineData("KernelGen.Planning.ExecutionPlan", "PaddedRowsRead")]
    [InlineData("KernelGen.PreparedConvTranspose2D", "SplitsColumns")]
    [InlineData("KernelGen.Kernels.TapListKernel+CellContext", ".ctor")]
    [InlineData("KernelGen.Kernels.WidthPairedKernel+PhaseArgs", ".ctor")]
    public void WhatEveryCallRunsOutsideTheKernelsIsOptimisedOrInlined(string typeName, string name)
    {
        var type = typeof(ConvTranspose2D).Assembly.GetType(typeName)!;
        const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        var members = (name == ".ctor" ? type.GetConstructors(all).Cast<MethodBase>() : type.GetMethods(all).Where(m => m.Name == name)).ToList();
        Assert.NotEmpty(members);
        Assert.All(members, m => Assert.True((m.MethodImplementationFlags & (Optimized | Inlined)) != 0,
            $"{type.Name}.{m.Name} lacks AggressiveOptimization or AggressiveInlining"));
    }

    [Fact]
    public void TheCallContextsMethodsThatLoopOrDispatchAreOptimisedOnTheirFirstCall()
    {
        var context = typeof(PreparedConvTranspose2D).GetNestedType("CallContext", BindingFlags.NonPublic)!;
        var missing = context.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
            .Where(m => !IsCompilerGenerated(m) && !HasBodyOfAFewInstructions(m))
            .Where(m => (m.MethodImplementationFlags & (Optimized | Inlined)) == 0)
            .Select(m => m.Name)
            .ToList();
        Assert.True(missing.Count == 0, "CallContext methods without AggressiveOptimization or AggressiveInlining: " + string.Join(", ", missing));
    }

    private static bool IsCompilerGenerated(MemberInfo member) =>
        member.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false) || member.Name.Contains('<', StringComparison.Ordinal);

    /// <summary>A body of at most 16 bytes of IL (a field read, a short expression): the JIT inlines it at every optimisation level.</summary>
    private static bool HasBodyOfAFewInstructions(MethodInfo method) => (method.GetMethodBody()?.GetILAsByteArray()?.Length ?? 0) <= 16;
}
