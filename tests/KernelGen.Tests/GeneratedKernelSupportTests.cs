using KernelGen.CompilerServices;

namespace KernelGen.Tests;

/// <summary>The helpers generated kernels call: hints only, which must never fault nor change what they point at.</summary>
public class GeneratedKernelSupportTests
{
    [Fact]
    public void APrefetchChangesNothingAndNeverFaultsEvenPastTheEnd()
    {
        float[] data = [1, 2, 3, 4];
        ref float first = ref data[0];
        for (int offset = 0; offset < 4; offset++) GeneratedKernelSupport.Prefetch(ref System.Runtime.CompilerServices.Unsafe.Add(ref first, offset));

        // A hint, not a read: an address past the array is allowed.
        GeneratedKernelSupport.Prefetch(ref System.Runtime.CompilerServices.Unsafe.Add(ref first, 1 << 20));

        Assert.Equal([1f, 2f, 3f, 4f], data);
    }
}
