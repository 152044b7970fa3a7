using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using KernelGen.Generator.Model;
using KernelGen.Generator.Strategy;
using KernelGen.Planning;

namespace KernelGen.Generator.Emitting
{
    internal sealed partial class KernelBodyWriter
    {
        // ----- Width-vectorised: vectors along the output columns of one output row, register-blocked over output channels -----
        //
        // A row is cut into column runs. With stride 2 (NCHW) one run covers both column phases: output columns 2m and 2m + 1
        // are positions m + shift of the two phases (the pairing is the runtime's, Planning/PairedColumnPlan.cs, linked in),
        // so each vector of m holds two accumulators per channel that are interleaved into contiguous stores. Otherwise each phase is its own run (lanes stride apart when stride > 1).
        // A run is covered by vectors of one width, the last one moved back to end at the run's end (it recomputes a few
        // outputs instead of falling into narrower pieces); vectors whose taps partly fall off the input load the nearest
        // whole input window and shift zeros in, so edges stay vectorised. One register block is up to
        // MaxPixelVectors vectors x the channels of a block; each input vector is loaded once per tap for all of them.

        /// <summary>Vectors of positions computed together per register block (more only adds code: the channels already give the FMAs to overlap).</summary>
        private const int MaxPixelVectors = 4;

        /// <summary>One phase of a column run: the positions of the run's coordinate m are <c>q = m + Shift</c> of <see cref="Phase"/>.</summary>
        private sealed class ColumnPart
        {
            public ColumnPart(AxisPhase phase, int shift, Tap[] taps, int[] inputShifts)
            {
                Phase = phase;
                Shift = shift;
                Taps = taps;
                InputShifts = inputShifts;
            }

            /// <summary>The part of <paramref name="phase"/> whose position at m is <c>m + shift</c> (shift 0 in an unpaired run).</summary>
            public static ColumnPart Of(AxisPhase phase, int shift, int[] inputShifts) => new ColumnPart(phase, shift, Taps(phase), inputShifts);

            public AxisPhase Phase { get; }

            public int Shift { get; }

            public Tap[] Taps { get; }

            /// <summary>The input column tap t reads at m is <c>m + InputShifts[t]</c> (<see cref="PairedColumnPlan.InputShifts"/>).</summary>
            public int[] InputShifts { get; }
        }

        /// <summary>Positions <c>[First, End)</c> of a run's coordinate; paired runs store two parts interleaved at column 2m.</summary>
        private sealed class ColumnRun
        {
            public ColumnRun(ColumnPart[] parts, int first, int end, bool paired)
            {
                Parts = parts;
                First = first;
                End = end;
                Paired = paired;
            }

            public ColumnPart[] Parts { get; }

            public int First { get; }

            public int End { get; }

            public bool Paired { get; }
        }

        /// <summary>How one tap's input vector is read for one vector of positions.</summary>
        private enum LoadKind
        {
            /// <summary>Every lane reads a real input cell.</summary>
            Whole,

            /// <summary>The first lanes fall before the input: read the row's first window and move it up, zeros in.</summary>
            ShiftUp,

            /// <summary>The last lanes fall past the input: read the row's last window and move it down, zeros in.</summary>
            ShiftDown,

            /// <summary>No lane reads a real input cell: the tap contributes nothing.</summary>
            None,
        }

        /// <summary>Stride 2 along the width in NCHW: both column phases in one run, stored interleaved.</summary>
        private bool PairedColumns => IsPaired(_spec, _columns);

        /// <summary>Input vectors are plain loads (NCHW, or NHWC with one input channel); otherwise they are gathered lane by lane.</summary>
        private static bool ContiguousInput(KernelSpec spec) => !spec.ChannelsLast || spec.InChannels == 1;

        /// <summary>The runtime's pairing rule (<see cref="PairedColumnPlan.Pairs"/>), where loads are contiguous (NCHW).</summary>
        private static bool IsPaired(KernelSpec spec, AxisPlan columns) => !spec.ChannelsLast && PairedColumnPlan.Pairs(columns);

        /// <summary>
        /// Output channels per register block and vectors of positions per block on a path of <paramref name="lanes"/> lanes:
        /// as many accumulators as three quarters of the registers (<see cref="KernelShapes.VectorRegisters"/>: 24 of
        /// AVX-512's 32, 12 of 16), the rest left to the input vectors; 8 on the scalar path. (The runtime's paired kernel
        /// blocks by a fixed rule of its own, <c>ExecutionPlan.BlockedPairVectors</c>: its generic code cannot size a block
        /// per layer.)
        /// </summary>
        internal static (int Channels, int PixelVectors) WidthBlocking(KernelSpec spec, AxisPlan columns, int lanes)
        {
            int registers = KernelShapes.VectorRegisters(lanes);
            int accumulators = lanes == 1 ? 8 : registers * 3 / 4;
            int parts = IsPaired(spec, columns) ? 2 : 1;
            int perGroup = spec.OutPerGroup;
            if (StagesInput(spec, columns, lanes))
            {
                // Two vectors per block: each broadcast weight feeds two FMAs. Vector256: 12 accumulators, the two input vectors
                // of one input offset and the broadcast take 15 of the 16 registers (the AVX2 form of the 6 x 16 SGEMM tile).
                // Vector512: 24 accumulators (6 channels x 2 vectors x 2 phases when paired), 2 input vectors and the broadcast
                // take 27 of the 32: 2 vector loads and 12 broadcasts per 24 FMAs keep a full-width core's two FMA pipes busy, where
                // the unstaged 8 x 1 block's broadcast per FMA did not (Zen 5 unet_up: 68 % of the peak unstaged, 89 % staged).
                return (Math.Min(perGroup, accumulators / (StagedPixelVectors * parts)), StagedPixelVectors);
            }

            if (SharesWeightBroadcasts(spec, columns, lanes))
            {
                // Several vectors per block, each broadcast weight feeding one FMA per vector (see SharesWeightBroadcasts).
                return (Math.Min(perGroup, accumulators / (SharedPixelVectors * parts)), SharedPixelVectors);
            }

            if (GoesByInputOffset(spec, columns, lanes)) return InputOffsetBlocking(spec, columns, registers, parts);

            int channels = Math.Min(perGroup, Math.Max(1, accumulators / parts));
            // Vector256 (AVX2: 16 registers, no broadcast folded into the FMA) measured faster with all 12 accumulators and a
            // channel tail block than with 8 and no tail (unet_up 1380 -> 1070 us, stride1 297 -> 194 us on Zen 4), as long as
            // the accumulators, one input vector per column tap and the broadcast weight fit the 16 registers; with more column
            // taps (dcgan) the edge shifts' constants spill and the smaller block without a tail stays ahead.
            int tapsPerPart = (spec.KernelWidth + spec.StrideWidth - 1) / spec.StrideWidth;
            // A 3-D plane counts the input vectors it loads (one per distinct input offset, shared by the parts and taps that
            // read it): kernel 3, stride 2, padding 1 reads 2 (offsets 0 and +1) for its 4 column taps, so 6 channels x 2 phases,
            // 2 input vectors and the broadcast fit (volume_k3, 32 -> 16 channels, 8^3 -> 16^3, rows of one vector, with AVX-512
            // off on a Zen 5: 4 x 1 blocks 157 us, 6 x 1 blocks and a 4-channel tail 143 us).
            int inputVectors = spec.Rank == 3 ? DistinctInputShifts(spec, columns) : parts * tapsPerPart;
            bool fullNarrowBlock = lanes == 8 && channels * parts + inputVectors + 1 <= registers;
            if (perGroup % channels != 0 && !fullNarrowBlock)
            {
                // Prefer a divisor of the channels (no tail block) when one is close to the register limit.
                for (int d = channels - 1; d * 3 >= channels * 2; d--)
                {
                    if (perGroup % d == 0)
                    {
                        channels = d;
                        break;
                    }
                }
            }

            int vectors = Math.Max(1, Math.Min(MaxPixelVectors, accumulators / (channels * parts)));
            return (channels, vectors);
        }

        /// <summary>The most distinct input offsets (<see cref="ColumnPart.InputShifts"/>) the parts of one column run read.</summary>
        private static int DistinctInputShifts(KernelSpec spec, AxisPlan columns)
        {
            int most = 0;
            foreach (var run in ColumnRuns(spec, columns)) most = Math.Max(most, DistinctInputShifts(run.Parts).Count);
            return most;
        }

        /// <summary>The distinct input offsets <paramref name="parts"/> read, in the order their taps first read them.</summary>
        private static List<int> DistinctInputShifts(ColumnPart[] parts)
        {
            var shifts = new List<int>();
            foreach (var part in parts)
            {
                foreach (int shift in part.InputShifts)
                {
                    if (!shifts.Contains(shift)) shifts.Add(shift);
                }
            }

            return shifts;
        }

        /// <summary>Vectors of positions per register block of the Vector512 path of a 1-D many-channel layer (<see cref="SharesWeightBroadcasts"/>).</summary>
        private const int SharedPixelVectors = 3;

        /// <summary>
        /// Whether the Vector512 path of a 1-D NCL width kernel with many channels (32+ input, 8+ output per group) computes
        /// register blocks of <see cref="SharedPixelVectors"/> vectors that share each broadcast weight: the vectors of one
        /// input offset are loaded, then each weight that reads them is broadcast once and feeds one FMA per vector. With one
        /// vector per block (8 channels x 2 phases) every FMA took its own broadcast load and the loop ran at about two thirds of
        /// the Vector512 FMA peak on a Zen 5.
        /// </summary>
        internal static bool SharesWeightBroadcasts(KernelSpec spec, AxisPlan columns, int lanes) =>
            lanes == 16 && spec.Rank == 1 && !spec.ChannelsLast && spec.InPerGroup >= MinStagedInputChannels
            && spec.OutPerGroup >= StrategyChooser.MinChannelsForChannelVectors
            && WidthVectorExtent(spec, columns) >= SharedPixelVectors * lanes;

        /// <summary>
        /// Whether the Vector256 path of an unstaged 1-D or 2-D NCHW width kernel (few input channels: game_up's 16 -> 8,
        /// one-channel groups such as mono_up and depthwise) computes its register blocks input offset by input offset, as the
        /// staged paths do: the block's vectors of one input offset are loaded, then each weight that reads them is broadcast
        /// once into a register and feeds one FMA per vector. Tap by tap, each FMA took its own broadcast load (AVX2 cannot fold
        /// a broadcast into the FMA) and the block's loads of every offset were live at once: the 16 registers bound the block
        /// to 4 channels x 1 vector (game_up: 14 loads per 12 FMAs), where by offset only one offset's vectors and one broadcast
        /// are live besides the accumulators (<see cref="InputOffsetBlocking"/>). Only where a run holds two vectors or more
        /// (otherwise the block is one vector and nothing is shared).
        /// </summary>
        internal static bool GoesByInputOffset(KernelSpec spec, AxisPlan columns, int lanes) =>
            lanes == 8 && spec.Rank <= 2 && !spec.ChannelsLast && !StagesInput(spec, columns, lanes)
            && WidthVectorExtent(spec, columns) >= 2 * lanes;

        /// <summary>
        /// The register block of a path that goes by input offset (<see cref="GoesByInputOffset"/>): of the blocks of up to
        /// <see cref="MaxPixelVectors"/> vectors whose accumulators, one offset's input vectors and the broadcast leave one of the
        /// <paramref name="registers"/> free (for an edge vector's lane-shift constant), the one with the most FMAs per load
        /// (input vectors and broadcasts, per input channel and row tap), the most vectors among equals. game_up (16 -> 8, kernel
        /// 3, stride 2: 3 column taps over 2 input offsets): 3 channels x 2 vectors x 2 phases, 18 FMAs per 4 loads and 9
        /// broadcasts; one-channel groups (mono_up, depthwise: kernel 4, 4 taps over 3 offsets): 1 x 4, 16 FMAs per 12 loads and
        /// 4 broadcasts.
        /// </summary>
        private static (int Channels, int PixelVectors) InputOffsetBlocking(KernelSpec spec, AxisPlan columns, int registers, int parts)
        {
            int taps = 0, shifts = 0;
            foreach (var run in ColumnRuns(spec, columns))
            {
                int runTaps = 0;
                foreach (var part in run.Parts) runTaps += part.Taps.Length;
                taps = Math.Max(taps, runTaps);
                shifts = Math.Max(shifts, DistinctInputShifts(run.Parts).Count);
            }

            int bestChannels = 1, bestVectors = 1;
            long bestFmas = 0, bestLoads = 1;
            int most = Math.Min(MaxPixelVectors, WidthVectorExtent(spec, columns) / 8);
            for (int vectors = most; vectors >= 1; vectors--)
            {
                int channels = Math.Min(spec.OutPerGroup, (registers - 2 - vectors) / (vectors * parts));
                if (channels < 1) continue;
                long fmas = (long)channels * vectors * taps, loads = (long)vectors * shifts + (long)channels * taps;
                if (fmas * bestLoads > bestFmas * loads)
                {
                    bestChannels = channels;
                    bestVectors = vectors;
                    bestFmas = fmas;
                    bestLoads = loads;
                }
            }

            return (bestChannels, bestVectors);
        }

        /// <summary>Vectors of positions per register block where the input is staged (<see cref="StagesInput"/>).</summary>
        private const int StagedPixelVectors = 2;

        /// <summary>Input channels per group from which the Vector256 and Vector512 paths stage the input (<see cref="StagesInput"/>).</summary>
        internal const int MinStagedInputChannels = 32;

        /// <summary>The largest input sample (floats: 4 MB) the Vector256 and Vector512 paths stage: the per-thread buffer holds one sample.</summary>
        internal const int MaxStagedInputFloats = 1024 * 1024;

        /// <summary>The kernel class's per-thread buffer of the staged input (declared when <see cref="StagedInputFloats"/> is above 0).</summary>
        internal const string StagedInputField = "t_stagedInput";

        /// <summary>
        /// Whether the path of <paramref name="lanes"/> lanes of a 2-D NCHW width kernel with many channels first copies the
        /// sample's input into a per-thread buffer laid out row by row, <c>[input row][input channel][column]</c>, and computes
        /// register blocks of two vectors. Its reduction over the input channels then reads one small block of memory (an
        /// input row of every channel lies together) instead of one cell range per 4 KB+ channel plane, which on a Zen 4 with
        /// AVX-512 off kept the Vector256 kernel at about half of the FMA peak whatever its register blocks (L1/L2 and TLB traffic
        /// of a new plane per input channel); staged, two vectors per block let each broadcast weight feed two FMAs (unet_up
        /// 128 -> 64 32x32: 1260 -> about 700 us). The copy is one pass over the input (about 3 % of unet_up's call).
        /// The Vector256 path (8 lanes) and the Vector512 path (16 lanes) stage. On a full-width AVX-512 CPU (Zen 5: Vector512 FMA
        /// peak twice Vector256's) the unstaged Vector512 blocks of 8 channels x 1 vector, one broadcast per FMA, reached 68 % of
        /// the peak on unet_up; staged blocks of 6 channels x 2 vectors x 2 phases (24 of the 32 registers) 89 % (measured
        /// 460 -> 354 us, 0.89x -> 1.10x ONNX Runtime). A Vector512 row of one to two vectors (dcgan's 16 column pairs) takes two output rows per
        /// block instead of two column vectors (<see cref="PairsStagedRows"/>); its unstaged 8 x 1 blocks before, a broadcast
        /// per FMA and two lane shifts per 32 FMAs, measured ONNX Runtime 1T / generated 1.28x on a Zen 5 (median of eleven
        /// processes, loaded machine), the row pairs 1.67x in the processes in between (ahead in ten pairs of the eleven).
        /// A 1-D layer (one input row) is staged by the Vector256 path alone: its channel rows, 8 KB apart in the caller's input at
        /// length 2048 (one L1 set for the cells of every channel), lie 8 KB + 2 zero columns apart in the buffer, and its blocks
        /// are the 2-D ones (3 channels x 2 vectors x 2 phases); vocoder_up2 (128 -> 64,
        /// length 2048, kernel 4, stride 2) with AVX-512 off on a Zen 5: unstaged 4 x 1 blocks 1840 us, unstaged blocks of 2 channels
        /// x 3 vectors sharing each broadcast 1530 us, staged 1405 us (0.50x -> 0.67x ONNX Runtime, whose AVX-512 stays on); its
        /// rows padded to an odd number of cache lines (<see cref="StagedRowFloats"/>) and walked in tiles (<see cref="ColumnTile"/>),
        /// about 1250 us (near the Vector256 FMA peak at best). The Vector512 path keeps the caller's input (<see cref="SharesWeightBroadcasts"/>).
        /// </summary>
        internal static bool StagesInput(KernelSpec spec, AxisPlan columns, int lanes) =>
            (lanes == 8 || lanes == 16) && (spec.Rank >= 2 || lanes == 8) && !spec.ChannelsLast && spec.InPerGroup >= MinStagedInputChannels
            && spec.OutPerGroup >= StrategyChooser.MinChannelsForChannelVectors
            && (long)spec.InChannels * spec.InputHeight * spec.InputWidth <= MaxStagedInputFloats
            && (WidthVectorExtent(spec, columns) >= StagedPixelVectors * lanes || RowPairCandidate(spec, columns, lanes));

        /// <summary>
        /// Whether the staged Vector512 path of a 2-D layer computes register blocks of one column vector x two output rows of
        /// one row phase (<see cref="PairsStagedRows"/>): a paired (stride 2, NCHW) row of one column run, one to two Vector512
        /// vectors long (dcgan: 16 column pairs), too short for two column vectors per block.
        /// </summary>
        private static bool RowPairCandidate(KernelSpec spec, AxisPlan columns, int lanes) =>
            lanes == 16 && spec.Rank == 2 && IsPaired(spec, columns) && spec.InputHeight >= 2
            && WidthVectorExtent(spec, columns) >= lanes && WidthVectorExtent(spec, columns) < StagedPixelVectors * lanes
            && ColumnRuns(spec, columns).Count == 1;

        /// <summary>
        /// Whether the staged path of <paramref name="lanes"/> lanes pairs output rows in its register blocks: 6 channels x 1
        /// column vector x 2 output rows (q and q + 1 of one row phase) x 2 column phases, 24 of the 32 registers. Each broadcast
        /// weight then feeds two FMAs, one per output row (the rows read input rows one apart for the same tap), as the two column
        /// vectors of the wider rows' blocks do: per row tap and input channel 6 loads (3 column offsets x 2 rows) and 24
        /// broadcasts per 48 FMAs, where the unstaged 8 x 1 blocks took a broadcast per FMA and two lane shifts per 32 FMAs.
        /// </summary>
        internal static bool PairsStagedRows(KernelSpec spec, AxisPlan columns, int lanes) =>
            RowPairCandidate(spec, columns, lanes) && StagesInput(spec, columns, lanes);

        /// <summary>
        /// Whether a 3-D path's planes read the weights repacked by the path (<see cref="StagedWeightsFloats"/>): the staged
        /// paths. Read in place, the weights of consecutive input channels lie Cout/g * kD * kH * kW floats apart (1 KB on
        /// volume_up, 64 -> 32 with a 2 x 2 x 2 kernel), so that a block's broadcasts over its 64 input channels fall into 4 of
        /// the L1 cache's 64 sets, more lines than their ways, beside the staged input; repacked [kd][ky][input channel][output
        /// channel][kx], the weights of one plane row are one contiguous run (256 bytes per input channel there). volume_up with
        /// AVX-512 off on a Zen 5, interleaved in one process: 1277-1291 against 1304-1338 us at best (85.6-86.7 % -> 88.5-88.6 %
        /// of the Vector256 FMA peak), the same bits; with <see cref="KernelEmitter.SharesStagedSlices"/> as well, 92.7 %.
        /// </summary>
        internal static bool PacksStagedWeights(KernelPlan plan, int lanes) =>
            StagedWeightsFloats(plan) > 0 && StagesInput(plan.Spec, plan.Columns, lanes);

        /// <summary>The kernel class's per-thread buffer of the repacked weights (declared when <see cref="StagedWeightsFloats"/> is above 0).</summary>
        internal const string StagedWeightsField = "t_stagedWeights";

        /// <summary>Floats of the per-thread repacked-weights buffer: all the weights, when a 3-D path repacks them (<see cref="PacksStagedWeights"/>), else 0.</summary>
        internal static int StagedWeightsFloats(KernelPlan plan) =>
            plan.Spec.Rank == 3 && StagedInputFloats(plan) > 0 ? plan.Spec.WeightsLength : 0;

        /// <summary>The kernel class's per-thread buffer of the block-packed weights (declared when <see cref="BlockWeightsFloats"/> is above 0).</summary>
        internal const string BlockWeightsField = "t_blockWeights";

        /// <summary>
        /// Whether the staged Vector256 path of a 1-D or 2-D layer reads its weights packed by register block of output channels
        /// (<see cref="BlockWeightIndex"/>): per kernel row, per block, per input channel, the block's channels x kernel columns
        /// together. In place, consecutive input channels' weights lie Cout/g * kH * kW floats apart (1 KB on unet_up, 4 KB on
        /// dcgan: one L1 set and a new page per input channel, which no hardware prefetcher follows), so that the block's
        /// broadcasts over its input channels crowd a few L1 sets; packed, a block's weights of one kernel row are one
        /// contiguous run (unet_up: 3 KB), as the runtime's WidthUpsampleKernel packs them (read from a packing that spread them,
        /// that kernel ran 19 % slower on a Zen 4). Zen 3, in-process against ONNX Runtime, loaded machine (docs/benchmarks.md,
        /// eighth session): with the unrolling below, unet_up 75-77 -> 81-84 GFLOP/s, dcgan 75-76 -> 84-86. The Vector512 path keeps its weights in place.
        /// </summary>
        internal static bool PacksBlockWeights(KernelSpec spec, AxisPlan columns, int lanes) =>
            spec.Rank <= 2 && lanes == 8 && StagesInput(spec, columns, lanes);

        /// <summary>Floats of the per-thread block-packed weights buffer: all the weights when a path packs them (<see cref="PacksBlockWeights"/>), else 0.</summary>
        internal static int BlockWeightsFloats(KernelPlan plan)
        {
            if (StagedInputFloats(plan) == 0) return 0;
            foreach (int lanes in plan.PathWidths)
            {
                if (PacksBlockWeights(plan.Spec, plan.Columns, lanes)) return plan.Spec.WeightsLength;
            }

            return 0;
        }

        /// <summary>This path reads the block-packed weights (<see cref="PacksBlockWeights"/>).</summary>
        private bool BlockPacked => _strategy == KernelStrategy.WidthVectorized && PacksBlockWeights(_spec, _columns, _lanes);

        /// <summary>
        /// The block-packed index (<see cref="PacksBlockWeights"/>) of the weight of input channel <paramref name="inputChannel"/>
        /// of <paramref name="group"/> (counted within the group) and output channel <paramref name="first"/> + <paramref name="channel"/>
        /// of the group, in the block of <paramref name="channels"/> channels from <paramref name="first"/>:
        /// <c>[group][ky][block][input channel][channel of the block][kx]</c>. The blocks of a group are consecutive, so a block
        /// starts at <c>first * Cin/g</c> of its kernel row.
        /// </summary>
        private Affine BlockWeightIndex(Affine group, Affine inputChannel, Affine first, int channels, long channel, int ky, int kx) =>
            ((group * _spec.KernelHeight + ky) * ((long)_spec.InPerGroup * _spec.OutPerGroup) + first * _spec.InPerGroup + inputChannel * channels + channel)
            * _spec.KernelWidth + kx;

        /// <summary>Floats between the repacked weights of consecutive depth taps (<see cref="PacksStagedWeights"/>).</summary>
        internal static long StagedWeightsTapFloats(KernelSpec spec) => (long)spec.KernelHeight * spec.InChannels * spec.OutPerGroup * spec.KernelWidth;

        /// <summary>Floats of the per-thread staged-input buffer: one input sample (3-D: one input slice), its rows padded, when a path stages it, else 0.</summary>
        internal static int StagedInputFloats(KernelPlan plan)
        {
            // A 3-D layer whose depth taps reach no output slice writes no plane code: nothing would read the buffer (CS0169).
            if (plan.Strategy != KernelStrategy.WidthVectorized || plan.PlaneModes.Length == 0) return 0;
            foreach (int lanes in plan.PathWidths)
            {
                if (StagesInput(plan.Spec, plan.Columns, lanes)) return plan.Spec.InChannels * plan.Spec.InputHeight * StagedRowFloats(plan.Spec, plan.Columns);
            }

            return 0;
        }

        /// <summary>How many of <paramref name="plan"/>'s paths stage their input (<see cref="StagesInput"/>).</summary>
        internal static int StagedPathCount(KernelPlan plan)
        {
            int count = 0;
            foreach (int lanes in plan.PathWidths)
            {
                if (StagesInput(plan.Spec, plan.Columns, lanes)) count++;
            }

            return count;
        }

        /// <summary>The paths that stage their input, by name, widest first ("Vector512 and Vector256").</summary>
        internal static string StagedPathNames(KernelPlan plan)
        {
            var names = new List<string>();
            foreach (int lanes in plan.PathWidths)
            {
                if (StagesInput(plan.Spec, plan.Columns, lanes)) names.Add("Vector" + Text(lanes * 32));
            }

            return string.Join(" and ", names);
        }

        /// <summary>
        /// The zero columns a staged input row has before and after the input's: as many as the vectors of any run read past the
        /// row's ends (a vector reads <c>[m + shift, m + shift + width)</c> inside <c>[First + least shift, End + largest shift)</c>
        /// of its run), so that every vector is one plain load, edges included, and no lanes are shifted.
        /// </summary>
        internal static (int Left, int Right) StagedPadding(KernelSpec spec, AxisPlan columns)
        {
            int left = 0, right = 0;
            foreach (var run in ColumnRuns(spec, columns))
            {
                foreach (var part in run.Parts)
                {
                    foreach (int shift in part.InputShifts)
                    {
                        left = Math.Max(left, -(run.First + shift));
                        right = Math.Max(right, run.End + shift - spec.InputWidth);
                    }
                }
            }

            return (left, right);
        }

        /// <summary>Staged rows of this many floats (4 KB) or more are padded to an odd number of cache lines (<see cref="StagedRowFloats"/>).</summary>
        private const int LongStagedRowFloats = 1024;

        /// <summary>
        /// Floats of one staged input row: the input row and its zero columns (<see cref="StagedPadding"/>), and for rows of
        /// <see cref="LongStagedRowFloats"/> floats or more further zero columns up to an odd number of 64-byte cache lines.
        /// The reduction reads the same columns of every input channel's row in turn; rows a multiple of 4 KB apart, or nearly
        /// (2050 floats, 8200 bytes, on vocoder_up2: 128 -> 64, length 2048, kernel 4, stride 2), put those columns of all 128
        /// channels into a few of the L1 cache's 64 sets, more lines than their ways, so that the next block's reads missed;
        /// 2064 floats (129 lines) spread them over every set. vocoder_up2 with AVX-512 off on a Zen 5, interleaved in one
        /// process: 94 against 88-91 GFLOP/s (10th percentile), and 102 against 98 with the row in tiles (<see cref="ColumnTile"/>).
        /// </summary>
        private static int StagedRowFloats(KernelSpec spec, AxisPlan columns)
        {
            var (left, right) = StagedPadding(spec, columns);
            int floats = left + spec.InputWidth + right;
            return floats >= LongStagedRowFloats ? (floats + 15) / 32 * 32 + 16 : floats;
        }

        /// <summary>Whether the staged rows are padded past their zero columns to an odd number of cache lines (<see cref="StagedRowFloats"/>).</summary>
        private static bool PadsStagedRows(KernelSpec spec, AxisPlan columns)
        {
            var (left, right) = StagedPadding(spec, columns);
            return left + spec.InputWidth + right >= LongStagedRowFloats;
        }

        /// <summary>Output rows per register block: 1, or 2 while <see cref="PairedStagedRows"/> writes a pair (<see cref="PairsStagedRows"/>).</summary>
        private int _blockRows = 1;

        /// <summary>This path reads its input from the staged copy (<see cref="StagesInput"/>).</summary>
        private bool Staged => _strategy == KernelStrategy.WidthVectorized && StagesInput(_spec, _columns, _lanes);

        /// <summary>The input's index as the width kernel reads it: the caller's layout, or the staged rows (<see cref="StagesInput"/>).</summary>
        private Affine WidthInputIndex(Affine channel, Affine row, Affine column) => Staged
            ? (row * _spec.InChannels + channel) * StagedRowFloats(_spec, _columns) + (column + StagedPadding(_spec, _columns).Left)
            : InputIndex(channel, row, column);

        /// <summary>
        /// Where an input channel's cells start, for a ref to them that <see cref="WidthInputIndex"/>'s row and column part (of
        /// channel 0) is then added to: without the staged rows' leading zero columns, which that part holds.
        /// </summary>
        private Affine WidthChannelStart(Affine channel) => Staged
            ? channel * StagedRowFloats(_spec, _columns)
            : InputIndex(channel, Affine.Of(0), Affine.Of(0));

        /// <summary>
        /// The longest column run a vector can cover: pairs of columns (stride 2, NCHW) or positions of one phase, and in NCHW
        /// no more than the input row (an edge vector loads one whole window of it).
        /// </summary>
        internal static int WidthVectorExtent(KernelSpec spec, AxisPlan columns)
        {
            bool paired = IsPaired(spec, columns);
            int longest = 0;
            if (paired)
            {
                longest = PairedColumnPlan.TryCreate(columns)!.FullPairs;
            }
            else
            {
                foreach (var phase in columns.Phases) longest = Math.Max(longest, phase.EndQ - phase.FirstQ);
            }

            return ContiguousInput(spec) ? Math.Min(longest, spec.InputWidth) : longest;
        }

        /// <summary>The header lines that explain the width-vectorised code of <paramref name="plan"/>.</summary>
        internal static IEnumerable<string> DescribeWidthStrategy(KernelPlan plan)
        {
            var s = plan.Spec;
            bool paired = IsPaired(s, plan.Columns);
            yield return "// Strategy: width-vectorised. Lanes are consecutive output columns of one output row, so input loads are "
                + (s.ChannelsLast ? "strided (NHWC keeps channels contiguous, but " + Text(s.OutPerGroup) + " output channels per group cannot fill a 128-bit vector)" : "contiguous (NCHW)");
            yield return "//   and weights are broadcast. " + (paired
                ? "Stride 2: both column phases are computed together and interleaved in registers, so stores are contiguous too."
                : s.StrideWidth == 1 ? "Stride 1: one phase, contiguous lanes." : "Each column phase is computed alone, its lanes stored " + Text(s.StrideWidth) + " apart.");
            yield return "//   Vectors whose taps partly fall off the input load the nearest whole input window and shift zeros in; a row's last";
            yield return "//   vector is moved back to end at the row's end. Longest run a vector covers: " + Text(plan.VectorExtent) + (paired ? " column pairs." : " positions.");
            var blocks = new StringBuilder();
            foreach (int lanes in plan.PathWidths)
            {
                var (channels, vectors) = WidthBlocking(s, plan.Columns, lanes);
                if (blocks.Length > 0) blocks.Append(", ");
                blocks.Append(lanes switch { 16 => "Vector512", 8 => "Vector256", 4 => "Vector128", _ => "Scalar" })
                    .Append(' ').Append(Text(channels)).Append(" x ").Append(PairsStagedRows(s, plan.Columns, lanes) ? "1 x " + Text(vectors) + " output rows" : Text(vectors));
            }

            yield return "//   Register blocks (output channels x vectors" + (paired ? " of each phase" : "") + "): " + blocks
                + "; each input vector is loaded once per tap for the whole block.";
            if (Array.Exists(plan.PathWidths, lanes => SharesWeightBroadcasts(s, plan.Columns, lanes)))
            {
                yield return "//   Vector512 (a 1-D layer with many channels): the " + Text(SharedPixelVectors) + " vectors of a block go input offset by input offset, each broadcast weight";
                yield return "//   feeding one FMA per vector (one vector per block took a broadcast load per FMA: 1.07x ONNX Runtime against 1.3-1.4x";
                yield return "//   on a Zen 5 for 128 -> 64 channels, length 2048, kernel 4, stride 2).";
            }

            if (Array.Exists(plan.PathWidths, lanes => GoesByInputOffset(s, plan.Columns, lanes)))
            {
                yield return "//   Vector256 (few input channels, unstaged): a block goes input offset by input offset, its vectors of one offset loaded, then each";
                yield return "//   weight that reads them broadcast once for all of them; tap by tap, each FMA took its own broadcast load (AVX2 has no";
                yield return "//   broadcast operand) and every offset's vectors were live, which held the 16 registers to one-vector blocks.";
            }

            if (StagedInputFloats(plan) > 0)
            {
                yield return "//   The " + StagedPathNames(plan) + " " + (s.Rank == 3 ? "planes first copy their input slice" : (StagedPathCount(plan) > 1 ? "paths first copy" : "path first copies") + " the sample's input") + " into a per-thread buffer ("
                    + Text(StagedInputFloats(plan)) + " floats, allocated on a thread's first call,";
                yield return "//   no allocation after) laid out [input row][input channel][column]: the loop over the input channels then reads one small block";
                yield return "//   instead of a cell range of every channel plane, whose cache and TLB traffic held AVX2 machines near half of the FMA peak; its";
                yield return "//   blocks of two vectors let each broadcast weight feed two FMAs (the 6 x 16 SGEMM tile on AVX2; on AVX-512, 6 channels x 2 vectors";
                yield return "//   x 2 phases: 24 of the 32 registers, 14 loads per 24 FMAs, 89 % of a Zen 5's Vector512 peak on unet_up, 68 % unstaged,";
                yield return "//   where rows narrower than two Vector512 vectors take two output rows of one row phase per block instead). Its staged rows have zero";
                yield return "//   columns at both ends, so its edge vectors are plain loads (no shifts), and its loop over the output rows is outside the blocks";
                yield return "//   of output channels, so that the staged rows an output row reads stay in the L1 cache for every block (unet_up 128 -> 64 32x32";
                yield return "//   with AVX-512 off on a Zen 4: 0.56x ONNX Runtime unstaged, about 0.9x staged, about 1.03x with the rows outside).";
                var streaming = Array.FindAll(plan.PathWidths, lanes => StreamsStagedRows(s, plan.Rows, plan.Columns, plan.Level, lanes));
                if (streaming.Length > 0)
                {
                    yield return "//   The " + string.Join(" and ", Array.ConvertAll(streaming, lanes => "Vector" + Text(lanes * 32))) + " path streams the staged rows: it copies the first input row only, and";
                    yield return "//   each output row's first block of its last row phase copies the next one beside its FMAs, one input channel per iteration";
                    yield return "//   (the first phase's first block prefetches the row after): the copy's loads, a channel plane apart, cost about 3 % of the";
                    yield return "//   time instead of 6 % for one upfront copy (unet_up, Zen 5 Vector512: 2-4 % faster; a copy at each row's start: no gain).";
                }
                if (PadsStagedRows(s, plan.Columns))
                {
                    yield return "//   Its staged rows of " + Text(StagedRowFloats(s, plan.Columns)) + " floats are an odd number of cache lines, so that one column of consecutive input";
                    yield return "//   channels spreads over the L1 sets (rows about a multiple of 4 KB apart put it into a few).";
                }

                if (Array.Exists(plan.PathWidths, lanes => TilesStagedRow(plan, lanes)))
                {
                    yield return "//   Its long 1-D row is walked in tiles of about " + Text(StagedColumnTile) + " positions outside the blocks of output channels, so that every block";
                    yield return "//   reads a tile's staged cells from the L2 cache (vocoder_up2, AVX-512 off, Zen 5, padded rows: 88 -> 102 GFLOP/s, 10th percentile).";
                }

                if (BlockWeightsFloats(plan) > 0)
                {
                    yield return "//   The Vector256 path packs the weights once per sample by its register blocks of output channels, [group][ky][block][input";
                    yield return "//   channel][channel][kx]: in place consecutive input channels' weights lie " + Text((long)s.OutPerGroup * s.KernelHeight * s.KernelWidth * 4)
                        + " bytes apart, so a block's broadcasts crowd a few L1 sets";
                    yield return "//   (a new page per input channel from 4 KB on, which no hardware prefetcher follows); packed, they are one contiguous run.";
                    if (s.InPerGroup % 2 == 0)
                    {
                        yield return "//   Its blocks of fewer than " + Text(MinUnrolledMultiplyAdds) + " multiply-adds per input channel (k2 s2: 12) reduce two input channels per loop";
                        yield return "//   iteration, halving the refs, counter and branch paid per FMA.";
                    }
                }

                if (StagedWeightsFloats(plan) > 0)
                {
                    yield return "//   Their path also repacks the weights once per sample ([kd][kh][input channel][output channel][kw], a per-thread buffer of";
                    yield return "//   " + Text(StagedWeightsFloats(plan)) + " floats): in place, consecutive input channels' weights lie " + Text((long)s.OutPerGroup * s.KernelVolume * 4)
                        + " bytes apart, and a block's broadcasts over its input";
                    yield return "//   channels crowd a few L1 sets beside the staged rows (volume_up with AVX-512 off on a Zen 5: 86 % -> 88.5 % of the Vector256 peak).";
                }
            }
            // NHWC lanes are gathered: no shuffle.
            if (!s.ChannelsLast && Array.Exists(plan.PathWidths, lanes => lanes > 1))
            {
                yield return "//   Lane shuffles (zeros shifted into edge vectors" + (paired ? ", the phases interleaved" : "") + ") call helpers at the end of the class that the JIT"
                    + " inlines: their IsSupported checks are there, not at each call, so that analysers such as the trim analyzer do not walk a branch per shuffle.";
            }
        }

        /// <summary>Where the width kernel reads its input: the caller's <c>x</c>, or the staged copy <c>xs</c>.</summary>
        private string InputSource => Staged ? "xs" : "x";

        private void WriteWidthVectorized()
        {
            bool streams = !_stagesOnRequest && StreamsStagedRows(_spec, _rows, _columns, _level, _lanes);
            if (Staged)
            {
                _writer?.Line("// The input staged row by row, [input row][input channel][column], in a buffer of the calling thread's made on its first");
                _writer?.Line("// call and reused (no allocation per call; each call rewrites all of it): the reduction over the input channels then reads");
                _writer?.Line("// one small block instead of a cell range of every channel plane.");
                int rowFloats = StagedRowFloats(_spec, _columns), left = StagedPadding(_spec, _columns).Left;
                if (rowFloats > _spec.InputWidth)
                {
                    _writer?.Line("// Each staged row has " + Text(left) + " zero column(s) before the input's and " + Text(rowFloats - left - _spec.InputWidth)
                        + " after: no call writes them, so they stay zero, and edge vectors are plain loads.");
                    if (PadsStagedRows(_spec, _columns))
                    {
                        _writer?.Line("// The rows' " + Text(rowFloats) + " floats are an odd number of 64-byte cache lines (" + Text(rowFloats / 16)
                            + "): one column of consecutive input channels falls in");
                        _writer?.Line("// different L1 sets, where rows about a multiple of 4 KB apart put every channel's into a few sets (more lines than their ways).");
                    }
                }

                Statement("float[] stagedInput = " + StagedInputField + " ??= new float[" + Text((long)_spec.InChannels * _spec.InputHeight * rowFloats) + "];");
                Statement("ref float xs = ref " + Use("MemoryMarshal") + ".GetArrayDataReference(stagedInput);");
                // Written in the buffer's order (rows outside, channels inside): the stores go to consecutive memory, where the
                // input's order wrote one row a whole staged input row (4 KB+) from the last, each a new set of the L1 cache
                // (Zen 5 unet_up: about 48 -> 14 us of the copy).
                if (_stagesOnRequest)
                {
                    _writer?.Line("// Copied by the slice's first plane only (stage); its other depth taps' planes read the same copy.");
                    _writer?.Open("if (stage)");
                }

                if (streams)
                {
                    // Streamed (StreamsStagedRows): the first input row now, every later one by the output row before it.
                    int firstRow = _rows.Phases[0].FirstQ;
                    _writer?.Line("// Only input row " + Text(firstRow) + " now: each output row's first block of its last row phase copies the row the next output row");
                    _writer?.Line("// reads, one input channel per iteration, beside its FMAs (the copy's loads, a channel plane apart, then cost about 3 %");
                    _writer?.Line("// of the kernel's time instead of the 6 % of one copy of every row first: unet_up, Zen 5).");
                    _writer?.Line("for (int sc = 0; sc < " + Text(_spec.InChannels) + "; sc++)");
                    Statement("    " + Use("Unsafe") + ".CopyBlockUnaligned(ref Unsafe.As<float, byte>(ref Unsafe.Add(ref xs, (nint)("
                        + WidthInputIndex(Affine.Var("sc"), Affine.Of(firstRow), Affine.Of(0)) + "))), ref Unsafe.As<float, byte>(ref Unsafe.Add(ref x, (nint)("
                        + InputIndex(Affine.Var("sc"), Affine.Of(firstRow), Affine.Of(0)) + "))), " + Text(4 * _spec.InputWidth) + ");");
                }
                else
                {
                    _writer?.Line("for (int sr = 0; sr < " + Text(_spec.InputHeight) + "; sr++)");
                    _writer?.Line("    for (int sc = 0; sc < " + Text(_spec.InChannels) + "; sc++)");
                    Statement("        " + Use("Unsafe") + ".CopyBlockUnaligned(ref Unsafe.As<float, byte>(ref Unsafe.Add(ref xs, (nint)((sr * " + Text(_spec.InChannels)
                        + " + sc) * " + Text(rowFloats) + (left > 0 ? " + " + Text(left) : "") + "))), ref Unsafe.As<float, byte>(ref Unsafe.Add(ref x, (nint)("
                        + InputIndex(Affine.Var("sc"), Affine.Var("sr"), Affine.Of(0)) + "))), " + Text(4 * _spec.InputWidth) + ");");
                }

                if (_stagesOnRequest) _writer?.Close();
                if (BlockPacked) WriteBlockWeights();
            }

            int perGroup = _spec.OutPerGroup;
            var (block, pixelVectors) = WidthBlocking(_spec, _columns, _lanes);
            var runs = ColumnRuns();
            int fullBlocks = perGroup / block, tail = perGroup % block;
            if (Staged)
            {
                bool rowPairs = PairsStagedRows(_spec, _columns, _lanes);
                // Row pairs: the block's two vectors are two output rows (PairedStagedRows), one column vector each.
                if (rowPairs) pixelVectors = 1;
                int tailVectors = rowPairs ? 1 : StagedTailVectors(block, pixelVectors);

                // Every block of output channels: full blocks of `block` channels, then the tail. A streaming row's first block
                // (StreamsStagedRows) is written out of the loop, with its copy or prefetches.
                void ChannelBlocks(Action<Affine, int, int> blockRun, RowStaging staging = RowStaging.None)
                {
                    int from = 0;
                    if (staging != RowStaging.None)
                    {
                        _rowStaging = staging;
                        blockRun(Affine.Of(0), block, pixelVectors);
                        _rowStaging = RowStaging.None;
                        from = 1;
                    }

                    Repeat("ob", from * block, fullBlocks - from, block, RollChannels, first => blockRun(first, block, pixelVectors));
                    if (tail > 0) blockRun(Affine.Of((long)fullBlocks * block), tail, tailVectors);
                }

                bool tiled = runs.Exists(run => ColumnTiles(run, pixelVectors, tailVectors) > 1);
                // Rows outside the channel blocks: the staged input rows one output row reads stay in the L1 cache while every
                // block of output channels reads them.
                Repeat("g", 0, _spec.Groups, 1, RollChannels, group => StagedRows((rowPhase, qh, rowTaps) =>
                {
                    if (!tiled)
                    {
                        var staging = RowStaging.None;
                        if (streams)
                        {
                            // The row read next (qn) and the one after (qp), the last row again at the end: copying a staged row
                            // onto itself rewrites the same values.
                            int lastRow = _rows.Phases[0].EndQ - 1;
                            if (rowPhase.Residue == _rows.Phases[0].Residue)
                            {
                                staging = RowStaging.Prefetch;
                                Statement("int qp = " + qh + " < " + Text(lastRow - 1) + " ? " + (qh + 2) + " : " + Text(lastRow) + ";");
                            }
                            else if (rowPhase.Residue == _rows.Phases[_rows.Phases.Length - 1].Residue)
                            {
                                staging = RowStaging.Copy;
                                Statement("int qn = " + qh + " < " + Text(lastRow) + " ? " + (qh + 1) + " : " + Text(lastRow) + ";");
                            }
                        }

                        ChannelBlocks((first, channels, vectors) =>
                        {
                            foreach (var run in runs) WidthRun(group, first, channels, rowPhase, qh, rowTaps, run, vectors);
                        }, staging);
                        return;
                    }

                    foreach (var run in runs)
                    {
                        int tile = ColumnTile(run, pixelVectors, tailVectors), tiles = ColumnTiles(run, pixelVectors, tailVectors);
                        if (tiles < 2)
                        {
                            ChannelBlocks((first, channels, vectors) => WidthRun(group, first, channels, rowPhase, qh, rowTaps, run, vectors));
                            continue;
                        }

                        // A long 1-D row of every input channel can be too big for its staged cells to stay in the L2 cache from one
                        // block of output channels to the next: tiles of the row go outside the blocks (ColumnTile).
                        int end = run.First + tiles * tile;
                        _writer?.Line("// Positions " + Text(run.First) + ".." + Text(end - 1) + " in tiles of " + Text(tile) + ", each walked by every block of output channels in turn:");
                        _writer?.Line("// the blocks after the first read the tile's staged cells (about " + Text((long)_spec.InChannels * tile * 4 / 1024)
                            + " KB) from the L2 cache, where the whole row's (" + Text((long)_spec.InChannels * StagedRowFloats(_spec, _columns) * 4 / 1024) + " KB)");
                        _writer?.Line("// may not stay there from one block to the next.");
                        Repeat("mt", run.First, tiles, tile, roll: true, mt => ChannelBlocks((first, channels, vectors) =>
                            WidthTile(group, first, channels, rowPhase, qh, rowTaps, run, mt, tile, vectors)));
                        if (end < run.End)
                        {
                            var rest = new ColumnRun(run.Parts, end, run.End, run.Paired);
                            ChannelBlocks((first, channels, vectors) => WidthRun(group, first, channels, rowPhase, qh, rowTaps, rest, vectors));
                        }
                    }
                }));
                return;
            }

            Repeat("g", 0, _spec.Groups, 1, RollChannels, group =>
            {
                Repeat("ob", 0, fullBlocks, block, RollChannels, first => WidthChannelBlock(group, first, block, runs, pixelVectors));
                if (tail > 0) WidthChannelBlock(group, Affine.Of((long)fullBlocks * block), tail, runs, pixelVectors);
            });
        }

        /// <summary>
        /// Copies the weights into the block-packed buffer <c>wp</c> (<see cref="PacksBlockWeights"/>), once per sample: per input and
        /// output channel, each kernel row's <c>kW</c> weights in one move (they are consecutive in both layouts).
        /// </summary>
        private void WriteBlockWeights()
        {
            var (block, _) = WidthBlocking(_spec, _columns, _lanes);
            int perGroup = _spec.OutPerGroup, fullBlocks = perGroup / block, tail = perGroup % block;
            _writer?.Line("// The weights packed by register block of output channels, [group][ky][block of " + Text(block) + "][input channel][channel][kx], into a buffer");
            _writer?.Line("// of the calling thread's (made on its first call, rewritten by every call): a block's weights of one kernel row are then");
            _writer?.Line("// one contiguous run, where in place consecutive input channels' lie " + Text((long)perGroup * _spec.KernelHeight * _spec.KernelWidth * 4)
                + " bytes apart and crowd a few L1 sets.");
            Statement("float[] blockWeights = " + BlockWeightsField + " ??= new float[" + Text(_spec.WeightsLength) + "];");
            Statement("ref float wp = ref " + Use("MemoryMarshal") + ".GetArrayDataReference(blockWeights);");
            bool groups = _spec.Groups > 1;
            _writer?.Open("for (int pi = 0; pi < " + Text(_spec.InChannels) + "; pi++)");
            if (groups) Statement("int pg = pi / " + Text(_spec.InPerGroup) + ", pq = pi - pg * " + Text(_spec.InPerGroup) + ";");
            _writer?.Open("for (int po = 0; po < " + Text(perGroup) + "; po++)");
            // The block holding output channel po, and its channels (the last block holds the tail).
            Statement("int pf = po / " + Text(block) + " * " + Text(block) + ", pn = " + (tail > 0 ? "pf < " + Text((long)fullBlocks * block) + " ? " + Text(block) + " : " + Text(tail) : Text(block)) + ";");
            var target = BlockWeightIndex(groups ? Affine.Var("pg") : Affine.Of(0), Affine.Of(0), Affine.Var("pf"), 0, 0, 0, 0) + Affine.Var("po") * _spec.KernelWidth
                + Affine.Var("pf") * -_spec.KernelWidth;
            string inputChannel = groups ? "pq" : "pi";
            _writer?.Open("for (int ky = 0; ky < " + Text(_spec.KernelHeight) + "; ky++)");
            Statement(Use("Unsafe") + ".CopyBlockUnaligned(ref Unsafe.As<float, byte>(ref Unsafe.Add(ref wp, (nint)(" + target + " + (ky * "
                + Text((long)_spec.InPerGroup * perGroup) + " + " + inputChannel + " * pn) * " + Text(_spec.KernelWidth) + "))), ref Unsafe.As<float, byte>(ref Unsafe.Add(ref w, (nint)((pi * "
                + Text(perGroup) + " + po) * " + Text(_spec.KernelHeight * _spec.KernelWidth) + " + ky * " + Text(_spec.KernelWidth) + "))), " + Text(4 * _spec.KernelWidth) + ");");
            _writer?.Close();
            _writer?.Close();
            _writer?.Close();
        }

        /// <summary>The column runs of every output row (they do not depend on the row).</summary>
        private List<ColumnRun> ColumnRuns() => ColumnRuns(_spec, _columns);

        private static List<ColumnRun> ColumnRuns(KernelSpec spec, AxisPlan columns)
        {
            var runs = new List<ColumnRun>();
            if (IsPaired(spec, columns))
            {
                var pairs = PairedColumnPlan.TryCreate(columns)!;
                var even = ColumnPart.Of(pairs.Even, pairs.EvenFirstQ, pairs.EvenShifts);
                var odd = ColumnPart.Of(pairs.Odd, pairs.OddFirstQ, pairs.OddShifts);
                runs.Add(new ColumnRun(new[] { even, odd }, 0, pairs.FullPairs, paired: true));
                // An odd width's last pair has its even cell alone.
                if (pairs.PairCount > pairs.FullPairs)
                    runs.Add(new ColumnRun(new[] { even }, pairs.FullPairs, pairs.PairCount, paired: false));
                return runs;
            }

            foreach (var phase in columns.Phases)
            {
                if (phase.EndQ > phase.FirstQ)
                    runs.Add(new ColumnRun(new[] { ColumnPart.Of(phase, 0, PairedColumnPlan.InputShifts(phase, 0)) }, phase.FirstQ, phase.EndQ, paired: false));
            }

            return runs;
        }

        /// <summary>
        /// The vector width of a run: the widest of this path's widths that fits both the run and, for contiguous loads, the
        /// input row (a shifted edge load reads one whole window of the row); 1 when none does.
        /// </summary>
        private int RunWidth(ColumnRun run) => RunWidth(_spec, _lanes, run);

        private static int RunWidth(KernelSpec spec, int lanes, ColumnRun run)
        {
            int length = run.End - run.First;
            foreach (int width in new[] { 16, 8, 4 })
            {
                if (width <= lanes && width <= length && (!ContiguousInput(spec) || width <= spec.InputWidth)) return width;
            }

            return 1;
        }

        private void WidthChannelBlock(Affine group, Affine firstChannel, int channels, List<ColumnRun> runs, int pixelVectors) =>
            WidthRows((rowPhase, qh, rowTaps) =>
            {
                foreach (var run in runs) WidthRun(group, firstChannel, channels, rowPhase, qh, rowTaps, run, pixelVectors);
            });

        /// <summary>What the first block of output channels of a streamed staged row does besides its own work (<see cref="StreamsStagedRows"/>).</summary>
        private enum RowStaging
        {
            /// <summary>Nothing.</summary>
            None,

            /// <summary>Prefetches, input channel by input channel, the input row two output rows ahead (row <c>qp</c>).</summary>
            Prefetch,

            /// <summary>Copies, input channel by input channel, the input row the next output row reads (row <c>qn</c>) into the staged rows.</summary>
            Copy,
        }

        /// <summary>Set while <see cref="WidthBlock"/> writes the block that streams the staged rows (<see cref="StreamsStagedRows"/>).</summary>
        private RowStaging _rowStaging;

        /// <summary>
        /// Whether every row phase of a rolled loop covers the same positions, so that <see cref="StagedRows"/> walks them in one
        /// loop over the positions.
        /// </summary>
        private static bool RowPhasesTogether(AxisPlan rows, UnrollLevel level)
        {
            var phases = rows.Phases;
            bool together = level >= UnrollLevel.SpatialLoops && phases.Length > 1 && phases[0].EndQ - phases[0].FirstQ > 1;
            foreach (var phase in phases) together &= phase.FirstQ == phases[0].FirstQ && phase.EndQ == phases[0].EndQ;
            return together;
        }

        /// <summary>
        /// Whether the staged 2-D path of <paramref name="lanes"/> lanes streams its staged rows: it copies only the first input
        /// row before the loop over the output rows, and each output row's first block of output channels of the last row phase
        /// copies the input row the next output row reads, one input channel per iteration of its reduction loop (the first
        /// phase's first block prefetches the row after). The copy's loads, a whole input row a channel plane apart, then run
        /// beside that block's FMAs instead of before all of them: on unet_up (Zen 5, Vector512, interleaved in one process) the
        /// upfront copy cost about 6 % of the kernel's time (no copy at all: 334-358 against 355-381 us), the streamed one about 3 %
        /// (343-371 us, three processes, thread CPU time; the whole row copied at each row's start instead, prefetched or not: no gain).
        /// Only where every row phase reads input row q alone (kernel = stride, no padding: unet_up's k2 s2), its rows are one
        /// loop of both phases (<see cref="RowPhasesTogether"/>), and one register block covers an output row's columns (so that
        /// the streaming block runs once per row and output channel block: the Vector512 path on 32 columns).
        /// </summary>
        internal static bool StreamsStagedRows(KernelSpec spec, AxisPlan rows, AxisPlan columns, UnrollLevel level, int lanes)
        {
            if (spec.Rank != 2 || spec.Groups != 1 || level < UnrollLevel.ReductionLoops || !StagesInput(spec, columns, lanes)
                || PairsStagedRows(spec, columns, lanes) || !RowPhasesTogether(rows, level))
                return false;
            foreach (var phase in rows.Phases)
            {
                foreach (int offset in phase.TapOffsets)
                {
                    if (offset != 0) return false;
                }
            }

            var (block, pixelVectors) = WidthBlocking(spec, columns, lanes);
            if (spec.OutPerGroup < 2 * block) return false;
            var runs = ColumnRuns(spec, columns);
            if (runs.Count != 1) return false;
            int width = RunWidth(spec, lanes, runs[0]);
            return width == lanes && width * pixelVectors == runs[0].End - runs[0].First;
        }

        /// <summary>
        /// The output rows of the staged path: where the rows are a loop and every row phase covers the same positions (k2 s2:
        /// output rows 2q and 2q + 1), one loop over the positions with each phase's row inside, so that the staged input rows
        /// they share are read from the L1 cache by the second phase (Zen 5 unet_up, Vector512: about 4 % faster than phase by
        /// phase, which read every staged row again from L2 after the whole first phase); otherwise <see cref="WidthRows"/>.
        /// </summary>
        private void StagedRows(Action<AxisPhase, Affine, Tap[]> row)
        {
            var phases = _rows.Phases;
            if (PairsStagedRows(_spec, _columns, _lanes))
            {
                PairedStagedRows(row);
                return;
            }

            if (!RowPhasesTogether(_rows, _level))
            {
                WidthRows(row);
                return;
            }

            var taps = new Tap[phases.Length][];
            for (int i = 0; i < phases.Length; i++) taps[i] = Guarded(Taps(phases[i]), phases[i].FirstQ, phases[i].EndQ, _spec.InputHeight);
            Repeat("qh", phases[0].FirstQ, phases[0].EndQ - phases[0].FirstQ, 1, roll: true, qh =>
            {
                for (int i = 0; i < phases.Length; i++) row(phases[i], qh, taps[i]);
            });
        }

        /// <summary>
        /// The output rows of a staged path that pairs them (<see cref="PairsStagedRows"/>), phase by phase: rows q and q + 1 of a
        /// phase per block. Pairs whose rows read real input rows for every row tap are one loop (no guards); an edge pair is
        /// written out with its row positions as literals, each of its rows skipping the row taps that fall off the input
        /// (<see cref="WidthBlock"/>); an odd phase's last row is a block of its own.
        /// </summary>
        private void PairedStagedRows(Action<AxisPhase, Affine, Tap[]> row)
        {
            foreach (var rowPhase in _rows.Phases)
            {
                var all = Taps(rowPhase);
                int interiorFirst = rowPhase.InteriorFirstQ, interiorEnd = Math.Max(rowPhase.InteriorEndQ, interiorFirst);
                int q = rowPhase.FirstQ;
                _blockRows = 2;
                while (q + 1 < rowPhase.EndQ)
                {
                    if (q >= interiorFirst && q + 1 < interiorEnd)
                    {
                        int pairs = (interiorEnd - q) / 2;
                        Repeat("qh", q, pairs, 2, RollSpatial, qh => row(rowPhase, qh, all));
                        q += 2 * pairs;
                    }
                    else
                    {
                        row(rowPhase, Affine.Of(q), all);
                        q += 2;
                    }
                }

                _blockRows = 1;
                if (q < rowPhase.EndQ) row(rowPhase, Affine.Of(q), Valid(all, q, _spec.InputHeight));
            }
        }

        /// <summary>Every output row, phase by phase: <paramref name="row"/> gets the phase, the row's position and its (guarded) row taps.</summary>
        private void WidthRows(Action<AxisPhase, Affine, Tap[]> row)
        {
            foreach (var rowPhase in _rows.Phases)
            {
                void Row(Affine qh, Tap[] rowTaps) => row(rowPhase, qh, rowTaps);

                if (RollSpatial)
                {
                    // One loop over every row, edge rows included: their row taps are bounds-checked, which costs a branch per
                    // tap and input channel, where writing the edge rows out would repeat the whole row's code (and method size
                    // is what pushes the JIT into unoptimised code).
                    var taps = Guarded(Taps(rowPhase), rowPhase.FirstQ, rowPhase.EndQ, _spec.InputHeight);
                    Repeat("qh", rowPhase.FirstQ, rowPhase.EndQ - rowPhase.FirstQ, 1, roll: true, qh => Row(qh, taps));
                }
                else
                {
                    ForEachRow(rowPhase, Row);
                }
            }
        }

        /// <summary>
        /// One run of one output row: its vectors grouped into register blocks. When spatial loops are kept, the vectors whose
        /// taps all read real cells become one loop; the edge vectors (and the last, moved-back one) are written out.
        /// </summary>
        private void WidthRun(Affine group, Affine firstChannel, int channels, AxisPhase rowPhase, Affine qh, Tap[] rowTaps, ColumnRun run, int pixelVectors)
        {
            int width = RunWidth(run);
            int length = run.End - run.First;
            var regular = new List<int>();
            for (int m = run.First; m + width <= run.End; m += width) regular.Add(m);
            // A moved-back last vector recomputes outputs of the one before it: harmless when the store sets them, wrong when it
            // adds (a 3-D plane adding to its slice would add them twice). Such a plane computes the remainder one position at a time.
            bool moveBack = length % width != 0 && !_mode.FromOutput;
            int? last = moveBack ? run.End - width : null;
            var remainder = new List<int>();
            if (length % width != 0 && !moveBack)
            {
                for (int m = run.First + length / width * width; m < run.End; m++) remainder.Add(m);
            }

            void Blocks(List<int> starts, int blockWidth)
            {
                for (int i = 0; i < starts.Count; i += pixelVectors)
                {
                    int count = Math.Min(pixelVectors, starts.Count - i);
                    var block = new Affine[count];
                    for (int p = 0; p < count; p++) block[p] = Affine.Of(starts[i + p]);
                    WidthBlock(group, firstChannel, channels, rowPhase, qh, rowTaps, run, block, blockWidth);
                }
            }

            if (!RollSpatial)
            {
                if (last is int moved) regular.Add(moved);
                Blocks(regular, width);
                Blocks(remainder, 1);
                return;
            }

            // The clean vectors form one range of the regular ones (edges are at both ends).
            int firstClean = regular.FindIndex(m => IsClean(run, m, width));
            int endClean = firstClean;
            while (endClean >= 0 && endClean < regular.Count && IsClean(run, regular[endClean], width)) endClean++;
            if (firstClean < 0)
            {
                if (last is int moved) regular.Add(moved);
                Blocks(regular, width);
                Blocks(remainder, 1);
                return;
            }

            Blocks(regular.GetRange(0, firstClean), width);
            int clean = endClean - firstClean, step = width * pixelVectors;
            int loops = clean / pixelVectors;
            Repeat("m", regular[firstClean], loops, step, roll: true, m =>
            {
                var block = new Affine[pixelVectors];
                for (int p = 0; p < pixelVectors; p++) block[p] = m + (long)p * width;
                WidthBlock(group, firstChannel, channels, rowPhase, qh, rowTaps, run, block, width);
            });
            var rest = regular.GetRange(firstClean + loops * pixelVectors, regular.Count - firstClean - loops * pixelVectors);
            if (last is int end) rest.Add(end);
            Blocks(rest, width);
            Blocks(remainder, 1);
        }

        /// <summary>
        /// Vectors per register block of the staged path's tail block of output channels (fewer than <paramref name="block"/>): its
        /// few channels take more vectors, up to the same accumulators, where with 2 x 2 it would have too few independent FMA
        /// chains to hide the FMA latency.
        /// </summary>
        private int StagedTailVectors(int block, int pixelVectors)
        {
            int tail = _spec.OutPerGroup % block;
            return tail > 0
                ? Math.Max(pixelVectors, Math.Min(MaxPixelVectors, KernelShapes.VectorRegisters(_lanes) * 3 / 4 / (tail * (PairedColumns ? 2 : 1))))
                : pixelVectors;
        }

        /// <summary>Whether the path of <paramref name="lanes"/> lanes walks a staged 1-D row in tiles (<see cref="ColumnTile"/>).</summary>
        internal static bool TilesStagedRow(KernelPlan plan, int lanes)
        {
            if (plan.Strategy != KernelStrategy.WidthVectorized || plan.Spec.Rank != 1) return false;
            var body = new KernelBodyWriter(plan.Spec, plan.Rows, plan.Columns, plan.Strategy, plan.Level, lanes, null,
                new SortedSet<string>(StringComparer.Ordinal), PlaneMode.Complete);
            if (!body.Staged) return false;
            var (block, pixelVectors) = WidthBlocking(plan.Spec, plan.Columns, lanes);
            int tailVectors = body.StagedTailVectors(block, pixelVectors);
            return body.ColumnRuns().Exists(run => body.ColumnTiles(run, pixelVectors, tailVectors) > 1);
        }

        /// <summary>Positions (column pairs or positions of one phase) per tile of a staged 1-D row's run (<see cref="ColumnTile"/>).</summary>
        private const int StagedColumnTile = 256;

        /// <summary>
        /// The positions per tile of a staged 1-D run: about <see cref="StagedColumnTile"/>, a whole number of every block's loop
        /// step (vectors of the full and the tail blocks). At 128 input channels a tile's staged cells are 128 to 256 KB, in the
        /// L2 cache for every block of output channels, where the whole row (1 MB at length 2048) went to L3 and back for each
        /// block. vocoder_up2 (128 -> 64, length 2048, kernel 4, stride 2) with AVX-512 off on a Zen 5, interleaved in one process,
        /// rows padded (<see cref="StagedRowFloats"/>): tiles of 256 pairs 98 against 88 GFLOP/s untiled (10th percentile of the
        /// calls; tiles of 128 pairs 96, of 512 98); with both, 1274 against 1472 us at best for the kernel before (105 GFLOP/s,
        /// about 95 % of the Vector256 FMA peak).
        /// </summary>
        private int ColumnTile(ColumnRun run, int pixelVectors, int tailVectors)
        {
            int width = RunWidth(run);
            long a = (long)width * pixelVectors, b = (long)width * tailVectors, step = a / Gcd(a, b) * b;
            return (int)(step * Math.Max(1, StagedColumnTile / step));
        }

        private static long Gcd(long a, long b) => b == 0 ? a : Gcd(b, a % b);

        /// <summary>Whole tiles (<see cref="ColumnTile"/>) of a staged run: 0 unless this path stages a 1-D row and keeps its loops.</summary>
        private int ColumnTiles(ColumnRun run, int pixelVectors, int tailVectors) =>
            Staged && _spec.Rank == 1 && RollSpatial ? (run.End - run.First) / ColumnTile(run, pixelVectors, tailVectors) : 0;

        /// <summary>One tile of a staged 1-D run (<see cref="ColumnTile"/>), from <paramref name="tileStart"/>: a loop over its register blocks.</summary>
        private void WidthTile(Affine group, Affine firstChannel, int channels, AxisPhase rowPhase, Affine qh, Tap[] rowTaps, ColumnRun run,
            Affine tileStart, int tile, int pixelVectors)
        {
            int width = RunWidth(run), step = width * pixelVectors;
            RepeatFrom("m", tileStart, tile / step, step, m =>
            {
                var block = new Affine[pixelVectors];
                for (int p = 0; p < pixelVectors; p++) block[p] = m + (long)p * width;
                WidthBlock(group, firstChannel, channels, rowPhase, qh, rowTaps, run, block, width);
            });
        }

        /// <summary>Every lane of every tap of the vector at <paramref name="m"/> reads a real input cell.</summary>
        private bool IsClean(ColumnRun run, int m, int width)
        {
            if (Staged) return true; // the staged rows' zero columns cover every vector (StagedPadding)
            foreach (var part in run.Parts)
            {
                foreach (int shift in part.InputShifts)
                {
                    int start = m + shift;
                    if (start < 0 || start + width > _spec.InputWidth) return false;
                }
            }

            return true;
        }

        /// <summary>How the vector at <paramref name="m"/> reads one tap, and by how many lanes an edge load moves.</summary>
        private (LoadKind Kind, int Lanes) LoadOf(Affine m, int inputShift, int width)
        {
            if (!m.IsConstant) return (LoadKind.Whole, 0);
            long start = m.Constant + inputShift, end = start + width;
            if (end <= 0 || start >= _spec.InputWidth) return (LoadKind.None, 0);
            if (start >= 0 && end <= _spec.InputWidth) return (LoadKind.Whole, 0);
            if (width == 1 || !ContiguousInput(_spec)) return (LoadKind.Whole, 0); // gathers skip the lanes off the input themselves
            if (Staged) return (LoadKind.Whole, 0); // the staged rows' zero columns cover every vector (StagedPadding)
            return start < 0 ? (LoadKind.ShiftUp, (int)-start) : (LoadKind.ShiftDown, (int)(end - _spec.InputWidth));
        }

        private static string WidthAccumulator(int channel, int vector, int part) => "a" + Text(channel) + "_" + Text(vector * 2 + part);

        /// <summary>
        /// One register block: <paramref name="starts"/>.Length vectors of <paramref name="width"/> positions of one run of one
        /// output row, for <paramref name="channels"/> output channels. Each input vector (contiguous in NCHW) is loaded once per
        /// tap and feeds every channel's FMA with a broadcast weight.
        /// </summary>
        private void WidthBlock(Affine group, Affine firstChannel, int channels, AxisPhase rowPhase, Affine qh, Tap[] rowTaps,
            ColumnRun run, Affine[] starts, int width)
        {
            int inputStep = _spec.ChannelsLast ? _spec.InChannels : 1;
            var outputRow = OutputRow(rowPhase, qh);
            var groupChannel = group * _spec.OutPerGroup + firstChannel;
            var parts = run.Parts;
            // Vector v of the block: column start starts[v / rows], output row qh + v % rows (rows 2: PairsStagedRows).
            int rows = _blockRows, vectors = starts.Length * rows;
            Affine Start(int v) => starts[v / rows];
            int RowStep(int v) => v % rows;
            // Whether vector v's row reads a real input row for rowTap: always in a loop (its pairs are interior rows), tested
            // for an edge pair's literal rows.
            bool RowReads(int v, Tap rowTap) =>
                !qh.IsConstant || (qh.Constant + RowStep(v) - rowTap.Offset >= 0 && qh.Constant + RowStep(v) - rowTap.Offset < _spec.InputHeight);

            // The loads of one (input channel, row tap): one per distinct (vector, input offset, edge handling), shared by every
            // part and channel that reads it. A load read by a single FMA stays inside it (the JIT folds it into the FMA).
            var loadNames = new Dictionary<string, string>(StringComparer.Ordinal);
            var uses = new Dictionary<string, int>(StringComparer.Ordinal);
            var order = new List<string>(); // first-use order: local names must not depend on a dictionary's enumeration order
            var plans = new (LoadKind Kind, int Lanes, string Key)[vectors, parts.Length][];
            bool anyTap = false;
            for (int p = 0; p < vectors; p++)
            {
                for (int j = 0; j < parts.Length; j++)
                {
                    var taps = parts[j].Taps;
                    var plan = new (LoadKind, int, string)[taps.Length];
                    for (int t = 0; t < taps.Length; t++)
                    {
                        var (kind, lanes) = LoadOf(Start(p), parts[j].InputShifts[t], width);
                        // Starts are literals, or one loop variable plus literals: the constant part tells the loads apart.
                        string key = (rows > 1 ? "r" + Text(RowStep(p)) + ":" : "") + Text(Start(p).Constant + parts[j].InputShifts[t]) + ":" + kind + ":" + Text(lanes);
                        plan[t] = (kind, lanes, key);
                        if (kind == LoadKind.None) continue;
                        anyTap = true;
                        if (!uses.TryGetValue(key, out int n)) order.Add(key);
                        uses[key] = n + channels;
                    }

                    plans[p, j] = plan;
                }
            }

            foreach (string key in order)
            {
                if (uses[key] > 1) loadNames[key] = "x" + Text(loadNames.Count);
            }

            if (_writer is { } w)
            {
                var columns = new StringBuilder();
                for (int p = 0; p < starts.Length; p++)
                {
                    if (p > 0) columns.Append(", ");
                    columns.Append(run.Paired ? (starts[p] * 2).ToString() : OutputColumn(parts[0].Phase, starts[p] + parts[0].Shift).ToString());
                }

                string lanesText = run.Paired
                    ? "ox " + columns + " (+" + Text(2 * width - 1) + ", both phases interleaved)"
                    : "ox " + columns + (width == 1 ? "" : " (" + Text(width) + " lanes" + (_spec.StrideWidth == 1 ? "" : " " + Text(_spec.StrideWidth) + " apart") + ")");
                var tapsText = new StringBuilder();
                foreach (var part in parts)
                {
                    if (tapsText.Length > 0) tapsText.Append(" / ");
                    tapsText.Append("rw ").Append(Text(part.Phase.Residue)).Append(' ').Append(TapList("kx", part.Taps));
                }

                w.Line("// " + ChannelRange(groupChannel, channels) + ", oy " + outputRow + (rows > 1 ? " and " + OutputRow(rowPhase, qh + 1) : "") + ", " + lanesText + " | rh " + Text(rowPhase.Residue)
                    + " " + TapList("ky", rowTaps) + " x " + tapsText);
                w.Open();
            }

            _declared.Clear();
            for (int c = 0; c < channels; c++)
            {
                for (int p = 0; p < vectors; p++)
                {
                    for (int j = 0; j < parts.Length; j++)
                        Declare(WidthAccumulator(c, p, j), _spec.HasBias && !_mode.FromOutput ? Broadcast(width, "b", groupChannel + c) : Zero(width));
                }
            }

            // Staged blocks of several vectors go input offset by input offset: the vectors of one offset are loaded, then each
            // weight that reads them is broadcast once for all of them, so only those vectors and one broadcast are live.
            // Paired rows (PairsStagedRows) likewise: the two rows' vectors of one offset, then each broadcast feeds both.
            bool shared = (Staged || SharesWeightBroadcasts(_spec, _columns, _lanes) || GoesByInputOffset(_spec, _columns, _lanes)) && vectors > 1;
            var shifts = DistinctInputShifts(parts);

            if (rowTaps.Length > 0 && anyTap)
            {
                if (shared)
                {
                    for (int p = 0; p < vectors; p++) Predeclare("x" + Text(p), width);
                    Predeclare("k", width);
                }
                else
                {
                    foreach (var name in loadNames.Values) Predeclare(name, width);
                }


                int unroll = RollReduction ? ReductionUnroll(channels, vectors, rowTaps.Length, parts) : 1;
                string weightRoot = BlockPacked ? "wp" : "w";
                Repeat("ic", 0, _spec.InPerGroup / unroll, unroll, RollReduction, ic =>
                {
                    // In a loop over the input channels, refs to the first channel's plane and weights of the iteration: the
                    // indices below are then short constants (smaller IL keeps big kernels under the JIT's size limit for
                    // optimised code); an unrolled iteration's later channels are constant offsets from them.
                    bool relative = !ic.IsConstant;
                    string input = relative ? "xc" : InputSource, weights = relative ? "wc" : weightRoot;
                    if (relative)
                    {
                        RefLocal(input, InputSource, WidthChannelStart(group * _spec.InPerGroup + ic));
                        RefLocal(weights, weightRoot, BlockPacked ? BlockWeightIndex(group, ic, firstChannel, channels, 0, 0, 0) : WeightIndex(group * _spec.InPerGroup + ic, firstChannel, 0, 0));
                    }

                    for (int u = 0; u < unroll; u++) ReduceChannel(ic + u, relative ? Affine.Of(u) : group * _spec.InPerGroup + ic + u, input, weights);
                });

                // One input channel of the reduction: `channel` is its index from the refs `input` and `weights` (0 when they are
                // the iteration's refs, the absolute channel when the reduction is unrolled).
                void ReduceChannel(Affine ic, Affine channel, string input, string weights)
                {
                    var inputChannel = group * _spec.InPerGroup + ic;
                    bool relative = !ic.IsConstant;
                    var zero = Affine.Of(0);
                    // The weight of output channel c of the block for (ky, kx): from the iteration's ref, or from the root.
                    Affine Weight(int c, int ky, int kx) => BlockPacked
                        ? relative ? BlockWeightIndex(zero, channel, zero, channels, c, ky, kx) : BlockWeightIndex(group, ic, firstChannel, channels, c, ky, kx)
                        : relative ? WeightIndex(channel, Affine.Of(c), ky, kx) : WeightIndex(inputChannel, firstChannel + c, ky, kx);
                    if (_rowStaging == RowStaging.Copy && relative)
                    {
                        Statement(Use("Unsafe") + ".CopyBlockUnaligned(ref Unsafe.As<float, byte>(ref Unsafe.Add(ref " + input + ", (nint)("
                            + WidthInputIndex(channel, Affine.Var("qn"), zero) + "))), ref Unsafe.As<float, byte>(ref Unsafe.Add(ref x, (nint)("
                            + InputIndex(inputChannel, Affine.Var("qn"), zero) + "))), " + Text(4 * _spec.InputWidth) + ");");
                    }
                    else if (_rowStaging == RowStaging.Prefetch && relative)
                    {
                        for (int line = 0; line < (_spec.InputWidth + 15) / 16; line++)
                        {
                            Statement("global::KernelGen.CompilerServices.GeneratedKernelSupport.Prefetch(ref " + Use("Unsafe") + ".Add(ref x, (nint)("
                                + InputIndex(inputChannel, Affine.Var("qp"), Affine.Of(16L * line)) + ")));");
                        }
                    }

                    foreach (var rowTap in rowTaps)
                    {
                        WithGuard(Guard(rowTap, qh, _spec.InputHeight), () =>
                        {
                            if (shared)
                            {
                                foreach (int shift in shifts)
                                {
                                    var reads = new bool[vectors];
                                    for (int p = 0; p < vectors; p++)
                                    {
                                        var (kind, lanes) = LoadOf(Start(p), shift, width);
                                        if (kind == LoadKind.None || !RowReads(p, rowTap)) continue;
                                        reads[p] = true;
                                        Assign("x" + Text(p), _writer is null ? "" : WidthLoad(kind, lanes, width, input, channel,
                                            qh + RowStep(p) - rowTap.Offset, Start(p) + shift, inputStep));
                                    }

                                    if (Array.IndexOf(reads, true) < 0) continue;
                                    for (int j = 0; j < parts.Length; j++)
                                    {
                                        var taps = parts[j].Taps;
                                        for (int t = 0; t < taps.Length; t++)
                                        {
                                            if (parts[j].InputShifts[t] != shift) continue;
                                            for (int c = 0; c < channels; c++)
                                            {
                                                var weight = Weight(c, rowTap.KernelIndex, taps[t].KernelIndex);
                                                Assign("k", _writer is null ? "" : Broadcast(width, weights, weight));
                                                for (int p = 0; p < vectors; p++)
                                                {
                                                    if (reads[p]) MultiplyAdd(width, WidthAccumulator(c, p, j), "x" + Text(p), "k");
                                                }
                                            }
                                        }
                                    }
                                }

                                return;
                            }

                            var loaded = new HashSet<string>(StringComparer.Ordinal);
                            for (int p = 0; p < vectors; p++)
                            {
                                for (int j = 0; j < parts.Length; j++)
                                {
                                    var taps = parts[j].Taps;
                                    for (int t = 0; t < taps.Length; t++)
                                    {
                                        var (kind, lanes, key) = plans[p, j][t];
                                        if (kind == LoadKind.None || !RowReads(p, rowTap)) continue;
                                        string vector = _writer is null ? "" : WidthLoad(kind, lanes, width, input, channel,
                                            qh + RowStep(p) - rowTap.Offset, Start(p) + parts[j].InputShifts[t], inputStep);
                                        if (loadNames.TryGetValue(key, out var name))
                                        {
                                            if (loaded.Add(key)) Assign(name, vector);
                                            vector = name;
                                        }

                                        for (int c = 0; c < channels; c++)
                                        {
                                            var weight = Weight(c, rowTap.KernelIndex, taps[t].KernelIndex);
                                            MultiplyAdd(width, WidthAccumulator(c, p, j), vector, _writer is null ? "" : Broadcast(width, weights, weight));
                                        }
                                    }
                                }
                            }
                        });
                    }
                }
            }

            int outputStep = _spec.StrideWidth * (_spec.ChannelsLast ? _spec.OutChannels : 1);
            for (int c = 0; c < channels; c++)
            {
                for (int p = 0; p < vectors; p++)
                {
                    var row = OutputRow(rowPhase, qh + RowStep(p));
                    if (run.Paired)
                    {
                        StoreInterleaved(width, OutputIndex(groupChannel + c, row, Start(p) * 2), WidthAccumulator(c, p, 0), WidthAccumulator(c, p, 1));
                    }
                    else
                    {
                        var column = OutputColumn(parts[0].Phase, Start(p) + parts[0].Shift);
                        Store(width, OutputIndex(groupChannel + c, row, column), outputStep, WidthAccumulator(c, p, 0));
                    }
                }
            }

            _writer?.Close();
        }

        /// <summary>Multiply-adds per input channel below which the Vector256 path's staged reduction does two input channels per iteration (<see cref="ReductionUnroll"/>).</summary>
        internal const int MinUnrolledMultiplyAdds = 24;

        /// <summary>
        /// Input channels per iteration of a register block's reduction loop: 2 on the staged Vector256 path when one input channel
        /// is fewer than <see cref="MinUnrolledMultiplyAdds"/> multiply-adds of the block (unet_up, k2 s2: 12), and the group's
        /// input channels are even; else 1. With a single tap per phase every iteration's refs, loop counter and branch are
        /// paid per 12 FMAs, 6 cycles of two FMA pipes; two channels per iteration halve them (measured with the packing
        /// only, see <see cref="PacksBlockWeights"/>).
        /// Only where the weights are block-packed (<see cref="PacksBlockWeights"/>: 1-D and 2-D layers), whose blocks read one
        /// contiguous run of weights; the Vector512 path and the 3-D planes are unchanged.
        /// </summary>
        private int ReductionUnroll(int channels, int vectors, int rowTaps, ColumnPart[] parts)
        {
            if (!BlockPacked || _spec.InPerGroup % 2 != 0) return 1;
            long taps = 0;
            foreach (var part in parts) taps += part.Taps.Length;
            return (long)rowTaps * taps * channels * vectors < MinUnrolledMultiplyAdds ? 2 : 1;
        }

        /// <summary>Declares <c>ref float name = ref Unsafe.Add(ref source, index)</c>.</summary>
        private void RefLocal(string name, string source, Affine index)
        {
            _count = SaturatingAdd(_count, _multiplier);
            _writer?.Line("ref float " + name + " = ref " + Use("Unsafe") + ".Add(ref " + source + ", " + (index.IsConstant ? index.ToString() : "(nint)(" + index + ")") + ");");
        }

        /// <summary>
        /// The input vector of lanes <c>column + lane</c> of one input row: a plain load, an edge load moved by
        /// <paramref name="lanes"/> with zeros in, or (NHWC) a gather whose lanes off the input are zero.
        /// </summary>
        private string WidthLoad(LoadKind kind, int lanes, int width, string source, Affine inputChannel, Affine row, Affine column, int inputStep)
        {
            if (width > 1 && inputStep != 1)
            {
                var parts = new string[width];
                for (int k = 0; k < width; k++)
                {
                    var position = column + k;
                    parts[k] = position.IsConstant && (position.Constant < 0 || position.Constant >= _spec.InputWidth)
                        ? "0f"
                        : Element(source, WidthInputIndex(inputChannel, row, position));
                }

                return VectorClass(width) + ".Create(" + string.Join(", ", parts) + ")";
            }

            switch (kind)
            {
                case LoadKind.ShiftUp:
                    return ShiftLanes(width, Load(width, source, WidthInputIndex(inputChannel, row, Affine.Of(0)), 1), lanes, up: true);
                case LoadKind.ShiftDown:
                    return ShiftLanes(width, Load(width, source, WidthInputIndex(inputChannel, row, Affine.Of(_spec.InputWidth - width)), 1), lanes, up: false);
                default:
                    return Load(width, source, WidthInputIndex(inputChannel, row, column), 1);
            }
        }

        /// <summary>
        /// <paramref name="vector"/> moved up (lane i to i + n) or down (lane i + n to i) by <paramref name="lanes"/> lanes, zeros
        /// coming in: a call of the helper for that width, direction and count (see <see cref="WriteLaneHelpers"/>), which the
        /// JIT inlines into one instruction or two on x86 (valignd, vpermps + vblendps, pslldq/psrldq).
        /// </summary>
        private string ShiftLanes(int width, string vector, int lanes, bool up) =>
            Use(ShiftHelper(width, lanes, up)) + "(" + vector + ")";

        private static string ShiftHelper(int width, int lanes, bool up) => (up ? "ShiftUp" : "ShiftDown") + Suffix(width) + "By" + Text(lanes);

        private static string InterleaveHelper(int width, int half) => (half == 0 ? "InterleaveLower" : "InterleaveUpper") + Suffix(width);

        /// <summary>
        /// Stores the two phases of a paired run, interleaved: <c>[e0, o0, e1, o1, ...]</c> are output columns 2m, 2m + 1, ...
        /// (x86: vpermt2ps, or vunpcklps/vunpckhps + vperm2f128, or unpcklps/unpckhps; ARM: zip1/zip2).
        /// </summary>
        private void StoreInterleaved(int width, Affine index, string even, string odd)
        {
            if (width == 1)
            {
                Store(1, index, 1, even);
                Store(1, index + 1, 1, odd);
                return;
            }

            if (Activates && !AddsOnStore)
            {
                Assign(even, Activated(width, even));
                Assign(odd, Activated(width, odd));
            }

            for (int half = 0; half < 2; half++)
            {
                _count = SaturatingAdd(_count, _multiplier);
                if (AddsOnStore) _count = SaturatingAdd(_count, SaturatingMultiply(_multiplier, Activates ? 3 : 2));
                if (_writer is null) continue;
                // An inlined helper holding the IsSupported checks (see WriteLaneHelpers): no branch per store in the path.
                string value = Use(InterleaveHelper(width, half)) + "(" + even + ", " + odd + ")";
                if (AddsOnStore)
                {
                    // A plane adding to its slice: the interleaved sums plus what earlier planes stored, activated once complete.
                    string sum = "s" + Text(half);
                    _writer.Line((_declared.Add(sum) ? "var " : "") + sum + " = " + value + ";");
                    _writer.Line(sum + " = " + sum + " + " + Load(width, "y", index + (long)half * width, 1) + ";");
                    if (Activates) _writer.Line(sum + " = " + Activated(width, sum) + ";");
                    value = sum;
                }

                _writer.Line(VectorClass(width) + ".StoreUnsafe(" + value + ", ref y, " + Offset(index + (long)half * width) + ");");
            }
        }

        /// <summary>
        /// The lane shuffles the paths used: for each, a helper holding the IsSupported checks that choose the x86 or ARM
        /// instruction, its control vector and immediate written out as constants (one helper per shift count, so that no
        /// immediate depends on an argument), inlined by the JIT with the checks folded away; then the portable loops those
        /// helpers fall back on.
        /// </summary>
        public static void WriteLaneHelpers(SourceWriter w, SortedSet<string> used)
        {
            var portable = new List<(int Lanes, string Name)>();
            foreach (int lanes in new[] { 16, 8, 4 })
            {
                var names = new List<string> { InterleaveHelper(lanes, 0), InterleaveHelper(lanes, 1) };
                foreach (bool up in new[] { true, false })
                {
                    for (int count = 1; count < lanes; count++) names.Add(ShiftHelper(lanes, count, up));
                }

                foreach (string name in names)
                {
                    if (!used.Contains(name)) continue;
                    if (portable.Count == 0)
                    {
                        w.Line();
                        w.Line("// Lane shuffles: the x86 or ARM instruction where the processor has it, else a portable loop. The IsSupported checks");
                        w.Line("// are JIT-time constants and these helpers are inlined, so a path holds just the instruction; the checks are here, not");
                        w.Line("// at each call, because analysers walk every branch of a method: the trim analyzer (IsAotCompatible) spent most of its");
                        w.Line("// time on the kernels' branches when each shift and interleaving store was a conditional in place (docs/build-time.md).");
                    }

                    string portableName = name.StartsWith("Interleave", StringComparison.Ordinal) ? name : name.Substring(0, name.IndexOf("By", StringComparison.Ordinal));
                    if (!portable.Contains((lanes, portableName))) portable.Add((lanes, portableName));
                    w.Line(KernelEmitter.InlinedAndOptimized);
                    foreach (string line in LaneHelper(lanes, name, portableName + "Portable", used).Split('\n')) w.Line(line);
                }
            }

            if (portable.Count == 0) return;
            w.Line();
            w.Line("// Portable lane shuffles, called only where the x86 or ARM instruction is not supported.");
            foreach (var (lanes, name) in portable)
            {
                string n = Suffix(lanes), v = "V" + n, vec = "Vec" + n;
                w.Line(KernelEmitter.AggressiveOptimization);
                if (name.StartsWith("Interleave", StringComparison.Ordinal))
                {
                    string from = name.StartsWith("InterleaveLower", StringComparison.Ordinal) ? "0" : Text(lanes / 2);
                    w.Open("private static " + vec + " " + name + "Portable(" + vec + " even, " + vec + " odd)");
                    w.Line("var result = " + vec + ".Zero;");
                    w.Line("for (int i = 0; i < " + Text(lanes / 2) + "; i++)");
                    w.Line("    result = " + v + ".WithElement(" + v + ".WithElement(result, 2 * i, " + v + ".GetElement(even, " + from + " + i)), 2 * i + 1, " + v + ".GetElement(odd, " + from + " + i));");
                }
                else
                {
                    bool up = name.StartsWith("ShiftUp", StringComparison.Ordinal);
                    w.Open("private static " + vec + " " + name + "Portable(" + vec + " v, int lanes)");
                    w.Line("var result = " + vec + ".Zero;");
                    w.Line(up
                        ? "for (int i = lanes; i < " + Text(lanes) + "; i++) result = " + v + ".WithElement(result, i, " + v + ".GetElement(v, i - lanes));"
                        : "for (int i = lanes; i < " + Text(lanes) + "; i++) result = " + v + ".WithElement(result, i - lanes, " + v + ".GetElement(v, i));");
                }

                w.Line("return result;");
                w.Close();
            }
        }

        /// <summary>One lane shuffle helper, expression-bodied (a conditional, no statement the replaced checks would make unreachable).</summary>
        private static string LaneHelper(int lanes, string name, string portable, SortedSet<string> used)
        {
            string n = Suffix(lanes), v = "V" + n, vec = "Vec" + n;
            used.Add(v);
            used.Add(vec);
            bool interleave = name.StartsWith("Interleave", StringComparison.Ordinal);
            bool lower = name.StartsWith("InterleaveLower", StringComparison.Ordinal);
            string signature = "private static " + vec + " " + name + (interleave ? "(" + vec + " even, " + vec + " odd) =>" : "(" + vec + " v) =>");
            if (interleave)
            {
                string fallback = portable + "(even, odd)";
                switch (lanes)
                {
                    case 16:
                    {
                        used.Add("Avx512F");
                        var indices = new string[16];
                        int half = lower ? 0 : 1;
                        for (int i = 0; i < 8; i++)
                        {
                            indices[2 * i] = Text(half * 8 + i);
                            indices[2 * i + 1] = Text(16 + half * 8 + i);
                        }

                        return signature + "\n    Avx512F.IsSupported ? Avx512F.PermuteVar16x32x2(even, V512.Create(" + string.Join(", ", indices) + "), odd) : " + fallback + ";";
                    }

                    case 8:
                        used.Add("Avx");
                        return signature + "\n    Avx.IsSupported ? Avx.Permute2x128(Avx.UnpackLow(even, odd), Avx.UnpackHigh(even, odd), " + (lower ? "0x20" : "0x31") + ") : " + fallback + ";";
                    default:
                        used.Add("Sse");
                        used.Add("AdvSimd");
                        return signature + "\n    Sse.IsSupported ? Sse." + (lower ? "UnpackLow" : "UnpackHigh") + "(even, odd) : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64."
                            + (lower ? "ZipLow" : "ZipHigh") + "(even, odd) : " + fallback + ";";
                }
            }

            bool up = name.StartsWith("ShiftUp", StringComparison.Ordinal);
            int count = int.Parse(name.Substring(name.IndexOf("By", StringComparison.Ordinal) + 2), CultureInfo.InvariantCulture);
            string shiftFallback = portable + "(v, " + Text(count) + ")";
            switch (lanes)
            {
                case 16:
                    used.Add("Avx512F");
                    return signature + "\n    Avx512F.IsSupported ? V512.AsSingle(Avx512F.AlignRight32("
                        + (up ? "V512.AsInt32(v), V512.Create(0), " + Text(16 - count) : "V512.Create(0), V512.AsInt32(v), " + Text(count))
                        + ")) : " + shiftFallback + ";";
                case 8:
                {
                    used.Add("Avx");
                    used.Add("Avx2");
                    var indices = new string[8];
                    int mask = 0;
                    for (int i = 0; i < 8; i++)
                    {
                        int source = up ? i - count : i + count;
                        bool zero = source < 0 || source >= 8;
                        indices[i] = Text(zero ? 0 : source);
                        if (zero) mask |= 1 << i;
                    }

                    return signature + "\n    Avx2.IsSupported ? Avx.Blend(Avx2.PermuteVar8x32(v, V256.Create(" + string.Join(", ", indices) + ")), Vec256.Zero, " + Text(mask) + ") : " + shiftFallback + ";";
                }

                default:
                    used.Add("Sse2");
                    return signature + "\n    Sse2.IsSupported ? V128.AsSingle(Sse2." + (up ? "ShiftLeftLogical128BitLane" : "ShiftRightLogical128BitLane")
                        + "(V128.AsByte(v), " + Text(4 * count) + ")) : " + shiftFallback + ";";
            }
        }
    }
}
