using System.ComponentModel;
using System.Runtime.CompilerServices;
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
}
