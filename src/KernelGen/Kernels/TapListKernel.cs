using KernelGen.Planning;

namespace KernelGen.Kernels;

/// <summary>
/// The kernel for calls too small to pay for the zero-bordered copy and the vector set-up (a few thousand multiply-adds,
/// such as the course example): one output cell at a time, straight from each cell's list of valid taps, in either
/// layout, on the calling thread. Reads the weights as packed for <see cref="WidthVectorizedKernel"/>.
/// </summary>
internal static class TapListKernel
{
    /// <summary>Calls with at most this many multiply-adds take this kernel. Tests lower it to 0 to send small cases through the SIMD kernels.</summary>
    internal static long MaxMultiplyAdds { get; set; } = DefaultMaxMultiplyAdds;

    public const long DefaultMaxMultiplyAdds = 4096;

    public static void Run(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> input, Span<float> output,
        ReadOnlySpan<float> packed, ReadOnlySpan<float> bias, int batch, bool channelsLast)
    {
        AxisPlan rows = plan.Height, cols = plan.Width;
        int inH = plan.InputHeight, inW = plan.InputWidth, outH = plan.OutputHeight, outW = plan.OutputWidth;
        int inChannels = layer.InChannels, outChannels = layer.OutChannels, inPerGroup = layer.InPerGroup;
        int kernelH = layer.KernelHeight, kernelW = layer.KernelWidth;
        // Element strides of channel, row and column in each layout.
        int inChannelStride = channelsLast ? 1 : inH * inW, inRowStride = channelsLast ? inW * inChannels : inW, inColumnStride = channelsLast ? inChannels : 1;
        int outChannelStride = channelsLast ? 1 : outH * outW, outRowStride = channelsLast ? outW * outChannels : outW, outColumnStride = channelsLast ? outChannels : 1;
        int inSample = inChannels * inH * inW, outSample = outChannels * outH * outW;
        for (int n = 0; n < batch; n++)
        {
            ReadOnlySpan<float> x = input.Slice(n * inSample, inSample);
            Span<float> y = output.Slice(n * outSample, outSample);
            for (int oc = 0; oc < outChannels; oc++)
            {
                int firstInput = oc / layer.OutPerGroup * inPerGroup;
                for (int oy = 0; oy < outH; oy++)
                {
                    int rowFirst = rows.OutputTapStart[oy], rowEnd = rows.OutputTapStart[oy + 1];
                    for (int ox = 0; ox < outW; ox++)
                    {
                        int colFirst = cols.OutputTapStart[ox], colEnd = cols.OutputTapStart[ox + 1];
                        float sum = bias[oc];
                        for (int ic = 0; ic < inPerGroup; ic++)
                        {
                            int inChannel = (firstInput + ic) * inChannelStride;
                            int kernel = (oc * inPerGroup + ic) * kernelH;
                            for (int r = rowFirst; r < rowEnd; r++)
                            {
                                int inRow = inChannel + rows.TapInputIndex[r] * inRowStride;
                                int kernelRow = (kernel + rows.TapKernelIndex[r]) * kernelW;
                                for (int c = colFirst; c < colEnd; c++)
                                    sum += x[inRow + cols.TapInputIndex[c] * inColumnStride] * packed[kernelRow + cols.TapKernelIndex[c]];
                            }
                        }

                        y[oc * outChannelStride + oy * outRowStride + ox * outColumnStride] =
                            Activations.Activate(sum, layer.Activation, layer.LeakyReluSlope);
                    }
                }
            }
        }
    }
}
