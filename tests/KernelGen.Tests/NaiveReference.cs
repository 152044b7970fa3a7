namespace KernelGen.Tests;

/// <summary>
/// The definition of a transposed convolution, written as plainly as possible and accumulated in double: every input
/// cell scatters its scaled, dilated kernel onto the uncropped output at <c>i * stride + j * dilation</c>, and the padding
/// crops <c>padBegin</c> cells from the start. Independent of the library's phase decomposition and packing.
/// </summary>
public static class NaiveReference
{
    public static float[] ConvTranspose2D(
        float[] input, int batch, int inChannels, int inputHeight, int inputWidth,
        float[] weights, float[]? bias, int outChannels,
        (int H, int W) kernel, (int H, int W) stride, (int Top, int Left, int Bottom, int Right) padding,
        (int H, int W) outputPadding, (int H, int W) dilation, int groups,
        bool channelsLast = false, FusedActivation activation = FusedActivation.None, float leakyReluSlope = 0.01f)
    {
        // In long arithmetic: the extreme-geometry tests use strides, dilations and pads near Int32.MaxValue.
        int outH = checked((int)((long)(inputHeight - 1) * stride.H - padding.Top - padding.Bottom + (long)dilation.H * (kernel.H - 1) + outputPadding.H + 1));
        int outW = checked((int)((long)(inputWidth - 1) * stride.W - padding.Left - padding.Right + (long)dilation.W * (kernel.W - 1) + outputPadding.W + 1));
        int inPerGroup = inChannels / groups, outPerGroup = outChannels / groups;
        var sums = new double[batch * outChannels * outH * outW];

        int InIndex(int n, int c, int y, int x) => channelsLast
            ? ((n * inputHeight + y) * inputWidth + x) * inChannels + c
            : ((n * inChannels + c) * inputHeight + y) * inputWidth + x;
        int OutIndex(int n, int c, int y, int x) => channelsLast
            ? ((n * outH + y) * outW + x) * outChannels + c
            : ((n * outChannels + c) * outH + y) * outW + x;

        for (int n = 0; n < batch; n++)
        for (int ic = 0; ic < inChannels; ic++)
        {
            int g = ic / inPerGroup;
            for (int iy = 0; iy < inputHeight; iy++)
            for (int ix = 0; ix < inputWidth; ix++)
            {
                double value = input[InIndex(n, ic, iy, ix)];
                for (int ocl = 0; ocl < outPerGroup; ocl++)
                {
                    int oc = g * outPerGroup + ocl;
                    for (int ky = 0; ky < kernel.H; ky++)
                    {
                        long oy = (long)iy * stride.H + (long)ky * dilation.H - padding.Top;
                        if (oy < 0 || oy >= outH) continue;
                        for (int kx = 0; kx < kernel.W; kx++)
                        {
                            long ox = (long)ix * stride.W + (long)kx * dilation.W - padding.Left;
                            if (ox < 0 || ox >= outW) continue;
                            sums[OutIndex(n, oc, (int)oy, (int)ox)] += value * weights[((ic * outPerGroup + ocl) * kernel.H + ky) * kernel.W + kx];
                        }
                    }
                }
            }
        }

        var output = new float[sums.Length];
        for (int n = 0; n < batch; n++)
        for (int oc = 0; oc < outChannels; oc++)
        for (int y = 0; y < outH; y++)
        for (int x = 0; x < outW; x++)
        {
            int i = OutIndex(n, oc, y, x);
            double v = sums[i] + (bias is null ? 0 : bias[oc]);
            output[i] = (float)Activate(v, activation, leakyReluSlope);
        }

        return output;
    }

    public static double Activate(double v, FusedActivation activation, float slope) => activation switch
    {
        FusedActivation.None => v,
        FusedActivation.Relu => Math.Max(v, 0),
        FusedActivation.LeakyRelu => v >= 0 ? v : v * slope,
        FusedActivation.Sigmoid => 1 / (1 + Math.Exp(-v)),
        FusedActivation.Tanh => Math.Tanh(v),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };
}
