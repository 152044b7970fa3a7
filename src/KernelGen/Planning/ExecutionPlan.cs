using System.Runtime.CompilerServices;
using KernelGen.Kernels;
using KernelGen.Simd;

namespace KernelGen.Planning;

/// <summary>
/// The whole decision for one layer at one input size, made by <see cref="PlanBuilder.ForInput"/>: the kernel family, its
/// vector width, the register blocking and banding, the packed weights it reads, how the input is padded and how the
/// output is written, and the zero-bordered input geometry (so that no tap needs a bounds check). Immutable: built once
/// per (layer, input size), shared by every call and thread of that size. The constructor proves that every register
/// block of the chosen kernel reads inside the padded rows, so that the kernels' unchecked loads stay in bounds.
/// </summary>
internal sealed class ExecutionPlan
{
    /// <summary>Phase positions the width-vectorised kernel may compute past a phase's end to finish a register block (never stored).</summary>
    /// <remarks>A whole block of 4 x 16 lanes, plus one: paired stride-2 phases may start one position apart.</remarks>
    public const int WidthKernelOverrun = KernelShapes.WidthBlockVectors * KernelShapes.MaxLanes + 1;

    /// <summary>Pixels the channel-vectorised kernel may compute past a phase's end to finish a register block (never stored).</summary>
    public const int ChannelKernelOverrun = KernelShapes.ChannelBlockPixels;

    /// <summary>
    /// The most floats one sample's scratch may take, and the most any zero-bordered copy or packed weights may hold (2^30,
    /// 4 GiB): below it every index the kernels compute into them, register blocks and overruns included, is an int. A plan
    /// that would need more runs the exact scalar kernel instead (see <see cref="Exact"/>).
    /// </summary>
    public const long MaxScratchFloats = 1L << 30;

    /// <summary>A plan that only the exact scalar kernel runs (no zero-bordered copy).</summary>
    public ExecutionPlan(LayerPlan layer, AxisPlan height, AxisPlan width, KernelStrategy strategy, long multiplyAddsPerSample)
        : this(layer, height, width, strategy, multiplyAddsPerSample, VectorWidth.Scalar, null, exact: true, 0, 0, 0, 0, padsItself: false, blocksChannels: false)
    {
    }

    /// <param name="layer">The layer's decisions for every size.</param>
    /// <param name="height">The height axis's phases at this input size.</param>
    /// <param name="width">The width axis's phases at this input size.</param>
    /// <param name="strategy">The SIMD kernel family.</param>
    /// <param name="multiplyAddsPerSample">Multiply-adds per sample as the kernels run them (zero taps skipped; saturated).</param>
    /// <param name="widthVectors">The width kernel's vector width.</param>
    /// <param name="pairedColumns">The paired width kernel's column plan (width kernel, width stride 2, both phases), else null.</param>
    /// <param name="exact">Only the exact scalar kernel runs: the padded sizes and shifts are then 0.</param>
    /// <param name="paddedHeight">Rows of the zero-bordered input copy.</param>
    /// <param name="paddedWidth">Columns of the zero-bordered input copy.</param>
    /// <param name="rowShift">Padded row of input row 0.</param>
    /// <param name="columnShift">Padded column of input column 0.</param>
    /// <param name="padsItself">The paired width kernel reads the unpadded NCHW input, a window of rows at a time.</param>
    /// <param name="blocksChannels">The paired width kernel computes blocks of output channels together.</param>
    public ExecutionPlan(LayerPlan layer, AxisPlan height, AxisPlan width, KernelStrategy strategy, long multiplyAddsPerSample,
        VectorWidth widthVectors, PairedColumnPlan? pairedColumns, bool exact, int paddedHeight, int paddedWidth, int rowShift, int columnShift,
        bool padsItself, bool blocksChannels)
    {
        LayerPlan = layer;
        Layer = layer.Layer;
        ChannelsLast = layer.ChannelsLast;
        Height = height;
        Width = width;
        Strategy = strategy;
        MultiplyAddsPerSample = multiplyAddsPerSample;
        ExactKernelMaxMultiplyAdds = layer.Options.ExactKernelMaxMultiplyAdds;
        Exact = exact;
        if ((exact || strategy != KernelStrategy.ChannelVectorized) && multiplyAddsPerSample <= ExactKernelMaxMultiplyAdds && layer.Options.ExactKernelCellTaps)
        {
            int inRowStride = ChannelsLast ? width.InputLength * Layer.InChannels : width.InputLength, inColumnStride = ChannelsLast ? Layer.InChannels : 1;
            CellTaps? rows = CellTaps.TryCreate(height, inRowStride, Layer.KernelWidth, MaxCellTapEntries);
            CellTaps? columns = rows is null ? null : CellTaps.TryCreate(width, inColumnStride, 1, MaxCellTapEntries);
            if (columns is not null)
                (SmallCallRowTaps, SmallCallColumnTaps) = (rows, columns);
        }

        if (exact)
            return;

        bool channelKernel = strategy == KernelStrategy.ChannelVectorized;
        if (channelKernel ? !layer.HasChannelKernel || pairedColumns is not null || padsItself || blocksChannels : !layer.WidthPacking)
            throw new ArgumentException($"The layer has no packing for the {strategy} kernel, or the plan mixes kernels.", nameof(strategy));
        if (blocksChannels && (pairedColumns is null || !layer.BlockPacking))
            throw new ArgumentException("Only the paired width kernel computes blocks of channels, from their packing.", nameof(blocksChannels));
        if (padsItself && (pairedColumns is null || ChannelsLast))
            throw new ArgumentException("Only the paired width kernel pads NCHW input itself.", nameof(padsItself));
        if (paddedHeight < 1 || paddedWidth < 1 || rowShift < 0 || columnShift < 0
            || (long)paddedHeight * paddedWidth > MaxScratchFloats / Layer.InChannels
            || rowShift + (long)InputHeight > paddedHeight || columnShift + (long)InputWidth > paddedWidth)
            throw new ArgumentOutOfRangeException(nameof(paddedHeight), $"Padded input {paddedHeight} x {paddedWidth} (shifts {rowShift}, {columnShift}) does not hold the input or does not fit.");
        WidthVectors = widthVectors;
        PairedColumns = pairedColumns;
        PaddedHeight = paddedHeight;
        PaddedWidth = paddedWidth;
        RowShift = rowShift;
        ColumnShift = columnShift;
        PadsItself = padsItself;
        BlocksChannels = blocksChannels;
        // 4 channels x 2 phases x 2 vectors are 16 accumulators, half of AVX-512's registers; AVX2 has only 16, so the JIT
        // spills 4 of them, yet 2 vectors still measured faster there than 1 (game_up: 128 against 137 us). 128-bit and
        // scalar code run 1 vector.
        BlockedPairVectors = blocksChannels ? (widthVectors >= VectorWidth.V256 ? 2 : 1) : 0;
        if (pairedColumns is not null)
            PairedRowForms = Array.ConvertAll(height.Phases, phase => pairedColumns.FormFor(phase.KernelTaps.Length));
        if (channelKernel)
        {
            ChannelVectors = layer.ChannelVectors;
            PaddedChannels = layer.PaddedChannels;
            if ((long)Layer.Groups * PaddedChannels * OutputWidth > MaxScratchFloats / OutputHeight)
                throw new ArgumentOutOfRangeException(nameof(width), "The channel kernel's output rows would not fit.");
        }

        // The kernel writes the user's output in place when its layout is the user's: the width kernel writes NCHW, the
        // channel kernel NHWC with padded channels (so only when no padding lanes would land in the user's output).
        WritesOutputDirectly = channelKernel ? ChannelsLast && PaddedChannels == Layer.OutPerGroup : !ChannelsLast;
        CheckReadsInsidePadding();
        if (padsItself)
        {
            if (!WindowHoldsAnOutputRow())
                throw new ArgumentException("The input rows of one output row do not fit in the paired kernel's window.", nameof(padsItself));
            PairedBandRows = LongestBandInWindow();
        }
        if (channelKernel)
        {
            ChannelTapTable = BuildChannelTapTable(Layer, PaddedChannels, height, width, paddedWidth);
            foreach (AxisPhase phase in width.Phases)
                PixelBlocksPerRow = Math.Max(PixelBlocksPerRow, (phase.EndQ - phase.FirstQ + KernelShapes.ChannelBlockPixels - 1) / KernelShapes.ChannelBlockPixels);
            if (!WritesOutputDirectly)
            {
                // The plan guarantees that a whole sample's padded copy and output rows fit (MaxScratchFloats), so a chunk's,
                // rounded up to cache lines, does.
                int rowLength = OutputWidth * Layer.Groups * PaddedChannels;
                int chunkRows = Math.Clamp(layer.Options.FusedRelayoutChunkFloats / rowLength, 1, OutputHeight);
                int maxPaddedRows = MaxPaddedRowsRead(chunkRows);
                UpsamplesByWidth = layer.Options.WidthUpsampleKernel && WidthUpsampleKernel.LayerFits(layer) && WidthUpsampleKernel.WidthFits(layer, InputWidth);
                // The width up-sampling kernel stages an input row in the band buffer (never more than the band holds, as
                // the padded width holds the input width; the maximum keeps that obvious).
                int bandFloats = Math.Max(maxPaddedRows * PaddedWidth * Layer.InChannels,
                    UpsamplesByWidth ? WidthUpsampleKernel.StageFloats(Layer, InputWidth) : 0);
                ChannelChunking = new ChannelChunking(chunkRows, maxPaddedRows, AlignedBuffer.RoundUp(chunkRows * rowLength),
                    AlignedBuffer.RoundUp(bandFloats));
            }
        }
    }

    /// <summary>
    /// The most floats one sample's zero-bordered copy may take: 8 times the sample's input and output together, plus 4096 per
    /// input channel (a 64 x 64 plane of border, which covers the vector overrun of small and narrow inputs). Real layers stay
    /// far below it (a copy is the input plus a border of a few cells); past it, the copy would be mostly zeros.
    /// </summary>
    public static long ScratchBudget(int inChannels, long inputSample, long outputSample) => 8 * (inputSample + outputSample) + 4096L * inChannels;

    /// <summary>The layer's decisions for every input size (and its packed layouts).</summary>
    public LayerPlan LayerPlan { get; }

    public LayerShape Layer { get; }

    /// <summary>The layout is NHWC.</summary>
    public bool ChannelsLast { get; }

    /// <summary>
    /// Whether only the exact scalar kernel (<see cref="TapListKernel"/>) may run this plan: the SIMD kernels' copies
    /// would not fit (see <see cref="MaxScratchFloats"/>) or would dwarf the data (<see cref="ScratchBudget"/>), or the
    /// layer's channel-kernel weights could not be packed. The padded sizes and shifts are then 0.
    /// </summary>
    public bool Exact { get; }

    /// <summary>The SIMD kernel family (when not <see cref="Exact"/>).</summary>
    public KernelStrategy Strategy { get; }

    public bool IsChannelKernel => Strategy == KernelStrategy.ChannelVectorized;

    public AxisPlan Height { get; }

    public AxisPlan Width { get; }

    public int InputHeight => Height.InputLength;

    public int InputWidth => Width.InputLength;

    public int OutputHeight => Height.OutputLength;

    public int OutputWidth => Width.OutputLength;

    /// <summary>Rows of the zero-bordered input copy; input row <c>i</c> is padded row <c>i + RowShift</c>.</summary>
    public int PaddedHeight { get; }

    /// <summary>Columns of the zero-bordered input copy; input column <c>i</c> is padded column <c>i + ColumnShift</c>.</summary>
    public int PaddedWidth { get; }

    public int RowShift { get; }

    public int ColumnShift { get; }

    /// <summary>The vector width for the width-vectorised kernel: four vectors no wider than a phase row (but at least 128-bit).</summary>
    public VectorWidth WidthVectors { get; }

    /// <summary>The channel kernel's vector width (channel plans only).</summary>
    public VectorWidth ChannelVectors { get; }

    /// <summary>The channel kernel's output channels per group rounded up to whole vectors: its packed and scratch stride (channel plans only).</summary>
    public int PaddedChannels { get; }

    /// <summary>For the width-vectorised kernel on a stride-2 width axis with both phases: its column plan (else null).</summary>
    public PairedColumnPlan? PairedColumns { get; }

    /// <summary>For the paired width kernel: the form it runs each row phase in, indexed like <see cref="AxisPlan.Phases"/> of <see cref="Height"/> (else null).</summary>
    public PairedTaps[]? PairedRowForms { get; }

    /// <summary>Whether the paired width kernel reads the unpadded NCHW input and pads it itself, a window of rows at a time (no padding pass).</summary>
    public bool PadsItself { get; }

    /// <summary>The blocked paired kernel's register blocking: vectors of pairs per phase and channel (1 or 2; 0 when it does not run).</summary>
    public int BlockedPairVectors { get; }

    /// <summary>
    /// When the paired width kernel pads its own input: output rows per band, the most consecutive rows whose input rows
    /// (every input channel of a group, <see cref="PaddedRowsRead"/>) fit in its window, wherever the band starts.
    /// </summary>
    public int PairedBandRows { get; }

    /// <summary>Whether the paired width kernel computes whole blocks of <see cref="KernelShapes.PairedBlockChannels"/> output channels together.</summary>
    public bool BlocksChannels { get; }

    /// <summary>
    /// Whether the kernel writes the user's output in place. Otherwise it writes scratch and a relayout follows (for the
    /// channel kernel, chunk by chunk in the same pass: <see cref="ChannelChunking"/>).
    /// </summary>
    public bool WritesOutputDirectly { get; }

    /// <summary>
    /// The channel kernel's register blocks of pixels along the longest column phase of a row (channel plans only): the
    /// tiles a row is split into when a layer has too few rows to split (see <see cref="ChannelVectorizedKernel.ColumnTile"/>).
    /// </summary>
    public int PixelBlocksPerRow { get; }

    /// <summary>The channel kernel's tap offsets (channel plans only; see <see cref="BuildChannelTapTable"/>).</summary>
    public int[][]? ChannelTapTable { get; }

    /// <summary>How the channel kernel's fused pass splits the output rows into chunks (channel plans that relayout only).</summary>
    public ChannelChunking? ChannelChunking { get; }

    /// <summary>
    /// Whether the fused pass's rows run <see cref="WidthUpsampleKernel"/> (NCHW straight in and out, a chunk's band buffer
    /// staging its input rows) instead of the channel kernel between two relayouts: NCHW 2 x 2 stride-2 layers where the
    /// channel kernel would run Vector256 or Vector512 (see <see cref="WidthUpsampleKernel.LayerFits"/>). Measured on unet_up
    /// (128 -> 64, 32 x 32) with AVX-512 off on a Zen 4: 630-638 against 682-690 µs; with Vector512 on a Zen 5: 323-365
    /// against 354-419 µs.
    /// </summary>
    public bool UpsamplesByWidth { get; }

    /// <summary>
    /// Each axis's valid taps per output cell, for plans whose calls may be small enough for the exact kernel (see
    /// <see cref="RunsExact"/>): the exact kernel's row path reads them instead of looking each cell's taps up. Null for
    /// other plans, and when an axis would list more than <see cref="MaxCellTapEntries"/> taps. Both are set, or neither.
    /// </summary>
    public CellTaps? SmallCallRowTaps { get; }

    /// <inheritdoc cref="SmallCallRowTaps"/>
    public CellTaps? SmallCallColumnTaps { get; }

    /// <summary>The most taps one axis of <see cref="SmallCallRowTaps"/> lists (256 KiB of ints per array): small calls list a few per output cell.</summary>
    public const int MaxCellTapEntries = 1 << 16;

    /// <summary>Multiply-adds per sample (zero taps skipped).</summary>
    public long MultiplyAddsPerSample { get; }

    /// <summary>Calls of at most this many multiply-adds take the exact kernel when the plan's kernel is the width kernel (see <see cref="PlanOptions.ExactKernelMaxMultiplyAdds"/>).</summary>
    public long ExactKernelMaxMultiplyAdds { get; }

    /// <summary>
    /// Whether a call of <paramref name="batch"/> samples runs the exact scalar kernel: always for <see cref="Exact"/> plans;
    /// for the width kernel, also when the call is too small to pay for the zero-bordered copy and the vector set-up.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool RunsExact(int batch) =>
        Exact || (!IsChannelKernel && SaturatingMultiply(MultiplyAddsPerSample, batch) <= ExactKernelMaxMultiplyAdds);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long SaturatingMultiply(long a, long b) => b != 0 && a > long.MaxValue / b ? long.MaxValue : a * b;

    /// <summary>
    /// The padded input rows <c>[first, end)</c> that output rows <c>[rowStart, rowEnd)</c> read: the rows every kernel
    /// addresses (a row's phase position, shifted, minus each of its phase's tap offsets). Every band of output rows (the
    /// channel kernel's chunks, the paired width kernel's windows) is sized by it. Empty (<c>(0, 0)</c>) when no row has a tap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public (int First, int End) PaddedRowsRead(int rowStart, int rowEnd)
    {
        AxisPlan rows = Height;
        int stride = rows.Geometry.Stride, first = int.MaxValue, end = int.MinValue;
        // Consecutive output rows are consecutive residues, so the first `stride` rows hold one row of each phase present;
        // a phase's rows are stride apart at consecutive phase positions, and its offsets increase with the kernel index:
        // its first row reads lowest (through its last offset), its last row highest (through its first).
        for (int oy = rowStart; oy < rowEnd && oy - rowStart < stride; oy++)
        {
            int[] offsets = rows.Phases[rows.OutputPhase[oy]].TapOffsets;
            if (offsets.Length == 0) continue;
            int last = oy + (rowEnd - 1 - oy) / stride * stride;
            first = Math.Min(first, rows.OutputQ[oy] + RowShift - offsets[^1]);
            end = Math.Max(end, rows.OutputQ[last] + RowShift - offsets[0] + 1);
        }

        return first <= end ? (first, end) : (0, 0);
    }

    /// <summary>
    /// The most padded rows that <see cref="PaddedRowsRead"/> returns for any <paramref name="outputRows"/> (or fewer)
    /// consecutive output rows: the size of a buffer that holds the input rows of one chunk.
    /// </summary>
    public int MaxPaddedRowsRead(int outputRows) => new RowsReadScan(this).Max(outputRows);

    /// <summary>
    /// Each output row's own range of padded rows, kept for <see cref="Max"/> over windows of any length (so that a search
    /// over lengths allocates once).
    /// </summary>
    private sealed class RowsReadScan
    {
        private readonly int[] _firstOf, _endOf, _firstFromBlockStart, _firstToBlockEnd, _endFromBlockStart, _endToBlockEnd;

        public RowsReadScan(ExecutionPlan plan)
        {
            int height = plan.OutputHeight;
            _firstOf = new int[height];
            _endOf = new int[height];
            for (int oy = 0; oy < height; oy++)
            {
                (int first, int end) = plan.PaddedRowsRead(oy, oy + 1);
                (_firstOf[oy], _endOf[oy]) = first < end ? (first, end) : (int.MaxValue, int.MinValue);
            }

            _firstFromBlockStart = new int[height];
            _firstToBlockEnd = new int[height];
            _endFromBlockStart = new int[height];
            _endToBlockEnd = new int[height];
        }

        /// <summary>The widest union over every window of <paramref name="outputRows"/> rows (see <see cref="MaxPaddedRowsRead"/>).</summary>
        public int Max(int outputRows)
        {
            // The widest union over every window of outputRows rows, with the sliding-window minimum and maximum taken from
            // per-block prefix and suffix extremes (linear time, however long the windows).
            int[] firstOf = _firstOf, endOf = _endOf, firstFromBlockStart = _firstFromBlockStart, firstToBlockEnd = _firstToBlockEnd;
            int[] endFromBlockStart = _endFromBlockStart, endToBlockEnd = _endToBlockEnd;
            int height = firstOf.Length, window = Math.Clamp(outputRows, 1, height);
            for (int oy = 0; oy < height; oy++)
            {
                bool blockStart = oy % window == 0;
                firstFromBlockStart[oy] = blockStart ? firstOf[oy] : Math.Min(firstFromBlockStart[oy - 1], firstOf[oy]);
                endFromBlockStart[oy] = blockStart ? endOf[oy] : Math.Max(endFromBlockStart[oy - 1], endOf[oy]);
            }

            for (int oy = height - 1; oy >= 0; oy--)
            {
                bool blockEnd = oy % window == window - 1 || oy == height - 1;
                firstToBlockEnd[oy] = blockEnd ? firstOf[oy] : Math.Min(firstToBlockEnd[oy + 1], firstOf[oy]);
                endToBlockEnd[oy] = blockEnd ? endOf[oy] : Math.Max(endToBlockEnd[oy + 1], endOf[oy]);
            }

            int most = 0;
            for (int start = 0; start + window <= height; start++)
            {
                // Rows [start, start + window) are the tail of start's block and the head of the last row's block.
                int last = start + window - 1;
                int first = Math.Min(firstToBlockEnd[start], firstFromBlockStart[last]);
                int end = Math.Max(endToBlockEnd[start], endFromBlockStart[last]);
                if (first < end)
                    most = Math.Max(most, end - first);
            }

            return most;
        }
    }

    /// <summary>
    /// The taps of every (row phase, column phase) pair as (input offset, weight row) pairs relative to a block's first
    /// pixel and first weight (a weight row is one tap and input channel of the packed weights), indexed <c>rowPhase * columnPhases + columnPhase</c>. Built with the plan, so
    /// that a block's taps cost two loads each instead of the offset arithmetic (which dominated small layers).
    /// </summary>
    private static int[][] BuildChannelTapTable(in LayerShape layer, int paddedChannels, AxisPlan height, AxisPlan width, int paddedWidth)
    {
        AxisPhase[] rowPhases = height.Phases, columnPhases = width.Phases;
        var table = new int[rowPhases.Length * columnPhases.Length][];
        for (int r = 0; r < rowPhases.Length; r++)
        {
            for (int p = 0; p < columnPhases.Length; p++)
            {
                AxisPhase rowPhase = rowPhases[r], columnPhase = columnPhases[p];
                int columnTaps = columnPhase.KernelTaps.Length;
                var taps = new int[2 * FlatTaps.Count(rowPhase, columnPhase)];
                for (int th = 0; th < rowPhase.KernelTaps.Length; th++)
                {
                    for (int t = 0; t < columnTaps; t++)
                    {
                        int k = 2 * FlatTaps.Index(th, t, columnTaps);
                        taps[k] = -(rowPhase.TapOffsets[th] * paddedWidth + columnPhase.TapOffsets[t]) * layer.InChannels;
                        // In rows of the packed weights (one per tap and input channel): the kernel scales them by the row
                        // stride of the channel block it computes (KernelShapes.ChannelWeightPosition).
                        taps[k + 1] = FlatTaps.KernelElement(rowPhase.KernelTaps[th], columnPhase.KernelTaps[t], layer.KernelWidth) * layer.InPerGroup;
                    }
                }

                table[r * columnPhases.Length + p] = taps;
            }
        }

        return table;
    }

    /// <summary>
    /// Proves that every register block of the chosen kernel reads inside the padded columns: the blocks' loads are
    /// unchecked, so this is what keeps them in bounds. (Paired rows read inside by construction of their
    /// <see cref="PairedColumnPlan"/>, which sized the border for whole vectors of pairs; checked again per block by the kernel.)
    /// </summary>
    private void CheckReadsInsidePadding()
    {
        if (PairedColumns is not null)
        {
            if (PaddedWidth < PairedColumns.PaddedWidth || ColumnShift != PairedColumns.ColumnShift)
                throw new InvalidOperationException("The padded width does not hold the paired kernel's reads.");
            return;
        }

        int block = IsChannelKernel ? KernelShapes.ChannelBlockPixels : KernelShapes.WidthBlockVectors * (int)WidthVectors;
        foreach (AxisPhase phase in Width.Phases)
        {
            int lastBlockQ = phase.FirstQ + (phase.EndQ - 1 - phase.FirstQ) / block * block;
            foreach (int offset in phase.TapOffsets)
            {
                int low = phase.FirstQ + ColumnShift - offset, high = lastBlockQ + ColumnShift - offset + block;
                if (low < 0 || high > PaddedWidth)
                    throw new InvalidOperationException($"{Strategy} blocks would read padded columns [{low}, {high}) outside [0, {PaddedWidth}).");
            }
        }
    }

    /// <summary>The most output rows (at least 1) any band of which reads input rows that fit in the paired kernel's window (by bisection: more rows never read fewer).</summary>
    private int LongestBandInWindow()
    {
        long rowFloats = (long)Layer.InPerGroup * PaddedWidth;
        (int allFirst, int allEnd) = PaddedRowsRead(0, OutputHeight);
        if ((allEnd - allFirst) * rowFloats <= KernelShapes.PairedWindowFloats)
            return OutputHeight; // the usual case: every row at once
        var scan = new RowsReadScan(this);
        int low = 1, high = OutputHeight;
        while (low < high)
        {
            int middle = low + (high - low + 1) / 2;
            if (scan.Max(middle) * rowFloats <= KernelShapes.PairedWindowFloats) low = middle;
            else high = middle - 1;
        }

        return low;
    }

    /// <summary>Whether the rows one output row reads, for every input channel of a group, fit in the paired kernel's window.</summary>
    private bool WindowHoldsAnOutputRow() => (long)Layer.InPerGroup * RowsPerOutputRow(Height) * PaddedWidth <= KernelShapes.PairedWindowFloats;

    /// <summary>The most input rows one output row reads (the span of its phase's tap offsets), at least 1.</summary>
    public static int RowsPerOutputRow(AxisPlan rows)
    {
        int most = 1;
        foreach (AxisPhase phase in rows.Phases)
        {
            if (phase.TapOffsets.Length > 0)
                most = Math.Max(most, phase.TapOffsets[^1] - phase.TapOffsets[0] + 1);
        }

        return most;
    }
}

/// <summary>
/// Output rows per chunk of the channel kernel's fused pass, the most padded input rows any chunk reads, and the per-thread
/// buffers they take (output chunk, input band; floats, rounded up to cache lines).
/// </summary>
internal sealed record ChannelChunking(int OutputRows, int MaxPaddedRows, int ChunkFloats, int BandFloats);
