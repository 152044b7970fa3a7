using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace KernelGen.CompilerServices;

/// <summary>
/// What kernels emitted by the KernelGen generator call that C# without <c>unsafe</c> cannot say. Generated code lives in the
/// user's project, which need not allow unsafe code, so it calls these instead. Not meant to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GeneratedKernelSupport
{
    /// <summary>
    /// Asks the CPU to bring the cache line that holds <paramref name="location"/> into its caches ahead of its use (x86's
    /// <c>prefetcht0</c>); nothing elsewhere. A hint only: it reads nothing the caller sees, never faults (a location past
    /// the end of the data is allowed), and unlike a load it does not hold the instructions after it until the line arrives.
    /// </summary>
    /// <param name="location">Any element of the cache line to fetch.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Prefetch(ref float location)
    {
        // The pointer is used at once and only as a hint: if the GC moved the array in between, a stale line is fetched, no more.
        if (Sse.IsSupported) Sse.Prefetch0(Unsafe.AsPointer(ref location));
    }

    /// <summary>
    /// The first element of <paramref name="pinnedBuffer"/> that starts a 64-byte cache line: generated kernels copy weights
    /// there so that their vector loads never straddle two lines.
    /// </summary>
    /// <param name="pinnedBuffer">
    /// A buffer that never moves (made with <see cref="GC.AllocateArray{T}(int, bool)"/> and <c>pinned: true</c>), with 15
    /// elements to spare beyond what the caller uses. Elsewhere the start would not stay aligned.
    /// </param>
    /// <exception cref="ArgumentException">The buffer has fewer than 16 elements.</exception>
    public static unsafe ref float AlignedStart(float[] pinnedBuffer)
    {
        ArgumentNullException.ThrowIfNull(pinnedBuffer);
        if (pinnedBuffer.Length < 16)
            throw new ArgumentException($"The buffer has {pinnedBuffer.Length} elements; it needs at least 16 so that an aligned start lies inside it.", nameof(pinnedBuffer));
        ref float first = ref MemoryMarshal.GetArrayDataReference(pinnedBuffer);
        int misalignment = (int)((nuint)Unsafe.AsPointer(ref first) % 64);
        return ref Unsafe.Add(ref first, misalignment == 0 ? 0 : (64 - misalignment) / sizeof(float));
    }
}
