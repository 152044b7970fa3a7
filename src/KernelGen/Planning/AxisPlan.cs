// This file is compiled into both the runtime library and the source generator (netstandard2.0):
// the generated kernels and the runtime kernels decompose an axis into phases the same way.
#nullable enable

using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using KernelGen.Geometry;

namespace KernelGen.Planning
{
    /// <summary>
    /// The phase (sub-pixel) decomposition of one axis of a transposed convolution for a fixed input length.
    /// </summary>
    /// <remarks>
    /// <para>Output cell <c>o</c> sits at <c>t = o + padBegin</c> on the uncropped output. Input cell <c>i</c> reaches it through
    /// kernel tap <c>j</c> when <c>t = i * stride + j * dilation</c>. Splitting <c>t = q * stride + r</c>, the taps that can
    /// reach residue <c>r</c> are those with <c>j * dilation ≡ r (mod stride)</c>, each reading input <c>i = q - offset</c>
    /// with <c>offset = (j * dilation - r) / stride</c>. So every residue ("phase") is a small dense, unit-stride
    /// correlation, and the taps that a stride would multiply by inserted zeros are never visited.</para>
    /// <para>A phase keeps only the taps that read a real input cell at one of its positions at least: the others would
    /// only ever read the zero border. Dropping them keeps the border (and so every zero-bordered copy) as small as the data
    /// however far apart dilation puts the taps, and means no weight is ever multiplied by border zeros alone.</para>
    /// <para>Everything is sized by the data (the output length, the kernel), never by the stride or the padding: an axis with
    /// a stride of a billion has at most as many phases as output cells. Building a plan needs every position of the
    /// uncropped output to be an <see cref="int"/> (<see cref="ConvTransposeRules.CheckOutputSize"/>).</para>
    /// </remarks>
    internal sealed class AxisPlan
    {
        private AxisPlan(AxisGeometry geometry, int inputLength, int outputLength, AxisPhase[] phases, int[] outputPhase, int[] outputQ,
            int[] validTapFirst, int[] validTapEnd, int[] edgeOutputs, long totalTaps)
        {
            EdgeOutputs = edgeOutputs;
            _validTapFirst = validTapFirst;
            _validTapEnd = validTapEnd;
            OutputPhase = outputPhase;
            OutputQ = outputQ;
            Geometry = geometry;
            InputLength = inputLength;
            OutputLength = outputLength;
            Phases = phases;
            TotalTaps = totalTaps;
        }

        public AxisGeometry Geometry { get; }
        public int InputLength { get; }
        public int OutputLength { get; }

        /// <summary>One phase per residue <c>r</c> in <c>[0, stride)</c> that has at least one output cell, by increasing residue.</summary>
        public AxisPhase[] Phases { get; }

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
                // Every kept offset is at most its phase's EndQ - 1, so this is at least -(the longest phase): an int.
                long low = 0;
                foreach (AxisPhase phase in Phases)
                    foreach (int offset in phase.TapOffsets)
                        low = Math.Min(low, (long)MinFirstQ - offset);
                return (int)low;
            }
        }

        /// <summary>
        /// Length of a zero-bordered copy of the input that covers every read described at <see cref="LowestRead"/>, plus
        /// <paramref name="overrun"/> positions computed past the last phase end (to finish whole vectors). It also covers
        /// each position itself, as if read through an offset of 0: the kernels address a position first and take the tap
        /// offsets off after, and that address must stay inside the copy even when every tap of a phase has a large offset
        /// (dropped taps can leave only those). A long: near the Int32 limit the border may take it past; callers check it
        /// before they size anything with it.
        /// </summary>
        public long PaddedInputLength(int overrun)
        {
            long high = Math.Max(InputLength - 1, (long)MaxEndQ - 1 + overrun);
            foreach (AxisPhase phase in Phases)
                foreach (int offset in phase.TapOffsets)
                    high = Math.Max(high, (long)MaxEndQ - 1 + overrun - offset);
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

        /// <summary>Number of (output cell, tap) pairs along this axis that read a real input cell: the multiply-adds of the axis (for FLOP counts).</summary>
        public long TotalTaps { get; }

        /// <summary>
        /// The taps of output cell <paramref name="o"/> that read a real input cell: entries <c>[First, End)</c> of its phase's
        /// <see cref="AxisPhase.KernelTaps"/> and <see cref="AxisPhase.TapOffsets"/>, the cell's phase position being
        /// <c>Q</c>. (Offsets increase with the tap, so the input read, <c>q - offset</c>, decreases: the valid
        /// taps are one run.)
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (AxisPhase Phase, int Q, int First, int End) ValidTaps(int o) =>
            (Phases[OutputPhase[o]], OutputQ[o], _validTapFirst[o], _validTapEnd[o]);

        private readonly int[] _validTapFirst, _validTapEnd;

        /// <summary>Whether every tap of output cell <paramref name="o"/>'s phase reads a real input cell (none falls off an edge).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool IsInterior(int o) => _validTapFirst[o] == 0 && _validTapEnd[o] == Phases[OutputPhase[o]].TapOffsets.Length;

        /// <summary>The output cells, in increasing order, that are not <see cref="IsInterior"/>: some tap of their phase falls off the input.</summary>
        public int[] EdgeOutputs { get; }

        /// <summary>
        /// Whether <see cref="Create"/> can plan the axis: an input of at least 1 cell, an output of at least 1, and every
        /// position of the uncropped output an <see cref="int"/> (the runtime's rules guarantee it; the generator's allow
        /// inputs a few thousand cells short of Int32.MaxValue, which only this check stops).
        /// </summary>
        public static bool CanPlan(AxisGeometry geometry, int inputLength) =>
            inputLength >= 1 && geometry.OutputLength(inputLength) >= 1 && geometry.FullLength(inputLength) + geometry.OutputPadding <= int.MaxValue;

        /// <summary>Builds the plan of an axis that <see cref="CanPlan"/> (the geometry valid).</summary>
        public static AxisPlan Create(AxisGeometry geometry, int inputLength)
        {
            if (!CanPlan(geometry, inputLength))
                throw new ArgumentOutOfRangeException(nameof(inputLength), inputLength,
                    "The axis (" + geometry + ") has no valid output of at most Int32 cells for this input length.");
            long outputLong = geometry.OutputLength(inputLength);

            int stride = geometry.Stride, outputLength = (int)outputLong;

            // The residues that have output cells, by increasing residue: t runs over [padBegin, padBegin + outputLength), so
            // all of them when the output is at least a stride long, else outputLength consecutive ones (mod stride).
            int residueCount = Math.Min(stride, outputLength);
            var residues = new int[residueCount];
            int startResidue = (int)((long)geometry.PadBegin % stride);
            for (int k = 0; k < residueCount; k++)
                residues[k] = (int)(((long)startResidue + k) % stride);
            Array.Sort(residues);

            // Each kernel tap belongs to exactly one residue: bucket them in one pass over the kernel.
            var taps = new List<int>[residueCount];
            var offsets = new List<int>[residueCount];
            for (int k = 0; k < residueCount; k++)
            {
                taps[k] = new List<int>();
                offsets[k] = new List<int>();
            }

            for (int j = 0; j < geometry.Kernel; j++)
            {
                long reach = (long)j * geometry.Dilation;
                int r = (int)(reach % stride);
                int k = Array.BinarySearch(residues, r);
                if (k < 0) continue;
                long offset = (reach - r) / stride;
                // Past the uncropped output's end no phase position exists: the tap can reach no output (and its offset
                // need not fit in an int).
                if (offset > int.MaxValue) continue;
                taps[k].Add(j);
                offsets[k].Add((int)offset);
            }

            var phases = new AxisPhase[residueCount];
            var outputPhase = new int[outputLength];
            var outputQ = new int[outputLength];
            var validTapFirst = new int[outputLength];
            var validTapEnd = new int[outputLength];
            long totalTaps = 0;
            for (int k = 0; k < residueCount; k++)
            {
                int r = residues[k];
                // Outputs of this residue: o = q * stride + r - padBegin, 0 <= o < outputLength. Every t is below
                // `uncropped`, an int, so every q is too.
                long firstQ = CeilDiv((long)geometry.PadBegin - r, stride);
                if (firstQ < 0) firstQ = 0;
                long endQ = FloorDiv((long)outputLength - 1 + geometry.PadBegin - r, stride) + 1;

                // Keep the taps that read a real input cell at some position: 0 <= q - offset < inputLength for a q in
                // [firstQ, endQ), that is firstQ - inputLength < offset < endQ.
                var keptTaps = new List<int>();
                var keptOffsets = new List<int>();
                for (int t = 0; t < taps[k].Count; t++)
                {
                    int offset = offsets[k][t];
                    if (offset <= firstQ - inputLength || offset >= endQ) continue;
                    keptTaps.Add(taps[k][t]);
                    keptOffsets.Add(offset);
                    // Positions at which this tap reads a real cell.
                    totalTaps += Math.Min(endQ, (long)offset + inputLength) - Math.Max(firstQ, offset);
                }

                // Interior: every tap reads a real input cell (0 <= q - offset < inputLength).
                long interiorFirst = firstQ, interiorEnd = endQ;
                foreach (int off in keptOffsets)
                {
                    interiorFirst = Math.Max(interiorFirst, off);
                    interiorEnd = Math.Min(interiorEnd, (long)off + inputLength);
                }
                if (interiorEnd < interiorFirst) interiorEnd = interiorFirst;
                if (interiorFirst > endQ) { interiorFirst = endQ; interiorEnd = endQ; }

                var phase = new AxisPhase(r, (int)firstQ, (int)endQ, (int)interiorFirst, (int)interiorEnd,
                    keptTaps.ToArray(), keptOffsets.ToArray(), stride, geometry.PadBegin);
                phases[k] = phase;
                // Valid taps at q: 0 <= q - offset < inputLength, that is q - inputLength < offset <= q. Offsets increase
                // with the tap, so both ends of the run only move forward as q does: one sweep.
                int[] phaseOffsets = phase.TapOffsets;
                int first = 0, end = 0;
                for (int q = phase.FirstQ; q < phase.EndQ; q++)
                {
                    while (first < phaseOffsets.Length && phaseOffsets[first] <= (long)q - inputLength) first++;
                    if (end < first) end = first;
                    while (end < phaseOffsets.Length && phaseOffsets[end] <= q) end++;
                    int o = phase.OutputOf(q);
                    outputPhase[o] = k;
                    outputQ[o] = q;
                    validTapFirst[o] = first;
                    validTapEnd[o] = end;
                }
            }

            var edgeOutputs = new List<int>();
            for (int o = 0; o < outputLength; o++)
            {
                if (validTapFirst[o] != 0 || validTapEnd[o] != phases[outputPhase[o]].TapOffsets.Length) edgeOutputs.Add(o);
            }

            return new AxisPlan(geometry, inputLength, outputLength, phases, outputPhase, outputQ, validTapFirst, validTapEnd, edgeOutputs.ToArray(), totalTaps);
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

        /// <summary>
        /// Kernel indices <c>j</c> that reach this phase and read a real input cell at one of its positions at least, by
        /// increasing <c>j</c> (may be empty: those outputs get only the bias).
        /// </summary>
        public int[] KernelTaps { get; }

        /// <summary>For each tap, the input read is <c>q - TapOffsets[t]</c>; increasing with <c>t</c>.</summary>
        public int[] TapOffsets { get; }

        public int Stride { get; }

        public int PadBegin { get; }

        /// <summary>The output cell of phase position <c>q</c> (an int for every position of the phase).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int OutputOf(int q) => (int)((long)q * Stride + Residue - PadBegin);
    }
}
