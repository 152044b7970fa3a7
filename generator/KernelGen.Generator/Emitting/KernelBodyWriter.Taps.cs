using System;
using System.Collections.Generic;
using KernelGen.Generator.Model;
using KernelGen.Generator.Strategy;
using KernelGen.Planning;

namespace KernelGen.Generator.Emitting
{
    internal sealed partial class KernelBodyWriter
    {
        // ----- Tap-vectorised (1-D NCL layers with large weights): vectors along the kernel taps of one (input, output channel) -----
        //
        // In PyTorch's weight layout (Cin, Cout/groups, k) the k taps of one (input channel, output channel) pair are contiguous,
        // and input position i adds x[ic, i] * w[ic, oc, 0..k) to outputs stride * i - padding + (0..k). So a tap vector is
        // one plain load of the caller's weights, the input is broadcast, and a register tile of (output channels x input
        // positions) tap vectors sums over every input channel with nothing but FMAs. Each weight is read from memory once per
        // call (later position tiles find it in the L2 cache), where channel vectors on NCL would need the weights
        // transposed: a pass over all of them per call. The tile's windows overlap by k - stride outputs, so once its
        // reduction is done each tap vector is added onto the output row (which first holds the bias).
        // Measured on Zen 4 for a 512 -> 256, k 16, stride 8 layer (8 MB of weights): 3 channels x 8 positions beat 2 x 12 and 6 x 4.
        //
        // The weights a tile reads lie a whole (Cout/groups x k) row apart per input channel (16 KB there): every read is in
        // another 4 KB page, which no hardware prefetcher follows, so the first position tile of each channel tile waited on
        // memory with only as many misses in flight as the reorder buffer holds (~8 reduction steps). So the reduction runs in
        // blocks of input channels (TapReductionBlock, 64), every channel tile over one block before the next block, and each
        // reduction step also reads one cache line of the NEXT block, walking it in address order: a sequential walk that the
        // L2 stream prefetcher runs ahead of, so the block is in the caches when its tiles reach it. The touch is a volatile read
        // (the JIT may not drop it) whose value is unused, on the 256- and 512-bit paths only: those run only on x86, where a
        // volatile read is a plain load (on Arm it would be an acquiring load that holds back the loads after it). The price is
        // one more add of each tile onto the output per block (8 blocks there: ~3% more work); on that layer blocks of 64 beat
        // 32 and 128, blocks of 64 without the touches were no faster than one pass, and blocks with them ran ~4-7% faster
        // (probe medians, ORT 1T / generated: 0.97-1.00x before, 1.04-1.07x after on a shared machine; 0.97-1.09x after with it
        // heavily loaded, where the caches are shared with other processes).

        /// <summary>
        /// Whether a kernel takes tap vectors: a 1-D NCL layer for which the shared rule picks channel vectors (weights beyond
        /// the L2 cache) whose taps are contiguous along the output (dilation 1) and fill whole 256-bit vectors.
        /// </summary>
        internal static bool UsesTapVectors(KernelSpec spec, KernelStrategy strategy) =>
            strategy == KernelStrategy.ChannelVectorized && spec.Rank == 1 && !spec.ChannelsLast && spec.DilationWidth == 1
            && spec.KernelWidth % 8 == 0;

        /// <summary>The vector widths whose lanes a row of taps fills exactly (the scalar path always exists).</summary>
        internal static bool TapWidthFits(KernelSpec spec, int lanes) => lanes == 1 || spec.KernelWidth % lanes == 0;

        /// <summary>One register tile of a tap-vectorised path.</summary>
        internal readonly struct TapTile
        {
            public TapTile(int channels, int positions, int chunks, int chunkGroups)
            {
                Channels = channels;
                Positions = positions;
                Chunks = chunks;
                ChunkGroups = chunkGroups;
            }

            /// <summary>Output channels of a tile.</summary>
            public int Channels { get; }

            /// <summary>Input positions of a tile.</summary>
            public int Positions { get; }

            /// <summary>Vectors of taps per (channel, position) held at once.</summary>
            public int Chunks { get; }

            /// <summary>How many passes cover the kernel's taps (1 unless a tap row is longer than the registers hold).</summary>
            public int ChunkGroups { get; }
        }

        /// <summary>
        /// The register tile of a path: 24 accumulators with AVX-512's 32 registers (3 channels x 8 positions: 11 loads per 24
        /// FMAs, and the tile's weights, 3 x Cin cache lines, stay in the L2 cache for the next position tiles), 12 with the 16
        /// of AVX2, SSE and scalar code; the accumulators, a weight vector per (channel, chunk) and one broadcast fit the file.
        /// </summary>
        internal static TapTile PlanTapTile(KernelSpec spec, int lanes)
        {
            int accumulators = lanes == 16 ? 24 : 12;
            int chunks = spec.KernelWidth / lanes;
            int held = chunks;
            if (held > accumulators / 2)
            {
                held = accumulators / 2;
                while (chunks % held != 0) held--;
            }

            int pairs = accumulators / held;
            int channels = pairs >= 24 ? 3 : pairs >= 6 ? 2 : 1;
            int positions = Math.Min(pairs / channels, spec.InputWidth);
            channels = Math.Max(1, Math.Min(spec.OutPerGroup, pairs / positions));
            return new TapTile(channels, positions, held, chunks / held);
        }

        /// <summary>The header lines that describe the tap-vectorised strategy as emitted for <paramref name="plan"/>.</summary>
        internal static IEnumerable<string> TapStrategyComment(KernelPlan plan)
        {
            var s = plan.Spec;
            yield return "// Strategy: tap-vectorised. Lanes are consecutive kernel taps of one (input channel, output channel) pair: in the weights'";
            yield return "//   (Cin, Cout/groups, k) layout they are contiguous, so weight vectors are plain loads of the caller's weights and each";
            yield return "//   input is broadcast. Chosen over channel vectors (which the weights' " + Text(s.WeightsLength * 4L)
                + " bytes, beyond the L2 cache, call for) because on NCL those need";
            yield return "//   the weights transposed (a pass over all of them per call) and store channels " + Text(s.OutputWidth) + " apart.";
            int block = TapReductionBlock(s);
            bool blocked = block < s.InPerGroup;
            yield return "//   Per group the output rows first take the bias. Then per tile of output channels and tile of input positions, "
                + (blocked ? "a block of" : "every");
            yield return "//   " + (blocked ? Text(block) + " input channels" : "input channel of the group") + " is reduced into (channels x positions) tap vectors held in registers, each then added onto";
            yield return "//   the outputs its window covers (windows of neighbouring positions overlap: stride " + Text(s.StrideWidth) + ", kernel " + Text(s.KernelWidth)
                + ")" + (s.Activation == KernelActivation.None ? "." : "; the activation is a last pass over the rows.");
            if (blocked)
            {
                yield return "//   Every channel tile takes one block before the next block: a tile's weights lie " + Text((long)s.OutPerGroup * s.KernelWidth * 4)
                    + " bytes apart per input channel, a stride no";
                yield return "//   hardware prefetcher follows, so "
                    + (plan.Level >= UnrollLevel.ReductionLoops ? "the 512- and 256-bit paths (x86 only) also read a cache line of the next block per reduction step, in address order, which the prefetcher does follow."
                        : "blocks alone (the reduction is unrolled here, so no reads ahead are written).");
            }

            yield return "//   Each weight comes from memory once per call: the later position tiles of a channel tile find its weights in the L2 cache.";
            yield return "//   Lanes of windows cropped at a row's ends are computed and dropped (no input is read for them: they stay exact).";
            foreach (int lanes in plan.PathWidths)
            {
                var tile = PlanTapTile(s, lanes);
                yield return "//   " + PathLabel(lanes) + ": tiles of " + Text(tile.Channels) + " output channel" + (tile.Channels > 1 ? "s" : "") + " x " + Text(tile.Positions) + " positions x "
                    + (lanes == 1 ? Text(tile.Chunks) + " taps" : Text(tile.Chunks) + " vector" + (tile.Chunks > 1 ? "s" : "") + " of " + Text(lanes) + " taps")
                    + (tile.ChunkGroups > 1 ? ", in " + Text(tile.ChunkGroups) + " passes over the taps" : "") + ".";
            }
        }

        private void WriteTapVectorized()
        {
            var tile = PlanTapTile(_spec, _lanes);
            int perGroup = _spec.OutPerGroup;
            int fullTiles = perGroup / tile.Channels, leftChannels = perGroup - fullTiles * tile.Channels;
            int length = _spec.OutputWidth;
            Repeat("g", 0, _spec.Groups, 1, RollChannels, g =>
            {
                var groupOutput = g * perGroup;
                _writer?.Line("// The group's output rows start from the bias; every tile adds its tap vectors onto them.");
                Repeat("oc", 0, perGroup, 1, RollChannels, oc =>
                {
                    var row = (groupOutput + oc) * length;
                    TapRowPass(row, length, (index, width) => StoreRaw(width, index, _spec.HasBias ? Broadcast(width, "b", groupOutput + oc) : Zero(width)));
                });

                int block = TapReductionBlock(_spec);
                Repeat("icb", 0, _spec.InPerGroup / block, block, RollReduction, icb =>
                {
                    if (TouchesAhead(block))
                    {
                        _writer?.Line("// Each reduction step below also reads a cache line of the next block of input channels' weights, in address");
                        _writer?.Line("// order: the hardware prefetcher follows that walk (not the tiles' reads, a row apart), so the next block is cached.");
                        long rowFloats = (long)_spec.OutPerGroup * _spec.KernelWidth;
                        var next = (g * _spec.InPerGroup + icb + block) * rowFloats;
                        Statement("int ahead = global::System.Math.Min(" + next + ", " + Text(_spec.WeightsLength - 1) + ");");
                    }

                    Repeat("oc", 0, fullTiles, tile.Channels, RollChannels, oc => TapChannelTile(g, icb, block, oc, tile, tile.Channels));
                    if (leftChannels > 0) TapChannelTile(g, icb, block, Affine.Of((long)fullTiles * tile.Channels), tile, leftChannels);
                });

                if (Activates)
                {
                    _writer?.Line("// The sums are complete: the activation, in place.");
                    Repeat("oc", 0, perGroup, 1, RollChannels, oc =>
                    {
                        var row = (groupOutput + oc) * length;
                        TapRowPass(row, length, (index, width) =>
                            StoreRaw(width, index, Activated(width, width == 1 ? Element("y", index) : VectorClass(width) + ".LoadUnsafe(ref y, " + Offset(index) + ")")));
                    });
                }
            });
        }

        /// <summary>First output position whose window lies inside the output, and the end of those positions.</summary>
        private (int First, int End) TapInterior()
        {
            int stride = _spec.StrideWidth, padding = _spec.PaddingLeft, kernel = _spec.KernelWidth, length = _spec.OutputWidth;
            int first = (padding + stride - 1) / stride;
            int end = first;
            while (end < _spec.InputWidth && (long)stride * end - padding + kernel <= length) end++;
            return (first, end);
        }

        /// <summary>
        /// Every position tile of <paramref name="channels"/> output channels from <c>oc</c> of group <c>g</c>: the first reads the
        /// tile's weights from memory, the later ones find them in the L2 cache (channels x Cin/groups cache lines for k = 16).
        /// </summary>
        private void TapChannelTile(Affine g, Affine icb, int block, Affine oc, TapTile tile, int channels)
        {
            var outer = new HashSet<string>(_declared, StringComparer.Ordinal);
            if (_writer is { } w)
            {
                w.Line("// " + ChannelRange(g * _spec.OutPerGroup + oc, channels) + ": every input position, in tiles.");
                w.Open();
            }

            int positions = tile.Positions, input = _spec.InputWidth;
            var (first, end) = TapInterior();
            // Tiles whose every window lies inside the output are one uniform range (a loop when spatial loops are kept);
            // the others, at the ends, are written with literal positions and crop their windows lane by lane.
            int tiles = (input + positions - 1) / positions;
            int t = 0;
            while (t < tiles)
            {
                int start = t * positions, count = Math.Min(positions, input - start);
                bool clean = count == positions && start >= first && start + count <= end;
                if (!clean)
                {
                    TapPositionTile(g, icb, block, oc, Affine.Of(start), channels, count, tile, clean: false);
                    t++;
                    continue;
                }

                int run = 1;
                while (t + run < tiles && (t + run + 1) * positions <= Math.Min(end, input)) run++;
                Repeat("i", start, run, positions, RollSpatial, i => TapPositionTile(g, icb, block, oc, i, channels, positions, tile, clean: true));
                t += run;
            }

            _writer?.Close();
            _declared.Clear();
            _declared.UnionWith(outer);
        }

        /// <summary>A pass over one output row: whole vectors (a loop when spatial loops are kept), then narrower ones and scalars.</summary>
        private void TapRowPass(Affine row, int length, Action<Affine, int> store)
        {
            int whole = length / _lanes;
            Repeat("o", 0, whole, _lanes, RollSpatial, o => store(row + o, _lanes));
            int position = whole * _lanes;
            if (_lanes > 1)
            {
                foreach (int width in NarrowerVectorWidths())
                {
                    for (; length - position >= width; position += width) store(row + position, width);
                }
            }

            for (; position < length; position++) store(row + position, 1);
        }

        /// <summary>A plain store of a value (no activation: the tap path applies it in its own pass).</summary>
        private void StoreRaw(int width, Affine index, string value) =>
            Statement(width == 1 ? Element("y", index) + " = " + value + ";" : VectorClass(width) + ".StoreUnsafe(" + value + ", ref y, " + Offset(index) + ");");

        /// <summary>
        /// One register tile: <paramref name="channels"/> output channels x <paramref name="count"/> input positions from
        /// <paramref name="start"/>, per pass over the taps: reduced over every input channel of the group, then added onto the output.
        /// </summary>
        private void TapPositionTile(Affine g, Affine icb, int block, Affine oc, Affine start, int channels, int count, TapTile tile, bool clean)
        {
            int lanes = _lanes, kernel = _spec.KernelWidth, inputLength = _spec.InputWidth, length = _spec.OutputWidth;
            int stride = _spec.StrideWidth, padding = _spec.PaddingLeft;
            var outputChannel = g * _spec.OutPerGroup + oc;
            var inputChannel = g * _spec.InPerGroup + icb;
            for (int pass = 0; pass < tile.ChunkGroups; pass++)
            {
                int firstChunk = pass * tile.Chunks;
                if (_writer is { } w)
                {
                    w.Line("// " + ChannelRange(outputChannel, channels) + " x i " + Positions(start, count, 1) + " x taps "
                        + Text((long)firstChunk * lanes) + ".." + Text((long)(firstChunk + tile.Chunks) * lanes - 1) + ".");
                    w.Open();
                }

                var outer = new HashSet<string>(_declared, StringComparer.Ordinal);
                for (int r = 0; r < channels; r++)
                {
                    for (int p = 0; p < count; p++)
                    {
                        for (int c = 0; c < tile.Chunks; c++) Declare(TapAccumulator(r, p, c), Zero(lanes));
                    }
                }

                long inputStep = inputLength, weightStep = (long)_spec.OutPerGroup * kernel;
                var inputBase = inputChannel * inputLength + start;
                var weightBase = (inputChannel * _spec.OutPerGroup + oc) * kernel + (long)firstChunk * lanes;
                bool loop = RollReduction && block > 1;
                Statement("ref float xa = ref " + Element("x", inputBase) + ";");
                Statement("ref float wa = ref " + Element("w", weightBase) + ";");
                if (lanes > 1 || count > 1)
                {
                    for (int r = 0; r < channels; r++)
                    {
                        for (int c = 0; c < tile.Chunks; c++) Predeclare(TapWeight(r, c), lanes);
                    }

                    Predeclare("v", lanes);
                }

                void Reduce(long ic)
                {
                    var weights = new string[channels, tile.Chunks];
                    for (int r = 0; r < channels; r++)
                    {
                        for (int c = 0; c < tile.Chunks; c++)
                        {
                            weights[r, c] = Load(lanes, "wa", Affine.Of(ic * weightStep + (long)r * kernel + (long)c * lanes), 1);
                            if (lanes > 1 || count > 1)
                            {
                                Assign(TapWeight(r, c), weights[r, c]);
                                weights[r, c] = TapWeight(r, c);
                            }
                        }
                    }

                    for (int p = 0; p < count; p++)
                    {
                        string value = Broadcast(lanes, "xa", Affine.Of(ic * inputStep + p));
                        if (lanes > 1 || count > 1)
                        {
                            Assign("v", value);
                            value = "v";
                        }

                        for (int r = 0; r < channels; r++)
                        {
                            for (int c = 0; c < tile.Chunks; c++) MultiplyAdd(lanes, TapAccumulator(r, p, c), value, weights[r, c]);
                        }
                    }
                }

                if (loop)
                {
                    // One input channel per iteration: the cursors step to the next channel's inputs and weights.
                    var saved = new HashSet<string>(_declared, StringComparer.Ordinal);
                    _writer?.Open("for (int ic = 0; ic < " + Text(block) + "; ic++)");
                    Reduce(0);
                    if (TouchesAhead(block))
                    {
                        Statement("_ = global::System.Threading.Volatile.Read(ref " + Element("w", Affine.Var("ahead")) + ");");
                        Statement("ahead = global::System.Math.Min(ahead + 16, " + Text(_spec.WeightsLength - 1) + ");");
                    }

                    Statement("xa = ref " + Element("xa", Affine.Of(inputStep)) + ";");
                    Statement("wa = ref " + Element("wa", Affine.Of(weightStep)) + ";");
                    _writer?.Close();
                    _declared.Clear();
                    _declared.UnionWith(saved);
                }
                else if (_writer is null)
                {
                    long saved = _multiplier;
                    _multiplier = SaturatingMultiply(_multiplier, block);
                    Reduce(0);
                    _multiplier = saved;
                }
                else
                {
                    for (int ic = 0; ic < block; ic++) Reduce(ic);
                }

                // Windows of positions m apart overlap when m * stride < kernel: adding the positions in classes m apart keeps
                // an add from reading outputs that the store just before it wrote (which the store buffer cannot forward).
                int classes = Math.Max(1, Math.Min(count, (kernel + stride - 1) / stride));
                for (int phase = 0; phase < classes; phase++)
                {
                    for (int p = phase; p < count; p += classes)
                    {
                        for (int r = 0; r < channels; r++)
                        {
                            for (int c = 0; c < tile.Chunks; c++)
                            {
                                var row = (outputChannel + r) * length;
                                var output = start * stride + ((long)p * stride - padding + (long)(firstChunk + c) * lanes);
                                TapAdd(row, output, clean, TapAccumulator(r, p, c), length);
                            }
                        }
                    }
                }

                _writer?.Close();
                _declared.Clear();
                _declared.UnionWith(outer);
            }
        }

        /// <summary>
        /// Adds a tap vector onto the outputs <c>[output, output + lanes)</c> of a row: one vector add where the window lies inside
        /// the row (always in a clean tile), else lane by lane for the outputs that exist (at the row's cropped ends).
        /// </summary>
        private void TapAdd(Affine row, Affine output, bool clean, string accumulator, int length)
        {
            int lanes = _lanes;
            if (clean || (output.Constant >= 0 && output.Constant + lanes <= length))
            {
                var index = row + output;
                if (lanes == 1) Statement(Element("y", index) + " += " + accumulator + ";");
                else Statement(VectorClass(lanes) + ".StoreUnsafe(" + VectorClass(lanes) + ".LoadUnsafe(ref y, " + Offset(index) + ") + " + accumulator + ", ref y, " + Offset(index) + ");");
                return;
            }

            // The lanes that land inside the row are one run: its aligned halves and quarters go as narrower vectors, the rest lane by lane.
            int lo = (int)Math.Max(0, -output.Constant), hi = (int)Math.Min(lanes, length - output.Constant);
            for (int lane = lo; lane < hi;)
            {
                int width = lanes / 2;
                while (width >= 4 && (lane % width != 0 || lane + width > hi)) width /= 2;
                if (width < 4) width = 1;
                var index = row + (output.Constant + lane);
                string part = SubVector(accumulator, lanes, lane, width);
                if (width == 1) Statement(Element("y", index) + " += " + part + ";");
                else Statement(VectorClass(width) + ".StoreUnsafe(" + VectorClass(width) + ".LoadUnsafe(ref y, " + Offset(index) + ") + " + part + ", ref y, " + Offset(index) + ");");
                lane += width;
            }
        }

        /// <summary>Lanes <c>[first, first + width)</c> of a vector of <paramref name="lanes"/>, <paramref name="first"/> a multiple of <paramref name="width"/>.</summary>
        private string SubVector(string vector, int lanes, int first, int width)
        {
            if (lanes == 1) return vector;
            if (width == 1) return VectorClass(lanes) + ".GetElement(" + vector + ", " + Text(first) + ")";
            string value = vector;
            for (int size = lanes; size > width; size /= 2)
            {
                bool upper = first % size >= size / 2;
                value = VectorClass(size) + (upper ? ".GetUpper(" : ".GetLower(") + value + ")";
            }

            return value;
        }

        /// <summary>
        /// Input channels a tile reduces per visit (see the file's header): a divisor of the channels per group between
        /// <see cref="TapBlockTarget"/> / 2 and <see cref="TapBlockTarget"/>, else all of them (one pass, as for small groups).
        /// </summary>
        internal static int TapReductionBlock(KernelSpec spec)
        {
            int channels = spec.InPerGroup;
            for (int blocks = (channels + TapBlockTarget - 1) / TapBlockTarget; channels / blocks >= TapBlockTarget / 2; blocks++)
            {
                if (channels % blocks == 0) return channels / blocks;
            }

            return channels;
        }

        /// <summary>Whether the reduction loops read the next block's weights ahead: x86-only paths, loops kept, more than one block.</summary>
        private bool TouchesAhead(int block) => RollReduction && _lanes >= 8 && _spec.InPerGroup / block > 1;

        /// <summary>The most input channels per block: 64 x 16 KB of weights on the measured layer (32 and 128 were slower).</summary>
        internal const int TapBlockTarget = 64;

        private static string TapAccumulator(int channel, int position, int chunk) => "a" + Text(channel) + "_" + Text(position) + "_" + Text(chunk);

        private static string TapWeight(int channel, int chunk) => "w" + Text(channel) + "_" + Text(chunk);
    }
}
