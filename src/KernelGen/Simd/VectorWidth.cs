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
    /// <summary>The widest accelerated width.</summary>
    public static VectorWidth Widest =>
        Vector512.IsHardwareAccelerated ? VectorWidth.V512
        : Vector256.IsHardwareAccelerated ? VectorWidth.V256
        : Vector128.IsHardwareAccelerated ? VectorWidth.V128
        : VectorWidth.Scalar;

    /// <summary>
    /// The widest accelerated width, at most <paramref name="cap"/>, whose lane count does not exceed <paramref name="extent"/>
    /// (but at least 128-bit when accelerated and not capped below).
    /// </summary>
    /// <param name="cap">A narrower width to use instead of the hardware's (tests: see <see cref="Planning.PlanOptions.MaxVectorWidth"/>), or null.</param>
    public static VectorWidth For(int extent, VectorWidth? cap = null)
    {
        VectorWidth widest = cap is { } c && c < Widest ? c : Widest;
        while (widest > VectorWidth.V128 && (int)widest > extent)
            widest = widest == VectorWidth.V512 ? VectorWidth.V256 : VectorWidth.V128;
        return widest;
    }
}
