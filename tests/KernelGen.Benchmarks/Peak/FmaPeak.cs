using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Benchmarks.Peak;

/// <summary>
/// The machine's float32 FMA ceiling per core, the denominator of the suite's "% of peak" column: a call-free loop of
/// twelve independent fused multiply-add chains held in registers. Twelve chains cover the FMA latency (4 cycles) times
/// the FMA ports (2) of Zen 4 with room to spare; Vector512 has the same width in flops on Zen 4 (double-pumped), so
/// both loops should reach the same figure there (about 115-117 GFLOP/s per core on the project's machine).
/// </summary>
/// <remarks>
/// Disassembly checked once with <c>DOTNET_JitDisasm="Vector256Loop Vector512Loop" DOTNET_JitStdOutFile=fma.asm
/// dotnet KernelGen.Benchmarks.dll --fma</c> (.NET 10.0.x, FullOpts, Zen 4 with AVX-512): each loop body is exactly twelve
/// <c>vfmadd213ps</c> on ymm3-ymm13 and ymm0 (zmm for Vector512) with the multiplier and addend in ymm1/ymm2, then
/// <c>dec rsi; jne</c>: no load or store to the stack inside the loop, so no spill. It measured 115.8 GFLOP/s (Vector256)
/// on one core. Keep it that way: no call, no Stopwatch read, no array access in the loop (RyuJIT spills vector locals
/// that live across a call; such a loop measured 29 GFLOP/s).
/// </remarks>
public static class FmaPeak
{
    /// <summary>Independent accumulators per loop.</summary>
    public const int Accumulators = 12;

    /// <summary>The multiplier of every chain: 0.5 keeps each chain converging to 2 · addend, never overflowing or going subnormal.</summary>
    public const float Multiplier = 0.5f;

    /// <summary>Flops of one iteration of <see cref="Vector256Loop"/> (a fused multiply-add counts two).</summary>
    public static long Vector256FlopsPerIteration => 2L * Accumulators * Vector256<float>.Count;

    /// <summary>Flops of one iteration of <see cref="Vector512Loop"/>.</summary>
    public static long Vector512FlopsPerIteration => 2L * Accumulators * Vector512<float>.Count;

    /// <summary>
    /// <paramref name="iterations"/> rounds of <c>acc[i] = acc[i] * multiplier + addend</c> over twelve Vector256
    /// accumulators starting at <c>start + i</c>; returns their sum so the JIT cannot drop the work.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static Vector256<float> Vector256Loop(long iterations, float start, float multiplier, float addend)
    {
        Vector256<float> m = Vector256.Create(multiplier), c = Vector256.Create(addend);
        Vector256<float> a0 = Vector256.Create(start), a1 = Vector256.Create(start + 1), a2 = Vector256.Create(start + 2);
        Vector256<float> a3 = Vector256.Create(start + 3), a4 = Vector256.Create(start + 4), a5 = Vector256.Create(start + 5);
        Vector256<float> a6 = Vector256.Create(start + 6), a7 = Vector256.Create(start + 7), a8 = Vector256.Create(start + 8);
        Vector256<float> a9 = Vector256.Create(start + 9), a10 = Vector256.Create(start + 10), a11 = Vector256.Create(start + 11);
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c);
            a1 = Vector256.FusedMultiplyAdd(a1, m, c);
            a2 = Vector256.FusedMultiplyAdd(a2, m, c);
            a3 = Vector256.FusedMultiplyAdd(a3, m, c);
            a4 = Vector256.FusedMultiplyAdd(a4, m, c);
            a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c);
            a7 = Vector256.FusedMultiplyAdd(a7, m, c);
            a8 = Vector256.FusedMultiplyAdd(a8, m, c);
            a9 = Vector256.FusedMultiplyAdd(a9, m, c);
            a10 = Vector256.FusedMultiplyAdd(a10, m, c);
            a11 = Vector256.FusedMultiplyAdd(a11, m, c);
        }

        return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
    }

    /// <summary>The same loop on Vector512 accumulators.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static Vector512<float> Vector512Loop(long iterations, float start, float multiplier, float addend)
    {
        Vector512<float> m = Vector512.Create(multiplier), c = Vector512.Create(addend);
        Vector512<float> a0 = Vector512.Create(start), a1 = Vector512.Create(start + 1), a2 = Vector512.Create(start + 2);
        Vector512<float> a3 = Vector512.Create(start + 3), a4 = Vector512.Create(start + 4), a5 = Vector512.Create(start + 5);
        Vector512<float> a6 = Vector512.Create(start + 6), a7 = Vector512.Create(start + 7), a8 = Vector512.Create(start + 8);
        Vector512<float> a9 = Vector512.Create(start + 9), a10 = Vector512.Create(start + 10), a11 = Vector512.Create(start + 11);
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c);
            a1 = Vector512.FusedMultiplyAdd(a1, m, c);
            a2 = Vector512.FusedMultiplyAdd(a2, m, c);
            a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c);
            a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c);
            a7 = Vector512.FusedMultiplyAdd(a7, m, c);
            a8 = Vector512.FusedMultiplyAdd(a8, m, c);
            a9 = Vector512.FusedMultiplyAdd(a9, m, c);
            a10 = Vector512.FusedMultiplyAdd(a10, m, c);
            a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }

        return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
    }

    /// <summary>
    /// What every lane of either loop must return, computed one chain at a time with scalar fused multiply-adds in the
    /// same order: a check that the vector loops really do the work they are credited with.
    /// </summary>
    public static float ExpectedLane(long iterations, float start, float multiplier, float addend)
    {
        Span<float> chains = stackalloc float[Accumulators];
        for (int i = 0; i < Accumulators; i++)
        {
            float value = start + i;
            for (long n = 0; n < iterations; n++)
                value = MathF.FusedMultiplyAdd(value, multiplier, addend);
            chains[i] = value;
        }

        return ((chains[0] + chains[1]) + (chains[2] + chains[3])) + ((chains[4] + chains[5]) + (chains[6] + chains[7]))
            + ((chains[8] + chains[9]) + (chains[10] + chains[11]));
    }

    /// <summary>
    /// GFLOP/s of one core: the best of <paramref name="rounds"/> timed calls of about <paramref name="roundMilliseconds"/>
    /// each (the best, because interference from other processes only ever slows a round down). The Stopwatch is read
    /// outside the loop. Null when the width is not hardware-accelerated (an emulated vector is no ceiling).
    /// </summary>
    public static double? MeasureGflops(int vectorBits, int rounds = 7, double roundMilliseconds = 60)
    {
        bool accelerated = vectorBits switch
        {
            256 => Vector256.IsHardwareAccelerated,
            512 => Vector512.IsHardwareAccelerated,
            _ => throw new ArgumentOutOfRangeException(nameof(vectorBits), vectorBits, "Only 256 and 512 are measured."),
        };
        if (!accelerated)
            return null;
        long flopsPerIteration = vectorBits == 256 ? Vector256FlopsPerIteration : Vector512FlopsPerIteration;

        // Calibrate: ~100 GFLOP/s means ~1e8 flops per millisecond.
        long iterations = Math.Max(1000, (long)(roundMilliseconds * 1e8 / flopsPerIteration));
        double best = 0;
        for (int round = 0; round < rounds; round++)
        {
            long started = Stopwatch.GetTimestamp();
            float sink = vectorBits == 256
                ? Vector256Loop(iterations, round, Multiplier, 1).GetElement(0)
                : Vector512Loop(iterations, round, Multiplier, 1).GetElement(0);
            double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (!float.IsFinite(sink))
                throw new InvalidOperationException($"The FMA loop returned {sink}.");
            best = Math.Max(best, iterations * flopsPerIteration / seconds / 1e9);
        }

        return best;
    }
}
