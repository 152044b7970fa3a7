using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Correctness;

/// <summary>
/// The oracle every engine (the naive loop included) is checked against: each output is gathered from the taps that
/// reach it, accumulated in double. It is written in the gather form on purpose: the naive engine scatters, so the two
/// share no loop structure. Alongside each value it returns <c>Σ|x·w|</c> over the same taps, the scale of the rounding
/// error any float engine may make on that output. One loop serves every rank: the axes a rank lacks are unit axes
/// (<see cref="ConvShape"/>).
/// </summary>
public static class ReferenceConvolution
{
    /// <summary>The reference output and the per-output magnitude <c>Σ|x·w|</c>, both in the shape's output layout.</summary>
    public static (float[] Values, float[] Magnitudes) Compute(ConvShape shape, ReadOnlySpan<float> input, ReadOnlySpan<float> weights)
    {
        var values = new float[shape.OutputLength];
        var magnitudes = new float[shape.OutputLength];
        for (int n = 0; n < ConvShape.Batch; n++)
        for (int oc = 0; oc < shape.OutChannels; oc++)
        {
            int group = oc / shape.OutPerGroup, outInGroup = oc % shape.OutPerGroup;
            for (int oz = 0; oz < shape.OutputDepth; oz++)
            for (int oy = 0; oy < shape.OutputHeight; oy++)
            for (int ox = 0; ox < shape.OutputWidth; ox++)
            {
                double sum = 0, magnitude = 0;
                for (int kz = 0; kz < shape.KernelDepth; kz++)
                {
                    if (Source(oz, kz, shape.StrideDepth, shape.PaddingDepth, shape.InputDepth) is not { } iz) continue;
                    for (int ky = 0; ky < shape.KernelHeight; ky++)
                    {
                        if (Source(oy, ky, shape.StrideHeight, shape.PaddingHeight, shape.InputHeight) is not { } iy) continue;
                        for (int kx = 0; kx < shape.Kernel; kx++)
                        {
                            if (Source(ox, kx, shape.Stride, shape.Padding, shape.InputWidth) is not { } ix) continue;
                            for (int icInGroup = 0; icInGroup < shape.InPerGroup; icInGroup++)
                            {
                                int ic = group * shape.InPerGroup + icInGroup;
                                double term = (double)input[shape.InputIndex(n, ic, iz, iy, ix)] * weights[shape.WeightIndex(ic, outInGroup, kz, ky, kx)];
                                sum += term;
                                magnitude += Math.Abs(term);
                            }
                        }
                    }
                }

                int index = shape.OutputIndex(n, oc, oz, oy, ox);
                values[index] = (float)sum;
                magnitudes[index] = (float)magnitude;
            }
        }

        return (values, magnitudes);
    }

    /// <summary>
    /// The input cell that reaches output cell <paramref name="output"/> through tap <paramref name="tap"/> of one axis, if
    /// any: the <c>i</c> with <c>i * stride + tap - padding == output</c> inside the input.
    /// </summary>
    private static int? Source(int output, int tap, int stride, int padding, int inputSize)
    {
        int offset = output + padding - tap;
        if (offset < 0 || offset % stride != 0) return null;
        int i = offset / stride;
        return i < inputSize ? i : null;
    }
}
