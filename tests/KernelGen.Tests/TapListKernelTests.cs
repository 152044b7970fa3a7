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

    /// <summary>
    /// The exact kernel's row path reads each cell's taps from the plan's lists (<see cref="ExecutionPlan.SmallCallRowTaps"/>);
    /// without them it looks each cell's taps up, as it does for edge cells. Both must give the same bits, in every layout,
    /// grouping, packing and activation.
    /// </summary>
    [Fact]
    public void TheExactKernelGivesTheSameBitsWithAndWithoutItsListsOfCellTaps() =>
        ConvCase.Generator.Sample(c =>
        {
            var options = PlanOptions.Default with { ExactKernelMaxMultiplyAdds = long.MaxValue };
            float[] withLists = Run(c, options), withoutLists = Run(c, options with { ExactKernelCellTaps = false });
            for (int i = 0; i < withLists.Length; i++)
            {
                if (BitConverter.SingleToInt32Bits(withLists[i]) != BitConverter.SingleToInt32Bits(withoutLists[i]))
                    throw new Xunit.Sdk.XunitException($"{c}: output[{i}] is {withLists[i]} with the cell lists, {withoutLists[i]} without");
            }
        }, iter: 200, threads: 1);

    private static float[] Run(ConvCase c, PlanOptions options)
    {
        var output = new float[c.Batch * c.OutChannels * c.OutputHeight * c.OutputWidth];
        c.Create(options: options).Prepare(c.Weights(), c.Bias()).Compute(c.Input(), c.InputHeight, c.InputWidth, output);
        return output;
    }

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
