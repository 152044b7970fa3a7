using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KernelGen.Kernels;

/// <summary>
/// Zeroing, copying and the overlap check of float spans on the path of every call, as the library's own code rather than
/// the framework's (<see cref="Span{T}.Clear"/>, <see cref="Span{T}.CopyTo"/>, <c>MemoryExtensions.Overlaps</c>).
/// </summary>
/// <remarks>
/// The framework's versions are precompiled (ReadyToRun) or, for generic instantiations, compiled at tier 0, and tiered
/// compilation recompiles them once a process has called them 30 times: a call of a layer then pays for the call counting
/// that promotes them (call 7 of small_fixed took 4-5 µs against 0.9 on a Zen 5, in every process; not with
/// <c>DOTNET_TieredCompilation=0</c> nor under NativeAOT) and later runs their instrumented tier for a while. These are
/// compiled fully optimised on their first call and never again, as every other method of a call's path
/// (docs/first-calls.md).
/// </remarks>
internal static class FloatSpans
{
    /// <summary>Writes 0 to every element of <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Clear(Span<float> destination)
    {
        ref float to = ref MemoryMarshal.GetReference(destination);
        nuint length = (nuint)destination.Length, lanes = (nuint)Vector<float>.Count, x = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; x + 4 * lanes <= length; x += 4 * lanes)
            {
                Vector<float>.Zero.StoreUnsafe(ref to, x);
                Vector<float>.Zero.StoreUnsafe(ref to, x + lanes);
                Vector<float>.Zero.StoreUnsafe(ref to, x + 2 * lanes);
                Vector<float>.Zero.StoreUnsafe(ref to, x + 3 * lanes);
            }

            for (; x + lanes <= length; x += lanes)
                Vector<float>.Zero.StoreUnsafe(ref to, x);
        }

        for (; x < length; x++)
            Unsafe.Add(ref to, x) = 0f;
    }

    /// <summary>
    /// Copies <paramref name="source"/> to the start of <paramref name="destination"/>, which must be at least as long and
    /// must not overlap it (the callers copy between separate buffers).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Copy(ReadOnlySpan<float> source, Span<float> destination)
    {
        if ((uint)source.Length > (uint)destination.Length) throw new ArgumentException("The destination is too short.", nameof(destination));
        ref float from = ref MemoryMarshal.GetReference(source);
        ref float to = ref MemoryMarshal.GetReference(destination);
        nuint length = (nuint)source.Length, lanes = (nuint)Vector<float>.Count, x = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; x + 4 * lanes <= length; x += 4 * lanes)
            {
                Vector<float> a = Vector.LoadUnsafe(ref from, x), b = Vector.LoadUnsafe(ref from, x + lanes);
                Vector<float> c = Vector.LoadUnsafe(ref from, x + 2 * lanes), d = Vector.LoadUnsafe(ref from, x + 3 * lanes);
                a.StoreUnsafe(ref to, x);
                b.StoreUnsafe(ref to, x + lanes);
                c.StoreUnsafe(ref to, x + 2 * lanes);
                d.StoreUnsafe(ref to, x + 3 * lanes);
            }

            for (; x + lanes <= length; x += lanes)
                Vector.LoadUnsafe(ref from, x).StoreUnsafe(ref to, x);
        }

        for (; x < length; x++)
            Unsafe.Add(ref to, x) = Unsafe.Add(ref from, x);
    }

    /// <summary>Whether the two spans share any element (what <c>MemoryExtensions.Overlaps</c> answers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Overlap(ReadOnlySpan<float> first, ReadOnlySpan<float> second)
    {
        if (first.IsEmpty || second.IsEmpty) return false;
        nint offset = Unsafe.ByteOffset(ref MemoryMarshal.GetReference(first), ref MemoryMarshal.GetReference(second));
        // second starts inside first, or first starts inside second.
        return (nuint)offset < (nuint)((nint)first.Length * sizeof(float)) || (nuint)(-offset) < (nuint)((nint)second.Length * sizeof(float));
    }
}
