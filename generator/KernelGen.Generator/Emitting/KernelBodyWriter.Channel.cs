using System;
using System.Collections.Generic;
using KernelGen.Generator.Model;
using KernelGen.Generator.Strategy;
using KernelGen.Planning;

namespace KernelGen.Generator.Emitting
{
    internal sealed partial class KernelBodyWriter
    {
        // ----- Channel-vectorised: vectors along the output channels of a group, register-blocked over pixels of a phase row -----
        //
        // The work is phase-major: for each (row phase, column phase), each group and each block of output channels (two
        // vectors), every pixel of the phase. In PyTorch's weight layout (Cin, Cout/groups, kH, kW) the output channels of one
        // tap lie kH * kW apart, so a vector of them is a gather; where that would be paid many times over, the vector paths
        // first copy the block's weights for the phase's taps into a stack buffer in the order the pixels read them (see
        // PlanChannelWeights), so the innermost loop reads weight vectors contiguously and broadcasts inputs.

        /// <summary>The most floats the packed weights may take (32 KB, one L1 data cache): larger layers are split into chunks of input channels.</summary>
        internal const int PackedWeightsLimit = 8192;

        /// <summary>Channel vectors per register block, as the runtime's channel kernel (<see cref="KernelShapes.ChannelBlockVectors"/>).</summary>
        internal const int ChannelVectorsPerBlock = KernelShapes.ChannelBlockVectors;

        /// <summary>Pixels per register block, as the runtime's channel kernel (<see cref="KernelShapes.ChannelBlockPixelsFor"/>).</summary>
        internal static int ChannelPixelBlock(int lanes) => KernelShapes.ChannelBlockPixelsFor(lanes);

        /// <summary>How one path of the channel-vectorised kernel reads its weights; derived from the shape and the path's width alone.</summary>
        internal sealed class ChannelWeightPlan
        {
            public ChannelWeightPlan(bool packed, string reason, int largestBlock, int mostTaps, int chunkChannels, int fullChunks, int remainderChannels)
            {
                Packed = packed;
                Reason = reason;
                LargestBlock = largestBlock;
                MostTaps = mostTaps;
                ChunkChannels = chunkChannels;
                FullChunks = fullChunks;
                RemainderChannels = remainderChannels;
            }

            /// <summary>Whether the weights are packed into a stack buffer per (phase, channel block, chunk).</summary>
            public bool Packed { get; }

            /// <summary>Why (or why not), for the generated header.</summary>
            public string Reason { get; }

            /// <summary>Lanes of the widest block of output channels (two vectors when the group has that many).</summary>
            public int LargestBlock { get; }

            /// <summary>Kernel taps of the phase with the most.</summary>
            public int MostTaps { get; }

            /// <summary>Input channels packed and reduced at a time (all of a group's when it fits).</summary>
            public int ChunkChannels { get; }

            /// <summary>Chunks of <see cref="ChunkChannels"/> input channels.</summary>
            public int FullChunks { get; }

            /// <summary>Input channels of a last, smaller chunk (0 when the chunks divide the group).</summary>
            public int RemainderChannels { get; }

            /// <summary>Floats of the stack buffer.</summary>
            public int BufferFloats => MostTaps * ChunkChannels * LargestBlock;

            public bool Chunked => FullChunks > 1 || RemainderChannels > 0;
        }

        /// <summary>One kind of output-channel block of a path: <c>Count</c> blocks of <c>Vectors</c> vectors of <c>Width</c> lanes.</summary>
        private readonly struct ChannelBlockKind
        {
            public ChannelBlockKind(int first, int count, int vectors, int width)
            {
                First = first;
                Count = count;
                Vectors = vectors;
                Width = width;
            }

            public int First { get; }

            public int Count { get; }

            public int Vectors { get; }

            public int Width { get; }

            public int Lanes => Vectors * Width;
        }

        /// <summary>
        /// The output channels of a group cut into blocks for a path of <paramref name="lanes"/>: pairs of full vectors, then one
        /// full vector, narrower vectors, and single channels for what is left.
        /// </summary>
        private static List<ChannelBlockKind> ChannelBlockKinds(int perGroup, int lanes)
        {
            var kinds = new List<ChannelBlockKind>();
            int pair = ChannelVectorsPerBlock * lanes, pairs = perGroup / pair;
            if (pairs > 0) kinds.Add(new ChannelBlockKind(0, pairs, ChannelVectorsPerBlock, lanes));
            int position = pairs * pair, left = perGroup - position;
            if (lanes > 1)
            {
                foreach (int width in new[] { lanes, 8, 4 })
                {
                    if (width > lanes) continue;
                    for (; left >= width; left -= width, position += width)
                        kinds.Add(new ChannelBlockKind(position, 1, 1, width));
                }
            }

            if (left > 0) kinds.Add(new ChannelBlockKind(position, left, 1, 1));
            return kinds;
        }

        /// <summary>
        /// Whether a path packs its weights, and in what chunks. Packing costs one pass over the weights per sample and buys
        /// contiguous weight vectors in the innermost loop; it pays when a weight vector would otherwise be gathered many times:
        /// vector paths, more than one tap, and weights that each serve more than one pixel (a gathered vector touches a cache line per
        /// lane), or at least two register blocks of pixels for weights small enough to stay in the first-level cache.
        /// </summary>
        internal static ChannelWeightPlan PlanChannelWeights(KernelSpec spec, AxisPlan rows, AxisPlan columns, int lanes)
        {
            var kinds = ChannelBlockKinds(spec.OutPerGroup, lanes);
            int largestBlock = kinds.Count > 0 ? kinds[0].Lanes : 1;
            int mostTaps = 0;
            foreach (var rowPhase in rows.Phases)
            {
                foreach (var columnPhase in columns.Phases)
                    mostTaps = Math.Max(mostTaps, rowPhase.KernelTaps.Length * columnPhase.KernelTaps.Length);
            }

            ChannelWeightPlan Direct(string reason) => new(false, reason, largestBlock, mostTaps, spec.InPerGroup, 1, 0);

            if (lanes == 1) return Direct("the scalar path reads each weight where it is, one at a time");
            if (spec.KernelVolume == 1) return Direct("a 1x1 kernel's weights are already contiguous along the output channels");
            if (mostTaps == 0) return Direct("no tap reaches any output (the outputs hold only the bias)");

            // Each weight multiplies every input pixel once (less what the padding crops): that many pixels read its packed copy.
            // A gathered weight vector's lanes lie in as many cache lines. Weights that stay in the first-level cache are gathered
            // cheaply, so they are packed only when each serves at least two register blocks of pixels. Larger weights are packed
            // whenever a weight serves more than one pixel: gathered from the outer caches, a vector gathered twice already costs
            // more than packing it once (the DCGAN sample's 512->256 4x4 layer, 8 MB of weights, 12 pixels per weight: its
            // Vector512 path gathering took 8.0 ms, packing 1.5-1.8 ms; AMD EPYC family 26 model 2, docs/build-time.md).
            long uses = (long)rows.TotalTaps * columns.TotalTaps / (spec.KernelHeight * spec.KernelWidth);
            int block = ChannelPixelBlock(lanes);
            if (uses < 2)
                return Direct("each weight serves one pixel, so packing would cost as much as the gathers it saves");
            if (uses < 2L * block && 4L * spec.WeightsLength <= GatheredWeightsBytes)
            {
                return Direct("each weight serves " + Text(uses) + " pixels on average, fewer than two register blocks of " + Text(block)
                    + ", and the " + Text(4L * spec.WeightsLength) + " bytes of weights stay in the first-level cache, so packing would cost"
                    + " about as much as the gathers it saves");
            }

            int mostChannels = PackedWeightsLimit / (mostTaps * largestBlock);
            if (mostChannels < 1)
            {
                return Direct(Text(mostTaps) + " taps x " + Text(largestBlock) + " channels of one input channel exceed the "
                    + Text(PackedWeightsLimit * 4 / 1024) + " KB stack buffer");
            }

            int perGroup = spec.InPerGroup;
            if (perGroup <= mostChannels)
                return new ChannelWeightPlan(true, "", largestBlock, mostTaps, perGroup, 1, 0);

            // Chunks of equal size when a divisor of the group's input channels is at least half the largest chunk, else
            // the largest chunk and a smaller remainder (its code is written once more).
            int divisor = mostChannels;
            while (perGroup % divisor != 0) divisor--;
            if (2 * divisor > mostChannels)
                return new ChannelWeightPlan(true, "", largestBlock, mostTaps, divisor, perGroup / divisor, 0);
            return new ChannelWeightPlan(true, "", largestBlock, mostTaps, mostChannels, perGroup / mostChannels, perGroup % mostChannels);
        }

        /// <summary>
        /// The most bytes of weights a channel-vectorised path gathers in place when each weight serves few pixels: well inside
        /// the 32-48 KB first-level data caches of the x64 and ARM64 cores the project targets, where a gather's lanes are hits.
        /// </summary>
        internal const int GatheredWeightsBytes = 16 * 1024;

        /// <summary>The kernel class's per-thread buffer of packed weights (declared when <see cref="PackedWeightsFloats"/> is above 0).</summary>
        internal const string PackedWeightsField = "t_packedWeights";

        /// <summary>
        /// Floats of the per-thread buffer of packed weights: the most any vector path packs at once (each path sizes its use by
        /// its own <see cref="ChannelWeightPlan.BufferFloats"/>, and tests call several paths on one thread), 0 when none packs or no
        /// plane code is written.
        /// </summary>
        internal static int PackedWeightsFloats(KernelPlan plan)
        {
            int most = 0;
            if (UsesTapVectors(plan.Spec, plan.Strategy)) return 0;

            // A 3-D layer whose depth taps reach no output slice writes no plane code (every slice is the filled bias), so
            // nothing would read the buffer: declaring it anyway is warning CS0169 in the user's build.
            if (plan.PlaneModes.Length == 0) return 0;
            foreach (int lanes in plan.PathWidths)
            {
                if (lanes == 1) continue;
                var weights = PlanChannelWeights(plan.Spec, plan.Rows, plan.Columns, lanes);
                if (weights.Packed) most = Math.Max(most, weights.BufferFloats);
            }

            return most;
        }

        /// <summary>The header lines that describe the channel-vectorised strategy as emitted for <paramref name="plan"/>.</summary>
        internal static IEnumerable<string> ChannelStrategyComment(KernelPlan plan)
        {
            var s = plan.Spec;
            int taps = s.KernelVolume; // the weights' distance between consecutive output channels
            yield return "// Strategy: channel-vectorised. Lanes are consecutive output channels of one group, so inputs are broadcast and stores are "
                + (s.ChannelsLast ? "contiguous (NHWC)." : "strided (NCHW, chosen because interior phase rows are too short for width vectors).");
            int widest = plan.PathWidths[0];
            var narrower = new List<string>();
            foreach (int lanes in plan.PathWidths)
            {
                if (lanes > 1 && lanes < widest && ChannelPixelBlock(lanes) != ChannelPixelBlock(widest))
                    narrower.Add(Text(ChannelPixelBlock(lanes)) + " x " + Text(ChannelVectorsPerBlock) + " on " + PathLabel(lanes));
            }

            yield return "//   Phase-major: for each phase, group and block of output channels, every pixel of the phase, in register blocks of up to "
                + Text(ChannelPixelBlock(widest)) + " pixels x " + Text(ChannelVectorsPerBlock) + " vectors"
                + (narrower.Count > 0 ? " (" + string.Join(", ", narrower) + ")" : "") + ":";
            yield return "//   each weight vector feeds every pixel of the block, each broadcast input every vector. Output channels per group: " + Text(plan.VectorExtent) + ".";
            if (Array.IndexOf(plan.PathWidths, 8) >= 0)
            {
                yield return "//   Vector256 blocks of 6 pixels for AVX2's 16 registers (with 2 channel vectors: 12 sums + 2 weights + 1 broadcast = 15): each weight load feeds 6 FMAs";
                yield return "//     instead of 4 (Zen 4, EPYC family 25 model 17, AVX-512 off: unet_up_nhwc best 662 -> 623 us, the runtime's kernel 4-8 % faster than 4 x 2).";
            }

            foreach (int lanes in plan.PathWidths)
            {
                var weights = PlanChannelWeights(s, plan.Rows, plan.Columns, lanes);
                string path = "//   " + PathLabel(lanes) + ": ";
                if (!weights.Packed)
                {
                    yield return path + "weights read in place (" + (taps > 1 && lanes > 1 ? "vectors gathered " + Text(taps) + " apart: " : "") + weights.Reason + ").";
                }
                else
                {
                    yield return path + "weight vectors would be gathers of lanes " + Text(taps) + " apart, so each call packs the weights into "
                        + Text(weights.BufferFloats * 4L) + " bytes of a per-thread buffer: per phase";
                    yield return "//     and block of up to " + Text(weights.LargestBlock) + " output channels, that phase's taps x input channels x block channels"
                        + " in reading order (the buffer is made on a thread's first call; no result depends on an earlier call).";
                    yield return "//     That is one pass over the weights per sample, while each weight serves "
                        + Text((long)plan.Rows.TotalTaps * plan.Columns.TotalTaps / taps) + " pixels.";
                    if (weights.Chunked)
                    {
                        yield return "//     The buffer holds " + Text(weights.ChunkChannels) + " input channels at a time ("
                            + Text(weights.FullChunks) + " chunk" + (weights.FullChunks > 1 ? "s" : "")
                            + (weights.RemainderChannels > 0 ? " and one of " + Text(weights.RemainderChannels) : "")
                            + "): later chunks add onto the partial sums stored by the earlier ones"
                            + (s.Activation == KernelActivation.None ? "." : "; the activation comes with the last.");
                    }
                }

                if (RowsAsFunctions(plan, lanes))
                {
                    yield return "//     Its rows are local functions (per phase, channel block and chunk), so that no method outgrows what the JIT optimises.";
                }
            }
        }

        /// <summary>Whether a path of <paramref name="plan"/> puts its rows into local functions (see <see cref="MethodStatementLimit"/>).</summary>
        private static bool RowsAsFunctions(KernelPlan plan, int lanes)
        {
            var counter = new KernelBodyWriter(plan.Spec, plan.Rows, plan.Columns, plan.Strategy, plan.Level, lanes, null, new SortedSet<string>(StringComparer.Ordinal), PlaneMode.Complete);
            counter.WriteChannelVectorized();
            return counter._splitRows;
        }

        private static string PathLabel(int lanes) => lanes switch
        {
            16 => "Vector512",
            8 => "Vector256",
            4 => "Vector128",
            _ => "Scalar",
        };

        private void WriteChannelVectorized()
        {
            var weights = PlanChannelWeights(_spec, _rows, _columns, _lanes);
            if (!_rowsInPlace && _level >= UnrollLevel.ChannelLoops)
            {
                // A dry run with every row written in place tells whether this path would be too large for one method.
                var inPlace = new KernelBodyWriter(_spec, _rows, _columns, _strategy, _level, _lanes, null, new SortedSet<string>(StringComparer.Ordinal), _mode) { _rowsInPlace = true };
                inPlace.WriteChannelVectorized();
                _splitRows = inPlace._count > MethodStatementLimit;
            }

            if (weights.Packed)
            {
                _writer?.Line("// Packed weights of one (phase, channel block, chunk); rewritten for each, so no call depends on an earlier one. They go to a");
                _writer?.Line("// buffer of the calling thread's, made on its first call and reused: on the stack, up to 32 KB would take half of a small thread's.");
                Statement("float[] packedWeights = " + PackedWeightsField + " ??= new float[" + Text(_packedWeightsFloats) + "];");
                Statement("ref float p = ref " + Use("MemoryMarshal") + ".GetArrayDataReference(packedWeights);");
            }

            var kinds = ChannelBlockKinds(_spec.OutPerGroup, _lanes);
            foreach (var rowPhase in _rows.Phases)
            {
                foreach (var columnPhase in _columns.Phases) WritePhase(weights, kinds, rowPhase, columnPhase);
            }

            if (_rowFunctions is { } functions && _writer is { } w)
            {
                // The rows of each (phase, channel block, chunk) as local functions, so that no method passes the size up to which
                // the JIT optimises (about 60 KB of IL, 8000 local-variable references): the calls above come once per block and chunk.
                foreach (string function in functions)
                {
                    w.Line();
                    w.Lines(function);
                }
            }
        }

        /// <summary>
        /// Statements above which a path's rows go into local functions. The JIT compiles a method without optimisation when it
        /// has more than about 60 KB of IL or 8000 local-variable references; a multiply-add statement of the Vector128 path
        /// makes up to 10 (its three forms: x86 FMA, Arm FMA, plain), so 512 statements stay well below both.
        /// </summary>
        internal const int MethodStatementLimit = 512;

        /// <summary>The rows of each (phase, channel block, chunk) as local functions, written after the path's own statements.</summary>
        private List<string>? _rowFunctions;

        private int _rowFunctionCount;

        /// <summary>Set for the dry run that measures a path with every row in place.</summary>
        private bool _rowsInPlace;

        /// <summary>
        /// Whether the rows go into local functions: only where the loops over groups and channel blocks are kept (so each
        /// function has one call site) and the path would be too large otherwise.
        /// </summary>
        private bool _splitRows;

        private void WritePhase(ChannelWeightPlan weights, List<ChannelBlockKind> kinds, AxisPhase rowPhase, AxisPhase columnPhase)
        {
            var rowTaps = Taps(rowPhase);
            var columnTaps = Taps(columnPhase);
            _writer?.Line("// Phase (rh " + Text(rowPhase.Residue) + ", rw " + Text(columnPhase.Residue) + "): taps "
                + TapList("ky", rowTaps) + " x " + TapList("kx", columnTaps) + ".");
            Repeat("g", 0, _spec.Groups, 1, RollChannels, group =>
            {
                foreach (var kind in kinds)
                {
                    Repeat("ob", kind.First, kind.Count, kind.Lanes, RollChannels,
                        first => PhaseChannelBlock(weights, new ChannelBlockContext(this, weights, group, first, kind.Vectors, kind.Width, rowPhase, columnPhase)));
                }
            });
        }

        /// <summary>What every pixel block of one (phase, group, channel block) shares.</summary>
        private sealed class ChannelBlockContext
        {
            public ChannelBlockContext(KernelBodyWriter body, ChannelWeightPlan weights, Affine group, Affine firstChannel, int vectors, int width,
                AxisPhase rowPhase, AxisPhase columnPhase)
            {
                Group = group;
                FirstChannel = firstChannel;
                Vectors = vectors;
                Width = width;
                RowPhase = rowPhase;
                ColumnPhase = columnPhase;
                PhaseTaps = FlatTaps.Count(rowPhase, columnPhase);
                Packed = weights.Packed && PhaseTaps > 0;
                GroupOutput = group * body._spec.OutPerGroup;
            }

            public Affine Group { get; }

            /// <summary>The block's first output channel within its group.</summary>
            public Affine FirstChannel { get; }

            public int Vectors { get; }

            public int Width { get; }

            public int Lanes => Vectors * Width;

            public AxisPhase RowPhase { get; }

            public AxisPhase ColumnPhase { get; }

            public int PhaseTaps { get; }

            public bool Packed { get; }

            public Affine GroupOutput { get; }

            /// <summary>The first input channel of the chunk being reduced (set per chunk).</summary>
            public Affine ChunkFirst { get; set; } = Affine.Of(0);

            public int ChunkChannels { get; set; }

            /// <summary>C# condition (or "true"/"false") under which accumulators start from the bias rather than from the stored partial sums.</summary>
            public string FirstChunk { get; set; } = "true";

            /// <summary>C# condition (or "true"/"false") under which the stores are final (the activation applied).</summary>
            public string LastChunk { get; set; } = "true";

            /// <summary>The packed index of tap (ky, kx) of this phase: its <see cref="FlatTaps"/> index, as packed.</summary>
            public int PackedTap(Tap rowTap, Tap columnTap) => FlatTaps.Index(
                Array.IndexOf(RowPhase.KernelTaps, rowTap.KernelIndex), Array.IndexOf(ColumnPhase.KernelTaps, columnTap.KernelIndex), ColumnPhase.KernelTaps.Length);
        }

        /// <summary>One (phase, group, channel block): in chunks of input channels when packing needs them, each packed and then run over the phase's pixels.</summary>
        private void PhaseChannelBlock(ChannelWeightPlan weights, ChannelBlockContext block)
        {
            if (!block.Packed || !weights.Chunked)
            {
                block.ChunkChannels = _spec.InPerGroup;
                ChannelChunk(block);
                return;
            }

            int chunk = weights.ChunkChannels;
            long lastFull = (long)(weights.FullChunks - 1) * chunk;
            bool looped = weights.FullChunks > 1;
            Repeat("icb", 0, weights.FullChunks, chunk, roll: true, first =>
            {
                block.ChunkFirst = first;
                block.ChunkChannels = chunk;
                block.FirstChunk = looped ? "icb == 0" : "true";
                block.LastChunk = weights.RemainderChannels > 0 ? "false" : looped ? "icb == " + Text(lastFull) : "true";
                ChannelChunk(block);
            });
            if (weights.RemainderChannels > 0)
            {
                block.ChunkFirst = Affine.Of((long)weights.FullChunks * chunk);
                block.ChunkChannels = weights.RemainderChannels;
                block.FirstChunk = "false";
                block.LastChunk = "true";
                ChannelChunk(block);
            }
        }

        private void ChannelChunk(ChannelBlockContext block)
        {
            if (block.Packed) PackWeights(block);
            var phase = block.RowPhase;
            var pieces = new List<(int First, int End, bool Edge)>();
            if (phase.InteriorFirstQ > phase.FirstQ) pieces.Add((phase.FirstQ, phase.InteriorFirstQ, true));
            if (phase.InteriorEndQ > phase.InteriorFirstQ) pieces.Add((phase.InteriorFirstQ, phase.InteriorEndQ, false));
            int trailing = Math.Max(phase.InteriorEndQ, phase.InteriorFirstQ);
            if (phase.EndQ > trailing) pieces.Add((trailing, phase.EndQ, true));
            foreach (var piece in pieces)
            {
                if (_splitRows) CallRows(block, piece.First, piece.End, piece.Edge);
                else Rows(block, piece.First, piece.End, piece.Edge);
            }
        }

        /// <summary>
        /// Rows <c>[first, end)</c> of the block's row phase: edge rows (some row taps fall off the input) one by one or in a
        /// bounds-checked loop, interior rows as one uniform range.
        /// </summary>
        private void Rows(ChannelBlockContext block, int first, int end, bool edge)
        {
            if (edge) ForEachEdge("qh", first, end, Taps(block.RowPhase), _spec.InputHeight, (qh, rowTaps) => RowPixels(block, qh, rowTaps));
            else Repeat("qh", first, end - first, 1, RollSpatial, qh => RowPixels(block, qh, Taps(block.RowPhase)));
        }

        /// <summary>Writes the rows as a local function (kept for the end of the path) and a call to it; counts both.</summary>
        private void CallRows(ChannelBlockContext block, int first, int end, bool edge)
        {
            string name = "Rows" + Text(_rowFunctionCount++);
            var parameters = new List<string> { "ref float x", "ref float w" };
            var arguments = new List<string> { "ref x", "ref w" };
            if (_spec.HasBias)
            {
                parameters.Add("ref float b");
                arguments.Add("ref b");
            }

            parameters.Add("ref float y");
            arguments.Add("ref y");
            if (block.Packed)
            {
                parameters.Add("ref float p");
                arguments.Add("ref p");
            }

            // The enclosing loop variables the rows' indices use.
            foreach (var (variable, value) in new[] { ("g", block.Group), ("ob", block.FirstChannel), ("icb", block.ChunkFirst) })
            {
                if (value.IsConstant) continue;
                parameters.Add("int " + variable);
                arguments.Add(variable);
            }

            Statement(name + "(" + string.Join(", ", arguments) + ");");

            var functionWriter = _writer is null ? null : new SourceWriter();
            var rows = new KernelBodyWriter(_spec, _rows, _columns, _strategy, _level, _lanes, functionWriter, _helpers, _mode);
            if (functionWriter is { } f)
            {
                f.Line("// Phase (rh " + Text(block.RowPhase.Residue) + ", rw " + Text(block.ColumnPhase.Residue) + "), "
                    + ChannelRange(block.GroupOutput + block.FirstChannel, block.Lanes) + ", input channels from " + (block.Group * _spec.InPerGroup + block.ChunkFirst)
                    + " (" + Text(block.ChunkChannels) + "): rows qh " + Text(first) + ".." + Text(end - 1) + ".");
                f.Line(KernelEmitter.AggressiveOptimization);
                f.Open("static void " + name + "(" + string.Join(", ", parameters) + ")");
            }

            rows.Rows(block, first, end, edge);
            functionWriter?.Close();
            _count = SaturatingAdd(_count, rows._count);
            if (functionWriter is not null) (_rowFunctions ??= new List<string>()).Add(functionWriter.ToString());
        }

        /// <summary>One output row of the phase: column edges pixel by pixel, the interior in register blocks.</summary>
        private void RowPixels(ChannelBlockContext block, Affine qh, Tap[] rowTaps)
        {
            var phase = block.ColumnPhase;
            var all = Taps(phase);
            ForEachEdge("q", phase.FirstQ, phase.InteriorFirstQ, all, _spec.InputWidth, (q, taps) => PixelBlock(block, qh, rowTaps, q, 1, taps));

            int pixels = ChannelPixelBlock(_lanes);
            int first = phase.InteriorFirstQ, run = phase.InteriorEndQ - phase.InteriorFirstQ;
            int whole = run / pixels, left = run - whole * pixels;
            // A block of fewer than 4 pixels x 2 vectors has too few independent sums to keep both FMA units busy (4 cycles
            // of latency each) and takes about as long as a block of 4: on the Vector256 path a short remainder joins the
            // last whole block and the two are split evenly (6 + 1 as 4 + 3, 6 + 2 as 4 + 4, 6 + 3 as 5 + 4). The runtime's
            // kernel, whose blocks are 6 or 4 pixels wide, takes 6 + 2 as 4 + 4 too and ends other remainders with 4-pixel blocks.
            var tail = new List<int>();
            if (_lanes == 8 && left > 0 && left < 4 && whole > 0)
            {
                whole--;
                tail.Add((pixels + left + 1) / 2);
                tail.Add((pixels + left) / 2);
            }
            else if (left > 0)
            {
                tail.Add(left);
            }

            Repeat("q", first, whole, pixels, RollSpatial, q => PixelBlock(block, qh, rowTaps, q, pixels, all));
            long next = first + (long)whole * pixels;
            foreach (int count in tail)
            {
                PixelBlock(block, qh, rowTaps, Affine.Of(next), count, all);
                next += count;
            }
            ForEachEdge("q", Math.Max(phase.InteriorEndQ, phase.InteriorFirstQ), phase.EndQ, all, _spec.InputWidth,
                (q, taps) => PixelBlock(block, qh, rowTaps, q, 1, taps));
        }

        /// <summary>
        /// Copies the block's weights for the phase's taps into <c>p</c> as [input channel][tap][output channel]: a loop over the
        /// chunk's input channels and the block's channels (a whole vector's lanes at a time where the taps are few).
        /// </summary>
        private void PackWeights(ChannelBlockContext block)
        {
            int taps = block.PhaseTaps, lanes = block.Lanes, kernel = _spec.KernelVolume;
            int unroll = (long)taps * block.Width <= 64 ? block.Width : 1;
            var inputChannel = block.Group * _spec.InPerGroup + block.ChunkFirst;
            if (_writer is { } w)
            {
                w.Line("// Pack " + ChannelRange(block.GroupOutput + block.FirstChannel, lanes) + " x ic " + inputChannel
                    + (block.ChunkChannels > 1 ? " (+" + Text(block.ChunkChannels - 1) + ")" : "")
                    + " for taps " + TapList("ky", Taps(block.RowPhase)) + " x " + TapList("kx", Taps(block.ColumnPhase))
                    + " as [input channel][tap][output channel].");
                w.Open();
            }

            Repeat("ci", 0, block.ChunkChannels, 1, roll: true, ci =>
                Repeat("co", 0, lanes / unroll, unroll, roll: true, co =>
                {
                    Statement("ref float source = ref " + Element("w", WeightIndex(inputChannel + ci, block.FirstChannel + co, 0, 0)) + ";");
                    Statement("ref float target = ref " + Element("p", ci * ((long)taps * lanes) + co) + ";");
                    int t = 0;
                    foreach (int ky in block.RowPhase.KernelTaps)
                    {
                        foreach (int kx in block.ColumnPhase.KernelTaps)
                        {
                            for (int u = 0; u < unroll; u++)
                                Statement(Element("target", Affine.Of((long)t * lanes + u)) + " = " + Element("source", Affine.Of((long)u * kernel + FlatTaps.KernelElement(ky, kx, _spec.KernelWidth))) + ";");
                            t++;
                        }
                    }
                }));
            _writer?.Close();
        }

        /// <summary>
        /// One register block: <paramref name="pixels"/> consecutive pixels of a phase row x the block's channel vectors. Every
        /// weight vector is loaded once per (input channel, tap) and feeds every pixel; every input is broadcast once and feeds
        /// every vector. Reads go through two cursors, <c>xa</c> (input) and <c>wa</c> (weights), stepped once per input channel
        /// when the reduction is a loop, so each load is a constant offset from a register.
        /// </summary>
        private void PixelBlock(ChannelBlockContext block, Affine qh, Tap[] rowTaps, Affine q, int pixels, Tap[] columnTaps)
        {
            int vectors = block.Vectors, width = block.Width, kernel = _spec.KernelVolume;
            int outputStep = OutputChannelStep;
            var outputRow = OutputRow(block.RowPhase, qh);
            var outputColumn = OutputColumn(block.ColumnPhase, q);
            var channel = block.GroupOutput + block.FirstChannel;
            if (_writer is { } w)
            {
                string columns = pixels == 1 ? outputColumn.ToString()
                    : outputColumn + " + " + (_spec.StrideWidth == 1 ? "" : Text(_spec.StrideWidth)) + "i (" + Text(pixels) + " pixels)";
                w.Line("// " + ChannelRange(channel, block.Lanes) + ", oy " + outputRow + ", ox " + columns
                    + " | taps " + TapList("ky", rowTaps) + " x " + TapList("kx", columnTaps));
                w.Open();
            }

            _declared.Clear();
            for (int p = 0; p < pixels; p++)
            {
                for (int k = 0; k < vectors; k++)
                {
                    var output = OutputIndex(channel + (long)k * width, outputRow, outputColumn + (long)p * _spec.StrideWidth);
                    string start = p > 0 ? Accumulator(0, k) : _spec.HasBias ? Load(width, "b", channel + (long)k * width, 1) : Zero(width);
                    string partial = Load(width, "y", output, outputStep);
                    // A plane that adds to its output slice starts every chunk from the stored partial sums (the first plane stored the bias).
                    string init = (_mode.FromOutput ? "false" : block.FirstChunk) switch
                    {
                        "true" => start,
                        "false" => partial,
                        var condition => condition + " ? " + start + " : " + partial,
                    };
                    Declare(Accumulator(p, k), init);
                }
            }

            if (rowTaps.Length > 0 && columnTaps.Length > 0 && block.ChunkChannels > 0)
            {
                // The input cursor starts at the lowest cell the block reads (every read is then a non-negative constant
                // offset); where a tap is bounds-checked that cell may not exist, so the cursor starts at the row and column 0.
                bool guarded = Array.Exists(rowTaps, t => t.Guarded) || Array.Exists(columnTaps, t => t.Guarded);
                int rowLead = 0, columnLead = 0;
                foreach (var tap in rowTaps) rowLead = Math.Max(rowLead, tap.Offset);
                foreach (var tap in columnTaps) columnLead = Math.Max(columnLead, tap.Offset);
                var anchorRow = guarded ? Affine.Of(0) : qh - rowLead;
                var anchorColumn = guarded ? Affine.Of(0) : q - columnLead;
                var inputChannel = block.Group * _spec.InPerGroup + block.ChunkFirst;
                var inputBase = InputIndex(inputChannel, anchorRow, anchorColumn);
                long inputStep = InputIndex(Affine.Of(1), Affine.Of(0), Affine.Of(0)).Constant - InputIndex(Affine.Of(0), Affine.Of(0), Affine.Of(0)).Constant;

                string weightRoot = block.Packed ? "p" : "w";
                var weightBase = block.Packed ? Affine.Of(0) : WeightIndex(inputChannel, block.FirstChannel, 0, 0);
                long weightStep = block.Packed ? (long)block.PhaseTaps * block.Lanes : (long)_spec.OutPerGroup * kernel;
                int weightLaneStep = block.Packed ? 1 : kernel;

                bool loop = RollReduction && block.ChunkChannels > 1;
                bool cursors = loop || !inputBase.IsConstant || !weightBase.IsConstant;
                string xSource = "x", wSource = weightRoot;
                if (cursors)
                {
                    Statement("ref float xa = ref " + (IsZero(inputBase) ? "x" : Element("x", inputBase)) + ";");
                    Statement("ref float wa = ref " + (IsZero(weightBase) ? weightRoot : Element(weightRoot, weightBase)) + ";");
                    xSource = "xa";
                    wSource = "wa";
                    inputBase = Affine.Of(0);
                    weightBase = Affine.Of(0);
                }

                // Weight vectors go into locals when several pixels share them, or when they are gathered (long to write twice).
                bool weightLocals = pixels > 1 || (width > 1 && weightLaneStep > 1);
                if (weightLocals)
                {
                    for (int k = 0; k < vectors; k++) Predeclare("w" + Text(k), width);
                }

                if (vectors > 1) Predeclare("v", width);

                void Reduce(long ic)
                {
                    foreach (var rowTap in rowTaps)
                    {
                        WithGuard(Guard(rowTap, qh, _spec.InputHeight), () =>
                        {
                            foreach (var columnTap in columnTaps)
                            {
                                WithGuard(Guard(columnTap, q, _spec.InputWidth), () =>
                                {
                                    var weights = new string[vectors];
                                    for (int k = 0; k < vectors; k++)
                                    {
                                        long offset = block.Packed
                                            ? (long)block.PackedTap(rowTap, columnTap) * block.Lanes + (long)k * width
                                            : (long)k * width * kernel + rowTap.KernelIndex * _spec.KernelWidth + columnTap.KernelIndex;
                                        weights[k] = Load(width, wSource, weightBase + (ic * weightStep + offset), weightLaneStep);
                                        if (weightLocals)
                                        {
                                            Assign("w" + Text(k), weights[k]);
                                            weights[k] = "w" + Text(k);
                                        }
                                    }

                                    for (int p = 0; p < pixels; p++)
                                    {
                                        var read = InputIndex(Affine.Of(0), qh - rowTap.Offset + anchorRow * -1, q + p - columnTap.Offset + anchorColumn * -1);
                                        string input = Broadcast(width, xSource, inputBase + read + ic * inputStep);
                                        if (vectors > 1)
                                        {
                                            Assign("v", input);
                                            input = "v";
                                        }

                                        for (int k = 0; k < vectors; k++)
                                            MultiplyAdd(width, Accumulator(p, k), input, weights[k]);
                                    }
                                });
                            }
                        });
                    }
                }

                if (loop)
                {
                    // One input channel per iteration: the cursors step to the next channel's input and weights.
                    var saved = new HashSet<string>(_declared, StringComparer.Ordinal);
                    _writer?.Open("for (int ic = 0; ic < " + Text(block.ChunkChannels) + "; ic++)");
                    Reduce(0);
                    Statement("xa = ref " + Element("xa", Affine.Of(inputStep)) + ";");
                    Statement("wa = ref " + Element("wa", Affine.Of(weightStep)) + ";");
                    _writer?.Close();
                    _declared.Clear();
                    _declared.UnionWith(saved);
                }
                else if (_writer is null)
                {
                    long saved = _multiplier;
                    _multiplier = SaturatingMultiply(_multiplier, block.ChunkChannels);
                    Reduce(0);
                    _multiplier = saved;
                }
                else
                {
                    for (int ic = 0; ic < block.ChunkChannels; ic++) Reduce(ic);
                }
            }

            for (int p = 0; p < pixels; p++)
            {
                for (int k = 0; k < vectors; k++)
                    ChunkStore(width, OutputIndex(channel + (long)k * width, outputRow, outputColumn + (long)p * _spec.StrideWidth), outputStep, Accumulator(p, k), block.LastChunk);
            }

            _writer?.Close();
        }

        /// <summary>Stores an accumulator; the activation applies only when <paramref name="last"/> holds (the last chunk of input channels).</summary>
        private void ChunkStore(int width, Affine index, int step, string accumulator, string last)
        {
            if (last == "true" || !Activates)
            {
                Store(width, index, step, accumulator);
                return;
            }

            string value = last == "false" ? accumulator : "(" + last + " ? " + Activated(width, accumulator) + " : " + accumulator + ")";
            bool scattered = width > 1 && step > 1;
            if (scattered && value != accumulator)
            {
                Statement(accumulator + " = " + value + ";");
                value = accumulator;
            }

            if (width == 1) Statement(Element("y", index) + " = " + value + ";");
            else if (!scattered) Statement(VectorClass(width) + ".StoreUnsafe(" + value + ", ref y, " + Offset(index) + ");");
            else
            {
                // Counted as a statement per lane, as Store counts it: the inlined helper's machine code is the lane stores.
                _count = SaturatingAdd(_count, SaturatingMultiply(_multiplier, width - 1));
                Statement(ScatterStore(width, step, index, accumulator));
            }
        }

        private static bool IsZero(Affine index) => index.IsConstant && index.Constant == 0;

        /// <summary>One statement of the kernel's own text (counted like every other).</summary>
        private void Statement(string text)
        {
            _count = SaturatingAdd(_count, _multiplier);
            _writer?.Line(text);
        }
    }
}
