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

    [Theory]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(1039)]
    public unsafe void AlignedStartIsTheFirstElementOnACacheLineInsideThePinnedBuffer(int length)
    {
        var buffer = GC.AllocateArray<float>(length, pinned: true);
        ref float start = ref GeneratedKernelSupport.AlignedStart(buffer);

        long address = (long)System.Runtime.CompilerServices.Unsafe.AsPointer(ref start);
        long first = (long)System.Runtime.CompilerServices.Unsafe.AsPointer(ref buffer[0]);
        Assert.Equal(0, address % 64);
        Assert.InRange((address - first) / sizeof(float), 0, 15);
    }

    [Fact]
    public void AlignedStartRejectsABufferWithoutRoomToAlign()
    {
        var e = Assert.Throws<ArgumentException>(() => GeneratedKernelSupport.AlignedStart(new float[15]));
        Assert.Equal("pinnedBuffer", e.ParamName);
        Assert.Contains("15", e.Message);
    }
}
