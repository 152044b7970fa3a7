using System.Runtime.Intrinsics;

namespace KernelGen.Simd;

/// <summary>The SIMD widths the kernels are compiled for, in lanes of <see cref="float"/>.</summary>
internal enum VectorWidth
{
    Scalar = 1,
    V128 = 4,
    V256 = 8,
    V512 = 16,
}

/// <summary>Chooses the vector width: the widest the hardware accelerates, capped by what the data can fill.</summary>
internal static class VectorWidths
{
    /// <summary>
    /// Tests set this to run the kernels at a narrower width than the hardware's, so that every path is exercised in
    /// one process (the CI also reruns the suite with AVX-512, AVX2 and all intrinsics switched off).
    /// </summary>
    internal static VectorWidth? MaximumOverride { get; set; }

    /// <summary>The widest accelerated width.</summary>
    public static VectorWidth Widest
    {
        get
        {
            VectorWidth hardware =
                Vector512.IsHardwareAccelerated ? VectorWidth.V512
                : Vector256.IsHardwareAccelerated ? VectorWidth.V256
                : Vector128.IsHardwareAccelerated ? VectorWidth.V128
                : VectorWidth.Scalar;
            return MaximumOverride is { } cap && cap < hardware ? cap : hardware;
        }
    }

    /// <summary>The widest accelerated width whose lane count does not exceed <paramref name="extent"/> (but at least 128-bit when accelerated).</summary>
    public static VectorWidth For(int extent)
    {
        VectorWidth widest = Widest;
        while (widest > VectorWidth.V128 && (int)widest > extent)
            widest = widest == VectorWidth.V512 ? VectorWidth.V256 : VectorWidth.V128;
        return widest;
    }
}
