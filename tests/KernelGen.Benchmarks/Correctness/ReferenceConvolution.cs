using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Correctness;

/// <summary>
/// The oracle every engine (the naive loop included) is checked against: each output is gathered from the taps that
/// reach it, accumulated in double. It is written in the gather form on purpose: the naive engine scatters, so the two
/// share no loop structure. Alongside each value it returns <c>Σ|x·w|</c> over the same taps, the scale of the rounding
/// error any float engine may make on that output.
/// </summary>
public static class ReferenceConvolution
{
    /// <summary>The reference output and the per-output magnitude <c>Σ|x·w|</c>, both in the shape's output layout.</summary>
    public static (float[] Values, float[] Magnitudes) Compute(ConvShape shape, ReadOnlySpan<float> input, ReadOnlySpan<float> weights)
    {
        var values = new float[shape.OutputLength];
        var magnitudes = new float[shape.OutputLength];
        int k = shape.Kernel, stride = shape.Stride;
        for (int n = 0; n < ConvShape.Batch; n++)
        for (int oc = 0; oc < shape.OutChannels; oc++)
        {
            int group = oc / shape.OutPerGroup, outInGroup = oc % shape.OutPerGroup;
            for (int oy = 0; oy < shape.OutputHeight; oy++)
            for (int ox = 0; ox < shape.OutputWidth; ox++)
            {
                double sum = 0, magnitude = 0;
                for (int ky = 0; ky < k; ky++)
                {
                    // Output row oy receives input row iy through tap ky when iy * stride + ky - padding == oy.
                    int rowOffset = oy + shape.Padding - ky;
                    if (rowOffset < 0 || rowOffset % stride != 0) continue;
                    int iy = rowOffset / stride;
                    if (iy >= shape.InputHeight) continue;
                    for (int kx = 0; kx < k; kx++)
                    {
                        int columnOffset = ox + shape.Padding - kx;
                        if (columnOffset < 0 || columnOffset % stride != 0) continue;
                        int ix = columnOffset / stride;
                        if (ix >= shape.InputWidth) continue;
                        for (int icInGroup = 0; icInGroup < shape.InPerGroup; icInGroup++)
                        {
                            int ic = group * shape.InPerGroup + icInGroup;
                            double term = (double)input[shape.InputIndex(n, ic, iy, ix)] * weights[shape.WeightIndex(ic, outInGroup, ky, kx)];
                            sum += term;
                            magnitude += Math.Abs(term);
                        }
                    }
                }

                int index = shape.OutputIndex(n, oc, oy, ox);
                values[index] = (float)sum;
                magnitudes[index] = (float)magnitude;
            }
        }

        return (values, magnitudes);
    }
}
