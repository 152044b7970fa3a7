using CsCheck;
using KernelGen.Kernels;

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
    public void RandomGeometriesMatchTheReferenceOnBothSidesOfTheTapListThreshold(long threshold)
    {
        try
        {
            TapListKernel.MaxMultiplyAdds = threshold;
            ConvCase.Generator.Sample(c => RandomShapeTests.AssertMatchesReference(c), iter: 200, threads: 1);
        }
        finally
        {
            TapListKernel.MaxMultiplyAdds = TapListKernel.DefaultMaxMultiplyAdds;
        }
    }

    [Fact]
    public void TheCourseExampleHoldsWithAndWithoutTheTapListKernel()
    {
        var conv = new ConvTranspose2D(1, 1, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1);
        var output = new float[16];
        try
        {
            // With the threshold at -1 nothing may take the tap-list kernel; the result must not change.
            TapListKernel.MaxMultiplyAdds = -1;
            conv.Compute(CourseExampleTests.Input, 2, 2, CourseExampleTests.Filter, default, output);
            Assert.Equal(CourseExampleTests.Expected, output);
        }
        finally
        {
            TapListKernel.MaxMultiplyAdds = TapListKernel.DefaultMaxMultiplyAdds;
        }

        Array.Clear(output);
        conv.Compute(CourseExampleTests.Input, 2, 2, CourseExampleTests.Filter, default, output);
        Assert.Equal(CourseExampleTests.Expected, output);
    }
}
