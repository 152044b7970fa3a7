using CsCheck;
using KernelGen.Planning;

namespace KernelGen.Tests;

/// <summary>
/// Small calls take the scalar tap-list kernel and larger ones the SIMD kernels. These tests move the threshold so that
/// every random case runs through each side, whatever its size.
/// </summary>
[Collection(ProcessWideSettingsCollection.Name)]
public class TapListKernelTests
{
    [Theory]
    [InlineData(0L)]
    [InlineData(long.MaxValue)]
    public void RandomGeometriesMatchTheReferenceOnBothSidesOfTheTapListThreshold(long threshold) =>
        ConvCase.Generator.Sample(c => RandomShapeTests.AssertMatchesReference(c, options: PlanOptions.Default with { ExactKernelMaxMultiplyAdds = threshold }),
            iter: 200, threads: 1);

    [Fact]
    public void TheCourseExampleHoldsWithAndWithoutTheTapListKernel()
    {
        var conv = new ConvTranspose2D(1, 1, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1);
        var output = new float[16];
        // With the threshold at -1 nothing may take the tap-list kernel; the result must not change.
        var simd = new ConvTranspose2D(1, 1, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1) { PlanOptions = Force.SimdKernels() };
        simd.Compute(CourseExampleTests.Input, 2, 2, CourseExampleTests.Filter, default, output);
        Assert.Equal(CourseExampleTests.Expected, output);

        Array.Clear(output);
        conv.Compute(CourseExampleTests.Input, 2, 2, CourseExampleTests.Filter, default, output);
        Assert.Equal(CourseExampleTests.Expected, output);
    }
}
