// This file is compiled into both the runtime library and the source generator (netstandard2.0):
// the generated kernels and the runtime kernels decompose an axis into phases the same way.
#nullable enable

using System;
using System.Collections.Generic;
using KernelGen.Geometry;

namespace KernelGen.Planning
{
    /// <summary>
    /// The phase (sub-pixel) decomposition of one axis of a transposed convolution for a fixed input length.
    /// </summary>
    /// <remarks>
    /// Output cell <c>o</c> sits at <c>t = o + padBegin</c> on the uncropped output. Input cell <c>i</c> reaches it through
    /// kernel tap <c>j</c> when <c>t = i * stride + j * dilation</c>. Splitting <c>t = q * stride + r</c>, the taps that can
    /// reach residue <c>r</c> are those with <c>j * dilation ≡ r (mod stride)</c>, each reading input <c>i = q - offset</c>
    /// with <c>offset = (j * dilation - r) / stride</c>. So every residue ("phase") is a small dense, unit-stride
    /// correlation, and the taps that a stride would multiply by inserted zeros are never visited.
    /// </remarks>
    internal sealed class AxisPlan
    {
        private AxisPlan(AxisGeometry geometry, int inputLength, int outputLength, AxisPhase[] phases,
            int[] outputTapStart, int[] tapKernelIndex, int[] tapInputIndex, int[] outputPhase, int[] outputQ)
        {
            OutputPhase = outputPhase;
            OutputQ = outputQ;
            Geometry = geometry;
            InputLength = inputLength;
            OutputLength = outputLength;
            Phases = phases;
            OutputTapStart = outputTapStart;
            TapKernelIndex = tapKernelIndex;
            TapInputIndex = tapInputIndex;
        }

        public AxisGeometry Geometry { get; }
        public int InputLength { get; }
        public int OutputLength { get; }

        /// <summary>One phase per residue <c>r</c> in <c>[0, stride)</c> that has at least one output cell, by increasing residue.</summary>
        public AxisPhase[] Phases { get; }

        /// <summary>Valid taps of output cell <c>o</c> are entries <c>[OutputTapStart[o], OutputTapStart[o + 1])</c> of the two tap arrays.</summary>
        public int[] OutputTapStart { get; }

        /// <summary>Kernel index <c>j</c> of each valid (output, tap) pair.</summary>
        public int[] TapKernelIndex { get; }

        /// <summary>Input index <c>i</c> of each valid (output, tap) pair.</summary>
        public int[] TapInputIndex { get; }

        /// <summary>Index into <see cref="Phases"/> of the phase that output cell <c>o</c> belongs to.</summary>
        public int[] OutputPhase { get; }

        /// <summary>The phase position <c>q</c> of output cell <c>o</c> (<c>o = q * stride + residue - padBegin</c>).</summary>
        public int[] OutputQ { get; }

        /// <summary>
        /// The lowest input index read when any phase is evaluated at any phase position of any phase (negative when taps
        /// fall off the start). Kernels that copy the input into a zero-bordered buffer shift every input index by
        /// <c>-LowestRead</c>, so that no tap needs a bounds check, even when several phases are evaluated over the union of
        /// their position ranges.
        /// </summary>
        public int LowestRead
        {
            get
            {
                int low = 0;
                foreach (AxisPhase phase in Phases)
                    foreach (int offset in phase.TapOffsets)
                        low = Math.Min(low, MinFirstQ - offset);
                return low;
            }
        }

        /// <summary>
        /// Length of a zero-bordered copy of the input that covers every read described at <see cref="LowestRead"/>, plus
        /// <paramref name="overrun"/> positions computed past the last phase end (to finish whole vectors).
        /// </summary>
        public int PaddedInputLength(int overrun)
        {
            int high = InputLength - 1;
            foreach (AxisPhase phase in Phases)
                foreach (int offset in phase.TapOffsets)
                    high = Math.Max(high, MaxEndQ - 1 + overrun - offset);
            return high - LowestRead + 1;
        }

        /// <summary>The smallest <see cref="AxisPhase.FirstQ"/> of all phases.</summary>
        public int MinFirstQ
        {
            get
            {
                int min = int.MaxValue;
                foreach (AxisPhase phase in Phases) min = Math.Min(min, phase.FirstQ);
                return min;
            }
        }

        /// <summary>The largest <see cref="AxisPhase.EndQ"/> of all phases.</summary>
        public int MaxEndQ
        {
            get
            {
                int max = 0;
                foreach (AxisPhase phase in Phases) max = Math.Max(max, phase.EndQ);
                return max;
            }
        }

        /// <summary>Number of multiply-adds along this axis, summed over all output cells (for FLOP counts).</summary>
        public int TotalTaps => TapKernelIndex.Length;

        /// <summary>Builds the plan. The geometry must be valid and the output length at least 1.</summary>
        public static AxisPlan Create(AxisGeometry geometry, int inputLength)
        {
            int stride = geometry.Stride;
            int outputLength = checked((int)geometry.OutputLength(inputLength));

            var phases = new List<AxisPhase>(stride);
            for (int r = 0; r < stride; r++)
            {
                // Outputs of this residue: o = q * stride + r - padBegin, 0 <= o < outputLength.
                long firstQ = CeilDiv((long)geometry.PadBegin - r, stride);
                if (firstQ < 0) firstQ = 0;
                long endQ = FloorDiv((long)outputLength - 1 + geometry.PadBegin - r, stride) + 1;
                if (endQ <= firstQ) continue;

                var taps = new List<int>();
                var offsets = new List<int>();
                for (int j = 0; j < geometry.Kernel; j++)
                {
                    long reach = (long)j * geometry.Dilation;
                    if (reach % stride != r) continue;
                    taps.Add(j);
                    offsets.Add((int)((reach - r) / stride));
                }

                // Interior: every tap reads a real input cell (0 <= q - offset < inputLength).
                long interiorFirst = firstQ, interiorEnd = endQ;
                foreach (int off in offsets)
                {
                    interiorFirst = Math.Max(interiorFirst, off);
                    interiorEnd = Math.Min(interiorEnd, (long)off + inputLength);
                }
                if (interiorEnd < interiorFirst) interiorEnd = interiorFirst;
                if (interiorFirst > endQ) { interiorFirst = endQ; interiorEnd = endQ; }

                phases.Add(new AxisPhase(r, (int)firstQ, (int)endQ, (int)interiorFirst, (int)interiorEnd,
                    taps.ToArray(), offsets.ToArray(), stride, geometry.PadBegin));
            }

            var tapStart = new int[outputLength + 1];
            var kernelIndex = new List<int>();
            var inputIndex = new List<int>();
            for (int o = 0; o < outputLength; o++)
            {
                tapStart[o] = kernelIndex.Count;
                long t = (long)o + geometry.PadBegin;
                for (int j = 0; j < geometry.Kernel; j++)
                {
                    long reach = t - (long)j * geometry.Dilation;
                    if (reach < 0 || reach % stride != 0) continue;
                    long i = reach / stride;
                    if (i >= inputLength) continue;
                    kernelIndex.Add(j);
                    inputIndex.Add((int)i);
                }
            }
            tapStart[outputLength] = kernelIndex.Count;

            var outputPhase = new int[outputLength];
            var outputQ = new int[outputLength];
            for (int p = 0; p < phases.Count; p++)
            {
                for (int q = phases[p].FirstQ; q < phases[p].EndQ; q++)
                {
                    int o = phases[p].OutputOf(q);
                    outputPhase[o] = p;
                    outputQ[o] = q;
                }
            }

            return new AxisPlan(geometry, inputLength, outputLength, phases.ToArray(), tapStart,
                kernelIndex.ToArray(), inputIndex.ToArray(), outputPhase, outputQ);
        }

        private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

        private static long CeilDiv(long a, long b) => -FloorDiv(-a, b);
    }

    /// <summary>The output cells of one residue of an axis and the kernel taps that reach them.</summary>
    internal sealed class AxisPhase
    {
        public AxisPhase(int residue, int firstQ, int endQ, int interiorFirstQ, int interiorEndQ,
            int[] kernelTaps, int[] tapOffsets, int stride, int padBegin)
        {
            Residue = residue;
            FirstQ = firstQ;
            EndQ = endQ;
            InteriorFirstQ = interiorFirstQ;
            InteriorEndQ = interiorEndQ;
            KernelTaps = kernelTaps;
            TapOffsets = tapOffsets;
            Stride = stride;
            PadBegin = padBegin;
        }

        /// <summary><c>r</c>: this phase holds the outputs with <c>(o + padBegin) mod stride == r</c>.</summary>
        public int Residue { get; }

        /// <summary>The phase's outputs are <c>o = q * stride + r - padBegin</c> for <c>q</c> in <c>[FirstQ, EndQ)</c>.</summary>
        public int FirstQ { get; }

        /// <inheritdoc cref="FirstQ"/>
        public int EndQ { get; }

        /// <summary>For <c>q</c> in <c>[InteriorFirstQ, InteriorEndQ)</c> every tap reads a real input cell; outside it some fall off the edge.</summary>
        public int InteriorFirstQ { get; }

        /// <inheritdoc cref="InteriorFirstQ"/>
        public int InteriorEndQ { get; }

        /// <summary>Kernel indices <c>j</c> that reach this phase (may be empty: those outputs get only the bias).</summary>
        public int[] KernelTaps { get; }

        /// <summary>For each tap, the input read is <c>q - TapOffsets[t]</c>.</summary>
        public int[] TapOffsets { get; }

        public int Stride { get; }

        public int PadBegin { get; }

        /// <summary>The output cell of phase position <c>q</c>.</summary>
        public int OutputOf(int q) => q * Stride + Residue - PadBegin;
    }
}
