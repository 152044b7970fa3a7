using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace KernelGen.Simd;

/// <summary>
/// The vector operations the kernels need, once per vector width. Kernels are generic over a struct implementing this,
/// so the JIT compiles one specialised copy per width and the static calls inline to single instructions.
/// </summary>
/// <typeparam name="TVec">The vector type (<see cref="Vector512{T}"/>, <see cref="Vector256{T}"/>, <see cref="Vector128{T}"/> or <see cref="float"/>).</typeparam>
internal interface ISimd<TVec> where TVec : struct
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Count { get; }

    static abstract TVec Broadcast(float value);

    static abstract TVec Load(ref float source);

    static abstract void Store(ref float destination, TVec value);

    /// <summary><c>a * b + addend</c>, fused where the hardware has FMA.</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec addend);

    /// <summary>Interleaves two vectors: <c>lower = [a0, b0, a1, b1, ...]</c>, <c>upper</c> the same for the upper halves.</summary>
    static abstract void Interleave(TVec a, TVec b, out TVec lower, out TVec upper);
}

/// <summary>AVX-512: 16 lanes.</summary>
internal readonly struct Simd512 : ISimd<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ref float source) => Vector512.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref float destination, Vector512<float> value) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> addend) =>
        Avx512F.IsSupported ? Avx512F.FusedMultiplyAdd(a, b, addend) : a * b + addend;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(Vector512<float> a, Vector512<float> b, out Vector512<float> lower, out Vector512<float> upper)
    {
        if (Avx512F.IsSupported)
        {
            // Two-source permutes: indices 0-15 pick from a, 16-31 from b.
            lower = Avx512F.PermuteVar16x32x2(a, Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), b);
            upper = Avx512F.PermuteVar16x32x2(a, Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), b);
        }
        else
        {
            Simd256.Interleave(a.GetLower(), b.GetLower(), out var l0, out var l1);
            Simd256.Interleave(a.GetUpper(), b.GetUpper(), out var u0, out var u1);
            lower = Vector512.Create(l0, l1);
            upper = Vector512.Create(u0, u1);
        }
    }
}

/// <summary>AVX2 + FMA (and the 256-bit path on any other platform that accelerates it): 8 lanes.</summary>
internal readonly struct Simd256 : ISimd<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Broadcast(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(ref float source) => Vector256.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref float destination, Vector256<float> value) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> addend) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, addend) : a * b + addend;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(Vector256<float> a, Vector256<float> b, out Vector256<float> lower, out Vector256<float> upper)
    {
        if (Avx.IsSupported)
        {
            // vunpck* interleave within each 128-bit lane; the cross-lane permutes put the halves in order.
            Vector256<float> low = Avx.UnpackLow(a, b), high = Avx.UnpackHigh(a, b);
            lower = Avx.Permute2x128(low, high, 0x20);
            upper = Avx.Permute2x128(low, high, 0x31);
        }
        else
        {
            Simd128.Interleave(a.GetLower(), b.GetLower(), out var l0, out var l1);
            Simd128.Interleave(a.GetUpper(), b.GetUpper(), out var u0, out var u1);
            lower = Vector256.Create(l0, l1);
            upper = Vector256.Create(u0, u1);
        }
    }
}

/// <summary>SSE or ARM64 AdvSIMD: 4 lanes.</summary>
internal readonly struct Simd128 : ISimd<Vector128<float>>
{
    public static int Count => Vector128<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Broadcast(float value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(ref float source) => Vector128.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref float destination, Vector128<float> value) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> addend) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, addend)
        : AdvSimd.IsSupported ? AdvSimd.FusedMultiplyAdd(addend, a, b)
        : a * b + addend;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(Vector128<float> a, Vector128<float> b, out Vector128<float> lower, out Vector128<float> upper)
    {
        if (Sse.IsSupported)
        {
            lower = Sse.UnpackLow(a, b);
            upper = Sse.UnpackHigh(a, b);
        }
        else if (AdvSimd.Arm64.IsSupported)
        {
            lower = AdvSimd.Arm64.ZipLow(a, b);
            upper = AdvSimd.Arm64.ZipHigh(a, b);
        }
        else
        {
            lower = Vector128.Create(a.GetElement(0), b.GetElement(0), a.GetElement(1), b.GetElement(1));
            upper = Vector128.Create(a.GetElement(2), b.GetElement(2), a.GetElement(3), b.GetElement(3));
        }
    }
}

/// <summary>No SIMD: one lane, plain multiply and add.</summary>
internal readonly struct SimdScalar : ISimd<float>
{
    public static int Count => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Broadcast(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(ref float source) => source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref float destination, float value) => destination = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAdd(float a, float b, float addend) => a * b + addend;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(float a, float b, out float lower, out float upper)
    {
        lower = a;
        upper = b;
    }
}
