using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Planning;
using KernelGen.Simd;

namespace KernelGen.Kernels;

/// <summary>
/// The kernel for few output channels per group (see <see cref="KernelStrategy.WidthVectorized"/>): NCHW, one output
/// row of one output channel at a time. Each width phase is a unit-stride correlation whose lanes are consecutive phase
/// positions, so input loads are contiguous and weights are broadcast. Rows whose width stride is 2 with both phases
/// present go to <see cref="WidthPairedKernel"/>, which computes both phases together and interleaves them in registers.
/// </summary>
/// <remarks>
/// Both read a zero-bordered copy of the input (made by <see cref="PadInput"/>, or for NCHW paired rows by
/// <see cref="WidthPairedKernel"/> itself, a window at a time): taps that fall off the input read zeros,
/// so edge cells need no special code and no tap needs a bounds check. Register blocks may run past a phase's end into
/// that border; only the cells inside the output are stored.
/// </remarks>
internal static class WidthVectorizedKernel
{
    /// <summary>Vectors of phase positions accumulated in registers at once, per phase.</summary>
    private const int Unroll = KernelShapes.WidthBlockVectors;

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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
                FloatSpans.Clear(dest);
                continue;
            }

            if (channelsLast)
            {
                FloatSpans.Clear(dest[..plan.ColumnShift]);
                Span<float> body = dest.Slice(plan.ColumnShift, inW);
                ReadOnlySpan<float> source = input.Slice(iy * inW * channels, inW * channels);
                for (int x = 0; x < body.Length; x++)
                    body[x] = source[x * channels + c];
                FloatSpans.Clear(dest[(plan.ColumnShift + inW)..]);
            }
            else
            {
                CopyBetweenZeros(input.Slice((c * inH + iy) * inW, inW), dest, plan.ColumnShift);
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="source"/> into <paramref name="dest"/> at <paramref name="left"/> and zeros around it
    /// (one row of <see cref="CopyRowsBetweenZeros"/>, after checking the bounds).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void CopyBetweenZeros(ReadOnlySpan<float> source, Span<float> dest, int left)
    {
        int length = source.Length, right = left + length;
        if ((uint)left > (uint)dest.Length || (uint)right > (uint)dest.Length) throw new ArgumentOutOfRangeException(nameof(left));
        CopyRowsBetweenZeros(ref MemoryMarshal.GetReference(source), length, ref MemoryMarshal.GetReference(dest), dest.Length, left, 1);
    }

    /// <summary>
    /// Writes <paramref name="rows"/> rows of <paramref name="length"/> floats, one after the other from <paramref name="from"/>,
    /// into rows of <paramref name="pitch"/> floats from <paramref name="to"/> on, each at <paramref name="left"/> with zeros
    /// around it. Unchecked: the caller proves <c>0 &lt;= left</c>, <c>left + length &lt;= pitch</c> and that both ranges lie
    /// in their buffers, which must not overlap.
    /// </summary>
    /// <remarks>
    /// Padded rows are short (a few dozen floats) and a call pads thousands (the depthwise benchmark shape: 2,112), so the
    /// per-row cost is what counts: one loop with everything in registers, each row copied in the widest vectors with the
    /// last one moved back to end at the row's end (rewriting a few floats) rather than a vector loop and a scalar tail, and
    /// its borders (a float or two, usually) scalar stores. On a Zen 5 this took the depthwise shape's padding from 11-16 µs
    /// to 7-11 µs per call (its call from 71-90 µs to 66-83 µs) against a loop per row through span slices and 256-bit vectors.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void CopyRowsBetweenZeros(ref float from, int length, ref float to, int pitch, int left, int rows)
    {
        int right = pitch - left - length;
        for (int r = 0; r < rows; r++)
        {
            for (int x = 0; x < left; x++) Unsafe.Add(ref to, x) = 0f;
            Move(ref from, ref Unsafe.Add(ref to, left), length);
            ref float tail = ref Unsafe.Add(ref to, left + length);
            for (int x = 0; x < right; x++) Unsafe.Add(ref tail, x) = 0f;
            from = ref Unsafe.Add(ref from, length);
            to = ref Unsafe.Add(ref to, pitch);
        }
    }

    /// <summary>Copies <paramref name="length"/> floats (no overlap), the widest vectors first and a last one moved back to end at the end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Move(ref float from, ref float to, int length)
    {
        nuint n = (nuint)length, i = 0;
        if (Vector512.IsHardwareAccelerated && n >= (nuint)Vector512<float>.Count)
        {
            nuint lanes = (nuint)Vector512<float>.Count;
            for (; i + lanes <= n; i += lanes) Vector512.LoadUnsafe(ref from, i).StoreUnsafe(ref to, i);
            if (i < n) Vector512.LoadUnsafe(ref from, n - lanes).StoreUnsafe(ref to, n - lanes);
            return;
        }

        if (Vector256.IsHardwareAccelerated && n >= (nuint)Vector256<float>.Count)
        {
            nuint lanes = (nuint)Vector256<float>.Count;
            for (; i + lanes <= n; i += lanes) Vector256.LoadUnsafe(ref from, i).StoreUnsafe(ref to, i);
            if (i < n) Vector256.LoadUnsafe(ref from, n - lanes).StoreUnsafe(ref to, n - lanes);
            return;
        }

        if (Vector128.IsHardwareAccelerated && n >= (nuint)Vector128<float>.Count)
        {
            nuint lanes = (nuint)Vector128<float>.Count;
            for (; i + lanes <= n; i += lanes) Vector128.LoadUnsafe(ref from, i).StoreUnsafe(ref to, i);
            if (i < n) Vector128.LoadUnsafe(ref from, n - lanes).StoreUnsafe(ref to, n - lanes);
            return;
        }

        for (; i < n; i++) Unsafe.Add(ref to, i) = Unsafe.Add(ref from, i);
    }

    /// <summary>
    /// Writes zeros to <paramref name="length"/> floats (unchecked): whole 256-bit vectors (128-bit ones where 256-bit
    /// vectors are not accelerated, as on ARM64) and a last one moved back, or scalar stores for fewer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Fill0(ref float to, int length)
    {
        nuint n = (nuint)length, i = 0;
        if (Vector256.IsHardwareAccelerated && n >= (nuint)Vector256<float>.Count)
        {
            nuint lanes = (nuint)Vector256<float>.Count;
            for (; i + lanes <= n; i += lanes) Vector256<float>.Zero.StoreUnsafe(ref to, i);
            if (i < n) Vector256<float>.Zero.StoreUnsafe(ref to, n - lanes);
            return;
        }

        if (Vector128.IsHardwareAccelerated && n >= (nuint)Vector128<float>.Count)
        {
            nuint lanes = (nuint)Vector128<float>.Count;
            for (; i + lanes <= n; i += lanes) Vector128<float>.Zero.StoreUnsafe(ref to, i);
            if (i < n) Vector128<float>.Zero.StoreUnsafe(ref to, n - lanes);
            return;
        }

        for (; i < n; i++) Unsafe.Add(ref to, i) = 0f;
    }

    /// <summary>
    /// As <see cref="Run"/>, for plans where <see cref="ExecutionPlan.PadsItself"/>: reads one sample's unpadded CHW input, padding the rows
    /// it needs into <paramref name="window"/> (<see cref="WidthPairedKernel.WindowFloats"/> floats of the calling thread's scratch).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunUnpadded(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> input, Span<float> window, Span<float> output,
        ReadOnlySpan<float> packed, ReadOnlySpan<float> blockPacked, ReadOnlySpan<float> bias, int rowStart, int rowEnd) =>
        WidthPairedKernel.Run(layer, plan, plan.PairedColumns!, input, inputIsPadded: false, window, output, packed, blockPacked, bias, rowStart, rowEnd);

    /// <summary>Computes output rows <c>[rowStart, rowEnd)</c> of one sample, a row being (output channel, output y).</summary>
    /// <param name="padded">One sample's zero-bordered CHW input from <see cref="PadInput"/>.</param>
    /// <param name="output">One sample, NCHW.</param>
    /// <param name="packed">Weights packed by <see cref="Pack"/>.</param>
    /// <param name="blockPacked">When the plan <see cref="ExecutionPlan.BlocksChannels"/>: weights packed by
    /// <see cref="WidthPairedKernel.PackBlocks"/>, else empty.</param>
    /// <param name="bias">One value per output channel (zeros when the layer has none).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> padded, Span<float> output,
        ReadOnlySpan<float> packed, ReadOnlySpan<float> blockPacked, ReadOnlySpan<float> bias, int rowStart, int rowEnd)
    {
        if (plan.PairedColumns is { } columns)
        {
            WidthPairedKernel.Run(layer, plan, columns, padded, inputIsPadded: true, default, output, packed, blockPacked, bias, rowStart, rowEnd);
            return;
        }

        switch (plan.WidthVectors)
        {
            case VectorWidth.V512: Run<Simd512, Vector512<float>>(layer, plan, padded, output, packed, bias, rowStart, rowEnd); break;
            case VectorWidth.V256: Run<Simd256, Vector256<float>>(layer, plan, padded, output, packed, bias, rowStart, rowEnd); break;
            case VectorWidth.V128: Run<Simd128, Vector128<float>>(layer, plan, padded, output, packed, bias, rowStart, rowEnd); break;
            default: Run<SimdScalar, float>(layer, plan, padded, output, packed, bias, rowStart, rowEnd); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TSimd, TVec>(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> padded, Span<float> output,
        ReadOnlySpan<float> packed, ReadOnlySpan<float> bias, int rowStart, int rowEnd)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        // The plan proved its blocks' reads inside the padded rows for its vector width; this is that width.
        if (TSimd.Count != (int)plan.WidthVectors) throw new InvalidOperationException("The kernel runs at another width than its plan.");
        int outH = plan.OutputHeight, outW = plan.OutputWidth;
        AxisPlan rows = plan.Height, cols = plan.Width;
        Span<float> block = stackalloc float[Unroll * 16];

        for (int row = rowStart; row < rowEnd; row++)
        {
            int oc = row / outH, oy = row - oc * outH;
            AxisPhase rowPhase = rows.Phases[rows.OutputPhase[oy]];
            var context = new RowContext(layer, plan, padded, packed, oc, rowPhase, rows.OutputQ[oy], bias[oc]);
            Span<float> outRow = output.Slice(row * outW, outW);
            foreach (AxisPhase phase in cols.Phases)
                SinglePhase<TSimd, TVec>(context, phase, outRow, block);

            if (layer.Activation != FusedActivation.None)
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
}
