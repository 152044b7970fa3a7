// This file is compiled into both the runtime library and the source generator (netstandard2.0): the one order in which
// the taps of a (row phase, column phase) become a single list, for the runtime's paired and channel kernels (tap offsets,
// packed weights) and for the generated channel kernel's packed weights. Keep it free of APIs newer than netstandard2.0.
#nullable enable

using System.Runtime.CompilerServices;

namespace KernelGen.Planning
{
    /// <summary>
    /// The taps of a row phase times those of a column phase, flattened row tap major: flattened tap
    /// <c>r * columnTaps + c</c> is row tap <c>r</c> with column tap <c>c</c>, and its weight is kernel element
    /// <c>ky * kW + kx</c> of its (input channel, output channel) slice.
    /// </summary>
    internal static class FlatTaps
    {
        /// <summary>Flattened taps of <paramref name="rowTaps"/> row taps by <paramref name="columnTaps"/> column taps.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Count(int rowTaps, int columnTaps) => rowTaps * columnTaps;

        /// <summary>Flattened taps of a row phase by a column phase.</summary>
        public static int Count(AxisPhase rows, AxisPhase columns) => Count(rows.KernelTaps.Length, columns.KernelTaps.Length);

        /// <summary>The flattened index of row tap <paramref name="rowTap"/> with column tap <paramref name="columnTap"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Index(int rowTap, int columnTap, int columnTaps) => rowTap * columnTaps + columnTap;

        /// <summary>The element of a <c>(kH, kW)</c> kernel slice that kernel row <paramref name="kernelRow"/> and column <paramref name="kernelColumn"/> weigh with.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int KernelElement(int kernelRow, int kernelColumn, int kernelWidth) => kernelRow * kernelWidth + kernelColumn;
    }
}
