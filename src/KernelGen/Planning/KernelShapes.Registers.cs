// This file is compiled into both the runtime library and the source generator (netstandard2.0): the vector registers
// each width has and the register blocks that both the runtime's kernels and the generated ones size by them. The
// runtime-only shapes (packed-weight layout, buffers) are in KernelShapes.cs. Keep it free of APIs newer than
// netstandard2.0 and of runtime-only types.
#nullable enable

using System.Runtime.CompilerServices;

namespace KernelGen.Planning
{
    /// <summary>The register facts and register blocks the runtime's kernels and the generated kernels share.</summary>
    internal static partial class KernelShapes
    {
        /// <summary>The most lanes a vector has (Vector512 of float).</summary>
        public const int MaxLanes = 16;

        /// <summary>
        /// The vector registers a path of <paramref name="lanes"/> float lanes can hold its accumulators in: 32 with AVX-512,
        /// else 16 (AVX2, SSE; a 128-bit path also runs on SSE, so NEON's 32 are not counted on).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int VectorRegisters(int lanes) => lanes == MaxLanes ? 32 : 16;

        /// <summary>Channel vectors per register block of the channel kernel: each broadcast input feeds this many FMAs.</summary>
        public const int ChannelBlockVectors = 2;

        /// <summary>Pixels of the channel kernel's largest register block (<see cref="ChannelBlockPixelsFor"/> with AVX-512).</summary>
        public const int ChannelBlockPixels = 8;

        /// <summary>
        /// Pixels per register block of the channel kernel on a path of <paramref name="lanes"/> lanes: 8 x 2 accumulators,
        /// 2 weight vectors and a broadcast take 19 of AVX-512's 32 registers (12 x 2 measured no faster); 6 x 2 take 15 of
        /// AVX2's 16 with Vector256 (each weight load feeds 6 FMAs instead of 4; with AVX-512 off on a Zen 4, 4-8 % faster than
        /// 4 x 2 in the runtime's kernel, 3-5 % in the generated unet_up_nhwc); 4 x 2 take 11 of the 16 of SSE with Vector128.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int ChannelBlockPixelsFor(int lanes) => VectorRegisters(lanes) >= 32 ? ChannelBlockPixels : lanes == 8 ? 6 : 4;
    }
}
