using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Runtime.Intrinsics;

namespace KernelGen.Kernels;

/// <summary>Strided matrix transposition for the layout changes between channel-first and channel-last data.</summary>
internal static class Transpose
{
    /// <summary>
    /// <c>destination[c * destinationStride + r] = source[r * sourceStride + c]</c> for <c>r &lt; rows</c>, <c>c &lt; columns</c>.
    /// 8x8 blocks go through registers with AVX (when reading planes) and 4x4 blocks with SSE (when writing planes, and
    /// at the edges of the 8x8 blocks: a scalar gather strides through memory one element at a time, and layers with 4 to
    /// 7 channels have no 8x8 blocks at all); the rest of the edges is scalar.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ReadOnlySpan<float> source, int sourceStride, Span<float> destination, int destinationStride, int rows, int columns)
    {
        if (rows <= 0 || columns <= 0) return;
        // Every index below stays inside these two bounds, so the blocks and the edges may use unchecked loads and stores.
        int sourceEnd = (rows - 1) * sourceStride + columns, destinationEnd = (columns - 1) * destinationStride + rows;
        ref float s = ref MemoryMarshal.GetReference(source[..sourceEnd]);
        ref float d = ref MemoryMarshal.GetReference(destination[..destinationEnd]);
        if (columns == 4 && sourceStride == 4 && rows >= 16 && Avx512F.IsSupported)
        {
            // Rows of 4 contiguous floats (a 4-channel layer's pixels): 16 rows are 4 full vectors, and 8 two-source
            // permutes turn them into the 4 columns, where 4x4 blocks would take 32 shuffles and 16 narrow stores.
            int rows16 = rows / 16 * 16;
            for (int r = 0; r < rows16; r += 16)
                Block16x4(ref Unsafe.Add(ref s, r * 4), ref Unsafe.Add(ref d, r), destinationStride);
            Run(source[(rows16 * 4)..], 4, destination[rows16..], destinationStride, rows - rows16, 4);
            return;
        }

        int rows8 = 0, columns8 = 0, rows4 = 0, columns4 = 0;
        // The blocks sweep along the side with the larger stride (a CHW plane, typically), so that its rows are
        // written or read as a few sequential streams: sweeping across it instead touches lines a whole plane apart, which
        // (planes being multiples of 4 KiB) land in the same few L1 sets and evict each other; measured 5x slower on 64
        // channels of 64 x 64. Writing planes (the destination's stride the larger), 4x4 blocks are used throughout: 4
        // streams into memory at a time, where 8 (8x8 blocks) were measured 10 % slower and 16 slower still (relayouting
        // 128 -> 64 channel rows into a 1 MiB NCHW output).
        bool columnsOuter = destinationStride > sourceStride;
        if (Avx.IsSupported && !columnsOuter)
        {
            rows8 = rows / 8 * 8;
            columns8 = columns / 8 * 8;
            for (int r = 0; r < rows8; r += 8)
                for (int c = 0; c < columns8; c += 8)
                    Block8x8(ref Unsafe.Add(ref s, r * sourceStride + c), sourceStride, ref Unsafe.Add(ref d, c * destinationStride + r), destinationStride);
        }

        if (Sse.IsSupported)
        {
            // 4x4 blocks right of the 8x8 blocks (rows [0, rows4)) and below them (columns [0, columns8)).
            rows4 = rows / 4 * 4;
            columns4 = columns / 4 * 4;
            if (columnsOuter)
            {
                for (int c = 0; c < columns4; c += 4)
                    for (int r = c < columns8 ? rows8 : 0; r < rows4; r += 4)
                        Block4x4(ref Unsafe.Add(ref s, r * sourceStride + c), sourceStride, ref Unsafe.Add(ref d, c * destinationStride + r), destinationStride);
            }
            else
            {
                for (int r = 0; r < rows4; r += 4)
                    for (int c = r < rows8 ? columns8 : 0; c < columns4; c += 4)
                        Block4x4(ref Unsafe.Add(ref s, r * sourceStride + c), sourceStride, ref Unsafe.Add(ref d, c * destinationStride + r), destinationStride);
            }
        }

        // Edges: the columns right of the blocks for every row, and the rows below them for the block columns.
        for (int r = 0; r < rows; r++)
            for (int c = columns4; c < columns; c++)
                Unsafe.Add(ref d, c * destinationStride + r) = Unsafe.Add(ref s, r * sourceStride + c);
        for (int r = rows4; r < rows; r++)
            for (int c = 0; c < columns4; c++)
                Unsafe.Add(ref d, c * destinationStride + r) = Unsafe.Add(ref s, r * sourceStride + c);
    }

    /// <summary>
    /// Writes the channel planes of <paramref name="pixels"/> channel-last pixels of <paramref name="channels"/> channels
    /// (<paramref name="source"/>, contiguous) with the bias of each channel added and, if <paramref name="relu"/>, ReLU
    /// applied: <c>destination[c * destinationStride + p] = f(source[p * channels + c] + bias[c])</c>, the values
    /// <see cref="Activations"/> gives after adding the bias in place (<paramref name="bias"/> empty: no bias). Blocks of 8
    /// pixels x 4 channels go through registers, so that each plane is written 32 bytes at a time in 4 streams (the 4x4
    /// blocks of <see cref="Run"/> store 16) and the bias and ReLU pass over the data disappears.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToPlanes(ReadOnlySpan<float> source, Span<float> destination, int destinationStride, int pixels, int channels,
        ReadOnlySpan<float> bias, bool relu)
    {
        if (pixels <= 0 || channels <= 0) return;
        ref float s = ref MemoryMarshal.GetReference(source[..(pixels * channels)]);
        ref float d = ref MemoryMarshal.GetReference(destination[..((channels - 1) * destinationStride + pixels)]);
        bool hasBias = !bias.IsEmpty;
        if (hasBias) _ = bias[channels - 1];
        ref float b = ref MemoryMarshal.GetReference(bias);
        int pixels8 = Avx.IsSupported ? pixels / 8 * 8 : 0, channels4 = Avx.IsSupported ? channels / 4 * 4 : 0;
        // One channel group at a time along the whole plane: 4 sequential streams of 32-byte stores (see Run on writing planes).
        for (int c = 0; c < channels4; c += 4)
        {
            Vector128<float> bias4 = hasBias ? Vector128.LoadUnsafe(ref Unsafe.Add(ref b, c)) : Vector128<float>.Zero;
            Vector256<float> add = Vector256.Create(bias4, bias4); // the 4 channels' bias in both 128-bit lanes
            ref float row = ref Unsafe.Add(ref d, c * destinationStride);
            for (int p = 0; p < pixels8; p += 8)
                Block8x4(ref Unsafe.Add(ref s, p * channels + c), channels, ref Unsafe.Add(ref row, p), destinationStride, add, hasBias, relu);
        }

        // Edges: the pixels past the blocks for the block channels, then the channels past them for every pixel.
        for (int c = 0; c < channels; c++)
        {
            float add = hasBias ? Unsafe.Add(ref b, c) : 0f;
            for (int p = c < channels4 ? pixels8 : 0; p < pixels; p++)
            {
                float v = Unsafe.Add(ref s, p * channels + c);
                if (hasBias) v += add;
                Unsafe.Add(ref d, c * destinationStride + p) = relu ? Activations.Relu(v) : v;
            }
        }
    }

    /// <summary>8 pixels x 4 channels of <see cref="ToPlanes"/>: pixels 0-3 in the low 128-bit lanes, 4-7 in the high ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block8x4(ref float source, int sourceStride, ref float destination, int destinationStride,
        Vector256<float> bias, bool hasBias, bool relu)
    {
        Vector256<float> r0 = Vector256.Create(Vector128.LoadUnsafe(ref source), Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 4 * sourceStride)));
        Vector256<float> r1 = Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.Add(ref source, sourceStride)), Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 5 * sourceStride)));
        Vector256<float> r2 = Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 2 * sourceStride)), Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 6 * sourceStride)));
        Vector256<float> r3 = Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 3 * sourceStride)), Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 7 * sourceStride)));
        if (hasBias)
        {
            r0 = Avx.Add(r0, bias);
            r1 = Avx.Add(r1, bias);
            r2 = Avx.Add(r2, bias);
            r3 = Avx.Add(r3, bias);
        }

        if (relu)
        {
            // x < 0 ? 0 : x, lane by lane: NaN and -0 stay (Activations.Relu).
            r0 = Vector256.ConditionalSelect(Vector256.LessThan(r0, Vector256<float>.Zero), Vector256<float>.Zero, r0);
            r1 = Vector256.ConditionalSelect(Vector256.LessThan(r1, Vector256<float>.Zero), Vector256<float>.Zero, r1);
            r2 = Vector256.ConditionalSelect(Vector256.LessThan(r2, Vector256<float>.Zero), Vector256<float>.Zero, r2);
            r3 = Vector256.ConditionalSelect(Vector256.LessThan(r3, Vector256<float>.Zero), Vector256<float>.Zero, r3);
        }

        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Avx.Shuffle(t0, t2, 0x44).StoreUnsafe(ref destination);
        Avx.Shuffle(t0, t2, 0xEE).StoreUnsafe(ref Unsafe.Add(ref destination, destinationStride));
        Avx.Shuffle(t1, t3, 0x44).StoreUnsafe(ref Unsafe.Add(ref destination, 2 * destinationStride));
        Avx.Shuffle(t1, t3, 0xEE).StoreUnsafe(ref Unsafe.Add(ref destination, 3 * destinationStride));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block16x4(ref float source, ref float destination, int destinationStride)
    {
        Vector512<float> z0 = Vector512.LoadUnsafe(ref source);
        Vector512<float> z1 = Vector512.LoadUnsafe(ref Unsafe.Add(ref source, 16));
        Vector512<float> z2 = Vector512.LoadUnsafe(ref Unsafe.Add(ref source, 32));
        Vector512<float> z3 = Vector512.LoadUnsafe(ref Unsafe.Add(ref source, 48));

        // Indices 0-15 pick from the first source, 16-31 from the second. First columns 0 and 1 (and 2 and 3) of 8 rows
        // each, then the halves of 8 rows joined into 16.
        Vector512<int> evenColumns = Vector512.Create(0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
        Vector512<int> oddColumns = Vector512.Create(2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
        Vector512<int> lowHalves = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
        Vector512<int> highHalves = Vector512.Create(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
        Vector512<float> c01Top = Avx512F.PermuteVar16x32x2(z0, evenColumns, z1);
        Vector512<float> c23Top = Avx512F.PermuteVar16x32x2(z0, oddColumns, z1);
        Vector512<float> c01Bottom = Avx512F.PermuteVar16x32x2(z2, evenColumns, z3);
        Vector512<float> c23Bottom = Avx512F.PermuteVar16x32x2(z2, oddColumns, z3);

        Avx512F.PermuteVar16x32x2(c01Top, lowHalves, c01Bottom).StoreUnsafe(ref destination);
        Avx512F.PermuteVar16x32x2(c01Top, highHalves, c01Bottom).StoreUnsafe(ref Unsafe.Add(ref destination, destinationStride));
        Avx512F.PermuteVar16x32x2(c23Top, lowHalves, c23Bottom).StoreUnsafe(ref Unsafe.Add(ref destination, 2 * destinationStride));
        Avx512F.PermuteVar16x32x2(c23Top, highHalves, c23Bottom).StoreUnsafe(ref Unsafe.Add(ref destination, 3 * destinationStride));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x4(ref float source, int sourceStride, ref float destination, int destinationStride)
    {
        Vector128<float> r0 = Vector128.LoadUnsafe(ref source);
        Vector128<float> r1 = Vector128.LoadUnsafe(ref Unsafe.Add(ref source, sourceStride));
        Vector128<float> r2 = Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 2 * sourceStride));
        Vector128<float> r3 = Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 3 * sourceStride));

        // [a0 b0 a1 b1], [a2 b2 a3 b3], [c0 d0 c1 d1], [c2 d2 c3 d3]; then pair the halves.
        Vector128<float> t0 = Sse.UnpackLow(r0, r1), t1 = Sse.UnpackHigh(r0, r1);
        Vector128<float> t2 = Sse.UnpackLow(r2, r3), t3 = Sse.UnpackHigh(r2, r3);
        Sse.MoveLowToHigh(t0, t2).StoreUnsafe(ref destination);
        Sse.MoveHighToLow(t2, t0).StoreUnsafe(ref Unsafe.Add(ref destination, destinationStride));
        Sse.MoveLowToHigh(t1, t3).StoreUnsafe(ref Unsafe.Add(ref destination, 2 * destinationStride));
        Sse.MoveHighToLow(t3, t1).StoreUnsafe(ref Unsafe.Add(ref destination, 3 * destinationStride));
    }

    /// <remarks>
    /// Rows 0-3 go to the low 128-bit lanes and rows 4-7 to the high ones as they are loaded (128-bit halves), so that
    /// only in-lane shuffles follow: a 4 x 4 transposition per lane. Loading whole rows and swapping 128-bit halves at the
    /// end (8 lane-crossing permutes) was measured 13 % slower transposing unet_up's NCHW input (128 channels of 32 x 32,
    /// whose planes lie 4 KiB apart) into HWC bands on a Zen 4 with AVX-512 off.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block8x8(ref float source, int sourceStride, ref float destination, int destinationStride)
    {
        // r0-r3: columns 0-3 of rows (0, 4), (1, 5), (2, 6), (3, 7); r4-r7: columns 4-7 of the same rows.
        Vector256<float> r0 = Vector256.Create(Vector128.LoadUnsafe(ref source), Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 4 * sourceStride)));
        Vector256<float> r1 = Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.Add(ref source, sourceStride)), Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 5 * sourceStride)));
        Vector256<float> r2 = Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 2 * sourceStride)), Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 6 * sourceStride)));
        Vector256<float> r3 = Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 3 * sourceStride)), Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 7 * sourceStride)));
        Vector256<float> r4 = Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 4)), Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 4 * sourceStride + 4)));
        Vector256<float> r5 = Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.Add(ref source, sourceStride + 4)), Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 5 * sourceStride + 4)));
        Vector256<float> r6 = Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 2 * sourceStride + 4)), Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 6 * sourceStride + 4)));
        Vector256<float> r7 = Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 3 * sourceStride + 4)), Vector128.LoadUnsafe(ref Unsafe.Add(ref source, 7 * sourceStride + 4)));

        // Within each lane: interleave pairs of rows, then pairs of pairs. Output row c (c < 4) comes from r0-r3, row c + 4 from r4-r7.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Avx.Shuffle(t0, t2, 0x44).StoreUnsafe(ref destination);
        Avx.Shuffle(t0, t2, 0xEE).StoreUnsafe(ref Unsafe.Add(ref destination, destinationStride));
        Avx.Shuffle(t1, t3, 0x44).StoreUnsafe(ref Unsafe.Add(ref destination, 2 * destinationStride));
        Avx.Shuffle(t1, t3, 0xEE).StoreUnsafe(ref Unsafe.Add(ref destination, 3 * destinationStride));
        Avx.Shuffle(t4, t6, 0x44).StoreUnsafe(ref Unsafe.Add(ref destination, 4 * destinationStride));
        Avx.Shuffle(t4, t6, 0xEE).StoreUnsafe(ref Unsafe.Add(ref destination, 5 * destinationStride));
        Avx.Shuffle(t5, t7, 0x44).StoreUnsafe(ref Unsafe.Add(ref destination, 6 * destinationStride));
        Avx.Shuffle(t5, t7, 0xEE).StoreUnsafe(ref Unsafe.Add(ref destination, 7 * destinationStride));
    }
}
