namespace KernelGen.Tests;

/// <summary>Allocation checks that a GC started by another thread cannot fail.</summary>
internal static class Allocations
{
    /// <summary>
    /// The fewest bytes this thread allocated over up to five windows of three calls: the counter can jump by a few KB when
    /// another thread's allocation starts a GC inside a window (this thread's allocation context is retired: 7864 bytes
    /// once, in a test host's first run); an allocation by the call itself shows in every window.
    /// </summary>
    public static long FewestBytes(Action call)
    {
        long fewest = long.MaxValue;
        for (int window = 0; window < 5 && fewest != 0; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 3; i++) call();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return fewest;
    }
}
