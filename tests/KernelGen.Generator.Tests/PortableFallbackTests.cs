using System.Text.RegularExpressions;

namespace KernelGen.Generator.Tests;

/// <summary>
/// The portable branches of the generated kernels, those a processor that is neither x86 nor ARM takes (WebAssembly, RISC-V,
/// LoongArch...): the lane helpers that shift zeros into an edge vector and interleave the two phases of a stride-2 column pair,
/// and the unfused multiply-add. The x86 and ARM instructions are chosen by <c>IsSupported</c> checks (in the lane helpers, or in
/// place for a .NET 8 multiply-add), so no machine CI runs on reaches these branches. This test compiles the equivalence edge cases with every <c>IsSupported</c> check of the generated
/// source replaced by <c>false</c> (the product is not changed and has no test hook) and compares the public method and each
/// vector path this machine accelerates with the naive reference and the runtime library, exactly as
/// <see cref="EquivalenceTests"/> does. On an x64 machine with AVX-512 that runs the 512-, 256- and 128-bit helpers.
/// </summary>
public class PortableFallbackTests
{
    /// <summary>Every portable loop the generator can emit: four lane shuffles at each vector width.</summary>
    private static readonly string[] AllHelpers =
        [.. from width in new[] { "128", "256", "512" }
            from shuffle in new[] { "InterleaveLower", "InterleaveUpper", "ShiftDown", "ShiftUp" }
            select shuffle + width];

    // A hardware-intrinsic class's check (e.g. Avx2.IsSupported, AdvSimd.Arm64.IsSupported), a constant for the JIT.
    private static readonly Regex IsSupportedCheck = new(@"\b(?:[A-Z][A-Za-z0-9]*\.)+IsSupported\b", RegexOptions.CultureInvariant);

    // The portable loop a lane helper falls back on (InterleaveLower256Portable, ShiftUp128Portable...).
    private static readonly Regex HelperDefinition = new(@"private static Vec\d+ ((?:InterleaveLower|InterleaveUpper|ShiftUp|ShiftDown)\d+)Portable\(", RegexOptions.CultureInvariant);

    [Fact]
    public void PortableBranchesMatchTheRuntimeAndTheNaiveReference()
    {
        var helpers = new SortedSet<string>(StringComparer.Ordinal);
        int checksReplaced = 0;
        // The NCHW edge cases: the lane helpers belong to the width-vectorised kernels, which NCHW layers take (the NHWC ones
        // mostly vectorise channels, and would only make the compilation longer).
        KernelCase[] cases = [.. EquivalenceTests.EdgeCases.Where(c => !c.ChannelsLast)];
        EquivalenceTests.CompileAndCompare(cases, generated =>
        {
            // A helper is emitted only where a path calls it.
            foreach (Match helper in HelperDefinition.Matches(generated))
                helpers.Add(helper.Groups[1].Value);
            checksReplaced += IsSupportedCheck.Count(generated);
            return IsSupportedCheck.Replace(generated, "false");
        });

        // The edge cases must keep reaching every helper, or this test would silently stop covering some of them.
        Assert.Equal(AllHelpers.Order(StringComparer.Ordinal), helpers);
        Assert.True(checksReplaced > 0, "no IsSupported check was found in the generated sources");
    }
}
