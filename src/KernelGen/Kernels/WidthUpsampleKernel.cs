using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Planning;
using KernelGen.Simd;

namespace KernelGen.Kernels;

/// <summary>
/// The NCHW many-channel kernel of a 2 x 2 kernel at stride 2 without padding (U-Net's up-sampling layer), where every
/// output pixel has exactly one tap: output row <c>2 iy + py</c>, column <c>2 ix + px</c> is the dot product of input
/// pixel <c>(iy, ix)</c> over the group's input channels with the weights of kernel element <c>(py, px)</c>. Vectorised
/// along the input columns at the channel kernel's width (Vector256 or Vector512): register blocks of 3 output channels x
/// both width phases x 2 vectors of columns (12 sums, 2 input loads and 6 broadcast weights per input channel), the two phases
/// interleaved in registers so that each output row is stored contiguously; a group's last block of 1 or 2 channels
/// runs blocks of 8 sums over its own channels (1 x 2 phases x 4 vectors, 2 x 2 x 2) rather than computing absent ones. It reads the NCHW input and writes the NCHW
/// output as they are: neither of the channel kernel's relayouts (which cost about 11 % of unet_up with AVX-512 off).
/// </summary>
/// <remarks>
/// The input row a block reads is first copied channel by channel into a small contiguous buffer: read in place, its
/// channels lie a whole plane apart (4 KiB for 32 x 32), all in one L1 set, and the block ran 50 % slower. The weights are
/// packed for it (<see cref="Pack"/>, from the channel kernel's packing, which the layer keeps for its other input sizes). Every output is the same
/// chain of multiply-adds as in the channel kernel (bias first, then the input channels in order), so the two kernels give
/// the same bits.
/// </remarks>
internal static class WidthUpsampleKernel
{
    /// <summary>Output channels per register block.</summary>
    public const int BlockChannels = 3;

    /// <summary>
    /// Whether the layer may run this kernel at some input size (and so needs its packing): NCHW, a 2 x 2 kernel at stride 2
    /// with no padding, output padding or dilation, and the channel kernel's width Vector256 with FMA (AVX2 machines, or
    /// AVX-512 switched off) or Vector512 with AVX-512, so that its sums are the channel kernel's bit for bit. At Vector512
    /// on a Zen 5 (AMD EPYC family 26 model 2), unet_up (128 -> 64, 32 x 32) took 323 µs at best and 365 µs median
    /// against 354 and 407-419 µs for the channel kernel with its relayouts, the two interleaved in one process.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool LayerFits(LayerPlan layer)
    {
        ConvTranspose2D definition = layer.Definition;
        return layer.HasChannelKernel && definition.Layout == TensorLayout.Nchw
            && definition.KernelSize == new Size2D(2, 2) && definition.Stride == new Size2D(2, 2)
            && definition.Padding == new Padding2D(0, 0, 0, 0) && definition.OutputPadding == new Size2D(0, 0) && definition.Dilation == new Size2D(1, 1)
            && ((layer.ChannelVectors == VectorWidth.V256 && Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported)
                || (layer.ChannelVectors == VectorWidth.V512 && Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported));
    }

    /// <summary>
    /// Whether an input of <paramref name="inputWidth"/> columns runs this kernel on a layer that <see cref="LayerFits"/>:
    /// whole vectors of columns at the channel kernel's width, and at Vector512 at least one pair of them. A row of one
    /// Vector512 has only the single-vector block (6 sums, too few to hide the FMA latency on two pipes), which measured
    /// slower than the channel kernel with its relayouts on a Zen 5 (128 -> 64 at 16 x 16: 113 against 93 µs; 64 -> 32:
    /// 65 against 28 µs), where 32, 48 and 64 columns ran 5-17 % faster. At Vector256 a single vector of 8 columns still
    /// measured faster (128 -> 64 at 16 x 16 with AVX-512 off: 164 against 174 µs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool WidthFits(LayerPlan layer, int inputWidth) => layer.ChannelVectors == VectorWidth.V512
        ? inputWidth % Vector512<float>.Count == 0 && inputWidth >= 2 * Vector512<float>.Count
        : inputWidth % Vector256<float>.Count == 0;

    /// <summary>Floats of the packing: per group and kernel row, per block of 3 output channels, per input channel, the 3 channels' weights of both kernel columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int PackedLength(in LayerShape layer) => layer.Groups * 2 * Blocks(layer.OutPerGroup) * layer.InPerGroup * 2 * BlockChannels;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Blocks(int outPerGroup) => (outPerGroup + BlockChannels - 1) / BlockChannels;

    /// <summary>
    /// Packs from the channel kernel's packing (<paramref name="channelPacked"/>, <see cref="ChannelVectorizedKernel.Pack"/>) into
    /// <c>(G, kernel row, block of 3 channels, Cin/G, channel, kernel column)</c>, the channels a last block lacks zero: a
    /// block's 6 weights of one input channel lie together, where the channel packing spreads them over two rows a tap
    /// apart (read from there, the kernel ran 19 % slower on unet_up).
    /// </summary>
    public static void Pack(in LayerShape layer, int paddedChannels, ReadOnlySpan<float> channelPacked, Span<float> packed)
    {
        packed.Clear();
        int inPerGroup = layer.InPerGroup, outPerGroup = layer.OutPerGroup, blocks = Blocks(outPerGroup), taps = layer.Taps;
        for (int group = 0; group < layer.Groups; group++)
        {
            int groupBase = group * taps * inPerGroup * paddedChannels;
            for (int c = 0; c < outPerGroup; c++)
            {
                (int offset, int rowStride) = KernelShapes.ChannelWeightPosition(c, paddedChannels, taps, inPerGroup);
                int block = c / BlockChannels, o = c - block * BlockChannels;
                for (int row = 0; row < 2; row++)
                    for (int ic = 0; ic < inPerGroup; ic++)
                        for (int column = 0; column < 2; column++)
                            packed[(((((group * 2 + row) * blocks + block) * inPerGroup + ic) * BlockChannels + o) * 2) + column] =
                                channelPacked[groupBase + offset + ((row * 2 + column) * inPerGroup + ic) * rowStride];
            }
        }
    }

    /// <summary>Floats of the buffer one thread stages an input row in.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int StageFloats(in LayerShape layer, int inputWidth) => layer.InChannels * inputWidth;

    /// <summary>Computes output rows <c>[rowStart, rowEnd)</c> of one sample, NCHW in and out, bias and activation included.</summary>
    /// <param name="packed">The weights in this kernel's packing (<see cref="Pack"/>).</param>
    /// <param name="stage">At least <see cref="StageFloats"/> floats of per-thread scratch.</param>
    /// <param name="planes">Floats from one channel's plane to the next: <see cref="SamplePlanes"/> for an NCHW sample,
    /// <see cref="VolumeSlicePlanes"/> for one depth slice of an NCDHW volume (its input rows staged by the caller, its
    /// output channels' slices a whole channel volume apart). A type argument rather than more parameters: the NCHW
    /// instantiation computes its strides from the plan as before (two more stack parameters cost unet_up 3 % on a Zen 5).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TPlanes>(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> input, Span<float> output,
        ReadOnlySpan<float> packed, ReadOnlySpan<float> packedBias, Span<float> stage, int rowStart, int rowEnd, TPlanes planes)
        where TPlanes : struct, IChannelPlanes
    {
        int inW = plan.InputWidth, outW = plan.OutputWidth, plane = planes.Output(plan), inputPlane = planes.Input(plan);
        int inPerGroup = layer.InPerGroup, outPerGroup = layer.OutPerGroup, paddedChannels = plan.PaddedChannels;
        int stagedRow = -1;
        bool wide = plan.ChannelVectors == VectorWidth.V512;
        ReadOnlySpan<float> rowInput = stage;
        for (int oy = rowStart; oy < rowEnd; oy++)
        {
            int iy = oy >> 1, py = oy & 1;
            if (iy != stagedRow)
            {
                if (planes.RowsStaged)
                {
                    rowInput = input.Slice(iy * layer.InChannels * inW, layer.InChannels * inW);
                }
                else
                {
                    for (int ic = 0; ic < layer.InChannels; ic++)
                        FloatSpans.Copy(input.Slice(ic * inputPlane + iy * inW, inW), stage.Slice(ic * inW, inW));
                }

                stagedRow = iy;
            }

            int blocks = Blocks(outPerGroup);
            for (int group = 0; group < layer.Groups; group++)
            {
                ReadOnlySpan<float> groupInput = rowInput.Slice(group * inPerGroup * inW, inPerGroup * inW);
                for (int block = 0; block < blocks; block++)
                {
                    int c = block * BlockChannels, channels = Math.Min(BlockChannels, outPerGroup - c);
                    int weights = ((group * 2 + py) * blocks + block) * inPerGroup * 2 * BlockChannels;
                    var context = new Block(groupInput, inW, inPerGroup, packed, weights, packedBias, group * paddedChannels + c, channels,
                        output, (group * outPerGroup + c) * plane + oy * outW, plane);
                    if (wide)
                        Columns<Simd512, Vector512<float>>(context, inW);
                    else
                        Columns<Simd256, Vector256<float>>(context, inW);
                }
            }

            if (layer.Activation != FusedActivation.None)
            {
                for (int oc = 0; oc < layer.OutChannels; oc++)
                    Activations.Apply(output.Slice(oc * plane + oy * outW, outW), layer.Activation, layer.LeakyReluSlope);
            }
        }
    }

    /// <summary>The columns of one (output row, 3 channels) block: pairs of vectors, then a last single vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns<TSimd, TVec>(in Block block, int inputWidth)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count, ix = 0;
        // A last block of 1 or 2 channels (64 = 21 x 3 + 1) runs blocks of its own channels only: the 3-channel block
        // would compute the absent ones from zero weights (unet_up: 66 channels' multiply-adds for 64).
        if (block.Channels == 2)
        {
            for (; ix + 2 * lanes <= inputWidth; ix += 2 * lanes)
                TwoChannels<TSimd, TVec>(block, ix);
        }
        else if (block.Channels == 1)
        {
            for (; ix + 4 * lanes <= inputWidth; ix += 4 * lanes)
                OneChannel<TSimd, TVec>(block, ix);
        }

        for (; ix + 2 * lanes <= inputWidth; ix += 2 * lanes)
            TwoVectors<TSimd, TVec>(block, ix);
        if (ix < inputWidth)
            OneVector<TSimd, TVec>(block, ix);
    }

    /// <summary>
    /// Two vectors of input columns of a last block of 2 channels: 8 sums (2 channels x 2 phases x 2 vectors), where
    /// <see cref="TwoVectors{TSimd, TVec}"/> would compute a third, absent channel's 4 (a third of its multiply-adds).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TwoChannels<TSimd, TVec>(in Block block, int ix)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count;
        ref float x = ref block.InputAt(ix, 2 * lanes);
        ref float w = ref block.WeightsStart();
        nint inputStride = block.InputWidth;
        ref float bias = ref MemoryMarshal.GetReference(block.Bias.Slice(block.BiasOffset, 2));
        TVec b0 = TSimd.Broadcast(bias), b1 = TSimd.Broadcast(Unsafe.Add(ref bias, 1));
        TVec a00 = b0, a01 = b0, a10 = b1, a11 = b1;
        TVec d00 = b0, d01 = b0, d10 = b1, d11 = b1;
        for (int ic = block.InPerGroup; ic > 0; ic--)
        {
            TVec x0 = TSimd.Load(ref x), x1 = TSimd.Load(ref Unsafe.Add(ref x, lanes));
            TVec wv = TSimd.Broadcast(w);
            a00 = TSimd.MultiplyAdd(x0, wv, a00);
            d00 = TSimd.MultiplyAdd(x1, wv, d00);
            wv = TSimd.Broadcast(Unsafe.Add(ref w, 1));
            a01 = TSimd.MultiplyAdd(x0, wv, a01);
            d01 = TSimd.MultiplyAdd(x1, wv, d01);
            wv = TSimd.Broadcast(Unsafe.Add(ref w, 2));
            a10 = TSimd.MultiplyAdd(x0, wv, a10);
            d10 = TSimd.MultiplyAdd(x1, wv, d10);
            wv = TSimd.Broadcast(Unsafe.Add(ref w, 3));
            a11 = TSimd.MultiplyAdd(x0, wv, a11);
            d11 = TSimd.MultiplyAdd(x1, wv, d11);
            x = ref Unsafe.Add(ref x, inputStride);
            w = ref Unsafe.Add(ref w, 2 * BlockChannels);
        }

        Store4<TSimd, TVec>(ref block.OutputAt(0, ix, 4 * lanes), a00, a01, d00, d01);
        Store4<TSimd, TVec>(ref block.OutputAt(1, ix, 4 * lanes), a10, a11, d10, d11);
    }

    /// <summary>
    /// Four vectors of input columns of a last block of 1 channel: 8 sums (2 phases x 4 vectors), where
    /// <see cref="TwoVectors{TSimd, TVec}"/> would compute two absent channels' (two thirds of its multiply-adds).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void OneChannel<TSimd, TVec>(in Block block, int ix)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count;
        ref float x = ref block.InputAt(ix, 4 * lanes);
        ref float w = ref block.WeightsStart();
        nint inputStride = block.InputWidth;
        TVec b = TSimd.Broadcast(MemoryMarshal.GetReference(block.Bias.Slice(block.BiasOffset, 1)));
        TVec a0 = b, a1 = b, c0 = b, c1 = b, d0 = b, d1 = b, e0 = b, e1 = b;
        for (int ic = block.InPerGroup; ic > 0; ic--)
        {
            TVec w0 = TSimd.Broadcast(w), w1 = TSimd.Broadcast(Unsafe.Add(ref w, 1));
            TVec xv = TSimd.Load(ref x);
            a0 = TSimd.MultiplyAdd(xv, w0, a0);
            a1 = TSimd.MultiplyAdd(xv, w1, a1);
            xv = TSimd.Load(ref Unsafe.Add(ref x, lanes));
            c0 = TSimd.MultiplyAdd(xv, w0, c0);
            c1 = TSimd.MultiplyAdd(xv, w1, c1);
            xv = TSimd.Load(ref Unsafe.Add(ref x, 2 * lanes));
            d0 = TSimd.MultiplyAdd(xv, w0, d0);
            d1 = TSimd.MultiplyAdd(xv, w1, d1);
            xv = TSimd.Load(ref Unsafe.Add(ref x, 3 * lanes));
            e0 = TSimd.MultiplyAdd(xv, w0, e0);
            e1 = TSimd.MultiplyAdd(xv, w1, e1);
            x = ref Unsafe.Add(ref x, inputStride);
            w = ref Unsafe.Add(ref w, 2 * BlockChannels);
        }

        ref float y = ref block.OutputAt(0, ix, 8 * lanes);
        Store4<TSimd, TVec>(ref y, a0, a1, c0, c1);
        Store4<TSimd, TVec>(ref Unsafe.Add(ref y, 4 * lanes), d0, d1, e0, e1);
    }

    /// <summary>Phases 0 and 1 of one vector of columns, then of the next, interleaved into 4 vectors of consecutive output columns.</summary>
    // Inlined by request: NativeAOT's compiler left generic local functions as calls taking the vectors through memory
    // (see TwoVectors).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4<TSimd, TVec>(ref float destination, TVec even, TVec odd, TVec nextEven, TVec nextOdd)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count;
        TSimd.Interleave(even, odd, out TVec lower, out TVec upper);
        TSimd.Store(ref destination, lower);
        TSimd.Store(ref Unsafe.Add(ref destination, lanes), upper);
        TSimd.Interleave(nextEven, nextOdd, out lower, out upper);
        TSimd.Store(ref Unsafe.Add(ref destination, 2 * lanes), lower);
        TSimd.Store(ref Unsafe.Add(ref destination, 3 * lanes), upper);
    }

    /// <summary>What the register blocks of one (output row, 3 channels) share; offsets in floats.</summary>
    private readonly ref struct Block(ReadOnlySpan<float> input, int inputWidth, int inPerGroup, ReadOnlySpan<float> packed,
        int weights, ReadOnlySpan<float> bias, int biasOffset, int channels, Span<float> output, int outputOffset, int plane)
    {
        public readonly ReadOnlySpan<float> Input = input;
        public readonly int InputWidth = inputWidth, InPerGroup = inPerGroup, Weights = weights;
        public readonly int BiasOffset = biasOffset, Channels = channels, OutputOffset = outputOffset, Plane = plane;
        public readonly ReadOnlySpan<float> Packed = packed, Bias = bias;
        public readonly Span<float> Output = output;

        /// <summary>
        /// The first input channel's columns from <paramref name="ix"/>, after one bounds check over every channel's
        /// <paramref name="columns"/> of them (the block's loads are unchecked).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ref float InputAt(int ix, int columns) =>
            ref MemoryMarshal.GetReference(Input.Slice(ix, (InPerGroup - 1) * InputWidth + columns));

        /// <summary>The block's first weight, after one bounds check over all it reads (6 per input channel).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ref float WeightsStart() =>
            ref MemoryMarshal.GetReference(Packed.Slice(Weights, InPerGroup * 2 * BlockChannels));

        /// <summary>Output channel <paramref name="channel"/> of the block, columns <c>[2 ix, 2 ix + columns)</c> of its row.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ref float OutputAt(int channel, int ix, int columns) =>
            ref MemoryMarshal.GetReference(Output.Slice(OutputOffset + channel * Plane + 2 * ix, columns));
    }

    /// <summary>
    /// Two vectors of input columns (four of output columns) of the block's 3 channels: 16 input columns with Vector256, 32
    /// with Vector512 (12 accumulators either way: of 16 registers with AVX2, of 32 with AVX-512).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TwoVectors<TSimd, TVec>(in Block block, int ix)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count;
        ref float x = ref block.InputAt(ix, 2 * lanes);
        ref float w = ref block.WeightsStart();
        nint inputStride = block.InputWidth;
        // A block of fewer than 3 channels computes the missing ones from zero weights (and its last channel's bias) and stores only its own.
        nint o1 = Math.Min(1, block.Channels - 1), o2 = Math.Min(2, block.Channels - 1);
        ref float bias = ref MemoryMarshal.GetReference(block.Bias.Slice(block.BiasOffset, block.Channels));
        TVec b0 = TSimd.Broadcast(bias), b1 = TSimd.Broadcast(Unsafe.Add(ref bias, o1)), b2 = TSimd.Broadcast(Unsafe.Add(ref bias, o2));
        // aCP: channel C, width phase P, for the first vector of columns; dCP the same for the next.
        TVec a00 = b0, a01 = b0, a10 = b1, a11 = b1, a20 = b2, a21 = b2;
        TVec d00 = b0, d01 = b0, d10 = b1, d11 = b1, d20 = b2, d21 = b2;
        for (int ic = block.InPerGroup; ic > 0; ic--)
        {
            TVec x0 = TSimd.Load(ref x), x1 = TSimd.Load(ref Unsafe.Add(ref x, lanes));
            TVec wv = TSimd.Broadcast(w);
            a00 = TSimd.MultiplyAdd(x0, wv, a00);
            d00 = TSimd.MultiplyAdd(x1, wv, d00);
            wv = TSimd.Broadcast(Unsafe.Add(ref w, 1));
            a01 = TSimd.MultiplyAdd(x0, wv, a01);
            d01 = TSimd.MultiplyAdd(x1, wv, d01);
            wv = TSimd.Broadcast(Unsafe.Add(ref w, 2));
            a10 = TSimd.MultiplyAdd(x0, wv, a10);
            d10 = TSimd.MultiplyAdd(x1, wv, d10);
            wv = TSimd.Broadcast(Unsafe.Add(ref w, 3));
            a11 = TSimd.MultiplyAdd(x0, wv, a11);
            d11 = TSimd.MultiplyAdd(x1, wv, d11);
            wv = TSimd.Broadcast(Unsafe.Add(ref w, 4));
            a20 = TSimd.MultiplyAdd(x0, wv, a20);
            d20 = TSimd.MultiplyAdd(x1, wv, d20);
            wv = TSimd.Broadcast(Unsafe.Add(ref w, 5));
            a21 = TSimd.MultiplyAdd(x0, wv, a21);
            d21 = TSimd.MultiplyAdd(x1, wv, d21);
            x = ref Unsafe.Add(ref x, inputStride);
            w = ref Unsafe.Add(ref w, 2 * BlockChannels);
        }

        Store4(ref block.OutputAt(0, ix, 4 * lanes), a00, a01, d00, d01);
        if (block.Channels > 1) Store4(ref block.OutputAt(1, ix, 4 * lanes), a10, a11, d10, d11);
        if (block.Channels > 2) Store4(ref block.OutputAt(2, ix, 4 * lanes), a20, a21, d20, d21);

        // Phases 0 and 1 of one vector of columns, then of the next, interleaved into 4 vectors of consecutive output columns.
        // Inlined by request: NativeAOT's compiler left these generic local functions as calls taking the vectors through
        // memory, and unet_up ran 4-6 times slower there than under the JIT (2137 against 364 µs at `native` on a Zen 5,
        // 1694 against 658 at `x86-64-v3`); inlined, 335 and 649 µs.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Store4(ref float destination, TVec even, TVec odd, TVec nextEven, TVec nextOdd)
        {
            int lanes = TSimd.Count;
            TSimd.Interleave(even, odd, out TVec lower, out TVec upper);
            TSimd.Store(ref destination, lower);
            TSimd.Store(ref Unsafe.Add(ref destination, lanes), upper);
            TSimd.Interleave(nextEven, nextOdd, out lower, out upper);
            TSimd.Store(ref Unsafe.Add(ref destination, 2 * lanes), lower);
            TSimd.Store(ref Unsafe.Add(ref destination, 3 * lanes), upper);
        }
    }

    /// <summary>One vector of input columns (two of output columns) of the block's 3 channels: a row's last, when its width is one vector past a multiple of two.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void OneVector<TSimd, TVec>(in Block block, int ix)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count;
        ref float x = ref block.InputAt(ix, lanes);
        ref float w = ref block.WeightsStart();
        nint inputStride = block.InputWidth;
        nint o1 = Math.Min(1, block.Channels - 1), o2 = Math.Min(2, block.Channels - 1);
        ref float bias = ref MemoryMarshal.GetReference(block.Bias.Slice(block.BiasOffset, block.Channels));
        TVec a00 = TSimd.Broadcast(bias), a10 = TSimd.Broadcast(Unsafe.Add(ref bias, o1)), a20 = TSimd.Broadcast(Unsafe.Add(ref bias, o2));
        TVec a01 = a00, a11 = a10, a21 = a20;
        for (int ic = block.InPerGroup; ic > 0; ic--)
        {
            TVec x0 = TSimd.Load(ref x);
            a00 = TSimd.MultiplyAdd(x0, TSimd.Broadcast(w), a00);
            a01 = TSimd.MultiplyAdd(x0, TSimd.Broadcast(Unsafe.Add(ref w, 1)), a01);
            a10 = TSimd.MultiplyAdd(x0, TSimd.Broadcast(Unsafe.Add(ref w, 2)), a10);
            a11 = TSimd.MultiplyAdd(x0, TSimd.Broadcast(Unsafe.Add(ref w, 3)), a11);
            a20 = TSimd.MultiplyAdd(x0, TSimd.Broadcast(Unsafe.Add(ref w, 4)), a20);
            a21 = TSimd.MultiplyAdd(x0, TSimd.Broadcast(Unsafe.Add(ref w, 5)), a21);
            x = ref Unsafe.Add(ref x, inputStride);
            w = ref Unsafe.Add(ref w, 2 * BlockChannels);
        }

        Store2(ref block.OutputAt(0, ix, 2 * lanes), a00, a01);
        if (block.Channels > 1) Store2(ref block.OutputAt(1, ix, 2 * lanes), a10, a11);
        if (block.Channels > 2) Store2(ref block.OutputAt(2, ix, 2 * lanes), a20, a21);

        [MethodImpl(MethodImplOptions.AggressiveInlining)] // as Store4 above, for NativeAOT
        static void Store2(ref float destination, TVec even, TVec odd)
        {
            TSimd.Interleave(even, odd, out TVec lower, out TVec upper);
            TSimd.Store(ref destination, lower);
            TSimd.Store(ref Unsafe.Add(ref destination, TSimd.Count), upper);
        }
    }
}

/// <summary>Where a kernel finds its channels' planes, in floats from one channel's plane to the next.</summary>
internal interface IChannelPlanes
{
    /// <summary>From one input channel's plane to the next.</summary>
    int Input(ExecutionPlan plan);

    /// <summary>From one output channel's plane to the next.</summary>
    int Output(ExecutionPlan plan);

    /// <summary>
    /// Whether the input holds its rows already staged, input row by input row, each row's channels one after the other
    /// (<c>(iy * inChannels + c) * inputWidth</c>), so that the kernel reads them where they lie (<see cref="Input"/> unused).
    /// </summary>
    bool RowsStaged { get; }
}

/// <summary>One NCHW sample: each channel's plane follows the last.</summary>
internal readonly struct SamplePlanes : IChannelPlanes
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Input(ExecutionPlan plan) => plan.InputHeight * plan.InputWidth;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Output(ExecutionPlan plan) => plan.OutputHeight * plan.OutputWidth;

    /// <inheritdoc/>
    public bool RowsStaged { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => false; }
}

/// <summary>
/// One depth slice of an NCDHW volume: its input rows staged by the caller (see <see cref="IChannelPlanes.RowsStaged"/>),
/// each output channel's slice a channel volume after the last.
/// </summary>
internal readonly struct VolumeSlicePlanes(int output) : IChannelPlanes
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Input(ExecutionPlan plan) => 0;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Output(ExecutionPlan plan) => output;

    /// <inheritdoc/>
    public bool RowsStaged { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => true; }
}
