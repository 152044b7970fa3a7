namespace KernelGen.Tests;

/// <summary>
/// The 3-D transposed convolution by its definition, scattered and summed in double: input cell (d, h, w) adds its value
/// times kernel tap (a, b, c) at <c>position * stride + tap * dilation - padBegin</c> per axis, when that lands in the output
/// (cells past the uncropped output, up to the output padding, receive nothing but the bias). Independent of the library's
/// depth-tap decomposition. Linked into the generator's tests, which hold the generated 3-D kernels to it too.
/// </summary>
public static class NaiveReference3D
{
    /// <param name="x">The input, NCDHW (or NDHWC with <paramref name="channelsLast"/>).</param>
    /// <param name="w">The weights, <c>(Cin, Cout/groups, kD, kH, kW)</c>.</param>
    /// <param name="bias">Empty, or one value per output channel.</param>
    /// <param name="batch">Samples in <paramref name="x"/>.</param>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="groups">Channel groups.</param>
    /// <param name="size">Input depth, height and width.</param>
    /// <param name="outputSize">Output depth, height and width (the caller's formula, which this checks nothing of).</param>
    /// <param name="kernel">Kernel depth, height and width.</param>
    /// <param name="stride">Stride per axis.</param>
    /// <param name="padBegin">Cells cropped from the front, top and left.</param>
    /// <param name="dilation">Dilation per axis.</param>
    /// <param name="channelsLast">The layout is NDHWC.</param>
    /// <param name="activation">The activation applied after the bias.</param>
    /// <param name="slope">The leaky ReLU's negative slope.</param>
    public static float[] ConvTranspose3D(float[] x, float[] w, float[] bias, int batch, int inChannels, int outChannels, int groups,
        (int D, int H, int W) size, (int D, int H, int W) outputSize, (int D, int H, int W) kernel, (int D, int H, int W) stride,
        (int D, int H, int W) padBegin, (int D, int H, int W) dilation, bool channelsLast, FusedActivation activation, float slope)
    {
        var (od, oh, ow) = outputSize;
        int inPerGroup = inChannels / groups, outPerGroup = outChannels / groups;
        var sums = new double[batch * outChannels * od * oh * ow];
        int Index(int n, int c, int d, int h, int wi, int channels, int depth, int height, int width) => channelsLast
            ? (((n * depth + d) * height + h) * width + wi) * channels + c
            : (((n * channels + c) * depth + d) * height + h) * width + wi;
        for (int n = 0; n < batch; n++)
        for (int ci = 0; ci < inChannels; ci++)
        for (int d = 0; d < size.D; d++)
        for (int h = 0; h < size.H; h++)
        for (int wi = 0; wi < size.W; wi++)
        {
            double value = x[Index(n, ci, d, h, wi, inChannels, size.D, size.H, size.W)];
            int g = ci / inPerGroup;
            for (int co = 0; co < outPerGroup; co++)
            for (int a = 0; a < kernel.D; a++)
            for (int b = 0; b < kernel.H; b++)
            for (int c = 0; c < kernel.W; c++)
            {
                int zd = d * stride.D + a * dilation.D - padBegin.D, zh = h * stride.H + b * dilation.H - padBegin.H, zw = wi * stride.W + c * dilation.W - padBegin.W;
                if (zd < 0 || zd >= od || zh < 0 || zh >= oh || zw < 0 || zw >= ow) continue;
                sums[Index(n, g * outPerGroup + co, zd, zh, zw, outChannels, od, oh, ow)] +=
                    value * w[(((ci * outPerGroup + co) * kernel.D + a) * kernel.H + b) * kernel.W + c];
            }
        }

        var output = new float[sums.Length];
        for (int n = 0; n < batch; n++)
        for (int c = 0; c < outChannels; c++)
        for (int d = 0; d < od; d++)
        for (int h = 0; h < oh; h++)
        for (int wi = 0; wi < ow; wi++)
        {
            int k = Index(n, c, d, h, wi, outChannels, od, oh, ow);
            output[k] = (float)NaiveReference.Activate(sums[k] + (bias.Length > 0 ? bias[c] : 0), activation, slope);
        }

        return output;
    }
}
