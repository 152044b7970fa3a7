using System.Runtime.CompilerServices;

namespace KernelGen.Kernels;

/// <summary>
/// A buffer of floats whose start is 64-byte aligned (a pinned array, so that the alignment stays): the kernels' vector
/// loads and stores then never straddle two cache lines (with an array's usual 16-byte offset every 512-bit one did; the
/// transpositions' loads from such a buffer were measured 1.2x slower). Grows, never shrinks; <see cref="Slice"/>s that
/// start at multiples of <see cref="RoundUp"/> are aligned too.
/// </summary>
internal sealed unsafe class AlignedBuffer
{
    private const int AlignmentFloats = 64 / sizeof(float);

    private float[] _array = [];
    private int _offset;

    /// <summary><paramref name="floats"/> rounded up to a whole number of 64-byte lines.</summary>
    public static int RoundUp(int floats) => checked(floats + AlignmentFloats - 1) / AlignmentFloats * AlignmentFloats;

    /// <summary>Makes room for at least <paramref name="length"/> floats from the aligned start (the contents are lost when it grows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Ensure(int length)
    {
        if (_array.Length - _offset >= length)
            return;
        _array = GC.AllocateUninitializedArray<float>(checked(length + AlignmentFloats - 1), pinned: true);
        fixed (float* start = _array)
            _offset = (int)((64 - ((nint)start & 63)) & 63) / sizeof(float);
    }

    /// <summary>The <paramref name="length"/> floats from <paramref name="start"/> on (relative to the aligned start).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<float> Slice(int start, int length) => _array.AsSpan(_offset + start, length);

    /// <summary>Every float from the aligned start on (at least the length last ensured).</summary>
    public Span<float> Span => _array.AsSpan(_offset);
}
