using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Planning;
using KernelGen.Simd;

namespace KernelGen.Kernels;

/// <summary>
/// The kernel for many output channels per group (see <see cref="KernelStrategy.ChannelVectorized"/>): NHWC, each output
/// pixel a dot product over (taps of its phase) x (input channels of its group), vectorised along output channels and
/// register-blocked over pixels of a phase row: 4 pixels x 2 channel vectors, or 8 pixels x 1 when one vector holds
/// every channel. This is the implicit-GEMM ("subconvolution") form XNNPACK uses, with the zero taps of the stride skipped.
/// </summary>
/// <remarks>
/// The kernel reads a zero-bordered HWC copy of the input (<see cref="PadInput"/>), so edge pixels need no special code.
/// </remarks>
internal static class ChannelVectorizedKernel
{
    /// <summary>Output channels per group, rounded up to whole vectors of <paramref name="width"/> (the packed and scratch stride).</summary>
    public static int PaddedChannels(int outPerGroup, VectorWidth width) => (outPerGroup + (int)width - 1) / (int)width * (int)width;

    /// <summary>
    /// Packs PyTorch weights <c>(Cin, Cout/G, kH, kW)</c> into <c>(G, kH, kW, Cin/G, paddedCout)</c>: for each tap the weights of one
    /// input channel to every output channel of the group are contiguous, zero-padded to whole vectors.
    /// </summary>
    public static void Pack(in LayerShape layer, int paddedChannels, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        Span<float> packed, Span<float> packedBias)
    {
        packed.Clear();
        packedBias.Clear();
        int inPerGroup = layer.InPerGroup, outPerGroup = layer.OutPerGroup, taps = layer.Taps;
        for (int ic = 0; ic < layer.InChannels; ic++)
        {
            int group = ic / inPerGroup, icInGroup = ic - group * inPerGroup;
            for (int ocInGroup = 0; ocInGroup < outPerGroup; ocInGroup++)
            {
                for (int tap = 0; tap < taps; tap++)
                {
                    float value = weights[(ic * outPerGroup + ocInGroup) * taps + tap];
                    packed[((group * taps + tap) * inPerGroup + icInGroup) * paddedChannels + ocInGroup] = value;
                }
            }
        }

        if (!bias.IsEmpty)
        {
            for (int oc = 0; oc < layer.OutChannels; oc++)
            {
                int group = oc / outPerGroup;
                packedBias[group * paddedChannels + oc - group * outPerGroup] = bias[oc];
            }
        }
    }

    /// <summary>Writes padded rows <c>[rowStart, rowEnd)</c> of one sample's zero-bordered HWC copy of the input.</summary>
    public static void PadInput(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> input, bool channelsLast,
        Span<float> padded, int rowStart, int rowEnd)
    {
        int inH = plan.InputHeight, inW = plan.InputWidth, channels = layer.InChannels;
        int rowLength = plan.PaddedWidth * channels, lead = plan.ColumnShift * channels;
        for (int row = rowStart; row < rowEnd; row++)
        {
            int iy = row - plan.RowShift;
            Span<float> dest = padded.Slice(row * rowLength, rowLength);
            if ((uint)iy >= (uint)inH)
            {
                dest.Clear();
                continue;
            }

            dest[..lead].Clear();
            Span<float> body = dest.Slice(lead, inW * channels);
            if (channelsLast)
            {
                input.Slice(iy * inW * channels, inW * channels).CopyTo(body);
            }
            else
            {
                Transpose.Run(input[(iy * inW)..], inH * inW, body, channels, channels, inW);
            }

            dest[(lead + inW * channels)..].Clear();
        }
    }

    /// <summary>Computes output rows <c>[rowStart, rowEnd)</c> (output y) of one sample.</summary>
    /// <param name="padded">One sample's zero-bordered HWC input from <see cref="PadInput"/>.</param>
    /// <param name="output">One sample, HWC with <c>G * paddedChannels</c> channels.</param>
    public static void Run(VectorWidth width, in LayerShape layer, int paddedChannels, ExecutionPlan plan,
        ReadOnlySpan<float> padded, Span<float> output, ReadOnlySpan<float> packed, ReadOnlySpan<float> packedBias,
        int rowStart, int rowEnd, bool applyActivation)
    {
        switch (width)
        {
            case VectorWidth.V512: Run<Simd512, Vector512<float>>(layer, paddedChannels, plan, padded, output, packed, packedBias, rowStart, rowEnd, applyActivation); break;
            case VectorWidth.V256: Run<Simd256, Vector256<float>>(layer, paddedChannels, plan, padded, output, packed, packedBias, rowStart, rowEnd, applyActivation); break;
            case VectorWidth.V128: Run<Simd128, Vector128<float>>(layer, paddedChannels, plan, padded, output, packed, packedBias, rowStart, rowEnd, applyActivation); break;
            default: Run<SimdScalar, float>(layer, paddedChannels, plan, padded, output, packed, packedBias, rowStart, rowEnd, applyActivation); break;
        }
    }

    private static void Run<TSimd, TVec>(in LayerShape layer, int paddedChannels, ExecutionPlan plan,
        ReadOnlySpan<float> padded, Span<float> output, ReadOnlySpan<float> packed, ReadOnlySpan<float> packedBias,
        int rowStart, int rowEnd, bool applyActivation)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count;
        int outW = plan.OutputWidth, outStride = layer.Groups * paddedChannels;
        AxisPlan rows = plan.Height, cols = plan.Width;
        for (int oy = rowStart; oy < rowEnd; oy++)
        {
            AxisPhase rowPhase = rows.Phases[rows.OutputPhase[oy]];
            for (int group = 0; group < layer.Groups; group++)
            {
                var block = new BlockContext(layer, plan, paddedChannels, padded, packed, packedBias, output, group, rowPhase,
                    rows.OutputQ[oy] + plan.RowShift, oy * outW);
                foreach (AxisPhase phase in cols.Phases)
                {
                    for (int q = phase.FirstQ; q < phase.EndQ; q += 8)
                    {
                        int c = 0;
                        for (; c + 2 * lanes <= paddedChannels; c += 2 * lanes)
                        {
                            Pixels4x2<TSimd, TVec>(block, phase, q, c);
                            if (q + 4 < phase.EndQ)
                                Pixels4x2<TSimd, TVec>(block, phase, q + 4, c);
                        }

                        if (c < paddedChannels)
                            Pixels8x1<TSimd, TVec>(block, phase, q, c);
                    }
                }
            }

            if (applyActivation)
                Activations.Apply(output.Slice(oy * outW * outStride, outW * outStride), layer.Activation, layer.LeakyReluSlope);
        }
    }

    /// <summary>What every register block of one (output row, group) shares.</summary>
    private readonly ref struct BlockContext
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public BlockContext(in LayerShape layer, ExecutionPlan plan, int paddedChannels, ReadOnlySpan<float> padded,
            ReadOnlySpan<float> packed, ReadOnlySpan<float> packedBias, Span<float> output, int group, AxisPhase rowPhase,
            int paddedRowOfQ, int firstOutputPixel)
        {
            Padded = padded;
            Packed = packed;
            PackedBias = packedBias;
            Output = output;
            InChannels = layer.InChannels;
            InPerGroup = layer.InPerGroup;
            PaddedChannels = paddedChannels;
            GroupInput = group * layer.InPerGroup;
            GroupOutput = group * paddedChannels;
            GroupTaps = group * layer.Taps;
            KernelWidth = layer.KernelWidth;
            PaddedWidth = plan.PaddedWidth;
            ColumnShift = plan.ColumnShift;
            OutStride = layer.Groups * paddedChannels;
            RowTaps = rowPhase.KernelTaps;
            RowTapOffsets = rowPhase.TapOffsets;
            PaddedRowOfQ = paddedRowOfQ;
            FirstOutputPixel = firstOutputPixel;
        }

        public ReadOnlySpan<float> Padded { get; }
        public ReadOnlySpan<float> Packed { get; }
        public ReadOnlySpan<float> PackedBias { get; }
        public Span<float> Output { get; }
        public int InChannels { get; }
        public int InPerGroup { get; }
        public int PaddedChannels { get; }
        public int GroupInput { get; }
        public int GroupOutput { get; }
        public int GroupTaps { get; }
        public int KernelWidth { get; }
        public int PaddedWidth { get; }
        public int ColumnShift { get; }
        public int OutStride { get; }
        public int[] RowTaps { get; }
        public int[] RowTapOffsets { get; }
        public int PaddedRowOfQ { get; }
        public int FirstOutputPixel { get; }

        /// <summary>The padded input pixel that phase position <paramref name="q"/> reads through tap offsets (row, column).</summary>
        public int InputOffset(int rowOffset, int q, int columnOffset) =>
            ((PaddedRowOfQ - rowOffset) * PaddedWidth + q + ColumnShift - columnOffset) * InChannels + GroupInput;

        /// <summary>Start of the packed weights of kernel tap (row tap, column tap) for output channel block <paramref name="c"/>.</summary>
        public int WeightOffset(int rowTap, int columnTap, int c) =>
            (GroupTaps + rowTap * KernelWidth + columnTap) * InPerGroup * PaddedChannels + c;

        public int OutputOffset(AxisPhase phase, int q, int c) =>
            (FirstOutputPixel + phase.OutputOf(q)) * OutStride + GroupOutput + c;
    }

    private static void Pixels4x2<TSimd, TVec>(in BlockContext block, AxisPhase phase, int q, int c)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count, inChannels = block.InChannels, paddedChannels = block.PaddedChannels;
        ref float x = ref MemoryMarshal.GetReference(block.Padded);
        ref float w = ref MemoryMarshal.GetReference(block.Packed);
        ref float bias = ref MemoryMarshal.GetReference(block.PackedBias);
        int[] taps = phase.KernelTaps, offsets = phase.TapOffsets;
        TVec b0 = TSimd.Load(ref Unsafe.Add(ref bias, block.GroupOutput + c));
        TVec b1 = TSimd.Load(ref Unsafe.Add(ref bias, block.GroupOutput + c + lanes));
        TVec p00 = b0, p01 = b1, p10 = b0, p11 = b1, p20 = b0, p21 = b1, p30 = b0, p31 = b1;
        for (int th = 0; th < block.RowTaps.Length; th++)
        {
            for (int t = 0; t < taps.Length; t++)
            {
                ref float xp = ref Unsafe.Add(ref x, block.InputOffset(block.RowTapOffsets[th], q, offsets[t]));
                ref float wp = ref Unsafe.Add(ref w, block.WeightOffset(block.RowTaps[th], taps[t], c));
                for (int ic = 0; ic < block.InPerGroup; ic++)
                {
                    TVec w0 = TSimd.Load(ref wp);
                    TVec w1 = TSimd.Load(ref Unsafe.Add(ref wp, lanes));
                    TVec xv = TSimd.Broadcast(Unsafe.Add(ref xp, ic));
                    p00 = TSimd.MultiplyAdd(xv, w0, p00);
                    p01 = TSimd.MultiplyAdd(xv, w1, p01);
                    xv = TSimd.Broadcast(Unsafe.Add(ref xp, inChannels + ic));
                    p10 = TSimd.MultiplyAdd(xv, w0, p10);
                    p11 = TSimd.MultiplyAdd(xv, w1, p11);
                    xv = TSimd.Broadcast(Unsafe.Add(ref xp, 2 * inChannels + ic));
                    p20 = TSimd.MultiplyAdd(xv, w0, p20);
                    p21 = TSimd.MultiplyAdd(xv, w1, p21);
                    xv = TSimd.Broadcast(Unsafe.Add(ref xp, 3 * inChannels + ic));
                    p30 = TSimd.MultiplyAdd(xv, w0, p30);
                    p31 = TSimd.MultiplyAdd(xv, w1, p31);
                    wp = ref Unsafe.Add(ref wp, paddedChannels);
                }
            }
        }

        // Pixels past the phase's end were computed from the zero border and are not stored.
        int valid = phase.EndQ - q;
        Span<float> y = block.Output;
        Store2(y, block.OutputOffset(phase, q, c), lanes, p00, p01);
        if (valid > 1) Store2(y, block.OutputOffset(phase, q + 1, c), lanes, p10, p11);
        if (valid > 2) Store2(y, block.OutputOffset(phase, q + 2, c), lanes, p20, p21);
        if (valid > 3) Store2(y, block.OutputOffset(phase, q + 3, c), lanes, p30, p31);

        static void Store2(Span<float> y, int offset, int lanes, TVec first, TVec second)
        {
            ref float destination = ref MemoryMarshal.GetReference(y.Slice(offset, 2 * lanes));
            TSimd.Store(ref destination, first);
            TSimd.Store(ref Unsafe.Add(ref destination, lanes), second);
        }
    }

    private static void Pixels8x1<TSimd, TVec>(in BlockContext block, AxisPhase phase, int q, int c)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count, inChannels = block.InChannels, paddedChannels = block.PaddedChannels;
        ref float x = ref MemoryMarshal.GetReference(block.Padded);
        ref float w = ref MemoryMarshal.GetReference(block.Packed);
        int[] taps = phase.KernelTaps, offsets = phase.TapOffsets;
        TVec b = TSimd.Load(ref MemoryMarshal.GetReference(block.PackedBias.Slice(block.GroupOutput + c, lanes)));
        TVec p0 = b, p1 = b, p2 = b, p3 = b, p4 = b, p5 = b, p6 = b, p7 = b;
        for (int th = 0; th < block.RowTaps.Length; th++)
        {
            for (int t = 0; t < taps.Length; t++)
            {
                ref float xp = ref Unsafe.Add(ref x, block.InputOffset(block.RowTapOffsets[th], q, offsets[t]));
                ref float wp = ref Unsafe.Add(ref w, block.WeightOffset(block.RowTaps[th], taps[t], c));
                for (int ic = 0; ic < block.InPerGroup; ic++)
                {
                    TVec wv = TSimd.Load(ref wp);
                    ref float xc = ref Unsafe.Add(ref xp, ic);
                    p0 = TSimd.MultiplyAdd(TSimd.Broadcast(xc), wv, p0);
                    p1 = TSimd.MultiplyAdd(TSimd.Broadcast(Unsafe.Add(ref xc, inChannels)), wv, p1);
                    p2 = TSimd.MultiplyAdd(TSimd.Broadcast(Unsafe.Add(ref xc, 2 * inChannels)), wv, p2);
                    p3 = TSimd.MultiplyAdd(TSimd.Broadcast(Unsafe.Add(ref xc, 3 * inChannels)), wv, p3);
                    p4 = TSimd.MultiplyAdd(TSimd.Broadcast(Unsafe.Add(ref xc, 4 * inChannels)), wv, p4);
                    p5 = TSimd.MultiplyAdd(TSimd.Broadcast(Unsafe.Add(ref xc, 5 * inChannels)), wv, p5);
                    p6 = TSimd.MultiplyAdd(TSimd.Broadcast(Unsafe.Add(ref xc, 6 * inChannels)), wv, p6);
                    p7 = TSimd.MultiplyAdd(TSimd.Broadcast(Unsafe.Add(ref xc, 7 * inChannels)), wv, p7);
                    wp = ref Unsafe.Add(ref wp, paddedChannels);
                }
            }
        }

        int valid = phase.EndQ - q;
        Span<float> y = block.Output;
        Store1(y, block.OutputOffset(phase, q, c), p0);
        if (valid > 1) Store1(y, block.OutputOffset(phase, q + 1, c), p1);
        if (valid > 2) Store1(y, block.OutputOffset(phase, q + 2, c), p2);
        if (valid > 3) Store1(y, block.OutputOffset(phase, q + 3, c), p3);
        if (valid > 4) Store1(y, block.OutputOffset(phase, q + 4, c), p4);
        if (valid > 5) Store1(y, block.OutputOffset(phase, q + 5, c), p5);
        if (valid > 6) Store1(y, block.OutputOffset(phase, q + 6, c), p6);
        if (valid > 7) Store1(y, block.OutputOffset(phase, q + 7, c), p7);

        static void Store1(Span<float> y, int offset, TVec value) =>
            TSimd.Store(ref MemoryMarshal.GetReference(y.Slice(offset, TSimd.Count)), value);
    }

    /// <summary>
    /// Proves, once per plan, that every register block (8 pixels from each block start) reads inside the padded rows:
    /// the blocks' loads are unchecked, so this is what keeps them in bounds.
    /// </summary>
    public static void CheckReadsInsidePadding(ExecutionPlan plan)
    {
        foreach (AxisPhase phase in plan.Width.Phases)
        {
            int lastBlockQ = phase.FirstQ + (phase.EndQ - 1 - phase.FirstQ) / 8 * 8;
            foreach (int offset in phase.TapOffsets)
            {
                int low = phase.FirstQ + plan.ColumnShift - offset, high = lastBlockQ + plan.ColumnShift - offset + 8;
                if (low < 0 || high > plan.PaddedWidth)
                    throw new InvalidOperationException($"Channel kernel blocks would read padded columns [{low}, {high}) outside [0, {plan.PaddedWidth}).");
            }
        }
    }
}
