using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Planning;
using KernelGen.Simd;

namespace KernelGen.Kernels;

/// <summary>
/// The width-vectorised kernel for a width stride of 2 with both phases present (the common 2x upsampling layers).
/// Output cells <c>2m</c> and <c>2m + 1</c> belong to the two width phases at the same pair index <c>m</c>: both are
/// computed together and interleaved in registers, so that the stores are contiguous.
/// </summary>
/// <remarks>
/// <para>Each output row is a sum of taps, a tap being one input row read at one column shift times one weight. The
/// rows of one row phase all have the same taps, one input row further down per phase position, so one call runs a
/// whole phase's rows of an output channel and the per-row cost is a few pointer increments.</para>
/// <para>With at most 4 taps per width phase (every row of kernel-2, -3 and -4 stride-2 layers) the taps are flattened
/// into offsets held in registers, with weights in registers too for one input channel per group, and the block is
/// straight-line code; other tap counts loop. An odd tap that reads an even tap's column reuses its load.</para>
/// <para>The kernel reads a zero-bordered copy of the input (border as <see cref="PairedColumnPlan"/> says), so taps above,
/// below or beside the input read zeros. For NCHW input it pads the rows a run of output rows reads into a window (a
/// per-thread buffer the caller keeps) itself, just before computing them, so there is no separate pass and the padded rows are still in the cache;
/// otherwise (NHWC, or rows too wide for the window) it reads the copy made by <see cref="WidthVectorizedKernel.PadInput"/>.</para>
/// <para>Whole output channels of a group, aligned blocks of <see cref="BlockChannels"/>, are computed together when the plan
/// says so (<see cref="ExecutionPlan.BlocksChannels"/>), from weights packed by <see cref="PackBlocks"/> (WidthPairedKernel.Blocked.cs): each input vector is then loaded once
/// per block rather than once per channel, and the window is padded once for all the channels of a run.</para>
/// </remarks>
internal static partial class WidthPairedKernel
{
    /// <summary>Flattened taps per width phase up to which the block is straight-line code (counts 1, 2 and 4).</summary>
    private const int MaxFlatTaps = 4;

    private const int MaxLanes = KernelShapes.MaxLanes;

    /// <summary>Floats of the per-thread window <see cref="Run"/> pads unpadded input into (see <see cref="KernelShapes.PairedWindowFloats"/>).</summary>
    public const int WindowFloats = KernelShapes.PairedWindowFloats;

    /// <summary>Computes output rows <c>[rowStart, rowEnd)</c> of one sample, a row being (output channel, output y).</summary>
    /// <param name="input">One sample's input: the zero-bordered CHW copy bordered as <paramref name="plan"/> says when
    /// <paramref name="inputIsPadded"/>, else the unpadded CHW input (only when the plan <see cref="ExecutionPlan.PadsItself"/>).</param>
    /// <param name="inputIsPadded">Whether <paramref name="input"/> is the zero-bordered copy.</param>
    /// <param name="window">Unless <paramref name="inputIsPadded"/>: <see cref="WindowFloats"/> floats of scratch, written before they are read.</param>
    /// <param name="output">One sample, NCHW.</param>
    /// <param name="packed">Weights packed by <see cref="WidthVectorizedKernel.Pack"/>.</param>
    /// <param name="blockPacked">Weights packed by <see cref="PackBlocks"/> when the plan <see cref="ExecutionPlan.BlocksChannels"/>, else empty.</param>
    /// <param name="bias">One value per output channel (zeros when the layer has none).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in LayerShape layer, ExecutionPlan plan, PairedColumnPlan columns, ReadOnlySpan<float> input, bool inputIsPadded,
        Span<float> window, Span<float> output, ReadOnlySpan<float> packed, ReadOnlySpan<float> blockPacked, ReadOnlySpan<float> bias, int rowStart, int rowEnd)
    {
        int outH = plan.OutputHeight, channels = layer.InPerGroup;
        if (!inputIsPadded && (!plan.PadsItself || window.Length < WindowFloats))
            throw new InvalidOperationException("The input rows of one output row do not fit in the window.");
        if (plan.BlocksChannels && blockPacked.Length < BlockPackedLength(layer))
            throw new InvalidOperationException("The plan computes blocks of channels, but their weights are not packed.");
        // The padding writes every cell the kernel reads, borders included, so the window's old contents never matter.
        int pitch = plan.PaddedWidth;
        for (int row = rowStart; row < rowEnd;)
        {
            // A span of channels with the same rows: one channel's part, or consecutive whole channels of one group
            // (which the blocked kernel computes together).
            int oc = row / outH, oyStart = row - oc * outH, oyEnd = Math.Min(outH, oyStart + rowEnd - row), count = 1;
            if (oyStart == 0 && oyEnd == outH && plan.BlocksChannels)
                count = Math.Min((oc / layer.OutPerGroup + 1) * layer.OutPerGroup - oc, (rowEnd - row) / outH);
            int channelStart = oc / layer.OutPerGroup * channels;
            if (inputIsPadded)
            {
                int planeStride = plan.PaddedHeight * pitch;
                var source = new Source(input, channelStart * planeStride, 0, planeStride);
                RunChannels(layer, plan, columns, source, output, packed, blockPacked, bias, oc, count, oyStart, oyEnd);
            }
            else
            {
                // Bands of the plan's length, whose input rows fit in the window (all the rows, usually).
                for (int oy = oyStart; oy < oyEnd;)
                {
                    int end = Math.Min(oyEnd, oy + plan.PairedBandRows);
                    (int low, int stop) = plan.PaddedRowsRead(oy, end);
                    int windowRows = Math.Max(1, stop - low); // no taps: one row, never read
                    PadWindow(layer, plan, input, channelStart, low, windowRows, window);
                    var source = new Source(window[..(channels * windowRows * pitch)], 0, low, windowRows * pitch);
                    RunChannels(layer, plan, columns, source, output, packed, blockPacked, bias, oc, count, oy, end);
                    oy = end;
                }
            }

            row += count * (oyEnd - oyStart);
        }
    }

    /// <summary>Copies padded rows <c>[firstRow, firstRow + rowCount)</c> of input channels <c>[firstChannel, firstChannel + InPerGroup)</c> into <paramref name="window"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PadWindow(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> input, int firstChannel, int firstRow,
        int rowCount, Span<float> window)
    {
        int inH = plan.InputHeight, inW = plan.InputWidth, pitch = plan.PaddedWidth, left = plan.ColumnShift, channels = layer.InPerGroup;
        // The row copies below are unchecked: these checks prove that they write inside the window and read inside the input.
        if (left < 0 || left + inW > pitch || (long)channels * rowCount * pitch > window.Length
            || firstChannel < 0 || (long)(firstChannel + channels) * inH * inW > input.Length)
            throw new InvalidOperationException("The paired kernel's window padding would access memory outside its spans.");
        // Window rows [0, top) lie above the input, [top, bottom) copy input rows top + firstRow - RowShift on, the rest lie below it.
        int top = Math.Clamp(plan.RowShift - firstRow, 0, rowCount), bottom = Math.Clamp(inH + plan.RowShift - firstRow, top, rowCount);
        ref float source = ref MemoryMarshal.GetReference(input);
        ref float dest = ref MemoryMarshal.GetReference(window);
        for (int ic = 0; ic < channels; ic++)
        {
            ref float plane = ref Unsafe.Add(ref dest, ic * rowCount * pitch);
            WidthVectorizedKernel.Fill0(ref plane, top * pitch);
            if (bottom > top) // else the input row's index may lie outside the input: no reference to it is made
            {
                WidthVectorizedKernel.CopyRowsBetweenZeros(ref Unsafe.Add(ref source, ((firstChannel + ic) * inH + top + firstRow - plan.RowShift) * inW), inW,
                    ref Unsafe.Add(ref plane, top * pitch), pitch, left, bottom - top);
            }

            WidthVectorizedKernel.Fill0(ref Unsafe.Add(ref plane, bottom * pitch), (rowCount - bottom) * pitch);
        }
    }

    /// <summary>The padded rows the kernel reads: the whole zero-bordered copy, or a window of it.</summary>
    /// <param name="Padded">Zero-bordered CHW rows, <see cref="ExecutionPlan.PaddedWidth"/> wide.</param>
    /// <param name="ChannelStart">Index in <paramref name="Padded"/> of the group's first input channel.</param>
    /// <param name="FirstRow">The padded row that is row 0 of <paramref name="Padded"/>'s planes.</param>
    /// <param name="PlaneStride">Elements between input channels.</param>
    private readonly ref struct Source(ReadOnlySpan<float> Padded, int ChannelStart, int FirstRow, int PlaneStride)
    {
        public ReadOnlySpan<float> Padded { get; } = Padded;
        public int ChannelStart { get; } = ChannelStart;
        public int FirstRow { get; } = FirstRow;
        public int PlaneStride { get; } = PlaneStride;
    }

    /// <summary>Output rows <c>[oyStart, oyEnd)</c> of output channel <paramref name="oc"/>, one row phase at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRows(in LayerShape layer, ExecutionPlan plan, PairedColumnPlan columns, in Source source, Span<float> output,
        ReadOnlySpan<float> packed, ReadOnlySpan<float> bias, int oc, int oyStart, int oyEnd)
    {
        switch (plan.WidthVectors)
        {
            case VectorWidth.V512: RunRows<Simd512, Vector512<float>>(layer, plan, columns, source, output, packed, bias, oc, oyStart, oyEnd); break;
            case VectorWidth.V256: RunRows<Simd256, Vector256<float>>(layer, plan, columns, source, output, packed, bias, oc, oyStart, oyEnd); break;
            case VectorWidth.V128: RunRows<Simd128, Vector128<float>>(layer, plan, columns, source, output, packed, bias, oc, oyStart, oyEnd); break;
            default: RunRows<SimdScalar, float>(layer, plan, columns, source, output, packed, bias, oc, oyStart, oyEnd); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRows<TSimd, TVec>(in LayerShape layer, ExecutionPlan plan, PairedColumnPlan columns, in Source source,
        Span<float> output, ReadOnlySpan<float> packed, ReadOnlySpan<float> bias, int oc, int oyStart, int oyEnd)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int outH = plan.OutputHeight, outW = plan.OutputWidth;
        AxisPlan rows = plan.Height;
        int rowStride = rows.Geometry.Stride;
        Span<nint> evenOffsets = stackalloc nint[MaxFlatTaps], oddOffsets = stackalloc nint[MaxFlatTaps];
        Span<int> evenWeights = stackalloc int[MaxFlatTaps], oddWeights = stackalloc int[MaxFlatTaps];
        PairedTaps[] forms = plan.PairedRowForms!;
        for (int oy = oyStart; oy < Math.Min(oyEnd, oyStart + rowStride); oy++)
        {
            AxisPhase rowPhase = rows.Phases[rows.OutputPhase[oy]];
            int rowCount = (oyEnd - 1 - oy) / rowStride + 1;
            var args = new PhaseArgs(layer, plan, columns, rowPhase, source, output, packed, oc, oy, rows.OutputQ[oy], rowCount, bias[oc]);
            PairedTaps form = forms[rows.OutputPhase[oy]];
            if (form == PairedTaps.Looped)
            {
                PhaseRows<TSimd, TVec, AnyTaps, AnyTaps, NoSharing>(args, evenOffsets, evenWeights, oddOffsets, oddWeights);
            }
            else
            {
                Flatten(args, rowPhase, columns.EvenShifts, columns.EvenKernelColumns, evenOffsets, evenWeights);
                Flatten(args, rowPhase, columns.OddShifts, columns.OddKernelColumns, oddOffsets, oddWeights);
                // Only the forms the plan can give (PairedColumnPlan.FormFor), so that no unreachable combination of the
                // generic blocks is compiled (NativeAOT compiles every instantiation a dispatch names).
                switch (form)
                {
                    case PairedTaps.None1x1: PhaseRows<TSimd, TVec, OneTap, OneTap, NoSharing>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None1x2: PhaseRows<TSimd, TVec, OneTap, TwoTaps, NoSharing>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None1x4: PhaseRows<TSimd, TVec, OneTap, FourTaps, NoSharing>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None2x1: PhaseRows<TSimd, TVec, TwoTaps, OneTap, NoSharing>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None2x2: PhaseRows<TSimd, TVec, TwoTaps, TwoTaps, NoSharing>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None2x4: PhaseRows<TSimd, TVec, TwoTaps, FourTaps, NoSharing>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None4x1: PhaseRows<TSimd, TVec, FourTaps, OneTap, NoSharing>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None4x2: PhaseRows<TSimd, TVec, FourTaps, TwoTaps, NoSharing>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None4x4: PhaseRows<TSimd, TVec, FourTaps, FourTaps, NoSharing>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.SecondOddIsFirstEven2x2: PhaseRows<TSimd, TVec, TwoTaps, TwoTaps, SecondOddIsFirstEven>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.SecondOddIsFirstEven4x4: PhaseRows<TSimd, TVec, FourTaps, FourTaps, SecondOddIsFirstEven>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.OddIsEven1x1: PhaseRows<TSimd, TVec, OneTap, OneTap, OddIsEven>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.OddIsEven2x2: PhaseRows<TSimd, TVec, TwoTaps, TwoTaps, OddIsEven>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.OddIsEven4x4: PhaseRows<TSimd, TVec, FourTaps, FourTaps, OddIsEven>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.SecondOddIsEven1x2: PhaseRows<TSimd, TVec, OneTap, TwoTaps, SecondOddIsEven>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.SecondOddIsEven2x4: PhaseRows<TSimd, TVec, TwoTaps, FourTaps, SecondOddIsEven>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.OddIsFirstEven2x1: PhaseRows<TSimd, TVec, TwoTaps, OneTap, OddIsFirstEven>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.OddIsFirstEven4x2: PhaseRows<TSimd, TVec, FourTaps, TwoTaps, OddIsFirstEven>(args, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    default: throw new InvalidOperationException($"Unknown paired form {form}.");
                }
            }

            if (layer.Activation != FusedActivation.None)
            {
                for (int r = 0; r < rowCount; r++)
                    Activations.Apply(output.Slice((oc * outH + oy + r * rowStride) * outW, outW), layer.Activation, layer.LeakyReluSlope);
            }
        }
    }

    /// <summary>One width phase's taps flattened: for each row tap, for each column tap, the input offset and the weight index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Flatten(in PhaseArgs args, AxisPhase rowPhase, int[] shifts, int[] kernelColumns, Span<nint> offsets, Span<int> weights)
    {
        for (int r = 0; r < rowPhase.KernelTaps.Length; r++)
        {
            // Row tap r of output row q reads padded row q + RowShift - offset.
            nint inputRow = -(nint)rowPhase.TapOffsets[r] * args.RowPitch;
            for (int t = 0; t < shifts.Length; t++)
            {
                int i = FlatTaps.Index(r, t, shifts.Length);
                offsets[i] = inputRow + shifts[t];
                weights[i] = FlatTaps.KernelElement(rowPhase.KernelTaps[r], kernelColumns[t], args.KernelWidth);
            }
        }
    }

    /// <summary>
    /// All rows of one row phase: blocks of 4 vectors of pairs, then single vectors, then one last vector ending at the
    /// last pair. That one overlaps the vector before it (rewriting the same values), and goes through a staging block
    /// when the row has an odd width (its last pair has no odd cell) or is shorter than a vector.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PhaseRows<TSimd, TVec, TEven, TOdd, TShare>(in PhaseArgs args, ReadOnlySpan<nint> evenOffsets, ReadOnlySpan<int> evenWeights,
        ReadOnlySpan<nint> oddOffsets, ReadOnlySpan<int> oddWeights)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
        where TEven : struct, ITapCount
        where TOdd : struct, ITapCount
        where TShare : struct, IShare
    {
        int lanes = TSimd.Count, pairs = args.PairCount, wholePairs = args.OutputWidth / 2;
        int fours = wholePairs / (4 * lanes) * (4 * lanes), singles = wholePairs / lanes * lanes;
        bool one = args.Channels == 1;
        if (fours > 0)
        {
            if (one) Blocks<TSimd, TVec, TEven, TOdd, TShare, OneChannel, FourVectors>(args, evenOffsets, evenWeights, oddOffsets, oddWeights, 0, fours, 0);
            else Blocks<TSimd, TVec, TEven, TOdd, TShare, AnyChannels, FourVectors>(args, evenOffsets, evenWeights, oddOffsets, oddWeights, 0, fours, 0);
        }

        if (singles > fours)
        {
            if (one) Blocks<TSimd, TVec, TEven, TOdd, TShare, OneChannel, OneVector>(args, evenOffsets, evenWeights, oddOffsets, oddWeights, fours, singles, 0);
            else Blocks<TSimd, TVec, TEven, TOdd, TShare, AnyChannels, OneVector>(args, evenOffsets, evenWeights, oddOffsets, oddWeights, fours, singles, 0);
        }

        if (singles < pairs)
        {
            int last = Math.Max(0, pairs - lanes);
            int cells = args.OutputWidth - 2 * last;
            int staged = cells == 2 * lanes ? 0 : cells;
            if (one) Blocks<TSimd, TVec, TEven, TOdd, TShare, OneChannel, OneVector>(args, evenOffsets, evenWeights, oddOffsets, oddWeights, last, last + lanes, staged);
            else Blocks<TSimd, TVec, TEven, TOdd, TShare, AnyChannels, OneVector>(args, evenOffsets, evenWeights, oddOffsets, oddWeights, last, last + lanes, staged);
        }
    }

    /// <summary>
    /// Blocks of <typeparamref name="TVectors"/> vectors of pairs over <c>[mStart, mEnd)</c> (a whole number of blocks)
    /// of every row of the phase. With <paramref name="stagedCells"/> above 0 (one block only) the block's cells go to a
    /// staging buffer and only that many are copied to the row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocks<TSimd, TVec, TEven, TOdd, TShare, TChannels, TVectors>(in PhaseArgs args, ReadOnlySpan<nint> evenOffsets,
        ReadOnlySpan<int> evenWeights, ReadOnlySpan<nint> oddOffsets, ReadOnlySpan<int> oddWeights, int mStart, int mEnd, int stagedCells)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
        where TEven : struct, ITapCount
        where TOdd : struct, ITapCount
        where TShare : struct, IShare
        where TChannels : struct, IChannelCount
        where TVectors : struct, IVectorCount
    {
        int lanes = TSimd.Count, block = TVectors.Count * lanes;
        args.CheckBounds(mStart, mEnd, stagedCells > 0 ? stagedCells : 2 * (mEnd - mStart));
        Span<float> stage = stackalloc float[2 * MaxLanes];
        ref float x = ref Unsafe.Add(ref MemoryMarshal.GetReference(args.Padded), args.InputStart);
        ref float w = ref Unsafe.Add(ref MemoryMarshal.GetReference(args.Packed), args.WeightsStart);
        ref float y = ref Unsafe.Add(ref MemoryMarshal.GetReference(args.Output), args.OutputStart);
        nint e0 = evenOffsets[0], e1 = TEven.Count >= 2 ? evenOffsets[1] : 0, e2 = TEven.Count == 4 ? evenOffsets[2] : 0, e3 = TEven.Count == 4 ? evenOffsets[3] : 0;
        // An odd tap that reads what an even tap reads uses the same offset variable, so the JIT loads it once (CSE).
        nint o0 = OddOffset<TShare>(0, oddOffsets, e0, e1, e2, e3);
        nint o1 = TOdd.Count >= 2 ? OddOffset<TShare>(1, oddOffsets, e0, e1, e2, e3) : 0;
        nint o2 = TOdd.Count == 4 ? OddOffset<TShare>(2, oddOffsets, e0, e1, e2, e3) : 0;
        nint o3 = TOdd.Count == 4 ? OddOffset<TShare>(3, oddOffsets, e0, e1, e2, e3) : 0;
        int we0 = evenWeights[0], we1 = TEven.Count >= 2 ? evenWeights[1] : 0, we2 = TEven.Count == 4 ? evenWeights[2] : 0, we3 = TEven.Count == 4 ? evenWeights[3] : 0;
        int wo0 = oddWeights[0], wo1 = TOdd.Count >= 2 ? oddWeights[1] : 0, wo2 = TOdd.Count == 4 ? oddWeights[2] : 0, wo3 = TOdd.Count == 4 ? oddWeights[3] : 0;
        // With one input channel per group the weights stay in registers for all the rows.
        TVec ve0 = default, ve1 = default, ve2 = default, ve3 = default, vo0 = default, vo1 = default, vo2 = default, vo3 = default;
        if (TChannels.IsOne && TEven.Count > 0)
        {
            ve0 = TSimd.Broadcast(Unsafe.Add(ref w, we0));
            if (TEven.Count >= 2) ve1 = TSimd.Broadcast(Unsafe.Add(ref w, we1));
            if (TEven.Count == 4) { ve2 = TSimd.Broadcast(Unsafe.Add(ref w, we2)); ve3 = TSimd.Broadcast(Unsafe.Add(ref w, we3)); }
        }

        if (TChannels.IsOne && TOdd.Count > 0)
        {
            vo0 = TSimd.Broadcast(Unsafe.Add(ref w, wo0));
            if (TOdd.Count >= 2) vo1 = TSimd.Broadcast(Unsafe.Add(ref w, wo1));
            if (TOdd.Count == 4) { vo2 = TSimd.Broadcast(Unsafe.Add(ref w, wo2)); vo3 = TSimd.Broadcast(Unsafe.Add(ref w, wo3)); }
        }

        TVec bias = TSimd.Broadcast(args.Bias);
        int channels = TChannels.IsOne ? 1 : args.Channels, taps = args.Taps;
        nint planeStride = args.PlaneStride, inputStep = args.RowPitch, outputStep = args.OutputRowStep;
        for (int r = 0; r < args.RowCount; r++)
        {
            for (int m = mStart; m < mEnd; m += block)
            {
                TVec ea = bias, eb = bias, ec = bias, ed = bias, oa = bias, ob = bias, oc = bias, od = bias;
                ref float xm = ref Unsafe.Add(ref x, m);
                ref float wc = ref w;
                for (int ic = 0; ic < channels; ic++)
                {
                    if (TEven.Count > 0)
                    {
                        Tap<TSimd, TVec, TVectors>(ref Unsafe.Add(ref xm, e0), TChannels.IsOne ? ve0 : TSimd.Broadcast(Unsafe.Add(ref wc, we0)), ref ea, ref eb, ref ec, ref ed);
                        if (TEven.Count >= 2)
                            Tap<TSimd, TVec, TVectors>(ref Unsafe.Add(ref xm, e1), TChannels.IsOne ? ve1 : TSimd.Broadcast(Unsafe.Add(ref wc, we1)), ref ea, ref eb, ref ec, ref ed);
                        if (TEven.Count == 4)
                        {
                            Tap<TSimd, TVec, TVectors>(ref Unsafe.Add(ref xm, e2), TChannels.IsOne ? ve2 : TSimd.Broadcast(Unsafe.Add(ref wc, we2)), ref ea, ref eb, ref ec, ref ed);
                            Tap<TSimd, TVec, TVectors>(ref Unsafe.Add(ref xm, e3), TChannels.IsOne ? ve3 : TSimd.Broadcast(Unsafe.Add(ref wc, we3)), ref ea, ref eb, ref ec, ref ed);
                        }
                    }
                    else
                    {
                        LoopedTaps<TSimd, TVec, TVectors>(args, args.EvenShifts, args.EvenKernelColumns, ref xm, ref wc, ref ea, ref eb, ref ec, ref ed);
                    }

                    if (TOdd.Count > 0)
                    {
                        Tap<TSimd, TVec, TVectors>(ref Unsafe.Add(ref xm, o0), TChannels.IsOne ? vo0 : TSimd.Broadcast(Unsafe.Add(ref wc, wo0)), ref oa, ref ob, ref oc, ref od);
                        if (TOdd.Count >= 2)
                            Tap<TSimd, TVec, TVectors>(ref Unsafe.Add(ref xm, o1), TChannels.IsOne ? vo1 : TSimd.Broadcast(Unsafe.Add(ref wc, wo1)), ref oa, ref ob, ref oc, ref od);
                        if (TOdd.Count == 4)
                        {
                            Tap<TSimd, TVec, TVectors>(ref Unsafe.Add(ref xm, o2), TChannels.IsOne ? vo2 : TSimd.Broadcast(Unsafe.Add(ref wc, wo2)), ref oa, ref ob, ref oc, ref od);
                            Tap<TSimd, TVec, TVectors>(ref Unsafe.Add(ref xm, o3), TChannels.IsOne ? vo3 : TSimd.Broadcast(Unsafe.Add(ref wc, wo3)), ref oa, ref ob, ref oc, ref od);
                        }
                    }
                    else
                    {
                        LoopedTaps<TSimd, TVec, TVectors>(args, args.OddShifts, args.OddKernelColumns, ref xm, ref wc, ref oa, ref ob, ref oc, ref od);
                    }

                    xm = ref Unsafe.Add(ref xm, planeStride);
                    wc = ref Unsafe.Add(ref wc, taps);
                }

                // Cells 2m .. 2m + 2 * block - 1.
                ref float ym = ref stagedCells == 0 ? ref Unsafe.Add(ref y, 2 * m) : ref MemoryMarshal.GetReference(stage);
                StoreInterleaved<TSimd, TVec>(ref ym, ea, oa);
                if (TVectors.Count == 4)
                {
                    StoreInterleaved<TSimd, TVec>(ref Unsafe.Add(ref ym, 2 * lanes), eb, ob);
                    StoreInterleaved<TSimd, TVec>(ref Unsafe.Add(ref ym, 4 * lanes), ec, oc);
                    StoreInterleaved<TSimd, TVec>(ref Unsafe.Add(ref ym, 6 * lanes), ed, od);
                }

                // A loop, not a copy call: a call in this loop would make the JIT spill the weight registers.
                for (int cell = 0; cell < stagedCells; cell++)
                    Unsafe.Add(ref y, 2 * m + cell) = stage[cell];
            }

            x = ref Unsafe.Add(ref x, inputStep);
            y = ref Unsafe.Add(ref y, outputStep);
        }
    }

    /// <summary>The offset of flattened odd tap <paramref name="tap"/>: the even tap's variable when both read the same input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint OddOffset<TShare>(int tap, ReadOnlySpan<nint> oddOffsets, nint e0, nint e1, nint e2, nint e3)
        where TShare : struct, IShare =>
        TShare.EvenTapOf(tap) switch
        {
            0 => e0,
            1 => e1,
            2 => e2,
            3 => e3,
            _ => oddOffsets[tap],
        };

    /// <summary>One tap: <typeparamref name="TVectors"/> consecutive vectors from <paramref name="xs"/> times one weight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap<TSimd, TVec, TVectors>(ref float xs, TVec weight, ref TVec a0, ref TVec a1, ref TVec a2, ref TVec a3)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
        where TVectors : struct, IVectorCount
    {
        a0 = TSimd.MultiplyAdd(TSimd.Load(ref xs), weight, a0);
        if (TVectors.Count == 4)
        {
            int lanes = TSimd.Count;
            a1 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Add(ref xs, lanes)), weight, a1);
            a2 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Add(ref xs, 2 * lanes)), weight, a2);
            a3 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Add(ref xs, 3 * lanes)), weight, a3);
        }
    }

    /// <summary>Every tap of one width phase by loops over the row phase's taps and the width phase's (other tap counts).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoopedTaps<TSimd, TVec, TVectors>(in PhaseArgs args, int[] shifts, int[] kernelColumns, ref float xm, ref float wc,
        ref TVec a0, ref TVec a1, ref TVec a2, ref TVec a3)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
        where TVectors : struct, IVectorCount
    {
        int[] rowOffsets = args.RowTapOffsets, rowKernelTaps = args.RowKernelTaps;
        for (int r = 0; r < rowOffsets.Length; r++)
        {
            ref float xRow = ref Unsafe.Add(ref xm, -(nint)rowOffsets[r] * args.RowPitch);
            ref float wRow = ref Unsafe.Add(ref wc, rowKernelTaps[r] * args.KernelWidth);
            for (int t = 0; t < shifts.Length; t++)
                Tap<TSimd, TVec, TVectors>(ref Unsafe.Add(ref xRow, shifts[t]), TSimd.Broadcast(Unsafe.Add(ref wRow, kernelColumns[t])), ref a0, ref a1, ref a2, ref a3);
        }
    }

    /// <summary>Stores cells <c>[e0, o0, e1, o1, ...]</c>: two vectors of output from one vector of each phase.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreInterleaved<TSimd, TVec>(ref float destination, TVec even, TVec odd)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        TSimd.Interleave(even, odd, out TVec lower, out TVec upper);
        TSimd.Store(ref destination, lower);
        TSimd.Store(ref Unsafe.Add(ref destination, TSimd.Count), upper);
    }

    /// <summary>What the blocks of one row phase of one output channel (or block of channels) share.</summary>
    private readonly ref struct PhaseArgs
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public PhaseArgs(in LayerShape layer, ExecutionPlan plan, PairedColumnPlan columns, AxisPhase rowPhase, in Source source,
            Span<float> output, ReadOnlySpan<float> packed, int oc, int oy, int q, int rowCount, float bias, int block = 1, int weightsStart = -1)
        {
            Padded = source.Padded;
            Output = output;
            Packed = packed;
            EvenShifts = columns.EvenShifts;
            OddShifts = columns.OddShifts;
            EvenKernelColumns = columns.EvenKernelColumns;
            OddKernelColumns = columns.OddKernelColumns;
            RowTapOffsets = rowPhase.TapOffsets;
            RowKernelTaps = rowPhase.KernelTaps;
            PairCount = columns.PairCount;
            OutputWidth = plan.OutputWidth;
            Channels = layer.InPerGroup;
            RowPitch = plan.PaddedWidth;
            PlaneStride = source.PlaneStride;
            InputStart = source.ChannelStart + (q + plan.RowShift - source.FirstRow) * plan.PaddedWidth + plan.ColumnShift;
            OutputStart = (oc * plan.OutputHeight + oy) * plan.OutputWidth;
            OutputRowStep = plan.Height.Geometry.Stride * plan.OutputWidth;
            RowCount = rowCount;
            WeightsStart = weightsStart >= 0 ? weightsStart : oc * layer.InPerGroup * layer.Taps;
            Block = block;
            OutputChannelStep = plan.OutputHeight * plan.OutputWidth;
            Taps = layer.Taps;
            KernelWidth = layer.KernelWidth;
            Bias = bias;
        }

        public ReadOnlySpan<float> Padded { get; }
        public Span<float> Output { get; }
        public ReadOnlySpan<float> Packed { get; }
        public int[] EvenShifts { get; }
        public int[] OddShifts { get; }
        public int[] EvenKernelColumns { get; }
        public int[] OddKernelColumns { get; }
        public int[] RowTapOffsets { get; }
        public int[] RowKernelTaps { get; }
        public int PairCount { get; }
        public int OutputWidth { get; }
        public int Channels { get; }
        public int RowPitch { get; }
        public int PlaneStride { get; }

        /// <summary>Index in <see cref="Padded"/> of (first input channel of the group, padded row of the first row's q, column of input column 0).</summary>
        public int InputStart { get; }

        /// <summary>Index in <see cref="Output"/> of the first row.</summary>
        public int OutputStart { get; }

        /// <summary>Elements from one row of the phase to the next in <see cref="Output"/>.</summary>
        public int OutputRowStep { get; }
        public int RowCount { get; }

        /// <summary>Index in <see cref="Packed"/> of the output channel's weights.</summary>
        public int WeightsStart { get; }
        public int Taps { get; }
        public int KernelWidth { get; }
        public float Bias { get; }

        /// <summary>Output channels computed together (1, or <see cref="BlockChannels"/> with weights packed by <see cref="PackBlocks"/>).</summary>
        public int Block { get; }

        /// <summary>Elements from one output channel to the next in <see cref="Output"/>.</summary>
        public int OutputChannelStep { get; }

        /// <summary>
        /// Proves that the unchecked loads and stores of a call to <see cref="Blocks"/> stay inside the spans: the lowest and
        /// highest element any tap of any row and channel reads, and the last cell written.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void CheckBounds(int mStart, int mEnd, int cells)
        {
            // The flattened offsets are these same (row tap, column tap) combinations.
            long low = long.MaxValue, high = long.MinValue;
            foreach (int rowOffset in RowTapOffsets)
            {
                foreach (int shift in EvenShifts)
                {
                    low = Math.Min(low, -(long)rowOffset * RowPitch + shift);
                    high = Math.Max(high, -(long)rowOffset * RowPitch + shift);
                }

                foreach (int shift in OddShifts)
                {
                    low = Math.Min(low, -(long)rowOffset * RowPitch + shift);
                    high = Math.Max(high, -(long)rowOffset * RowPitch + shift);
                }
            }

            bool readsInside = low > high // no taps: nothing is read
                || InputStart + low + mStart >= 0
                && InputStart + high + mEnd - 1 + (long)(RowCount - 1) * RowPitch + (long)(Channels - 1) * PlaneStride < Padded.Length;
            long lastCell = OutputStart + (long)(RowCount - 1) * OutputRowStep + (long)(Block - 1) * OutputChannelStep + 2L * mStart + cells - 1;
            if (!readsInside || 2 * mStart + cells > OutputWidth || lastCell >= Output.Length || WeightsStart + (long)Channels * Taps * Block > Packed.Length)
                throw new InvalidOperationException("Paired width kernel would access memory outside its spans.");
        }
    }

    /// <summary>A <see cref="ColumnSharing"/> pattern at compile time, over flattened taps (row tap major).</summary>
    private interface IShare
    {
        /// <summary>The flattened even tap that reads what flattened odd tap <paramref name="oddTap"/> reads, or -1.</summary>
        static abstract int EvenTapOf(int oddTap);
    }

    private readonly struct NoSharing : IShare
    {
        public static int EvenTapOf(int oddTap) => -1;
    }

    private readonly struct SecondOddIsFirstEven : IShare
    {
        // Two column taps per phase: odd (row r, tap 1) reads even (row r, tap 0).
        public static int EvenTapOf(int oddTap) => oddTap % 2 == 1 ? oddTap - 1 : -1;
    }

    private readonly struct OddIsEven : IShare
    {
        public static int EvenTapOf(int oddTap) => oddTap;
    }

    private readonly struct SecondOddIsEven : IShare
    {
        // One even and two odd column taps: odd (row r, tap 1) reads even (row r).
        public static int EvenTapOf(int oddTap) => oddTap % 2 == 1 ? oddTap / 2 : -1;
    }

    private readonly struct OddIsFirstEven : IShare
    {
        // Two even and one odd column tap: odd (row r) reads even (row r, tap 0).
        public static int EvenTapOf(int oddTap) => 2 * oddTap;
    }

    /// <summary>A compile-time count of flattened taps per width phase (0: any count, by loops).</summary>
    private interface ITapCount
    {
        static abstract int Count { get; }
    }

    private readonly struct OneTap : ITapCount
    {
        public static int Count => 1;
    }

    private readonly struct TwoTaps : ITapCount
    {
        public static int Count => 2;
    }

    private readonly struct FourTaps : ITapCount
    {
        public static int Count => 4;
    }

    private readonly struct AnyTaps : ITapCount
    {
        public static int Count => 0;
    }

    /// <summary>Whether the group has a single input channel (weights then stay in registers).</summary>
    private interface IChannelCount
    {
        static abstract bool IsOne { get; }
    }

    private readonly struct OneChannel : IChannelCount
    {
        public static bool IsOne => true;
    }

    private readonly struct AnyChannels : IChannelCount
    {
        public static bool IsOne => false;
    }

    /// <summary>Vectors of pairs per block, per phase.</summary>
    private interface IVectorCount
    {
        static abstract int Count { get; }
    }

    private readonly struct FourVectors : IVectorCount
    {
        public static int Count => 4;
    }

    private readonly struct OneVector : IVectorCount
    {
        public static int Count => 1;
    }
}
