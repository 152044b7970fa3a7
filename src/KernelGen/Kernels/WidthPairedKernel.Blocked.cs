using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelGen.Planning;
using KernelGen.Simd;

namespace KernelGen.Kernels;

/// <summary>
/// The paired width kernel over blocks of <see cref="BlockChannels"/> output channels of one group: each input vector
/// loaded is multiplied into the accumulators of every channel of the block (weights broadcast), so a layer with several
/// output channels per group reads its input once per block instead of once per channel.
/// </summary>
internal static partial class WidthPairedKernel
{
    /// <summary>Output channels per block (see <see cref="KernelShapes.PairedBlockChannels"/>).</summary>
    public const int BlockChannels = KernelShapes.PairedBlockChannels;

    /// <summary>Blocks per group: only whole blocks are blocked, the remaining channels of a group run one at a time.</summary>
    public static int BlocksPerGroup(in LayerShape layer) => layer.OutPerGroup / BlockChannels;

    /// <summary>Floats of the blocked weights for <paramref name="layer"/> (0: no whole block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int BlockPackedLength(in LayerShape layer) => layer.Groups * BlocksPerGroup(layer) * BlockChannels * layer.InPerGroup * layer.Taps;

    /// <summary>
    /// Packs weights for the blocked kernel: per block, per input channel of the
    /// group, per tap, the block's <see cref="BlockChannels"/> weights side by side, so a tap's weights are one address plus
    /// a constant per channel.
    /// </summary>
    public static void PackBlocks(in LayerShape layer, SourceWeights weights, Span<float> packed)
    {
        int inPerGroup = layer.InPerGroup, taps = layer.Taps, blocks = BlocksPerGroup(layer);
        for (int g = 0; g < layer.Groups; g++)
        {
            for (int b = 0; b < blocks; b++)
            {
                for (int ic = 0; ic < inPerGroup; ic++)
                {
                    for (int k = 0; k < BlockChannels; k++)
                    {
                        int ocInGroup = b * BlockChannels + k;
                        ReadOnlySpan<float> source = weights.Taps(g * inPerGroup + ic, ocInGroup);
                        int destination = (((g * blocks + b) * inPerGroup + ic) * taps) * BlockChannels + k;
                        for (int t = 0; t < taps; t++)
                            packed[destination + t * BlockChannels] = source[t];
                    }
                }
            }
        }
    }

    /// <summary>
    /// Output rows <c>[oyStart, oyEnd)</c> of output channels <c>[ocFirst, ocFirst + count)</c> (one group): whole blocks
    /// aligned in the group by the blocked kernel when the plan <see cref="ExecutionPlan.BlocksChannels"/>, the other channels one at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunChannels(in LayerShape layer, ExecutionPlan plan, PairedColumnPlan columns, in Source source, Span<float> output,
        ReadOnlySpan<float> packed, ReadOnlySpan<float> blockPacked, ReadOnlySpan<float> bias, int ocFirst, int count, int oyStart, int oyEnd)
    {
        int oc = ocFirst, end = ocFirst + count;
        while (oc < end)
        {
            int ocInGroup = oc % layer.OutPerGroup;
            if (plan.BlocksChannels && ocInGroup % BlockChannels == 0 && oc + BlockChannels <= end
                && ocInGroup + BlockChannels <= BlocksPerGroup(layer) * BlockChannels)
            {
                RunBlockRows(layer, plan, columns, source, output, packed, blockPacked, bias, oc, oyStart, oyEnd);
                oc += BlockChannels;
            }
            else
            {
                RunRows(layer, plan, columns, source, output, packed, bias, oc, oyStart, oyEnd);
                oc++;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunBlockRows(in LayerShape layer, ExecutionPlan plan, PairedColumnPlan columns, in Source source, Span<float> output,
        ReadOnlySpan<float> packed, ReadOnlySpan<float> blockPacked, ReadOnlySpan<float> bias, int oc, int oyStart, int oyEnd)
    {
        // The plan's vector width and register blocking; only the pairs it gives are instantiated.
        switch ((plan.WidthVectors, plan.BlockedPairVectors))
        {
            case (VectorWidth.V512, 2): RunBlockRows<Simd512, System.Runtime.Intrinsics.Vector512<float>, TwoVectors>(layer, plan, columns, source, output, packed, blockPacked, bias, oc, oyStart, oyEnd); break;
            case (VectorWidth.V256, 2): RunBlockRows<Simd256, System.Runtime.Intrinsics.Vector256<float>, TwoVectors>(layer, plan, columns, source, output, packed, blockPacked, bias, oc, oyStart, oyEnd); break;
            case (VectorWidth.V128, 1): RunBlockRows<Simd128, System.Runtime.Intrinsics.Vector128<float>, OneVector>(layer, plan, columns, source, output, packed, blockPacked, bias, oc, oyStart, oyEnd); break;
            case (VectorWidth.Scalar, 1): RunBlockRows<SimdScalar, float, OneVector>(layer, plan, columns, source, output, packed, blockPacked, bias, oc, oyStart, oyEnd); break;
            default: throw new InvalidOperationException($"No blocked kernel for {plan.WidthVectors} with {plan.BlockedPairVectors} vectors.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunBlockRows<TSimd, TVec, TVectors>(in LayerShape layer, ExecutionPlan plan, PairedColumnPlan columns, in Source source,
        Span<float> output, ReadOnlySpan<float> packed, ReadOnlySpan<float> blockPacked, ReadOnlySpan<float> bias, int oc, int oyStart, int oyEnd)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
        where TVectors : struct, IVectorCount
    {
        int outH = plan.OutputHeight, outW = plan.OutputWidth;
        AxisPlan rows = plan.Height;
        int rowStride = rows.Geometry.Stride;
        int blockIndex = oc / layer.OutPerGroup * BlocksPerGroup(layer) + oc % layer.OutPerGroup / BlockChannels;
        Span<nint> evenOffsets = stackalloc nint[MaxFlatTaps], oddOffsets = stackalloc nint[MaxFlatTaps];
        Span<int> evenWeights = stackalloc int[MaxFlatTaps], oddWeights = stackalloc int[MaxFlatTaps];
        for (int oy = oyStart; oy < Math.Min(oyEnd, oyStart + rowStride); oy++)
        {
            AxisPhase rowPhase = rows.Phases[rows.OutputPhase[oy]];
            int rowCount = (oyEnd - 1 - oy) / rowStride + 1;
            PairedTaps form = plan.PairedRowForms![rows.OutputPhase[oy]];
            if (form == PairedTaps.Looped)
            {
                // Tap counts the straight-line block does not cover: one channel at a time, by loops.
                for (int k = 0; k < BlockChannels; k++)
                {
                    var single = new PhaseArgs(layer, plan, columns, rowPhase, source, output, packed, oc + k, oy, rows.OutputQ[oy], rowCount, bias[oc + k]);
                    PhaseRows<TSimd, TVec, AnyTaps, AnyTaps, NoSharing>(single, evenOffsets, evenWeights, oddOffsets, oddWeights);
                }
            }
            else
            {
                var args = new PhaseArgs(layer, plan, columns, rowPhase, source, output, blockPacked, oc, oy, rows.OutputQ[oy], rowCount, bias[oc],
                    BlockChannels, blockIndex * layer.InPerGroup * layer.Taps * BlockChannels);
                Flatten(args, rowPhase, columns.EvenShifts, columns.EvenKernelColumns, evenOffsets, evenWeights);
                Flatten(args, rowPhase, columns.OddShifts, columns.OddKernelColumns, oddOffsets, oddWeights);
                ReadOnlySpan<float> blockBias = bias.Slice(oc, BlockChannels);
                // Only the forms the plan can give (see RunRows).
                switch (form)
                {
                    case PairedTaps.None1x1: BlockPhaseRows<TSimd, TVec, TVectors, OneTap, OneTap, NoSharing>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None1x2: BlockPhaseRows<TSimd, TVec, TVectors, OneTap, TwoTaps, NoSharing>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None1x4: BlockPhaseRows<TSimd, TVec, TVectors, OneTap, FourTaps, NoSharing>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None2x1: BlockPhaseRows<TSimd, TVec, TVectors, TwoTaps, OneTap, NoSharing>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None2x2: BlockPhaseRows<TSimd, TVec, TVectors, TwoTaps, TwoTaps, NoSharing>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None2x4: BlockPhaseRows<TSimd, TVec, TVectors, TwoTaps, FourTaps, NoSharing>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None4x1: BlockPhaseRows<TSimd, TVec, TVectors, FourTaps, OneTap, NoSharing>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None4x2: BlockPhaseRows<TSimd, TVec, TVectors, FourTaps, TwoTaps, NoSharing>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.None4x4: BlockPhaseRows<TSimd, TVec, TVectors, FourTaps, FourTaps, NoSharing>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.SecondOddIsFirstEven2x2: BlockPhaseRows<TSimd, TVec, TVectors, TwoTaps, TwoTaps, SecondOddIsFirstEven>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.SecondOddIsFirstEven4x4: BlockPhaseRows<TSimd, TVec, TVectors, FourTaps, FourTaps, SecondOddIsFirstEven>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.OddIsEven1x1: BlockPhaseRows<TSimd, TVec, TVectors, OneTap, OneTap, OddIsEven>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.OddIsEven2x2: BlockPhaseRows<TSimd, TVec, TVectors, TwoTaps, TwoTaps, OddIsEven>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.OddIsEven4x4: BlockPhaseRows<TSimd, TVec, TVectors, FourTaps, FourTaps, OddIsEven>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.SecondOddIsEven1x2: BlockPhaseRows<TSimd, TVec, TVectors, OneTap, TwoTaps, SecondOddIsEven>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.SecondOddIsEven2x4: BlockPhaseRows<TSimd, TVec, TVectors, TwoTaps, FourTaps, SecondOddIsEven>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.OddIsFirstEven2x1: BlockPhaseRows<TSimd, TVec, TVectors, TwoTaps, OneTap, OddIsFirstEven>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    case PairedTaps.OddIsFirstEven4x2: BlockPhaseRows<TSimd, TVec, TVectors, FourTaps, TwoTaps, OddIsFirstEven>(args, blockBias, evenOffsets, evenWeights, oddOffsets, oddWeights); break;
                    default: throw new InvalidOperationException($"Unknown paired form {form}.");
                }
            }

            if (layer.Activation != FusedActivation.None)
            {
                for (int k = 0; k < BlockChannels; k++)
                {
                    for (int r = 0; r < rowCount; r++)
                        Activations.Apply(output.Slice(((oc + k) * outH + oy + r * rowStride) * outW, outW), layer.Activation, layer.LeakyReluSlope);
                }
            }
        }
    }

    /// <summary>All rows of one row phase for a block of channels: as <see cref="PhaseRows"/>, with <typeparamref name="TVectors"/> vectors per block of pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BlockPhaseRows<TSimd, TVec, TVectors, TEven, TOdd, TShare>(in PhaseArgs args, ReadOnlySpan<float> bias,
        ReadOnlySpan<nint> evenOffsets, ReadOnlySpan<int> evenWeights, ReadOnlySpan<nint> oddOffsets, ReadOnlySpan<int> oddWeights)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
        where TVectors : struct, IVectorCount
        where TEven : struct, ITapCount
        where TOdd : struct, ITapCount
        where TShare : struct, IShare
    {
        int lanes = TSimd.Count, pairs = args.PairCount, wholePairs = args.OutputWidth / 2;
        int wide = wholePairs / (TVectors.Count * lanes) * (TVectors.Count * lanes), singles = wholePairs / lanes * lanes;
        if (wide > 0)
            ChannelBlocks<TSimd, TVec, TEven, TOdd, TShare, TVectors>(args, bias, evenOffsets, evenWeights, oddOffsets, oddWeights, 0, wide, 0);
        if (singles > wide)
            ChannelBlocks<TSimd, TVec, TEven, TOdd, TShare, OneVector>(args, bias, evenOffsets, evenWeights, oddOffsets, oddWeights, wide, singles, 0);
        if (singles < pairs)
        {
            int last = Math.Max(0, pairs - lanes);
            int cells = args.OutputWidth - 2 * last;
            int staged = cells == 2 * lanes ? 0 : cells;
            ChannelBlocks<TSimd, TVec, TEven, TOdd, TShare, OneVector>(args, bias, evenOffsets, evenWeights, oddOffsets, oddWeights, last, last + lanes, staged);
        }
    }

    /// <summary>
    /// As <see cref="Blocks"/>, for <see cref="BlockChannels"/> output channels at once (<typeparamref name="TVectors"/>
    /// 1 or 2): each input vector is loaded once and multiplied by each channel's broadcast weight, into 4 channels x 2
    /// phases x <typeparamref name="TVectors"/> accumulators.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ChannelBlocks<TSimd, TVec, TEven, TOdd, TShare, TVectors>(in PhaseArgs args, ReadOnlySpan<float> bias,
        ReadOnlySpan<nint> evenOffsets, ReadOnlySpan<int> evenWeights, ReadOnlySpan<nint> oddOffsets, ReadOnlySpan<int> oddWeights,
        int mStart, int mEnd, int stagedCells)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
        where TEven : struct, ITapCount
        where TOdd : struct, ITapCount
        where TShare : struct, IShare
        where TVectors : struct, IVectorCount
    {
        const int C = BlockChannels;
        int lanes = TSimd.Count, block = TVectors.Count * lanes;
        bool two = TVectors.Count == 2;
        args.CheckBounds(mStart, mEnd, stagedCells > 0 ? stagedCells : 2 * (mEnd - mStart));
        Span<float> stage = stackalloc float[C * 2 * MaxLanes];
        ref float x = ref Unsafe.Add(ref MemoryMarshal.GetReference(args.Padded), args.InputStart);
        ref float w = ref Unsafe.Add(ref MemoryMarshal.GetReference(args.Packed), args.WeightsStart);
        ref float y = ref Unsafe.Add(ref MemoryMarshal.GetReference(args.Output), args.OutputStart);
        nint e0 = evenOffsets[0], e1 = TEven.Count >= 2 ? evenOffsets[1] : 0, e2 = TEven.Count == 4 ? evenOffsets[2] : 0, e3 = TEven.Count == 4 ? evenOffsets[3] : 0;
        nint o0 = oddOffsets[0], o1 = TOdd.Count >= 2 ? oddOffsets[1] : 0, o2 = TOdd.Count == 4 ? oddOffsets[2] : 0, o3 = TOdd.Count == 4 ? oddOffsets[3] : 0;
        // Weight indices are per tap; the block's channels sit side by side at each.
        nint we0 = C * evenWeights[0], we1 = TEven.Count >= 2 ? C * evenWeights[1] : 0, we2 = TEven.Count == 4 ? C * evenWeights[2] : 0, we3 = TEven.Count == 4 ? C * evenWeights[3] : 0;
        nint wo0 = C * oddWeights[0], wo1 = TOdd.Count >= 2 ? C * oddWeights[1] : 0, wo2 = TOdd.Count == 4 ? C * oddWeights[2] : 0, wo3 = TOdd.Count == 4 ? C * oddWeights[3] : 0;
        // The odd tap (if any) that reads each even tap's column: it reuses the even tap's loaded vectors.
        int s0 = OddReading<TShare, TOdd>(0), s1 = OddReading<TShare, TOdd>(1), s2 = OddReading<TShare, TOdd>(2), s3 = OddReading<TShare, TOdd>(3);
        TVec b0 = TSimd.Broadcast(bias[0]), b1 = TSimd.Broadcast(bias[1]), b2 = TSimd.Broadcast(bias[2]), b3 = TSimd.Broadcast(bias[3]);
        int channels = args.Channels, weightStep = args.Taps * C;
        nint planeStride = args.PlaneStride, inputStep = args.RowPitch, outputStep = args.OutputRowStep, channelStep = args.OutputChannelStep;
        for (int r = 0; r < args.RowCount; r++)
        {
            for (int m = mStart; m < mEnd; m += block)
            {
                TVec ea0 = b0, eb0 = b0, ea1 = b1, eb1 = b1, ea2 = b2, eb2 = b2, ea3 = b3, eb3 = b3;
                TVec oa0 = b0, ob0 = b0, oa1 = b1, ob1 = b1, oa2 = b2, ob2 = b2, oa3 = b3, ob3 = b3;
                ref float xm = ref Unsafe.Add(ref x, m);
                ref float wc = ref w;
                for (int ic = 0; ic < channels; ic++)
                {
                    TVec xa, xb;
                    // Even taps, each feeding the odd tap that reads the same column.
                    xa = TSimd.Load(ref Unsafe.Add(ref xm, e0));
                    xb = two ? TSimd.Load(ref Unsafe.Add(ref xm, e0 + lanes)) : xa;
                    Tap4<TSimd, TVec>(two, xa, xb, ref Unsafe.Add(ref wc, we0), ref ea0, ref eb0, ref ea1, ref eb1, ref ea2, ref eb2, ref ea3, ref eb3);
                    if (s0 >= 0) Tap4<TSimd, TVec>(two, xa, xb, ref Unsafe.Add(ref wc, Pick(s0, wo0, wo1, wo2, wo3)), ref oa0, ref ob0, ref oa1, ref ob1, ref oa2, ref ob2, ref oa3, ref ob3);
                    if (TEven.Count >= 2)
                    {
                        xa = TSimd.Load(ref Unsafe.Add(ref xm, e1));
                        xb = two ? TSimd.Load(ref Unsafe.Add(ref xm, e1 + lanes)) : xa;
                        Tap4<TSimd, TVec>(two, xa, xb, ref Unsafe.Add(ref wc, we1), ref ea0, ref eb0, ref ea1, ref eb1, ref ea2, ref eb2, ref ea3, ref eb3);
                        if (s1 >= 0) Tap4<TSimd, TVec>(two, xa, xb, ref Unsafe.Add(ref wc, Pick(s1, wo0, wo1, wo2, wo3)), ref oa0, ref ob0, ref oa1, ref ob1, ref oa2, ref ob2, ref oa3, ref ob3);
                    }

                    if (TEven.Count == 4)
                    {
                        xa = TSimd.Load(ref Unsafe.Add(ref xm, e2));
                        xb = two ? TSimd.Load(ref Unsafe.Add(ref xm, e2 + lanes)) : xa;
                        Tap4<TSimd, TVec>(two, xa, xb, ref Unsafe.Add(ref wc, we2), ref ea0, ref eb0, ref ea1, ref eb1, ref ea2, ref eb2, ref ea3, ref eb3);
                        if (s2 >= 0) Tap4<TSimd, TVec>(two, xa, xb, ref Unsafe.Add(ref wc, Pick(s2, wo0, wo1, wo2, wo3)), ref oa0, ref ob0, ref oa1, ref ob1, ref oa2, ref ob2, ref oa3, ref ob3);
                        xa = TSimd.Load(ref Unsafe.Add(ref xm, e3));
                        xb = two ? TSimd.Load(ref Unsafe.Add(ref xm, e3 + lanes)) : xa;
                        Tap4<TSimd, TVec>(two, xa, xb, ref Unsafe.Add(ref wc, we3), ref ea0, ref eb0, ref ea1, ref eb1, ref ea2, ref eb2, ref ea3, ref eb3);
                        if (s3 >= 0) Tap4<TSimd, TVec>(two, xa, xb, ref Unsafe.Add(ref wc, Pick(s3, wo0, wo1, wo2, wo3)), ref oa0, ref ob0, ref oa1, ref ob1, ref oa2, ref ob2, ref oa3, ref ob3);
                    }

                    // Odd taps reading a column no even tap reads.
                    if (!SharesEven<TShare, TEven>(0))
                    {
                        xa = TSimd.Load(ref Unsafe.Add(ref xm, o0));
                        xb = two ? TSimd.Load(ref Unsafe.Add(ref xm, o0 + lanes)) : xa;
                        Tap4<TSimd, TVec>(two, xa, xb, ref Unsafe.Add(ref wc, wo0), ref oa0, ref ob0, ref oa1, ref ob1, ref oa2, ref ob2, ref oa3, ref ob3);
                    }

                    if (TOdd.Count >= 2 && !SharesEven<TShare, TEven>(1))
                    {
                        xa = TSimd.Load(ref Unsafe.Add(ref xm, o1));
                        xb = two ? TSimd.Load(ref Unsafe.Add(ref xm, o1 + lanes)) : xa;
                        Tap4<TSimd, TVec>(two, xa, xb, ref Unsafe.Add(ref wc, wo1), ref oa0, ref ob0, ref oa1, ref ob1, ref oa2, ref ob2, ref oa3, ref ob3);
                    }

                    if (TOdd.Count == 4 && !SharesEven<TShare, TEven>(2))
                    {
                        xa = TSimd.Load(ref Unsafe.Add(ref xm, o2));
                        xb = two ? TSimd.Load(ref Unsafe.Add(ref xm, o2 + lanes)) : xa;
                        Tap4<TSimd, TVec>(two, xa, xb, ref Unsafe.Add(ref wc, wo2), ref oa0, ref ob0, ref oa1, ref ob1, ref oa2, ref ob2, ref oa3, ref ob3);
                    }

                    if (TOdd.Count == 4 && !SharesEven<TShare, TEven>(3))
                    {
                        xa = TSimd.Load(ref Unsafe.Add(ref xm, o3));
                        xb = two ? TSimd.Load(ref Unsafe.Add(ref xm, o3 + lanes)) : xa;
                        Tap4<TSimd, TVec>(two, xa, xb, ref Unsafe.Add(ref wc, wo3), ref oa0, ref ob0, ref oa1, ref ob1, ref oa2, ref ob2, ref oa3, ref ob3);
                    }

                    xm = ref Unsafe.Add(ref xm, planeStride);
                    wc = ref Unsafe.Add(ref wc, weightStep);
                }

                if (stagedCells == 0)
                {
                    ref float ym = ref Unsafe.Add(ref y, 2 * m);
                    StorePairs<TSimd, TVec>(two, ref ym, ea0, oa0, eb0, ob0);
                    StorePairs<TSimd, TVec>(two, ref Unsafe.Add(ref ym, channelStep), ea1, oa1, eb1, ob1);
                    StorePairs<TSimd, TVec>(two, ref Unsafe.Add(ref ym, 2 * channelStep), ea2, oa2, eb2, ob2);
                    StorePairs<TSimd, TVec>(two, ref Unsafe.Add(ref ym, 3 * channelStep), ea3, oa3, eb3, ob3);
                }
                else
                {
                    // One vector (TVectors is one): each channel's cells through the stage, only stagedCells of them kept.
                    ref float s = ref MemoryMarshal.GetReference(stage);
                    StoreInterleaved<TSimd, TVec>(ref s, ea0, oa0);
                    StoreInterleaved<TSimd, TVec>(ref Unsafe.Add(ref s, 2 * lanes), ea1, oa1);
                    StoreInterleaved<TSimd, TVec>(ref Unsafe.Add(ref s, 4 * lanes), ea2, oa2);
                    StoreInterleaved<TSimd, TVec>(ref Unsafe.Add(ref s, 6 * lanes), ea3, oa3);
                    for (int k = 0; k < C; k++)
                    {
                        for (int cell = 0; cell < stagedCells; cell++)
                            Unsafe.Add(ref y, k * channelStep + 2 * m + cell) = stage[2 * lanes * k + cell];
                    }
                }
            }

            x = ref Unsafe.Add(ref x, inputStep);
            y = ref Unsafe.Add(ref y, outputStep);
        }
    }

    /// <summary>The flattened odd tap that reads what flattened even tap <paramref name="evenTap"/> reads, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int OddReading<TShare, TOdd>(int evenTap)
        where TShare : struct, IShare
        where TOdd : struct, ITapCount =>
        TShare.EvenTapOf(0) == evenTap ? 0
        : TOdd.Count >= 2 && TShare.EvenTapOf(1) == evenTap ? 1
        : TOdd.Count == 4 && TShare.EvenTapOf(2) == evenTap ? 2
        : TOdd.Count == 4 && TShare.EvenTapOf(3) == evenTap ? 3
        : -1;

    /// <summary>Whether flattened odd tap <paramref name="oddTap"/> reads an even tap's column (and is computed with it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool SharesEven<TShare, TEven>(int oddTap)
        where TShare : struct, IShare
        where TEven : struct, ITapCount =>
        TShare.EvenTapOf(oddTap) is int even && even >= 0 && even < TEven.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint Pick(int index, nint v0, nint v1, nint v2, nint v3) => index switch { 0 => v0, 1 => v1, 2 => v2, _ => v3 };

    /// <summary>One tap for the block: the loaded vectors times each channel's weight (at <paramref name="weights"/>, one per channel).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap4<TSimd, TVec>(bool two, TVec xa, TVec xb, ref float weights,
        ref TVec a0, ref TVec b0, ref TVec a1, ref TVec b1, ref TVec a2, ref TVec b2, ref TVec a3, ref TVec b3)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        TVec w0 = TSimd.Broadcast(weights);
        a0 = TSimd.MultiplyAdd(xa, w0, a0);
        if (two) b0 = TSimd.MultiplyAdd(xb, w0, b0);
        TVec w1 = TSimd.Broadcast(Unsafe.Add(ref weights, 1));
        a1 = TSimd.MultiplyAdd(xa, w1, a1);
        if (two) b1 = TSimd.MultiplyAdd(xb, w1, b1);
        TVec w2 = TSimd.Broadcast(Unsafe.Add(ref weights, 2));
        a2 = TSimd.MultiplyAdd(xa, w2, a2);
        if (two) b2 = TSimd.MultiplyAdd(xb, w2, b2);
        TVec w3 = TSimd.Broadcast(Unsafe.Add(ref weights, 3));
        a3 = TSimd.MultiplyAdd(xa, w3, a3);
        if (two) b3 = TSimd.MultiplyAdd(xb, w3, b3);
    }

    /// <summary>One channel's cells of a block: one or two vectors of each phase, interleaved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePairs<TSimd, TVec>(bool two, ref float destination, TVec evenA, TVec oddA, TVec evenB, TVec oddB)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        StoreInterleaved<TSimd, TVec>(ref destination, evenA, oddA);
        if (two) StoreInterleaved<TSimd, TVec>(ref Unsafe.Add(ref destination, 2 * TSimd.Count), evenB, oddB);
    }

    private readonly struct TwoVectors : IVectorCount
    {
        public static int Count => 2;
    }
}
