using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Planning;
using KernelGen.Simd;

namespace KernelGen.Kernels;

/// <summary>
/// The kernel for few output channels per group (see <see cref="KernelStrategy.WidthVectorized"/>): NCHW, one output
/// row of one output channel at a time. Each width phase is a unit-stride correlation whose lanes are consecutive phase
/// positions, so input loads are contiguous and weights are broadcast. With stride 2 both width phases are computed
/// together and interleaved in registers, so that the stores are contiguous too.
/// </summary>
/// <remarks>
/// The kernel reads a zero-bordered copy of the input (<see cref="PadInput"/>): taps that fall off the input read zeros,
/// so edge cells need no special code and no tap needs a bounds check. Register blocks may run past a phase's end into
/// that border; only the cells inside the output are stored.
/// </remarks>
internal static class WidthVectorizedKernel
{
    /// <summary>Vectors of phase positions accumulated in registers at once, per phase.</summary>
    private const int Unroll = 4;

    /// <summary>Packs PyTorch weights <c>(Cin, Cout/G, kH, kW)</c> into <c>(Cout, Cin/G, kH, kW)</c>, so one output channel's weights are contiguous.</summary>
    public static void Pack(ReadOnlySpan<float> weights, Span<float> packed, int inChannels, int outChannels, int groups, int taps)
    {
        int inPerGroup = inChannels / groups, outPerGroup = outChannels / groups;
        for (int ic = 0; ic < inChannels; ic++)
        {
            int group = ic / inPerGroup, icInGroup = ic - group * inPerGroup;
            for (int ocInGroup = 0; ocInGroup < outPerGroup; ocInGroup++)
            {
                int oc = group * outPerGroup + ocInGroup;
                weights.Slice((ic * outPerGroup + ocInGroup) * taps, taps)
                    .CopyTo(packed.Slice((oc * inPerGroup + icInGroup) * taps, taps));
            }
        }
    }

    /// <summary>Writes padded rows <c>[rowStart, rowEnd)</c> (a row being (channel, padded y)) of one sample's zero-bordered CHW copy.</summary>
    public static void PadInput(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> input, bool channelsLast,
        Span<float> padded, int rowStart, int rowEnd)
    {
        int inH = plan.InputHeight, inW = plan.InputWidth, paddedH = plan.PaddedHeight, paddedW = plan.PaddedWidth;
        int channels = layer.InChannels;
        for (int row = rowStart; row < rowEnd; row++)
        {
            int c = row / paddedH, iy = row - c * paddedH - plan.RowShift;
            Span<float> dest = padded.Slice(row * paddedW, paddedW);
            if ((uint)iy >= (uint)inH)
            {
                dest.Clear();
                continue;
            }

            dest[..plan.ColumnShift].Clear();
            Span<float> body = dest.Slice(plan.ColumnShift, inW);
            if (channelsLast)
            {
                ReadOnlySpan<float> source = input.Slice(iy * inW * channels, inW * channels);
                for (int x = 0; x < body.Length; x++)
                    body[x] = source[x * channels + c];
            }
            else
            {
                input.Slice((c * inH + iy) * inW, inW).CopyTo(body);
            }

            dest[(plan.ColumnShift + inW)..].Clear();
        }
    }

    /// <summary>Computes output rows <c>[rowStart, rowEnd)</c> of one sample, a row being (output channel, output y).</summary>
    /// <param name="padded">One sample's zero-bordered CHW input from <see cref="PadInput"/>.</param>
    /// <param name="output">One sample, NCHW.</param>
    /// <param name="packed">Weights packed by <see cref="Pack"/>.</param>
    /// <param name="bias">One value per output channel (zeros when the layer has none).</param>
    public static void Run(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> padded, Span<float> output,
        ReadOnlySpan<float> packed, ReadOnlySpan<float> bias, int rowStart, int rowEnd)
    {
        switch (plan.WidthVectors)
        {
            case VectorWidth.V512: Run<Simd512, Vector512<float>>(layer, plan, padded, output, packed, bias, rowStart, rowEnd); break;
            case VectorWidth.V256: Run<Simd256, Vector256<float>>(layer, plan, padded, output, packed, bias, rowStart, rowEnd); break;
            case VectorWidth.V128: Run<Simd128, Vector128<float>>(layer, plan, padded, output, packed, bias, rowStart, rowEnd); break;
            default: Run<SimdScalar, float>(layer, plan, padded, output, packed, bias, rowStart, rowEnd); break;
        }
    }

    private static void Run<TSimd, TVec>(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> padded, Span<float> output,
        ReadOnlySpan<float> packed, ReadOnlySpan<float> bias, int rowStart, int rowEnd)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        // The padded buffer must cover a whole register block past every phase end.
        if (Unroll * TSimd.Count + 1 > ExecutionPlan.WidthKernelOverrun) throw new InvalidOperationException("Register block exceeds the planned overrun.");
        int outH = plan.OutputHeight, outW = plan.OutputWidth;
        AxisPlan rows = plan.Height, cols = plan.Width;
        bool pairedPhases = cols.Geometry.Stride == 2 && cols.Phases.Length == 2;
        Span<float> block = stackalloc float[2 * Unroll * 16];

        for (int row = rowStart; row < rowEnd; row++)
        {
            int oc = row / outH, oy = row - oc * outH;
            AxisPhase rowPhase = rows.Phases[rows.OutputPhase[oy]];
            var context = new RowContext(layer, plan, padded, packed, oc, rowPhase, rows.OutputQ[oy], bias[oc]);
            Span<float> outRow = output.Slice(row * outW, outW);
            if (pairedPhases)
                PairedPhases<TSimd, TVec>(context, cols.Phases[cols.OutputPhase[0]], cols.OutputQ[0],
                    cols.Phases[cols.OutputPhase[1]], cols.OutputQ[1], outRow, block);
            else
                foreach (AxisPhase phase in cols.Phases)
                    SinglePhase<TSimd, TVec>(context, phase, outRow, block);

            Activations.Apply(outRow, layer.Activation, layer.LeakyReluSlope);
        }
    }

    /// <summary>What every block of one output row shares: where its input rows and weights start.</summary>
    private readonly ref struct RowContext
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public RowContext(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> padded, ReadOnlySpan<float> packed,
            int oc, AxisPhase rowPhase, int rowQ, float bias)
        {
            Padded = padded;
            Packed = packed;
            InPerGroup = layer.InPerGroup;
            FirstInputChannel = oc / layer.OutPerGroup * layer.InPerGroup;
            WeightsOfChannel = oc * layer.InPerGroup * layer.Taps;
            Taps = layer.Taps;
            KernelWidth = layer.KernelWidth;
            PlaneLength = plan.PaddedHeight * plan.PaddedWidth;
            PaddedWidth = plan.PaddedWidth;
            ColumnShift = plan.ColumnShift;
            RowTaps = rowPhase.KernelTaps;
            RowTapOffsets = rowPhase.TapOffsets;
            PaddedRowOfQ = rowQ + plan.RowShift;
            Bias = bias;
        }

        public ReadOnlySpan<float> Padded { get; }
        public ReadOnlySpan<float> Packed { get; }
        public int InPerGroup { get; }
        public int FirstInputChannel { get; }
        public int WeightsOfChannel { get; }
        public int Taps { get; }
        public int KernelWidth { get; }
        public int PlaneLength { get; }
        public int PaddedWidth { get; }
        public int ColumnShift { get; }
        public int[] RowTaps { get; }
        public int[] RowTapOffsets { get; }
        public int PaddedRowOfQ { get; }
        public float Bias { get; }
    }

    /// <summary>One width phase of one output row, <see cref="Unroll"/> vectors of phase positions at a time.</summary>
    private static void SinglePhase<TSimd, TVec>(in RowContext row, AxisPhase phase, Span<float> outRow, Span<float> block)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count, stride = phase.Stride;
        ref float x = ref MemoryMarshal.GetReference(row.Padded);
        ref float w = ref MemoryMarshal.GetReference(row.Packed);
        int[] taps = phase.KernelTaps, offsets = phase.TapOffsets;
        for (int q = phase.FirstQ; q < phase.EndQ; q += Unroll * lanes)
        {
            TVec a0 = TSimd.Broadcast(row.Bias), a1 = a0, a2 = a0, a3 = a0;
            for (int ic = 0; ic < row.InPerGroup; ic++)
            {
                ref float plane = ref Unsafe.Add(ref x, (row.FirstInputChannel + ic) * row.PlaneLength + q + row.ColumnShift);
                ref float kernel = ref Unsafe.Add(ref w, row.WeightsOfChannel + ic * row.Taps);
                for (int th = 0; th < row.RowTaps.Length; th++)
                {
                    ref float xRow = ref Unsafe.Add(ref plane, (row.PaddedRowOfQ - row.RowTapOffsets[th]) * row.PaddedWidth);
                    ref float wRow = ref Unsafe.Add(ref kernel, row.RowTaps[th] * row.KernelWidth);
                    for (int t = 0; t < taps.Length; t++)
                    {
                        TVec wv = TSimd.Broadcast(Unsafe.Add(ref wRow, taps[t]));
                        ref float xs = ref Unsafe.Subtract(ref xRow, offsets[t]);
                        a0 = TSimd.MultiplyAdd(TSimd.Load(ref xs), wv, a0);
                        a1 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Add(ref xs, lanes)), wv, a1);
                        a2 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Add(ref xs, 2 * lanes)), wv, a2);
                        a3 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Add(ref xs, 3 * lanes)), wv, a3);
                    }
                }
            }

            int count = Math.Min(Unroll * lanes, phase.EndQ - q);
            int first = phase.OutputOf(q);
            if (stride == 1 && count == Unroll * lanes)
            {
                ref float y = ref MemoryMarshal.GetReference(outRow.Slice(first, Unroll * lanes));
                TSimd.Store(ref y, a0);
                TSimd.Store(ref Unsafe.Add(ref y, lanes), a1);
                TSimd.Store(ref Unsafe.Add(ref y, 2 * lanes), a2);
                TSimd.Store(ref Unsafe.Add(ref y, 3 * lanes), a3);
            }
            else
            {
                ref float s = ref MemoryMarshal.GetReference(block);
                TSimd.Store(ref s, a0);
                TSimd.Store(ref Unsafe.Add(ref s, lanes), a1);
                TSimd.Store(ref Unsafe.Add(ref s, 2 * lanes), a2);
                TSimd.Store(ref Unsafe.Add(ref s, 3 * lanes), a3);
                for (int lane = 0; lane < count; lane++)
                    outRow[first + lane * stride] = block[lane];
            }
        }
    }

    /// <summary>
    /// Both width phases of a stride-2 row at once. Output cells <c>2m</c> and <c>2m + 1</c> are positions
    /// <c>firstQ + m</c> of phase <paramref name="first"/> (the phase of cell 0) and <c>secondQ + m</c> of phase
    /// <paramref name="second"/>, so interleaving the two phases' accumulators gives contiguous outputs from cell 0 on.
    /// </summary>
    private static void PairedPhases<TSimd, TVec>(in RowContext row, AxisPhase first, int firstQ, AxisPhase second, int secondQ,
        Span<float> outRow, Span<float> block)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count;
        ref float x = ref MemoryMarshal.GetReference(row.Padded);
        ref float w = ref MemoryMarshal.GetReference(row.Packed);
        int[] firstTaps = first.KernelTaps, firstOffsets = first.TapOffsets, secondTaps = second.KernelTaps, secondOffsets = second.TapOffsets;
        int secondShift = secondQ - firstQ;
        int outW = outRow.Length, blockLength = 2 * Unroll * lanes;
        for (int m = 0; 2 * m < outW; m += Unroll * lanes)
        {
            TVec e0 = TSimd.Broadcast(row.Bias), e1 = e0, e2 = e0, e3 = e0, o0 = e0, o1 = e0, o2 = e0, o3 = e0;
            for (int ic = 0; ic < row.InPerGroup; ic++)
            {
                ref float plane = ref Unsafe.Add(ref x, (row.FirstInputChannel + ic) * row.PlaneLength + firstQ + m + row.ColumnShift);
                ref float kernel = ref Unsafe.Add(ref w, row.WeightsOfChannel + ic * row.Taps);
                for (int th = 0; th < row.RowTaps.Length; th++)
                {
                    ref float xRow = ref Unsafe.Add(ref plane, (row.PaddedRowOfQ - row.RowTapOffsets[th]) * row.PaddedWidth);
                    ref float wRow = ref Unsafe.Add(ref kernel, row.RowTaps[th] * row.KernelWidth);
                    for (int t = 0; t < firstTaps.Length; t++)
                    {
                        TVec wv = TSimd.Broadcast(Unsafe.Add(ref wRow, firstTaps[t]));
                        ref float xs = ref Unsafe.Subtract(ref xRow, firstOffsets[t]);
                        e0 = TSimd.MultiplyAdd(TSimd.Load(ref xs), wv, e0);
                        e1 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Add(ref xs, lanes)), wv, e1);
                        e2 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Add(ref xs, 2 * lanes)), wv, e2);
                        e3 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Add(ref xs, 3 * lanes)), wv, e3);
                    }

                    ref float xRowSecond = ref Unsafe.Add(ref xRow, secondShift);
                    for (int t = 0; t < secondTaps.Length; t++)
                    {
                        TVec wv = TSimd.Broadcast(Unsafe.Add(ref wRow, secondTaps[t]));
                        ref float xs = ref Unsafe.Subtract(ref xRowSecond, secondOffsets[t]);
                        o0 = TSimd.MultiplyAdd(TSimd.Load(ref xs), wv, o0);
                        o1 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Add(ref xs, lanes)), wv, o1);
                        o2 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Add(ref xs, 2 * lanes)), wv, o2);
                        o3 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Add(ref xs, 3 * lanes)), wv, o3);
                    }
                }
            }

            // Cells past the row's end were computed from the zero border; they go to the staging block, not the output.
            int start = 2 * m;
            bool whole = start + blockLength <= outW;
            ref float y = ref whole ? ref MemoryMarshal.GetReference(outRow.Slice(start, blockLength)) : ref MemoryMarshal.GetReference(block);
            TSimd.Interleave(e0, o0, out TVec lower, out TVec upper);
            TSimd.Store(ref y, lower);
            TSimd.Store(ref Unsafe.Add(ref y, lanes), upper);
            TSimd.Interleave(e1, o1, out lower, out upper);
            TSimd.Store(ref Unsafe.Add(ref y, 2 * lanes), lower);
            TSimd.Store(ref Unsafe.Add(ref y, 3 * lanes), upper);
            TSimd.Interleave(e2, o2, out lower, out upper);
            TSimd.Store(ref Unsafe.Add(ref y, 4 * lanes), lower);
            TSimd.Store(ref Unsafe.Add(ref y, 5 * lanes), upper);
            TSimd.Interleave(e3, o3, out lower, out upper);
            TSimd.Store(ref Unsafe.Add(ref y, 6 * lanes), lower);
            TSimd.Store(ref Unsafe.Add(ref y, 7 * lanes), upper);
            if (!whole)
                block[..(outW - start)].CopyTo(outRow[start..]);
        }
    }

    /// <summary>
    /// Proves, once per plan, that every register block of <see cref="SinglePhase"/> and <see cref="PairedPhases"/> reads
    /// inside the padded rows: the blocks' loads are unchecked, so this is what keeps them in bounds.
    /// </summary>
    public static void CheckReadsInsidePadding(ExecutionPlan plan)
    {
        int block = Unroll * (int)plan.WidthVectors;
        AxisPlan cols = plan.Width;
        if (cols.Geometry.Stride == 2 && cols.Phases.Length == 2)
        {
            // Blocks start at m = 0, block, 2 * block, ... while 2m < outW.
            int lastStart = (plan.OutputWidth - 1) / 2 / block * block;
            CheckPhase(cols.Phases[cols.OutputPhase[0]], cols.OutputQ[0], cols.OutputQ[0] + lastStart);
            CheckPhase(cols.Phases[cols.OutputPhase[1]], cols.OutputQ[1], cols.OutputQ[1] + lastStart);
        }
        else
        {
            foreach (AxisPhase phase in cols.Phases)
                CheckPhase(phase, phase.FirstQ, phase.FirstQ + (phase.EndQ - 1 - phase.FirstQ) / block * block);
        }

        void CheckPhase(AxisPhase phase, int firstBlockQ, int lastBlockQ)
        {
            foreach (int offset in phase.TapOffsets)
            {
                int low = firstBlockQ + plan.ColumnShift - offset, high = lastBlockQ + plan.ColumnShift - offset + block;
                if (low < 0 || high > plan.PaddedWidth)
                    throw new InvalidOperationException($"Width kernel blocks would read padded columns [{low}, {high}) outside [0, {plan.PaddedWidth}).");
            }
        }
    }
}
