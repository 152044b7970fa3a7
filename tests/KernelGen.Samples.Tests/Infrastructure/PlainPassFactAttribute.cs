namespace KernelGen.Samples.Tests.Infrastructure;

/// <summary>
/// A fact that runs only in the plain pass of the CI: skipped when any of the SIMD switches that <c>.ci/run</c> sets for
/// its restricted passes is present. For slow tests that build in child processes (packing, NativeAOT publishing): what
/// they check does not depend on the SIMD path the test process runs with, so running them four times would only cost
/// time. The child processes themselves never inherit these switches (see <see cref="ChildProcess"/>).
/// </summary>
public sealed class PlainPassFactAttribute : FactAttribute
{
    /// <summary>The variables <c>.ci/run</c> sets in its restricted passes.</summary>
    public static readonly string[] SimdSwitches =
        ["DOTNET_EnableAVX512F", "DOTNET_EnableAVX512", "DOTNET_EnableAVX2", "DOTNET_EnableHWIntrinsic"];

    public PlainPassFactAttribute()
    {
        string[] set = SimdSwitches.Where(name => Environment.GetEnvironmentVariable(name) is not null).ToArray();
        if (set.Length > 0)
            Skip = $"Runs only in the plain pass: {string.Join(", ", set)} is set, and this test (a child-process build) does not depend on the SIMD path.";
    }
}
