namespace KernelGen.Samples.Tests.Infrastructure;

/// <summary>A theory that runs only in the plain pass of the CI, for the reason <see cref="PlainPassFactAttribute"/> gives.</summary>
public sealed class PlainPassTheoryAttribute : TheoryAttribute
{
    public PlainPassTheoryAttribute()
    {
        string[] set = PlainPassFactAttribute.SimdSwitches.Where(name => Environment.GetEnvironmentVariable(name) is not null).ToArray();
        if (set.Length > 0)
            Skip = $"Runs only in the plain pass: {string.Join(", ", set)} is set, and this test (a child-process build) does not depend on the SIMD path.";
    }
}
