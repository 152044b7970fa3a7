using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelGen.Planning;

namespace KernelGen.Kernels;

/// <summary>
/// The exact scalar kernel: one output cell at a time, straight from the cell's valid taps (those that read a real input
/// cell), in either layout, with no copy and no border. It runs
/// <list type="bullet">
/// <item>calls too small to pay for the zero-bordered copy and the vector set-up (a few thousand multiply-adds, such as
/// the course example: <see cref="ExecutionPlan.RunsExact"/>);</item>
/// <item>the edge cells of a call whose weights hold NaN or an infinity, after the SIMD kernels, where a tap that misses
/// the input has such a weight: the SIMD kernels multiply it by the zero border there (and 0 x Inf is NaN), while PyTorch
/// and ONNX Runtime only multiply the (input, tap) pairs that exist, as this kernel does, so that the special values of
/// the result depend neither on the kernel nor on the instruction set (<c>edgesOnly</c>);</item>
/// <item>plans whose zero-bordered copies would not fit (<see cref="ExecutionPlan.Exact"/>).</item>
/// </list>
/// It reads whichever packing of the weights the layer has (<see cref="TapListWeights"/>).
/// </summary>
internal static class TapListKernel
{
    /// <summary>Computes rows <c>[rowStart, rowEnd)</c> of one sample, a row being (output channel, output y).</summary>
    /// <param name="input">One sample, in the layer's layout.</param>
    /// <param name="output">One sample, in the layer's layout.</param>
    /// <param name="edgesOnly">Compute only the cells the SIMD kernels got wrong: those where a tap of the cell's phase
    /// that falls off the input (and that the SIMD kernels multiplied by a border zero) has a non-finite weight
    /// (<see cref="TapListWeights.NonFiniteTaps"/>). The others already hold the SIMD kernels' result, which is exact.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> input, Span<float> output,
        in TapListWeights weights, bool channelsLast, int rowStart, int rowEnd, bool edgesOnly = false)
    {
        var cells = new CellContext(layer, plan, channelsLast);
        int outH = plan.OutputHeight, outW = plan.OutputWidth;
        if (!edgesOnly && plan.SmallCallRowTaps is { } rowTaps && plan.SmallCallColumnTaps is { } columnTaps)
        {
            cells.ComputeRows(input, output, weights, rowTaps, columnTaps, rowStart, rowEnd);
            return;
        }

        int[] edgeColumns = plan.Width.EdgeOutputs;
        for (int row = rowStart; row < rowEnd; row++)
        {
            int oc = row / outH, oy = row - oc * outH;
            if (!edgesOnly)
            {
                cells.ComputeRow(input, output, weights, oc, oy, 0, outW);
            }
            else if (plan.Height.IsInterior(oy))
            {
                foreach (int ox in edgeColumns)
                {
                    if (cells.MissesANonFiniteTap(weights, oc, oy, ox)) cells.ComputeRow(input, output, weights, oc, oy, ox, ox + 1);
                }
            }
            else
            {
                for (int ox = 0; ox < outW; ox++)
                {
                    if (cells.MissesANonFiniteTap(weights, oc, oy, ox)) cells.ComputeRow(input, output, weights, oc, oy, ox, ox + 1);
                }
            }
        }
    }

    /// <summary>The strides and plans every cell of a call shares.</summary>
    private readonly struct CellContext
    {
        private readonly LayerShape _layer;
        private readonly AxisPlan _rows, _cols;
        private readonly int _inChannelStride, _inRowStride, _inColumnStride, _outChannelStride, _outRowStride, _outColumnStride;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public CellContext(in LayerShape layer, ExecutionPlan plan, bool channelsLast)
        {
            _layer = layer;
            _rows = plan.Height;
            _cols = plan.Width;
            int inH = plan.InputHeight, inW = plan.InputWidth, outH = plan.OutputHeight, outW = plan.OutputWidth;
            // Element strides of channel, row and column in each layout.
            _inChannelStride = channelsLast ? 1 : inH * inW;
            _inRowStride = channelsLast ? inW * layer.InChannels : inW;
            _inColumnStride = channelsLast ? layer.InChannels : 1;
            _outChannelStride = channelsLast ? 1 : outH * outW;
            _outRowStride = channelsLast ? outW * layer.OutChannels : outW;
            _outColumnStride = channelsLast ? layer.OutChannels : 1;
        }

        /// <summary>
        /// Whether a tap of the cell's phase that reads no input cell (a border zero, for the SIMD kernels) has a non-finite
        /// weight to output channel <paramref name="oc"/> from some input channel: only then does the cell differ from its exact value.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public bool MissesANonFiniteTap(in TapListWeights weights, int oc, int oy, int ox)
        {
            int taps = _layer.Taps, kernelW = _layer.KernelWidth;
            ReadOnlySpan<bool> nonFinite = weights.NonFiniteTaps.Slice(oc * taps, taps);
            (AxisPhase rowPhase, _, int rowTapFirst, int rowTapEnd) = _rows.ValidTaps(oy);
            (AxisPhase columnPhase, _, int columnTapFirst, int columnTapEnd) = _cols.ValidTaps(ox);
            int[] rowTaps = rowPhase.KernelTaps, columnTaps = columnPhase.KernelTaps;
            for (int r = 0; r < rowTaps.Length; r++)
            {
                bool rowIsReal = r >= rowTapFirst && r < rowTapEnd;
                for (int c = 0; c < columnTaps.Length; c++)
                {
                    if (rowIsReal && c >= columnTapFirst && c < columnTapEnd) continue;
                    if (nonFinite[rowTaps[r] * kernelW + columnTaps[c]]) return true;
                }
            }

            return false;
        }

        /// <summary>
        /// Whole output rows <c>[rowStart, rowEnd)</c> (a row being (output channel, output y)) from the plan's lists of
        /// each cell's taps: what <see cref="ComputeRow"/> computes, in the same order (the same bits), without looking up
        /// each cell's phase and run of taps. Small calls spend most of their time here, and without tiered PGO (which the
        /// per-call path forgoes to be fast from its first call) the lookups cost more than the multiply-adds.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void ComputeRows(ReadOnlySpan<float> input, Span<float> output, in TapListWeights weights, CellTaps rowTaps, CellTaps columnTaps,
            int rowStart, int rowEnd)
        {
            int inPerGroup = _layer.InPerGroup, outPerGroup = _layer.OutPerGroup, outH = _rows.OutputLength, outW = _cols.OutputLength;
            int inChannelStride = _inChannelStride, outColumnStride = _outColumnStride;
            FusedActivation activation = _layer.Activation;
            float slope = _layer.LeakyReluSlope;
            // Unchecked reads (refs, not spans): a checked span costs two registers and a compare per read, and with a
            // dozen of them live the JIT spilled every loop variable to the stack. The tables hold only taps that read a
            // real input cell (AxisPlan.ValidTaps), and the weights' offsets are those ComputeRow reads checked.
            ref float x = ref MemoryMarshal.GetReference(input);
            ref float w = ref MemoryMarshal.GetReference(weights.Weights);
            ref int rowStarts = ref MemoryMarshal.GetArrayDataReference(rowTaps.Start);
            ref int rowInputs = ref MemoryMarshal.GetArrayDataReference(rowTaps.InputOffset);
            ref int rowKernels = ref MemoryMarshal.GetArrayDataReference(rowTaps.KernelOffset);
            ref int columnStarts = ref MemoryMarshal.GetArrayDataReference(columnTaps.Start);
            ref int columnInputs = ref MemoryMarshal.GetArrayDataReference(columnTaps.InputOffset);
            ref int columnKernels = ref MemoryMarshal.GetArrayDataReference(columnTaps.KernelOffset);
            for (int row = rowStart; row < rowEnd; row++)
            {
                int oc = row / outH, oy = row - oc * outH;
                int group = oc / outPerGroup, ocInGroup = oc - group * outPerGroup;
                int firstInput = group * inPerGroup;
                (int channelOffset, int inputStride, int tapStride) = weights.OfChannel(ocInGroup);
                ref float channelWeights = ref Unsafe.Add(ref w, group * weights.GroupStride + channelOffset);
                float bias = weights.Bias[group * weights.BiasGroupStride + ocInGroup];
                int rowFirst = Unsafe.Add(ref rowStarts, oy), rowLast = Unsafe.Add(ref rowStarts, oy + 1);
                Span<float> outputRow = output.Slice(oc * _outChannelStride + oy * _outRowStride);
                for (int ox = 0; ox < outW; ox++)
                {
                    int columnFirst = Unsafe.Add(ref columnStarts, ox), columnLast = Unsafe.Add(ref columnStarts, ox + 1);
                    float sum = bias;
                    for (int ic = 0; ic < inPerGroup; ic++)
                    {
                        ref float inChannel = ref Unsafe.Add(ref x, (firstInput + ic) * inChannelStride);
                        ref float kernel = ref Unsafe.Add(ref channelWeights, ic * inputStride);
                        for (int r = rowFirst; r < rowLast; r++)
                        {
                            ref float inRow = ref Unsafe.Add(ref inChannel, Unsafe.Add(ref rowInputs, r));
                            int kernelRow = Unsafe.Add(ref rowKernels, r);
                            for (int c = columnFirst; c < columnLast; c++)
                                sum += Unsafe.Add(ref inRow, Unsafe.Add(ref columnInputs, c))
                                    * Unsafe.Add(ref kernel, (kernelRow + Unsafe.Add(ref columnKernels, c)) * tapStride);
                        }
                    }

                    outputRow[ox * outColumnStride] = sum;
                }

                // Activated after the row, not per cell: the activation's calls (Exp, Tanh) inside the cell loop made the
                // JIT keep nothing in registers across them. The same function of the same sums: the same bits.
                if (activation != FusedActivation.None)
                {
                    for (int ox = 0; ox < outW; ox++)
                        outputRow[ox * outColumnStride] = Activations.Activate(outputRow[ox * outColumnStride], activation, slope);
                }
            }
        }

        /// <summary>
        /// Cells <c>[firstColumn, endColumn)</c> of output row (<paramref name="oc"/>, <paramref name="oy"/>), each its
        /// bias, the products of its valid taps and the activation, with what the row's cells share (channel, group, weights
        /// and the row's taps) worked out once per call rather than per cell: for calls as small as the course example this
        /// kernel is the whole call, and a division and a dozen lookups per cell were most of it.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void ComputeRow(ReadOnlySpan<float> input, Span<float> output, in TapListWeights weights, int oc, int oy, int firstColumn, int endColumn)
        {
            int inPerGroup = _layer.InPerGroup, outPerGroup = _layer.OutPerGroup, kernelW = _layer.KernelWidth;
            int group = oc / outPerGroup, ocInGroup = oc - group * outPerGroup;
            int firstInput = group * inPerGroup;
            (int channelOffset, int inputStride, int tapStride) = weights.OfChannel(ocInGroup);
            int channelWeights = group * weights.GroupStride + channelOffset;
            (AxisPhase rowPhase, int qh, int rowTapFirst, int rowTapEnd) = _rows.ValidTaps(oy);
            ReadOnlySpan<int> rowOffsets = rowPhase.TapOffsets, rowKernelTaps = rowPhase.KernelTaps;
            ReadOnlySpan<float> w = weights.Weights;
            float bias = weights.Bias[group * weights.BiasGroupStride + ocInGroup];
            FusedActivation activation = _layer.Activation;
            float slope = _layer.LeakyReluSlope;
            int outputRow = oc * _outChannelStride + oy * _outRowStride;
            for (int ox = firstColumn; ox < endColumn; ox++)
            {
                (AxisPhase columnPhase, int qw, int columnTapFirst, int columnTapEnd) = _cols.ValidTaps(ox);
                ReadOnlySpan<int> columnOffsets = columnPhase.TapOffsets, columnKernelTaps = columnPhase.KernelTaps;
                float sum = bias;
                for (int ic = 0; ic < inPerGroup; ic++)
                {
                    int inChannel = (firstInput + ic) * _inChannelStride;
                    int kernel = channelWeights + ic * inputStride;
                    for (int r = rowTapFirst; r < rowTapEnd; r++)
                    {
                        int inRow = inChannel + (qh - rowOffsets[r]) * _inRowStride;
                        int kernelRow = rowKernelTaps[r] * kernelW;
                        for (int c = columnTapFirst; c < columnTapEnd; c++)
                            sum += input[inRow + (qw - columnOffsets[c]) * _inColumnStride]
                                * w[kernel + (kernelRow + columnKernelTaps[c]) * tapStride];
                    }
                }

                output[outputRow + ox * _outColumnStride] = Activations.Activate(sum, activation, slope);
            }
        }
    }
}

/// <summary>
/// Packed weights and bias as <see cref="TapListKernel"/> reads them: weight (group <c>g</c>, output channel <c>o</c> of
/// the group, input channel <c>i</c> of the group, tap <c>t = ky * kW + kx</c>) at
/// <c>g * GroupStride + offset(o) + i * inputStride(o) + t * tapStride(o)</c> (see <see cref="OfChannel"/>), bias at
/// <c>g * BiasGroupStride + o</c>.
/// </summary>
internal readonly ref struct TapListWeights
{
    private readonly int _channelStride, _inputStride, _tapStride, _paddedChannels, _inPerGroup, _taps;

    /// <summary>Weights at constant strides per output channel, input channel and tap (<paramref name="paddedChannels"/> 0),
    /// or in the channel kernel's blocks of output channels (<paramref name="paddedChannels"/> above 0; the strides unused).</summary>
    private TapListWeights(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int groupStride, int channelStride,
        int inputStride, int tapStride, int biasGroupStride, ReadOnlySpan<bool> nonFiniteTaps, int paddedChannels = 0, int inPerGroup = 0, int taps = 0)
    {
        Weights = weights;
        Bias = bias;
        GroupStride = groupStride;
        BiasGroupStride = biasGroupStride;
        NonFiniteTaps = nonFiniteTaps;
        _channelStride = channelStride;
        _inputStride = inputStride;
        _tapStride = tapStride;
        _paddedChannels = paddedChannels;
        _inPerGroup = inPerGroup;
        _taps = taps;
    }

    public ReadOnlySpan<float> Weights { get; }

    /// <summary>
    /// Per output channel and tap (<c>oc * kH * kW + ky * kW + kx</c>), whether the weight from some input channel is NaN or
    /// infinite (empty when none is: only read when edge cells are computed again).
    /// </summary>
    public ReadOnlySpan<bool> NonFiniteTaps { get; }
    public ReadOnlySpan<float> Bias { get; }
    public int GroupStride { get; }
    public int BiasGroupStride { get; }

    /// <summary>Where output channel <paramref name="ocInGroup"/>'s weights start in its group, and their input-channel and tap strides.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public (int Offset, int InputStride, int TapStride) OfChannel(int ocInGroup)
    {
        if (_paddedChannels == 0)
            return (ocInGroup * _channelStride, _inputStride, _tapStride);
        (int offset, int rowStride) = KernelShapes.ChannelWeightPosition(ocInGroup, _paddedChannels, _taps, _inPerGroup);
        return (offset, rowStride, _inPerGroup * rowStride);
    }

    /// <summary>Weights packed by <see cref="WidthVectorizedKernel.Pack"/>, <c>(Cout, Cin/G, kH, kW)</c>, and a bias of <c>Cout</c> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TapListWeights OfWidthPacking(in LayerShape layer, ReadOnlySpan<float> packed, ReadOnlySpan<float> bias, ReadOnlySpan<bool> nonFiniteTaps) =>
        new(packed, bias, layer.OutPerGroup * layer.InPerGroup * layer.Taps, layer.InPerGroup * layer.Taps, layer.Taps, 1, layer.OutPerGroup, nonFiniteTaps);

    /// <summary>Weights packed by <see cref="ChannelVectorizedKernel.Pack"/>, <c>(G, channel block, kH, kW, Cin/G, block width)</c>, and its padded bias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TapListWeights OfChannelPacking(in LayerShape layer, int paddedChannels, ReadOnlySpan<float> packed, ReadOnlySpan<float> bias,
        ReadOnlySpan<bool> nonFiniteTaps) =>
        new(packed, bias, layer.Taps * layer.InPerGroup * paddedChannels, 0, 0, 0, paddedChannels, nonFiniteTaps, paddedChannels, layer.InPerGroup, layer.Taps);

    /// <summary>Marks in <paramref name="nonFiniteTaps"/> (<c>Cout * kH * kW</c>) each (output channel, tap) whose weight from some input channel is NaN or infinite.</summary>
    public static void FindNonFiniteTaps(in LayerShape layer, ReadOnlySpan<float> weights, Span<bool> nonFiniteTaps)
    {
        nonFiniteTaps.Clear();
        int taps = layer.Taps, inPerGroup = layer.InPerGroup, outPerGroup = layer.OutPerGroup;
        for (int ic = 0; ic < layer.InChannels; ic++)
        {
            int group = ic / inPerGroup;
            for (int ocInGroup = 0; ocInGroup < outPerGroup; ocInGroup++)
            {
                ReadOnlySpan<float> kernel = weights.Slice((ic * outPerGroup + ocInGroup) * taps, taps);
                Span<bool> marks = nonFiniteTaps.Slice((group * outPerGroup + ocInGroup) * taps, taps);
                for (int t = 0; t < taps; t++)
                {
                    if (!float.IsFinite(kernel[t])) marks[t] = true;
                }
            }
        }
    }
}
