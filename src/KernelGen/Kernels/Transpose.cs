using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace KernelGen.Kernels;

/// <summary>Strided matrix transposition for the layout changes between channel-first and channel-last data.</summary>
internal static class Transpose
{
    /// <summary>
    /// <c>destination[c * destinationStride + r] = source[r * sourceStride + c]</c> for <c>r &lt; rows</c>, <c>c &lt; columns</c>.
    /// 8x8 blocks go through registers with AVX (a scalar gather strides through memory one element at a time); the
    /// edges are scalar.
    /// </summary>
    public static void Run(ReadOnlySpan<float> source, int sourceStride, Span<float> destination, int destinationStride, int rows, int columns)
    {
        if (rows <= 0 || columns <= 0) return;
        // Every index below stays inside these two bounds, so the blocks may use unchecked loads and stores.
        int sourceEnd = (rows - 1) * sourceStride + columns, destinationEnd = (columns - 1) * destinationStride + rows;
        source = source[..sourceEnd];
        destination = destination[..destinationEnd];
        int blockRows = 0, blockColumns = 0;
        if (Avx.IsSupported)
        {
            blockRows = rows / 8 * 8;
            blockColumns = columns / 8 * 8;
            ref float s = ref MemoryMarshal.GetReference(source);
            ref float d = ref MemoryMarshal.GetReference(destination);
            for (int r = 0; r < blockRows; r += 8)
                for (int c = 0; c < blockColumns; c += 8)
                    Block8x8(ref Unsafe.Add(ref s, r * sourceStride + c), sourceStride, ref Unsafe.Add(ref d, c * destinationStride + r), destinationStride);
        }

        // Edges: the columns right of the blocks for every row, and the rows below them for the block columns.
        for (int r = 0; r < rows; r++)
            for (int c = blockColumns; c < columns; c++)
                destination[c * destinationStride + r] = source[r * sourceStride + c];
        for (int r = blockRows; r < rows; r++)
            for (int c = 0; c < blockColumns; c++)
                destination[c * destinationStride + r] = source[r * sourceStride + c];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block8x8(ref float source, int sourceStride, ref float destination, int destinationStride)
    {
        Vector256<float> r0 = Vector256.LoadUnsafe(ref source);
        Vector256<float> r1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, sourceStride));
        Vector256<float> r2 = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, 2 * sourceStride));
        Vector256<float> r3 = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, 3 * sourceStride));
        Vector256<float> r4 = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, 4 * sourceStride));
        Vector256<float> r5 = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, 5 * sourceStride));
        Vector256<float> r6 = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, 6 * sourceStride));
        Vector256<float> r7 = Vector256.LoadUnsafe(ref Unsafe.Add(ref source, 7 * sourceStride));

        // Interleave pairs of rows, then pairs of pairs (within 128-bit lanes), then swap 128-bit halves across.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);

        Avx.Permute2x128(s0, s4, 0x20).StoreUnsafe(ref destination);
        Avx.Permute2x128(s1, s5, 0x20).StoreUnsafe(ref Unsafe.Add(ref destination, destinationStride));
        Avx.Permute2x128(s2, s6, 0x20).StoreUnsafe(ref Unsafe.Add(ref destination, 2 * destinationStride));
        Avx.Permute2x128(s3, s7, 0x20).StoreUnsafe(ref Unsafe.Add(ref destination, 3 * destinationStride));
        Avx.Permute2x128(s0, s4, 0x31).StoreUnsafe(ref Unsafe.Add(ref destination, 4 * destinationStride));
        Avx.Permute2x128(s1, s5, 0x31).StoreUnsafe(ref Unsafe.Add(ref destination, 5 * destinationStride));
        Avx.Permute2x128(s2, s6, 0x31).StoreUnsafe(ref Unsafe.Add(ref destination, 6 * destinationStride));
        Avx.Permute2x128(s3, s7, 0x31).StoreUnsafe(ref Unsafe.Add(ref destination, 7 * destinationStride));
    }
}
