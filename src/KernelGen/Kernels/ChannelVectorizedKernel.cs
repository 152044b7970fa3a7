using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.CompilerServices;
using KernelGen.Planning;
using KernelGen.Simd;

namespace KernelGen.Kernels;

/// <summary>
/// The kernel for many output channels per group (see <see cref="KernelStrategy.ChannelVectorized"/>): NHWC, each output
/// pixel a dot product over (taps of its phase) x (input channels of its group), vectorised along output channels and
/// register-blocked over pixels of a phase row: 8 pixels x 2 channel vectors with AVX-512's 32 registers, 6 x 2 with
/// Vector256's 16 (4 x 2 with Vector128, and for a row's last pixels), or 8 pixels x 1 when one vector holds every
/// channel. This is the implicit-GEMM ("subconvolution") form XNNPACK uses, with the zero taps of the stride skipped.
/// </summary>
/// <remarks>
/// The kernel reads a zero-bordered HWC copy of the input (<see cref="PadInput"/>), so edge pixels need no special code.
/// (Reading a CHW copy of NCHW input instead, which saves the transposition, was measured slower: a block then touches
/// one cache line per input channel instead of a few contiguous ones. So was a planar copy of just the rows a chunk of
/// the fused pass reads, 2-7 % on unet_up and dcgan with AVX-512 off: docs/benchmarks.md, issue 14's section.)
/// </remarks>
internal static class ChannelVectorizedKernel
{
    /// <summary>
    /// Packs weights into <c>(G, channel block, kH, kW, Cin/G, block width)</c>: per group, the output channels zero-padded to
    /// whole vectors are cut into blocks of <see cref="KernelShapes.ChannelWeightBlock"/> (the last one narrower), and within a
    /// block the weights of one (tap, input channel) to its output channels are contiguous, then the next input channel's.
    /// </summary>
    public static void Pack(in LayerShape layer, int paddedChannels, SourceWeights weights, ReadOnlySpan<float> bias,
        Span<float> packed, Span<float> packedBias)
    {
        packed.Clear();
        packedBias.Clear();
        int inPerGroup = layer.InPerGroup, outPerGroup = layer.OutPerGroup, taps = layer.Taps;
        for (int ic = 0; ic < layer.InChannels; ic++)
        {
            int group = ic / inPerGroup, icInGroup = ic - group * inPerGroup;
            int groupBase = group * taps * inPerGroup * paddedChannels;
            for (int ocInGroup = 0; ocInGroup < outPerGroup; ocInGroup++)
            {
                ReadOnlySpan<float> source = weights.Taps(ic, ocInGroup);
                (int offset, int rowStride) = KernelShapes.ChannelWeightPosition(ocInGroup, paddedChannels, taps, inPerGroup);
                for (int tap = 0; tap < taps; tap++)
                    packed[groupBase + offset + (tap * inPerGroup + icInGroup) * rowStride] = source[tap];
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
    /// <param name="padded">The padded rows from <paramref name="paddedFirstRow"/> on (0: the whole sample's copy; or a
    /// small buffer that holds only rows <c>[rowStart, rowEnd)</c>, with <c>paddedFirstRow = rowStart</c>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PadInput(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> input, bool channelsLast,
        Span<float> padded, int rowStart, int rowEnd, int paddedFirstRow = 0)
    {
        int inH = plan.InputHeight, inW = plan.InputWidth, channels = layer.InChannels;
        int rowLength = plan.PaddedWidth * channels, lead = plan.ColumnShift * channels;
        for (int row = rowStart; row < rowEnd; row++)
        {
            int iy = row - plan.RowShift;
            Span<float> dest = padded.Slice((row - paddedFirstRow) * rowLength, rowLength);
            if ((uint)iy >= (uint)inH)
            {
                FloatSpans.Clear(dest);
                continue;
            }

            FloatSpans.Clear(dest[..lead]);
            Span<float> body = dest.Slice(lead, inW * channels);
            if (channelsLast)
            {
                FloatSpans.Copy(input.Slice(iy * inW * channels, inW * channels), body);
            }
            else
            {
                Transpose.Run(input[(iy * inW)..], inH * inW, body, channels, channels, inW);
            }

            FloatSpans.Clear(dest[(lead + inW * channels)..]);
        }
    }

    /// <summary>
    /// Writes padded columns <c>[columnStart, columnEnd)</c> of padded row <paramref name="row"/> of one sample's
    /// zero-bordered HWC copy of the input (<paramref name="padded"/> the whole sample's copy): the same values as
    /// <see cref="PadInput"/>, a band of columns at a time, so that a layer of one row pads on several threads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PadInputColumns(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> input, bool channelsLast,
        Span<float> padded, int row, int columnStart, int columnEnd)
    {
        int inH = plan.InputHeight, inW = plan.InputWidth, channels = layer.InChannels;
        Span<float> dest = padded.Slice((row * plan.PaddedWidth + columnStart) * channels, (columnEnd - columnStart) * channels);
        int iy = row - plan.RowShift;
        // The input columns that land in the band; the rest of it is border.
        int first = Math.Clamp(columnStart - plan.ColumnShift, 0, inW), end = Math.Clamp(columnEnd - plan.ColumnShift, 0, inW);
        if ((uint)iy >= (uint)inH || first >= end)
        {
            FloatSpans.Clear(dest);
            return;
        }

        int lead = (first + plan.ColumnShift - columnStart) * channels, bodyLength = (end - first) * channels;
        FloatSpans.Clear(dest[..lead]);
        Span<float> body = dest.Slice(lead, bodyLength);
        if (channelsLast)
            FloatSpans.Copy(input.Slice((iy * inW + first) * channels, bodyLength), body);
        else
            Transpose.Run(input[(iy * inW + first)..], inH * inW, body, channels, channels, end - first);
        FloatSpans.Clear(dest[(lead + bodyLength)..]);
    }

    /// <summary>Computes output rows <c>[rowStart, rowEnd)</c> (output y) of one sample.</summary>
    /// <param name="padded">One sample's zero-bordered HWC input from <see cref="PadInput"/>.</param>
    /// <param name="output">HWC with <c>G * paddedChannels</c> channels: one sample's output rows from <paramref name="outputFirstRow"/> on
    /// (0: the whole sample; or a small buffer that holds only rows <c>[rowStart, rowEnd)</c>, with <c>outputFirstRow = rowStart</c>).</param>
    /// <param name="paddedFirstRow">The padded row that <paramref name="padded"/> starts with: 0 for the whole sample's copy,
    /// or the first of <see cref="ExecutionPlan.PaddedRowsRead"/> when <paramref name="padded"/> holds only the rows these output rows read.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in LayerShape layer, ExecutionPlan plan,
        ReadOnlySpan<float> padded, Span<float> output, ReadOnlySpan<float> packed, ReadOnlySpan<float> packedBias,
        int rowStart, int rowEnd, bool applyActivation, int outputFirstRow = 0, int paddedFirstRow = 0) =>
        Run(layer, plan, padded, output, packed, packedBias, rowStart, rowEnd, applyActivation, outputFirstRow, paddedFirstRow,
            new ColumnTile(0, plan.PaddedChannels, 0, int.MaxValue / KernelShapes.ChannelBlockPixels));

    /// <summary>
    /// Computes one tile of output rows <c>[rowStart, rowEnd)</c>: the channels and pixel blocks of <paramref name="tile"/>
    /// in every group and column phase. Each output is the same chain of multiply-adds whatever tile holds it, so tiles of
    /// one row may run on several threads and still give the one-thread result bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in LayerShape layer, ExecutionPlan plan,
        ReadOnlySpan<float> padded, Span<float> output, ReadOnlySpan<float> packed, ReadOnlySpan<float> packedBias,
        int rowStart, int rowEnd, bool applyActivation, int outputFirstRow, int paddedFirstRow, ColumnTile tile)
    {
        int paddedChannels = plan.PaddedChannels;
        switch (plan.ChannelVectors)
        {
            case VectorWidth.V512: Run<Simd512, Vector512<float>>(layer, paddedChannels, plan, padded, output, packed, packedBias, rowStart, rowEnd, applyActivation, outputFirstRow, paddedFirstRow, tile); break;
            case VectorWidth.V256: Run<Simd256, Vector256<float>>(layer, paddedChannels, plan, padded, output, packed, packedBias, rowStart, rowEnd, applyActivation, outputFirstRow, paddedFirstRow, tile); break;
            case VectorWidth.V128: Run<Simd128, Vector128<float>>(layer, paddedChannels, plan, padded, output, packed, packedBias, rowStart, rowEnd, applyActivation, outputFirstRow, paddedFirstRow, tile); break;
            default: Run<SimdScalar, float>(layer, paddedChannels, plan, padded, output, packed, packedBias, rowStart, rowEnd, applyActivation, outputFirstRow, paddedFirstRow, tile); break;
        }
    }

    /// <summary>
    /// Output channels <c>[ChannelStart, ChannelEnd)</c> of every group (multiples of <see cref="KernelShapes.ChannelWeightBlock"/>,
    /// or the padded channel count) and pixel blocks <c>[BlockStart, BlockEnd)</c> of every column phase, a block being
    /// <see cref="KernelShapes.ChannelBlockPixels"/> phase positions from the phase's first: the same block grid as a whole
    /// row's, so a tile's blocks read only what the plan proved in bounds.
    /// </summary>
    public readonly record struct ColumnTile(int ChannelStart, int ChannelEnd, int BlockStart, int BlockEnd);

    // Kept out of line: inlined into a caller's large method (the call context's pass switch), the JIT's register
    // allocation of the blocks inlined into it was measured 20 % slower on a 128 -> 64 channel layer.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Run<TSimd, TVec>(in LayerShape layer, int paddedChannels, ExecutionPlan plan,
        ReadOnlySpan<float> padded, Span<float> output, ReadOnlySpan<float> packed, ReadOnlySpan<float> packedBias,
        int rowStart, int rowEnd, bool applyActivation, int outputFirstRow, int paddedFirstRow, ColumnTile tile)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int outW = plan.OutputWidth, outStride = layer.Groups * paddedChannels;
        AxisPlan rows = plan.Height;
        int[][] tapTable = plan.ChannelTapTable ?? throw new InvalidOperationException("The plan does not run the channel kernel.");
        // Vector256: output rows of one row phase whose inputs are consecutive padded rows (oy and oy + one period of the
        // phases) run together, so that short phase rows still fill 6 x 2 blocks (see RowsPair).
        int period = rows.Phases.Length;
        for (int first = rowStart; first < rowEnd; first += 2 * period)
        {
            int last = Math.Min(rowEnd, first + 2 * period);
            for (int oy = first; oy < last; oy++)
            {
                int partner = -1;
                if (typeof(TVec) == typeof(Vector256<float>))
                {
                    if (oy - first < period)
                    {
                        if (oy + period < rowEnd && RowsPair(rows, oy, oy + period))
                            partner = oy + period;
                    }
                    else if (RowsPair(rows, oy - period, oy))
                    {
                        continue; // Computed with oy - period.
                    }
                }

                if (typeof(TVec) == typeof(Vector256<float>) && partner >= 0)
                    RunRowPair<TSimd, TVec>(layer, paddedChannels, plan, padded, output, packed, packedBias, outputFirstRow, paddedFirstRow, tile, tapTable, oy, partner);
                else
                    RunRow<TSimd, TVec>(layer, paddedChannels, plan, padded, output, packed, packedBias, outputFirstRow, paddedFirstRow, tile, tapTable, oy);
                if (applyActivation && layer.Activation != FusedActivation.None)
                {
                    Activations.Apply(output.Slice((oy - outputFirstRow) * outW * outStride, outW * outStride), layer.Activation, layer.LeakyReluSlope);
                    if (partner >= 0)
                        Activations.Apply(output.Slice((partner - outputFirstRow) * outW * outStride, outW * outStride), layer.Activation, layer.LeakyReluSlope);
                }
            }
        }
    }

    /// <summary>
    /// Whether output rows <paramref name="a"/> and <paramref name="b"/> have the same row phase (so the same taps) and read
    /// consecutive padded rows: then a 6 x 2 block can take 3 pixels of each (the Vector256 blocks' row pairs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool RowsPair(AxisPlan rows, int a, int b) =>
        rows.OutputPhase[a] == rows.OutputPhase[b] && rows.OutputQ[b] == rows.OutputQ[a] + 1;

    /// <summary>
    /// Whether a pair of phase rows of <paramref name="length"/> pixels runs in 3 + 3 pixel blocks (6 x 2 blocks over both
    /// rows, and at most one 2 + 2 block) rather than each row alone in 6-pixel blocks: when a row alone would end in 4 x 2
    /// blocks, whose 8 sums hide the multiply-add latency worse and whose weight loads feed 4 multiply-adds instead of 6
    /// (a row of 8 runs 4 + 4 alone; volume_k3's 8 x 8 slices). Rows of a multiple of 6 run alone as they are; a length of
    /// 3k + 1 would leave a 1 + 1 block half empty. Measured with AVX-512 off on a Zen 5 (busy host, best of each run):
    /// volume_k3 141-149 µs against 147-152 alone; stride1 and unet_up_nhwc (rows of 32) unchanged.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool PairsPhaseRows(int length) => length % 6 != 0 && length % 3 != 1;

    /// <summary>The positions <c>[First, End)</c> of <paramref name="phase"/> that the tile's pixel blocks cover (computed in a long: a whole row's tile ends far past any phase).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int First, int End) TilePositions(AxisPhase phase, ColumnTile tile) =>
        ((int)Math.Min(phase.EndQ, phase.FirstQ + (long)tile.BlockStart * KernelShapes.ChannelBlockPixels),
         (int)Math.Min(phase.EndQ, phase.FirstQ + (long)tile.BlockEnd * KernelShapes.ChannelBlockPixels));

    /// <summary>One output row <paramref name="oy"/> of the tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RunRow<TSimd, TVec>(in LayerShape layer, int paddedChannels, ExecutionPlan plan,
        ReadOnlySpan<float> padded, Span<float> output, ReadOnlySpan<float> packed, ReadOnlySpan<float> packedBias,
        int outputFirstRow, int paddedFirstRow, ColumnTile tile, int[][] tapTable, int oy)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count;
        int channelEnd = tile.ChannelEnd;
        int outW = plan.OutputWidth;
        AxisPlan rows = plan.Height, cols = plan.Width;
        int rowPhase = rows.OutputPhase[oy];
        for (int group = 0; group < layer.Groups; group++)
        {
            var block = new BlockContext(layer, plan, paddedChannels, padded, packed, packedBias, output, group,
                rows.OutputQ[oy] + plan.RowShift - paddedFirstRow, (oy - outputFirstRow) * outW);
            for (int columnPhase = 0; columnPhase < cols.Phases.Length; columnPhase++)
            {
                AxisPhase phase = cols.Phases[columnPhase];
                int[] taps = tapTable[rowPhase * cols.Phases.Length + columnPhase];
                // Channel blocks outside, pixel blocks inside: one channel block's weights (taps x Cin/G x 2 vectors) come
                // from memory once per phase row and are then reused from the L2 cache by every pixel block of the row.
                // Pixel blocks outside swept all of the phase's weights once per 8 pixels, which goes to L3 or memory
                // when they outgrow L2 (vocoder_up, 512 -> 256 channels at k16 s8: 1 MB per phase, 8 MB in all; measured
                // 2x slower). Layers of one channel block (64 channels or fewer) run in the same order either way.
                var (firstQ, endQ) = TilePositions(phase, tile);
                int c = tile.ChannelStart;
                for (; c + 2 * lanes <= channelEnd; c += 2 * lanes)
                    RowBlocks<TSimd, TVec>(block, phase, taps, firstQ, endQ, c, NextWeights(block, c, lanes, channelEnd));
                if (c < channelEnd)
                {
                    for (int q = firstQ; q < endQ; q += KernelShapes.ChannelBlockPixels)
                        Pixels8x1<TSimd, TVec>(block, phase, taps, q, c);
                }
            }
        }
    }

    /// <summary>
    /// Output rows <paramref name="oy"/> and <paramref name="partner"/> of the tile (see <see cref="RowsPair"/>): each output
    /// is the same chain of multiply-adds whichever block computes it. (A separate method from <see cref="RunRow{TSimd, TVec}"/>:
    /// the second row's context built for every row cost the Vector512 path 3-4 % on volume_k3.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RunRowPair<TSimd, TVec>(in LayerShape layer, int paddedChannels, ExecutionPlan plan,
        ReadOnlySpan<float> padded, Span<float> output, ReadOnlySpan<float> packed, ReadOnlySpan<float> packedBias,
        int outputFirstRow, int paddedFirstRow, ColumnTile tile, int[][] tapTable, int oy, int partner)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count;
        int channelEnd = tile.ChannelEnd;
        int outW = plan.OutputWidth;
        AxisPlan rows = plan.Height, cols = plan.Width;
        int rowPhase = rows.OutputPhase[oy];
        for (int group = 0; group < layer.Groups; group++)
        {
            var block = new BlockContext(layer, plan, paddedChannels, padded, packed, packedBias, output, group,
                rows.OutputQ[oy] + plan.RowShift - paddedFirstRow, (oy - outputFirstRow) * outW);
            var secondBlock = new BlockContext(layer, plan, paddedChannels, padded, packed, packedBias, output, group,
                rows.OutputQ[partner] + plan.RowShift - paddedFirstRow, (partner - outputFirstRow) * outW);
            for (int columnPhase = 0; columnPhase < cols.Phases.Length; columnPhase++)
            {
                AxisPhase phase = cols.Phases[columnPhase];
                int[] taps = tapTable[rowPhase * cols.Phases.Length + columnPhase];
                // The channel and pixel blocks in RunRow's order (see there).
                var (firstQ, endQ) = TilePositions(phase, tile);
                bool pairs = PairsPhaseRows(endQ - firstQ);
                int c = tile.ChannelStart;
                for (; c + 2 * lanes <= channelEnd; c += 2 * lanes)
                {
                    if (pairs)
                    {
                        int q = firstQ;
                        for (; q + 3 <= endQ; q += 3)
                            Pixels6x2<TSimd, TVec>(block, secondBlock, paired: true, phase, taps, q, c, 0);
                        if (q < endQ)
                            Pixels4x2<TSimd, TVec>(block, secondBlock, paired: true, phase, taps, q, c);
                        continue;
                    }

                    RowBlocks<TSimd, TVec>(block, phase, taps, firstQ, endQ, c, NextWeights(block, c, lanes, channelEnd));
                    RowBlocks<TSimd, TVec>(secondBlock, phase, taps, firstQ, endQ, c, NextWeights(block, c, lanes, channelEnd));
                }

                if (c < channelEnd)
                {
                    for (int q = firstQ; q < endQ; q += KernelShapes.ChannelBlockPixels)
                        Pixels8x1<TSimd, TVec>(block, phase, taps, q, c);
                    for (int q = firstQ; q < endQ; q += KernelShapes.ChannelBlockPixels)
                        Pixels8x1<TSimd, TVec>(secondBlock, phase, taps, q, c);
                }
            }
        }
    }

    /// <summary>
    /// From channel block <paramref name="c"/>'s packed weights to the next channel block's (the same tap row), which the
    /// Vector256 and Vector128 blocks prefetch a cache line of per input channel; 0 (the block's own line) when there is none
    /// or its rows are of another stride. The first pixel block of a channel block otherwise streams its weights from L3
    /// or memory when they outgrow L2 (vocoder_up: 64 KB per channel block and phase, 8 MB in all), at 64 bytes per 12
    /// multiply-adds, faster than one core gets them. Prefetched while the previous channel block's pixel blocks run, they
    /// arrive over six blocks' time. Measured with AVX-512 off on a Zen 5 (busy host, best of each run):
    /// vocoder_up 1327-1572 µs against 1615-1956 without; prefetcht1 and prefetcht2 gained less.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint NextWeights(in BlockContext block, int c, int lanes, int channelEnd)
    {
        int next = c + 2 * lanes;
        if (next + 2 * lanes > channelEnd)
            return 0;
        int here = block.WeightOffset(c, out nint stride), there = block.WeightOffset(next, out nint nextStride);
        return stride == nextStride ? there - here : 0;
    }

    /// <summary>
    /// Pixel blocks <c>[q, endQ)</c> of one phase row and channel block <paramref name="c"/>, the row alone; the 6 x 2 and
    /// 4 x 2 blocks prefetch the weights <paramref name="nextWeights"/> floats on (see <see cref="NextWeights"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowBlocks<TSimd, TVec>(in BlockContext block, AxisPhase phase, int[] taps, int q, int endQ, int c, nint nextWeights)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        // Eight pixels at once where 32 vector registers hold their 16 sums (AVX-512): each weight vector
        // loaded feeds twice as many multiply-adds as in the 4 x 2 block, which the 16 registers of AVX2 cap.
        if (ManyRegisters<TVec>())
        {
            for (; q + KernelShapes.ChannelBlockPixels <= endQ; q += KernelShapes.ChannelBlockPixels)
                Pixels8x2<TSimd, TVec>(block, phase, taps, q, c);
        }
        else if (typeof(TVec) == typeof(Vector256<float>))
        {
            // AVX2's 16 registers: 6 x 2 sums, 2 weight vectors and a broadcast take 15, and each weight
            // load feeds 6 multiply-adds instead of 4 (KernelShapes.ChannelBlockPixelsFor, which the generated
            // kernels' Vector256 blocks follow). Measured with AVX-512 off on a Zen 4: 4-8 % faster than 4 x 2
            // alone on unet_up, dcgan, stride1 and unet_up_nhwc.
            // A remainder of 2 is taken as 8 (two whole 4 x 2 blocks) rather than one 4 x 2 block half
            // wasted: a phase row of 32 runs as 6+6+6+6+4+4.
            int sixes = (endQ - q) / 6;
            if ((endQ - q) % 6 == 2 && sixes > 0)
                sixes--;
            for (; sixes > 0; sixes--, q += 6)
                Pixels6x2<TSimd, TVec>(block, block, paired: false, phase, taps, q, c, nextWeights);
        }

        for (; q < endQ; q += 4)
            Pixels4x2<TSimd, TVec>(block, block, paired: false, phase, taps, q, c, nextWeights);
    }

    /// <summary>What every register block of one (output row, group) shares.</summary>
    private readonly ref struct BlockContext
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public BlockContext(in LayerShape layer, ExecutionPlan plan, int paddedChannels, ReadOnlySpan<float> padded,
            ReadOnlySpan<float> packed, ReadOnlySpan<float> packedBias, Span<float> output, int group,
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
            Taps = layer.Taps;
            PaddedWidth = plan.PaddedWidth;
            ColumnShift = plan.ColumnShift;
            OutStride = layer.Groups * paddedChannels;
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
        public int Taps { get; }
        public int PaddedWidth { get; }
        public int ColumnShift { get; }
        public int OutStride { get; }
        public int PaddedRowOfQ { get; }
        public int FirstOutputPixel { get; }

        /// <summary>The padded input pixel of phase position <paramref name="q"/>, which the tap table's input offsets are relative to.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int InputOffset(int q) => (PaddedRowOfQ * PaddedWidth + q + ColumnShift) * InChannels + GroupInput;

        /// <summary>
        /// The group's packed weights of kernel tap 0 for the output channel block that starts at <paramref name="c"/>, and the
        /// floats from one input channel's weights to the next (the tap table's weight offsets count such rows).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int WeightOffset(int c, out nint rowStride)
        {
            (int offset, int stride) = KernelShapes.ChannelWeightPosition(c, PaddedChannels, Taps, InPerGroup);
            rowStride = stride;
            return GroupTaps * InPerGroup * PaddedChannels + offset;
        }

        /// <summary>
        /// The output of phase position <paramref name="q"/>, channel <paramref name="c"/>, after one bounds check that
        /// covers <paramref name="pixels"/> consecutive phase positions of <paramref name="width"/> floats each, which
        /// lie <paramref name="step"/> floats apart: the block's stores need no check of their own.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ref float OutputPixels(AxisPhase phase, int q, int c, int pixels, int width, out nint step)
        {
            int first = (FirstOutputPixel + phase.OutputOf(q)) * OutStride + GroupOutput + c;
            step = phase.Stride * OutStride;
            return ref MemoryMarshal.GetReference(Output.Slice(first, (pixels - 1) * (int)step + width));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pixels4x2<TSimd, TVec>(in BlockContext block, in BlockContext second, bool paired, AxisPhase phase, int[] taps, int q, int c, nint nextWeights = 0)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count;
        // Native-sized strides, so that the inner loop addresses with them directly (no sign extension per iteration).
        nint pixel = block.InChannels, pixel2 = 2 * pixel;
        ref float x = ref MemoryMarshal.GetReference(block.Padded);
        ref float w = ref MemoryMarshal.GetReference(block.Packed);
        ref float bias = ref MemoryMarshal.GetReference(block.PackedBias);
        // Offsets first: no call (should the JIT or the AOT compiler not inline one) may run while the accumulators are live.
        ref float xBlock = ref Unsafe.Add(ref x, block.InputOffset(q));
        ref float wBlock = ref Unsafe.Add(ref w, block.WeightOffset(c, out nint rowStride));
        // Pixels 2-3: the next two of the row, or (paired) the first two of the second row's block. Pixels past the phase's
        // end are computed from the zero border and not stored.
        int valid = phase.EndQ - q;
        int validFirst = Math.Min(valid, 2), validSecond = paired ? validFirst : valid - 2;
        ref float y = ref block.OutputPixels(phase, q, c, paired ? validFirst : Math.Min(valid, 4), 2 * lanes, out nint step);
        ref float ySecond = ref paired ? ref second.OutputPixels(phase, q, c, validFirst, 2 * lanes, out _) : ref Unsafe.Add(ref y, 2 * step);
        ref float xSecond = ref paired ? ref Unsafe.Add(ref x, second.InputOffset(q)) : ref Unsafe.Add(ref xBlock, pixel2);
        TVec b0 = TSimd.Load(ref Unsafe.Add(ref bias, block.GroupOutput + c));
        TVec b1 = TSimd.Load(ref Unsafe.Add(ref bias, block.GroupOutput + c + lanes));
        TVec p00 = b0, p01 = b1, p10 = b0, p11 = b1, p20 = b0, p21 = b1, p30 = b0, p31 = b1;
        // In a local: read through the block reference, the loop test reloaded it from memory every iteration.
        int inPerGroup = block.InPerGroup;
        for (int k = 0; k < taps.Length; k += 2)
        {
            ref float xp = ref Unsafe.Add(ref xBlock, taps[k]);
            ref float xq = ref Unsafe.Add(ref xSecond, taps[k]);
            ref float wp = ref Unsafe.Add(ref wBlock, taps[k + 1] * rowStride);
            for (int ic = inPerGroup; ic > 0; ic--)
            {
                TVec w0 = TSimd.Load(ref wp);
                TVec w1 = TSimd.Load(ref Unsafe.Add(ref wp, lanes));
                GeneratedKernelSupport.Prefetch(ref Unsafe.Add(ref wp, nextWeights));
                TVec xv = TSimd.Broadcast(xp);
                p00 = TSimd.MultiplyAdd(xv, w0, p00);
                p01 = TSimd.MultiplyAdd(xv, w1, p01);
                xv = TSimd.Broadcast(Unsafe.Add(ref xp, pixel));
                p10 = TSimd.MultiplyAdd(xv, w0, p10);
                p11 = TSimd.MultiplyAdd(xv, w1, p11);
                xv = TSimd.Broadcast(xq);
                p20 = TSimd.MultiplyAdd(xv, w0, p20);
                p21 = TSimd.MultiplyAdd(xv, w1, p21);
                xv = TSimd.Broadcast(Unsafe.Add(ref xq, pixel));
                p30 = TSimd.MultiplyAdd(xv, w0, p30);
                p31 = TSimd.MultiplyAdd(xv, w1, p31);
                wp = ref Unsafe.Add(ref wp, rowStride);
                xp = ref Unsafe.Add(ref xp, 1);
                xq = ref Unsafe.Add(ref xq, 1);
            }
        }

        Store2(ref y, lanes, p00, p01);
        if (validFirst > 1) Store2(ref Unsafe.Add(ref y, step), lanes, p10, p11);
        if (validSecond > 0) Store2(ref ySecond, lanes, p20, p21);
        if (validSecond > 1) Store2(ref Unsafe.Add(ref ySecond, step), lanes, p30, p31);

        static void Store2(ref float destination, int lanes, TVec first, TVec second)
        {
            TSimd.Store(ref destination, first);
            TSimd.Store(ref Unsafe.Add(ref destination, lanes), second);
        }
    }

    /// <summary>
    /// Six whole pixels (the caller checks that all six are in the phase row) x 2 channel vectors: six of the row, or
    /// (<paramref name="paired"/>) three of the row and the same three of <paramref name="second"/>'s.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pixels6x2<TSimd, TVec>(in BlockContext block, in BlockContext second, bool paired, AxisPhase phase, int[] taps, int q, int c, nint nextWeights)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count;
        nint pixel = block.InChannels, pixel2 = 2 * pixel;
        ref float x = ref MemoryMarshal.GetReference(block.Padded);
        ref float w = ref MemoryMarshal.GetReference(block.Packed);
        ref float bias = ref MemoryMarshal.GetReference(block.PackedBias);
        // Offsets first: no call (should the JIT or the AOT compiler not inline one) may run while the accumulators are live.
        ref float xBlock = ref Unsafe.Add(ref x, block.InputOffset(q));
        ref float wBlock = ref Unsafe.Add(ref w, block.WeightOffset(c, out nint rowStride));
        // Pixels 3-5: the next three of the row, or (paired) the first three of the second row's block.
        ref float y = ref block.OutputPixels(phase, q, c, paired ? 3 : 6, 2 * lanes, out nint step);
        ref float ySecond = ref paired ? ref second.OutputPixels(phase, q, c, 3, 2 * lanes, out _) : ref Unsafe.Add(ref y, 3 * step);
        ref float xSecond = ref paired ? ref Unsafe.Add(ref x, second.InputOffset(q)) : ref Unsafe.Add(ref xBlock, pixel2 + pixel);
        TVec b0 = TSimd.Load(ref Unsafe.Add(ref bias, block.GroupOutput + c));
        TVec b1 = TSimd.Load(ref Unsafe.Add(ref bias, block.GroupOutput + c + lanes));
        TVec p00 = b0, p01 = b1, p10 = b0, p11 = b1, p20 = b0, p21 = b1;
        TVec p30 = b0, p31 = b1, p40 = b0, p41 = b1, p50 = b0, p51 = b1;
        // In a local: read through the block reference, the loop test reloaded it from memory every iteration.
        int inPerGroup = block.InPerGroup;
        for (int k = 0; k < taps.Length; k += 2)
        {
            ref float xp = ref Unsafe.Add(ref xBlock, taps[k]);
            // Pixels 3-5 from a second base, so that every load addresses as base + one of two strides.
            ref float xq = ref Unsafe.Add(ref xSecond, taps[k]);
            ref float wp = ref Unsafe.Add(ref wBlock, taps[k + 1] * rowStride);
            for (int ic = inPerGroup; ic > 0; ic--)
            {
                TVec w0 = TSimd.Load(ref wp);
                TVec w1 = TSimd.Load(ref Unsafe.Add(ref wp, lanes));
                GeneratedKernelSupport.Prefetch(ref Unsafe.Add(ref wp, nextWeights));
                TVec xv = TSimd.Broadcast(xp);
                p00 = TSimd.MultiplyAdd(xv, w0, p00);
                p01 = TSimd.MultiplyAdd(xv, w1, p01);
                xv = TSimd.Broadcast(Unsafe.Add(ref xp, pixel));
                p10 = TSimd.MultiplyAdd(xv, w0, p10);
                p11 = TSimd.MultiplyAdd(xv, w1, p11);
                xv = TSimd.Broadcast(Unsafe.Add(ref xp, pixel2));
                p20 = TSimd.MultiplyAdd(xv, w0, p20);
                p21 = TSimd.MultiplyAdd(xv, w1, p21);
                xv = TSimd.Broadcast(xq);
                p30 = TSimd.MultiplyAdd(xv, w0, p30);
                p31 = TSimd.MultiplyAdd(xv, w1, p31);
                xv = TSimd.Broadcast(Unsafe.Add(ref xq, pixel));
                p40 = TSimd.MultiplyAdd(xv, w0, p40);
                p41 = TSimd.MultiplyAdd(xv, w1, p41);
                xv = TSimd.Broadcast(Unsafe.Add(ref xq, pixel2));
                p50 = TSimd.MultiplyAdd(xv, w0, p50);
                p51 = TSimd.MultiplyAdd(xv, w1, p51);
                wp = ref Unsafe.Add(ref wp, rowStride);
                xp = ref Unsafe.Add(ref xp, 1);
                xq = ref Unsafe.Add(ref xq, 1);
            }
        }

        Store2(ref y, lanes, p00, p01);
        Store2(ref Unsafe.Add(ref y, step), lanes, p10, p11);
        Store2(ref Unsafe.Add(ref y, 2 * step), lanes, p20, p21);
        Store2(ref ySecond, lanes, p30, p31);
        Store2(ref Unsafe.Add(ref ySecond, step), lanes, p40, p41);
        Store2(ref Unsafe.Add(ref ySecond, 2 * step), lanes, p50, p51);

        static void Store2(ref float destination, int lanes, TVec first, TVec second)
        {
            TSimd.Store(ref destination, first);
            TSimd.Store(ref Unsafe.Add(ref destination, lanes), second);
        }
    }

    /// <summary>
    /// Whether the vectors are those of AVX-512, whose 32 registers hold an 8 x 2 block (the rule the generated kernels
    /// follow too, <see cref="KernelShapes.ChannelBlockPixelsFor"/>; a JIT-time constant).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ManyRegisters<TVec>() where TVec : struct =>
        KernelShapes.ChannelBlockPixelsFor(Unsafe.SizeOf<TVec>() / sizeof(float)) == KernelShapes.ChannelBlockPixels;

    /// <summary>Eight whole pixels (the caller checks that all eight are in the phase row) x 2 channel vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pixels8x2<TSimd, TVec>(in BlockContext block, AxisPhase phase, int[] taps, int q, int c)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count;
        nint pixel = block.InChannels, pixel2 = 2 * pixel, pixel3 = 3 * pixel;
        ref float x = ref MemoryMarshal.GetReference(block.Padded);
        ref float w = ref MemoryMarshal.GetReference(block.Packed);
        ref float bias = ref MemoryMarshal.GetReference(block.PackedBias);
        // Offsets first: no call (should the JIT or the AOT compiler not inline one) may run while the accumulators are live.
        ref float xBlock = ref Unsafe.Add(ref x, block.InputOffset(q));
        ref float wBlock = ref Unsafe.Add(ref w, block.WeightOffset(c, out nint rowStride));
        TVec b0 = TSimd.Load(ref Unsafe.Add(ref bias, block.GroupOutput + c));
        TVec b1 = TSimd.Load(ref Unsafe.Add(ref bias, block.GroupOutput + c + lanes));
        TVec p00 = b0, p01 = b1, p10 = b0, p11 = b1, p20 = b0, p21 = b1, p30 = b0, p31 = b1;
        TVec p40 = b0, p41 = b1, p50 = b0, p51 = b1, p60 = b0, p61 = b1, p70 = b0, p71 = b1;
        for (int k = 0; k < taps.Length; k += 2)
        {
            ref float xp = ref Unsafe.Add(ref xBlock, taps[k]);
            // Pixels 4-7 from a second base, so that every load addresses as base + one of three strides.
            ref float xq = ref Unsafe.Add(ref xp, 2 * pixel2);
            ref float wp = ref Unsafe.Add(ref wBlock, taps[k + 1] * rowStride);
            for (int ic = 0; ic < block.InPerGroup; ic++)
            {
                TVec w0 = TSimd.Load(ref wp);
                TVec w1 = TSimd.Load(ref Unsafe.Add(ref wp, lanes));
                TVec xv = TSimd.Broadcast(xp);
                p00 = TSimd.MultiplyAdd(xv, w0, p00);
                p01 = TSimd.MultiplyAdd(xv, w1, p01);
                xv = TSimd.Broadcast(Unsafe.Add(ref xp, pixel));
                p10 = TSimd.MultiplyAdd(xv, w0, p10);
                p11 = TSimd.MultiplyAdd(xv, w1, p11);
                xv = TSimd.Broadcast(Unsafe.Add(ref xp, pixel2));
                p20 = TSimd.MultiplyAdd(xv, w0, p20);
                p21 = TSimd.MultiplyAdd(xv, w1, p21);
                xv = TSimd.Broadcast(Unsafe.Add(ref xp, pixel3));
                p30 = TSimd.MultiplyAdd(xv, w0, p30);
                p31 = TSimd.MultiplyAdd(xv, w1, p31);
                xv = TSimd.Broadcast(xq);
                p40 = TSimd.MultiplyAdd(xv, w0, p40);
                p41 = TSimd.MultiplyAdd(xv, w1, p41);
                xv = TSimd.Broadcast(Unsafe.Add(ref xq, pixel));
                p50 = TSimd.MultiplyAdd(xv, w0, p50);
                p51 = TSimd.MultiplyAdd(xv, w1, p51);
                xv = TSimd.Broadcast(Unsafe.Add(ref xq, pixel2));
                p60 = TSimd.MultiplyAdd(xv, w0, p60);
                p61 = TSimd.MultiplyAdd(xv, w1, p61);
                xv = TSimd.Broadcast(Unsafe.Add(ref xq, pixel3));
                p70 = TSimd.MultiplyAdd(xv, w0, p70);
                p71 = TSimd.MultiplyAdd(xv, w1, p71);
                wp = ref Unsafe.Add(ref wp, rowStride);
                xp = ref Unsafe.Add(ref xp, 1);
                xq = ref Unsafe.Add(ref xq, 1);
            }
        }

        ref float y = ref block.OutputPixels(phase, q, c, 8, 2 * lanes, out nint step);
        Store2(ref y, lanes, p00, p01);
        Store2(ref Unsafe.Add(ref y, step), lanes, p10, p11);
        Store2(ref Unsafe.Add(ref y, 2 * step), lanes, p20, p21);
        Store2(ref Unsafe.Add(ref y, 3 * step), lanes, p30, p31);
        Store2(ref Unsafe.Add(ref y, 4 * step), lanes, p40, p41);
        Store2(ref Unsafe.Add(ref y, 5 * step), lanes, p50, p51);
        Store2(ref Unsafe.Add(ref y, 6 * step), lanes, p60, p61);
        Store2(ref Unsafe.Add(ref y, 7 * step), lanes, p70, p71);

        static void Store2(ref float destination, int lanes, TVec first, TVec second)
        {
            TSimd.Store(ref destination, first);
            TSimd.Store(ref Unsafe.Add(ref destination, lanes), second);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pixels8x1<TSimd, TVec>(in BlockContext block, AxisPhase phase, int[] taps, int q, int c)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count;
        // Native-sized strides, so that the inner loop addresses with them directly (no sign extension per iteration).
        nint pixel = block.InChannels, pixel2 = 2 * pixel, pixel3 = 3 * pixel;
        ref float x = ref MemoryMarshal.GetReference(block.Padded);
        ref float w = ref MemoryMarshal.GetReference(block.Packed);
        // Offsets first: no call (should the JIT or the AOT compiler not inline one) may run while the accumulators are live.
        ref float xBlock = ref Unsafe.Add(ref x, block.InputOffset(q));
        ref float wBlock = ref Unsafe.Add(ref w, block.WeightOffset(c, out nint rowStride));
        TVec b = TSimd.Load(ref MemoryMarshal.GetReference(block.PackedBias.Slice(block.GroupOutput + c, lanes)));
        TVec p0 = b, p1 = b, p2 = b, p3 = b, p4 = b, p5 = b, p6 = b, p7 = b;
        for (int k = 0; k < taps.Length; k += 2)
        {
            ref float xp = ref Unsafe.Add(ref xBlock, taps[k]);
            // Pixels 4-7 from a second base, so that every load addresses as base + one of three strides.
            ref float xq = ref Unsafe.Add(ref xp, 2 * pixel2);
            ref float wp = ref Unsafe.Add(ref wBlock, taps[k + 1] * rowStride);
            for (int ic = 0; ic < block.InPerGroup; ic++)
            {
                TVec wv = TSimd.Load(ref wp);
                p0 = TSimd.MultiplyAdd(TSimd.Broadcast(xp), wv, p0);
                p1 = TSimd.MultiplyAdd(TSimd.Broadcast(Unsafe.Add(ref xp, pixel)), wv, p1);
                p2 = TSimd.MultiplyAdd(TSimd.Broadcast(Unsafe.Add(ref xp, pixel2)), wv, p2);
                p3 = TSimd.MultiplyAdd(TSimd.Broadcast(Unsafe.Add(ref xp, pixel3)), wv, p3);
                p4 = TSimd.MultiplyAdd(TSimd.Broadcast(xq), wv, p4);
                p5 = TSimd.MultiplyAdd(TSimd.Broadcast(Unsafe.Add(ref xq, pixel)), wv, p5);
                p6 = TSimd.MultiplyAdd(TSimd.Broadcast(Unsafe.Add(ref xq, pixel2)), wv, p6);
                p7 = TSimd.MultiplyAdd(TSimd.Broadcast(Unsafe.Add(ref xq, pixel3)), wv, p7);
                wp = ref Unsafe.Add(ref wp, rowStride);
                xp = ref Unsafe.Add(ref xp, 1);
                xq = ref Unsafe.Add(ref xq, 1);
            }
        }

        int valid = phase.EndQ - q;
        ref float y = ref block.OutputPixels(phase, q, c, Math.Min(valid, 8), lanes, out nint step);
        TSimd.Store(ref y, p0);
        if (valid > 1) TSimd.Store(ref Unsafe.Add(ref y, step), p1);
        if (valid > 2) TSimd.Store(ref Unsafe.Add(ref y, 2 * step), p2);
        if (valid > 3) TSimd.Store(ref Unsafe.Add(ref y, 3 * step), p3);
        if (valid > 4) TSimd.Store(ref Unsafe.Add(ref y, 4 * step), p4);
        if (valid > 5) TSimd.Store(ref Unsafe.Add(ref y, 5 * step), p5);
        if (valid > 6) TSimd.Store(ref Unsafe.Add(ref y, 6 * step), p6);
        if (valid > 7) TSimd.Store(ref Unsafe.Add(ref y, 7 * step), p7);
    }
}
