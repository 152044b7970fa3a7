using CsCheck;
using KernelGen.Kernels;
using KernelGen.Planning;

namespace KernelGen.Tests;

/// <summary>
/// The channel kernel's fused pass (NCHW layers, and NHWC ones with padding lanes) copies only the padded input rows a
/// chunk of output rows reads into a per-thread buffer, and its reads of that buffer are unchecked: these tests pin down
/// the row range it copies and the buffer it copies into. (That the values land right is checked against the naive
/// reference by <see cref="RandomShapeTests.RandomGeometriesMatchWhenTheChannelKernelRelayoutsInSmallChunks"/>, which
/// splits random layers into chunks of one or a few rows, so that chunks read overlapping and border rows.)
/// </summary>
public class ChannelKernelChunkTests
{
    /// <summary>
    /// For every chunk of output rows, every input row a real tap reads (by the axis plan's own tap lists, independent of
    /// the phase decomposition the kernel addresses with) lies inside the copied rows, which lie inside the padded input,
    /// and <see cref="ExecutionPlan.MaxPaddedRowsRead"/> (a sliding-window extreme) sizes the buffer for exactly
    /// the widest chunk of at most <c>n</c> rows, found here by brute force.
    /// </summary>
    [Fact]
    public void ChunkRowRangesCoverEveryTapAndFitTheBuffer() =>
        Gen.Select(ConvCase.Generator, Gen.Int[1, 12]).Sample((c, chunkRows) =>
        {
            var plan = Plans.Of(c.Create(), c.InputHeight, c.InputWidth);
            int bufferRows = plan.MaxPaddedRowsRead(chunkRows);
            Assert.InRange(bufferRows, 0, plan.PaddedHeight);
            int widestWindow = 0; // by brute force over every window of chunkRows rows
            for (int start = 0; start < plan.OutputHeight; start++)
            {
                (int first, int last) = plan.PaddedRowsRead(start, Math.Min(plan.OutputHeight, start + chunkRows));
                widestWindow = Math.Max(widestWindow, last - first);
            }

            Assert.Equal(widestWindow, bufferRows);
            for (int start = 0; start < plan.OutputHeight; start++)
            {
                for (int end = start + 1; end <= Math.Min(plan.OutputHeight, start + chunkRows); end++)
                {
                    (int first, int last) = plan.PaddedRowsRead(start, end);
                    Assert.True(0 <= first && first <= last && last <= plan.PaddedHeight, $"{c}: rows [{first}, {last}) for [{start}, {end})");
                    Assert.True(last - first <= bufferRows, $"{c}: {last - first} rows for [{start}, {end}), buffer of {bufferRows}");
                    for (int oy = start; oy < end; oy++)
                    {
                        foreach (int inputRow in RealTapRows(c, oy))
                        {
                            int paddedRow = inputRow + plan.RowShift;
                            Assert.True(first <= paddedRow && paddedRow < last, $"{c}: output row {oy} reads padded row {paddedRow}, outside [{first}, {last})");
                        }
                    }
                }
            }
        }, iter: 300);

    /// <summary>The input rows that reach output row <paramref name="oy"/> by the definition (<c>oy + padTop = iy * stride + ky * dilation</c>).</summary>
    private static IEnumerable<int> RealTapRows(ConvCase c, int oy)
    {
        for (int ky = 0; ky < c.Kernel.H; ky++)
        {
            int reach = oy + c.Padding.Top - ky * c.Dilation.H;
            if (reach >= 0 && reach % c.Stride.H == 0 && reach / c.Stride.H < c.InputHeight)
                yield return reach / c.Stride.H;
        }
    }

    [Fact]
    public void ChunkRowRangeIsEmptyWhenNoTapReachesTheRows()
    {
        // Stride 3 with one kernel tap: output rows of residues 1 and 2 get only the bias.
        var plan = Plans.Of(new ConvTranspose2D(2, 8, 1, 3), 4, 4);
        Assert.Equal((0, 0), plan.PaddedRowsRead(1, 3));
        (int first, int end) = plan.PaddedRowsRead(3, 4);
        Assert.Equal(1, end - first);
    }

    [Fact]
    public unsafe void AlignedBufferSlicesStartOnCacheLinesAndGrow()
    {
        var buffer = new AlignedBuffer();
        foreach (int length in new[] { 1, 17, 1000, 5000, 40 })
        {
            buffer.Ensure(length);
            int stride = AlignedBuffer.RoundUp(length / 3 + 1);
            Assert.Equal(0, stride % 16);
            Assert.InRange(stride, length / 3 + 1, length / 3 + 16);
            for (int part = 0; part * stride + 1 <= length; part++)
            {
                fixed (float* start = buffer.Slice(part * stride, 1))
                    Assert.Equal(0, (nint)start % 64);
            }

            Assert.True(buffer.Span.Length >= length);
            buffer.Span[length - 1] = 1; // writable to the end
        }
    }
}

/// <summary>Execution plans as <see cref="PreparedConvTranspose2D"/> makes them, for tests that inspect a plan directly.</summary>
internal static class Plans
{
    public static ExecutionPlan Of(ConvTranspose2D definition, int inputHeight, int inputWidth) =>
        PlanBuilder.ForInput(PlanBuilder.ForLayer(definition, definition.PlanOptions), inputHeight, inputWidth);
}
