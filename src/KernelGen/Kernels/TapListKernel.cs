using KernelGen.Planning;

namespace KernelGen.Kernels;

/// <summary>
/// The exact scalar kernel: one output cell at a time, straight from the cell's valid taps (those that read a real input
/// cell), in either layout, with no copy and no border. It runs
/// <list type="bullet">
/// <item>calls too small to pay for the zero-bordered copy and the vector set-up (a few thousand multiply-adds, such as
/// the course example);</item>
/// <item>every call of a layer whose weights hold NaN or an infinity: the SIMD kernels multiply weights by the zero
/// border (and 0 x Inf is NaN), while PyTorch and ONNX Runtime only multiply the (input, tap) pairs that exist, as this
/// kernel does, so that the special values of the result depend neither on the kernel nor on the instruction set;</item>
/// <item>plans whose zero-bordered copies would not fit (<see cref="ExecutionPlan.Exact"/>).</item>
/// </list>
/// It reads whichever packing of the weights the layer has (<see cref="TapListWeights"/>).
/// </summary>
internal static class TapListKernel
{
    /// <summary>Calls with at most this many multiply-adds take this kernel. Tests lower it to 0 to send small cases through the SIMD kernels.</summary>
    internal static long MaxMultiplyAdds { get; set; } = DefaultMaxMultiplyAdds;

    public const long DefaultMaxMultiplyAdds = 4096;

    /// <summary>Computes rows <c>[rowStart, rowEnd)</c> of one sample, a row being (output channel, output y).</summary>
    /// <param name="input">One sample, in the layer's layout.</param>
    /// <param name="output">One sample, in the layer's layout.</param>
    public static void Run(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> input, Span<float> output,
        in TapListWeights weights, bool channelsLast, int rowStart, int rowEnd)
    {
        AxisPlan rows = plan.Height, cols = plan.Width;
        int inH = plan.InputHeight, inW = plan.InputWidth, outH = plan.OutputHeight, outW = plan.OutputWidth;
        int inChannels = layer.InChannels, outChannels = layer.OutChannels, inPerGroup = layer.InPerGroup, outPerGroup = layer.OutPerGroup;
        int kernelW = layer.KernelWidth;
        // Element strides of channel, row and column in each layout.
        int inChannelStride = channelsLast ? 1 : inH * inW, inRowStride = channelsLast ? inW * inChannels : inW, inColumnStride = channelsLast ? inChannels : 1;
        int outChannelStride = channelsLast ? 1 : outH * outW, outRowStride = channelsLast ? outW * outChannels : outW, outColumnStride = channelsLast ? outChannels : 1;
        ReadOnlySpan<float> w = weights.Weights;
        for (int row = rowStart; row < rowEnd; row++)
        {
            int oc = row / outH, oy = row - oc * outH;
            int group = oc / outPerGroup, ocInGroup = oc - group * outPerGroup;
            int firstInput = group * inPerGroup;
            int channelWeights = group * weights.GroupStride + ocInGroup * weights.ChannelStride;
            float bias = weights.Bias[group * weights.BiasGroupStride + ocInGroup];
            (AxisPhase rowPhase, int qh, int rowTapFirst, int rowTapEnd) = rows.ValidTaps(oy);
            for (int ox = 0; ox < outW; ox++)
            {
                (AxisPhase columnPhase, int qw, int columnTapFirst, int columnTapEnd) = cols.ValidTaps(ox);
                float sum = bias;
                for (int ic = 0; ic < inPerGroup; ic++)
                {
                    int inChannel = (firstInput + ic) * inChannelStride;
                    int kernel = channelWeights + ic * weights.InputStride;
                    for (int r = rowTapFirst; r < rowTapEnd; r++)
                    {
                        int inRow = inChannel + (qh - rowPhase.TapOffsets[r]) * inRowStride;
                        int kernelRow = rowPhase.KernelTaps[r] * kernelW;
                        for (int c = columnTapFirst; c < columnTapEnd; c++)
                            sum += input[inRow + (qw - columnPhase.TapOffsets[c]) * inColumnStride]
                                * w[kernel + (kernelRow + columnPhase.KernelTaps[c]) * weights.TapStride];
                    }
                }

                output[oc * outChannelStride + oy * outRowStride + ox * outColumnStride] =
                    Activations.Activate(sum, layer.Activation, layer.LeakyReluSlope);
            }
        }
    }
}

/// <summary>
/// Packed weights and bias as <see cref="TapListKernel"/> reads them: weight (group <c>g</c>, output channel <c>o</c> of
/// the group, input channel <c>i</c> of the group, tap <c>t = ky * kW + kx</c>) at
/// <c>g * GroupStride + o * ChannelStride + i * InputStride + t * TapStride</c>, bias at <c>g * BiasGroupStride + o</c>.
/// </summary>
internal readonly ref struct TapListWeights(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int groupStride, int channelStride,
    int inputStride, int tapStride, int biasGroupStride)
{
    public ReadOnlySpan<float> Weights { get; } = weights;
    public ReadOnlySpan<float> Bias { get; } = bias;
    public int GroupStride { get; } = groupStride;
    public int ChannelStride { get; } = channelStride;
    public int InputStride { get; } = inputStride;
    public int TapStride { get; } = tapStride;
    public int BiasGroupStride { get; } = biasGroupStride;

    /// <summary>Weights packed by <see cref="WidthVectorizedKernel.Pack"/>, <c>(Cout, Cin/G, kH, kW)</c>, and a bias of <c>Cout</c> values.</summary>
    public static TapListWeights OfWidthPacking(in LayerShape layer, ReadOnlySpan<float> packed, ReadOnlySpan<float> bias) =>
        new(packed, bias, layer.OutPerGroup * layer.InPerGroup * layer.Taps, layer.InPerGroup * layer.Taps, layer.Taps, 1, layer.OutPerGroup);

    /// <summary>Weights packed by <see cref="ChannelVectorizedKernel.Pack"/>, <c>(G, kH, kW, Cin/G, paddedCout)</c>, and its padded bias.</summary>
    public static TapListWeights OfChannelPacking(in LayerShape layer, int paddedChannels, ReadOnlySpan<float> packed, ReadOnlySpan<float> bias) =>
        new(packed, bias, layer.Taps * layer.InPerGroup * paddedChannels, 1, paddedChannels, layer.InPerGroup * paddedChannels, paddedChannels);
}
