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
        // Measured on Zen 4 for a 512 -> 256, k 16, stride 8 layer (8 MB of weights): 3 channels x 8 positions beat 2 x 12, 6 x 4 and
        // 4 x 6 (6 % slower), and 3 x 9 (the most the 32 registers hold) ran the same.
        //
        // The weights a tile reads lie a whole (Cout/groups x k) row apart per input channel (16 KB there): every read is in
        // another 4 KB page, which no hardware prefetcher follows, so the first position tile of each channel tile waited on
        // memory with only as many misses in flight as the reorder buffer holds (a load that misses holds every instruction
        // after it). So on the 512- and 256-bit paths (x86 only) the position tiles of each channel tile also PREFETCH
        // the next channel tile's weights of the same input channel (GeneratedKernelSupport.Prefetch, x86's prefetcht0: a
        // hint that holds nothing up and never faults), one tile ahead: by the time the next tile starts, its weights are in
        // the caches. Measured on Zen 4 for that layer (one process, variants interleaved, a loaded machine): the prefetches
        // made the kernel 6-9 % faster than reading a cache line of the next block per reduction step in address order (a
        // load, which the earlier kernel used so that the stream prefetcher would follow it), and 10-12 % faster than neither.
        // On Zen 5 the prefetches are shared out over the position tiles (see TapPrefetchLines): issued all in the first one
        // they waited on each other. The later position tiles read the same runs again; rows 16 KB apart all fall in the same
        // sets of the L1 cache, so they came from the L2 cache and the tiles stalled on them: the first position tile also
        // copies the tile's weights into an aligned per-thread buffer that the later ones read (see CopiesTileWeights). The
        // reduction runs in blocks of input channels (TapReductionBlock, 128), every channel tile over one block before the
        // next block, which bounds that copy (there 8 KB on the AVX2 path, 24 KB on the AVX-512 path);
        // each block ends in the adds onto the output, so longer blocks add less often. On the AVX-512 path blocks of 64,
        // 128 and 512 measured the same on Zen 4; on Zen 5 with the copy (one process, the 64 kernel interleaved, a loaded
        // machine, 7 runs) 128 was 0.5-2 % faster than 64 (0.999x in one run) and 512 (a 96 KB copy, beyond the L1 cache)
        // 3-5 % slower; on the AVX2 path 128 measured the same as 64 (0.975-1.015x).
        // Where the rest of the time goes on Zen 5 (vocoder_up, AVX-512, the same kind of runs): the weights' traffic from
        // memory costs 6-11 % (every tile reading cached weights, with or without prefetches of other lines, ran that much
        // faster; without the prefetches the kernel is 8-29 % slower); the adds onto the output 1-3 % (dropping their reads
        // 1-2 %); the copy's stores 1-3 %. Prefetching in address order instead (each row's run of 1, 5 or 17 channel tiles'
        // lines one after the other, a group ahead) ran 3-29 % slower, the shorter runs the slower: what counts is that each
        // line is prefetched a whole channel tile before its use; unrolling the reduction by two measured 1-3 % slower.
        // Where the stride is a whole number of half vectors (256- and 512-bit paths), a tile's tap vectors that land on the same
        // outputs are summed in registers before the adds onto the output (TapCombinedAdds): on vocoder_up's AVX-512 path 4.5
        // output vectors per channel instead of 8 tap vectors each reading outputs the one before had just written. Measured on
        // Zen 5 (one process, the old kernel interleaved, a loaded machine): 2-3 % faster; the AVX2 path (7 adds per channel
        // instead of 12) measured the same to 1 % faster. Vector512.Create(lower, upper) there went through the stack (RyuJIT,
        // .NET 10) and was 8 % slower than the adds one by one: the halves move with GetUpper, ToVector512Unsafe and WithUpper.

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
        /// The register tile of a path: as many accumulators as fit beside the tile's weight vectors and one broadcast input in
        /// the vector registers with one to spare (32 with AVX-512; 16 with AVX2, SSE and for scalar code), at most 24 and 12:
        /// on AVX-512 3 channels x 8 positions (11 loads per 24 FMAs, and the tile's weights, 3 x Cin cache lines, stay cached
        /// for the next position tiles; measured on Zen 4 against 2 x 12 and 6 x 4), on AVX2 for k 16 one channel x 6
        /// positions x 2 vectors of taps (15 registers). A tile that needs more registers than the file has makes the JIT keep
        /// an accumulator on the stack, whose store and reload then chain every reduction step: 2 x 3 x 2 vectors (17
        /// registers) ran at half the speed. More channels than 3 only where the positions run out (short inputs).
        /// </summary>
        internal static TapTile PlanTapTile(KernelSpec spec, int lanes)
        {
            int registers = lanes == 16 ? 32 : 16, most = lanes == 16 ? 24 : 12;
            int chunks = spec.KernelWidth / lanes;
            TapTile? best = null;
            long bestLoads = 0;
            for (int held = chunks; held >= 1; held--)
            {
                if (chunks % held != 0) continue;
                for (int channels = 1; channels <= Math.Min(spec.OutPerGroup, most); channels++)
                {
                    int perPosition = channels * held;
                    int positions = Math.Min(spec.InputWidth, Math.Min((registers - 2 - perPosition) / perPosition, most / perPosition));
                    if (positions < 1 || (channels > 3 && positions < spec.InputWidth)) continue;
                    var candidate = new TapTile(channels, positions, held, chunks / held);
                    long accumulators = (long)perPosition * positions, loads = perPosition + positions;
                    // More accumulators first, then fewer passes over the taps, then fewer loads per reduction step.
                    if (best is not { } b || accumulators > (long)b.Channels * b.Chunks * b.Positions
                        || (accumulators == (long)b.Channels * b.Chunks * b.Positions
                            && (candidate.ChunkGroups < b.ChunkGroups || (candidate.ChunkGroups == b.ChunkGroups && loads < bestLoads))))
                    {
                        best = candidate;
                        bestLoads = loads;
                    }
                }
            }

            // One channel, one position and one tap always fit (registers - 2 >= 2).
            return best ?? new TapTile(1, 1, 1, chunks);
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
                yield return "//   Every channel tile takes one block before the next block.";
            }

            var combining = new List<string>();
            foreach (int lanes in plan.PathWidths)
            {
                if (lanes > 1 && TapWidthFits(s, lanes) && CombinesTapWindows(s, lanes)) combining.Add(PathLabel(lanes));
            }

            if (combining.Count > 0)
            {
                yield return "//   " + string.Join(", ", combining) + ": the tap vectors of a tile that land on the same outputs are first summed in registers (a half";
                yield return "//   vector moved with an extract and an insert where the stride is an odd number of half vectors), so that the tile reads and";
                yield return "//   writes each of its output vectors once.";
            }

            yield return "//   A tile's weights lie " + Text((long)s.OutPerGroup * s.KernelWidth * 4) + " bytes apart per input channel, a stride no hardware prefetcher follows, so "
                + (plan.Level >= UnrollLevel.ReductionLoops ? "on the 512- and" : "");
            yield return plan.Level >= UnrollLevel.ReductionLoops
                ? "//   256-bit paths (x86 only) the position tiles of each channel tile share out the prefetches of the next channel tile's weights (prefetcht0, a hint: it holds nothing up)."
                : "//   reads wait on memory (the reduction is unrolled here: no prefetches are written).";
            var copying = new List<string>();
            foreach (int lanes in plan.PathWidths)
            {
                if (lanes > 1 && CopiesTileWeights(s, PlanTapTile(s, lanes), lanes, plan.Level)) copying.Add(PathLabel(lanes));
            }

            if (copying.Count > 0)
            {
                yield return "//   " + string.Join(", ", copying) + ": the first position tile also copies the tile's weights of the block into an aligned buffer of the calling";
                yield return "//   thread's (made on its first call) that the later position tiles read: the runs a row apart share a few sets of the L1 cache and";
                yield return "//   would come from the L2 cache each time, too slowly for the tile.";
            }

            yield return "//   Each weight comes from memory once per call.";
            yield return "//   Lanes of windows cropped at a row's ends are computed and dropped (no input is read for them: they stay exact).";
            foreach (int lanes in plan.PathWidths)
            {
                var tile = PlanTapTile(s, lanes);
                var (tiles, larger, size) = TapPositionTiles(s, tile);
                string split = larger == 0 ? "" : " (" + Text(s.InputWidth) + " as " + Text(larger) + " x " + Text(size + 1) + " and " + Text(tiles - larger) + " x " + Text(size) + ")";
                yield return "//   " + PathLabel(lanes) + ": tiles of " + Text(tile.Channels) + " output channel" + (tile.Channels > 1 ? "s" : "") + " x " + Text(tile.Positions) + " positions" + split + " x "
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
                if (CopiesTileWeights(_spec, tile, _lanes, _level))
                {
                    _writer?.Line("// Each channel tile's weights of a block, copied by its first position tile for the later ones: a buffer of the calling");
                    _writer?.Line("// thread's, made on its first call (sized for every path) on the pinned heap, so that its start is aligned to a cache line once for all.");
                    Statement("float[] tapWeights = " + TapWeightsField + " ??= global::System.GC.AllocateArray<float>(" + Text(_tapWeightsFloats) + ", pinned: true);");
                    Statement("ref float tw = ref global::KernelGen.CompilerServices.GeneratedKernelSupport.AlignedStart(tapWeights);");
                }

                Repeat("icb", 0, _spec.InPerGroup / block, block, RollReduction, icb =>
                {
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
        /// tile's weights from memory (prefetched while the channel tile before ran), the later ones from the copy where the path
        /// copies them, else from the L2 cache; the position tiles share out the prefetches of the next channel tile's weights.
        /// </summary>
        private void TapChannelTile(Affine g, Affine icb, int block, Affine oc, TapTile tile, int channels)
        {
            var outer = new HashSet<string>(_declared, StringComparer.Ordinal);
            if (_writer is { } w)
            {
                w.Line("// " + ChannelRange(g * _spec.OutPerGroup + oc, channels) + ": every input position, in tiles.");
                w.Open();
            }

            int input = _spec.InputWidth;
            var (first, end) = TapInterior();
            bool copies = CopiesTileWeights(_spec, tile, _lanes, _level);
            // Tiles whose every window lies inside the output are one uniform range (a loop when spatial loops are kept);
            // the others, at the ends, are written with literal positions and crop their windows lane by lane.
            var (tiles, larger, size) = TapPositionTiles(_spec, tile);
            int TileStart(int index) => index * size + Math.Min(index, larger);
            int TileCount(int index) => size + (index < larger ? 1 : 0);
            bool Clean(int index) => TileStart(index) >= first && TileStart(index) + TileCount(index) <= end;
            // The prefetches of the next channel tile's weights are shared out over the position tiles (see TapPrefetchLines):
            // one cursor per channel tile, at the next tile's first input channel, which each prefetching position tile leaves a
            // line further on.
            var (lines, prefetchTiles) = TapPrefetchLines(tile, tiles);
            if (RollReduction && block > 1 && Prefetches)
            {
                // The farthest line any tile's prefetches reach (a run of tiles written as one prefetches in every tile of it).
                int prefetching = 0;
                for (int u = 0; u < tiles;)
                {
                    int width = 1;
                    if (Clean(u) && u > 0)
                    {
                        while (u + width < tiles && TileCount(u + width) == TileCount(u) && Clean(u + width)) width++;
                    }

                    if (u < prefetchTiles) prefetching += width;
                    u += width;
                }

                TapPrefetchCursor(g, icb, block, oc, channels, prefetching - 1 + (long)(lines - 1) * prefetchTiles);
            }

            int t = 0;
            while (t < tiles)
            {
                int start = TileStart(t), count = TileCount(t);
                if (!Clean(t) || t == 0)
                {
                    // The first tile is written alone even when clean: it copies the tile's weights for the later tiles.
                    var source = t > 0 && copies ? TapWeightSource.Copy : t == 0 && copies ? TapWeightSource.CallerAndCopy : TapWeightSource.Caller;
                    TapPositionTile(g, icb, block, oc, Affine.Of(start), channels, count, tile, Clean(t), t < prefetchTiles ? lines : 0, prefetchTiles, source,
                        advance: t + 1 < prefetchTiles);
                    t++;
                    continue;
                }

                int run = 1;
                while (t + run < tiles && TileCount(t + run) == count && Clean(t + run)) run++;
                // A run of tiles written as one prefetches in all of them when its first one does (a few spare hints at most).
                int runLines = t < prefetchTiles ? lines : 0;
                Repeat("i", start, run, count, RollSpatial, i => TapPositionTile(g, icb, block, oc, i, channels, count, tile, clean: true, runLines, prefetchTiles,
                    copies ? TapWeightSource.Copy : TapWeightSource.Caller, advance: true));
                t += run;
            }

            _writer?.Close();
            _declared.Clear();
            _declared.UnionWith(outer);
        }

        /// <summary>
        /// The position tiles of a row: as few as hold the input at most <see cref="TapTile.Positions"/> each, their sizes as even
        /// as can be, the <c>Larger</c> first ones one position longer than <c>Size</c> (32 positions in tiles of at most 6: 6, 6,
        /// 5, 5, 5, 5, where 6, 6, 6, 6, 6, 2 would run a last tile with a third of the multiply-adds per step at much the same cost).
        /// </summary>
        private static (int Tiles, int Larger, int Size) TapPositionTiles(KernelSpec spec, TapTile tile)
        {
            int input = spec.InputWidth, tiles = (input + tile.Positions - 1) / tile.Positions;
            return (tiles, input % tiles, input / tiles);
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
        /// Its first pass prefetches <paramref name="prefetchLines"/> lines of every run of the next channel tile's weights (every
        /// <paramref name="prefetchTiles"/>-th line from the cursor), then moves the cursor a line on when <paramref name="advance"/>
        /// (a later position tile prefetches).
        /// </summary>
        private void TapPositionTile(Affine g, Affine icb, int block, Affine oc, Affine start, int channels, int count, TapTile tile, bool clean, int prefetchLines,
            int prefetchTiles, TapWeightSource source, bool advance)
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

                // The copy holds the tile's weights of the block back to back: (input channel, channel of the tile, tap).
                bool fromCopy = source == TapWeightSource.Copy, toCopy = source == TapWeightSource.CallerAndCopy;
                long inputStep = inputLength, copyStep = (long)channels * kernel;
                long weightStep = fromCopy ? copyStep : (long)_spec.OutPerGroup * kernel;
                var inputBase = inputChannel * inputLength + start;
                var weightBase = fromCopy ? Affine.Of((long)firstChunk * lanes) : (inputChannel * _spec.OutPerGroup + oc) * kernel + (long)firstChunk * lanes;
                bool loop = RollReduction && block > 1;
                Statement("ref float xa = ref " + Element("x", inputBase) + ";");
                Statement("ref float wa = ref " + (fromCopy && firstChunk == 0 ? "tw" : Element(fromCopy ? "tw" : "w", weightBase)) + ";");
                if (toCopy) Statement("ref float ta = ref " + (firstChunk == 0 ? "tw" : Element("tw", Affine.Of((long)firstChunk * lanes))) + ";");
                bool prefetches = prefetchLines > 0 && pass == 0 && loop && Prefetches;
                if (prefetches)
                {
                    _writer?.Line("// While this position tile runs, it prefetches its share of the next channel tile's weights, one input channel per step.");
                    Statement("ref float pt = ref pa;");
                }

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

                            if (toCopy) Statement(VectorClass(lanes) + ".StoreUnsafe(" + weights[r, c] + ", ref ta, " + Offset(Affine.Of(ic * copyStep + (long)r * kernel + (long)c * lanes)) + ");");
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
                    if (prefetches)
                    {
                        // This tile's lines of the run: every prefetchTiles-th line, from the one the cursor stands at.
                        for (int line = 0; line < prefetchLines; line++) Prefetch(Affine.Of((long)line * prefetchTiles * 16));
                        Statement("pt = ref " + Element("pt", Affine.Of((long)_spec.OutPerGroup * kernel)) + ";");
                    }

                    Statement("xa = ref " + Element("xa", Affine.Of(inputStep)) + ";");
                    Statement("wa = ref " + Element("wa", Affine.Of(weightStep)) + ";");
                    if (toCopy) Statement("ta = ref " + Element("ta", Affine.Of(copyStep)) + ";");
                    _writer?.Close();
                    _declared.Clear();
                    _declared.UnionWith(saved);
                    // The next prefetching position tile takes the next line of every run.
                    if (prefetches && advance) Statement("pa = ref " + Element("pa", Affine.Of(16)) + ";");
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

                if (CombinesTapWindows(_spec, lanes))
                {
                    TapCombinedAdds(outputChannel, start, channels, count, tile, firstChunk, clean);
                }
                else
                {
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
                                    TapAdd(row, output, clean, TapAccumulator(r, p, c), length, lanes);
                                }
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
        /// Whether a path sums the tap vectors of a position tile that land on the same outputs in registers before adding them
        /// onto the output (<see cref="TapCombinedAdds"/>): the 256- and 512-bit paths where the stride is a whole number of half vectors, so that
        /// every tap vector covers whole halves of the output vectors the sums are added as (the 128-bit and scalar paths, whose
        /// halves would be Vector64 values or none, add their tap vectors one by one).
        /// </summary>
        internal static bool CombinesTapWindows(KernelSpec spec, int lanes) => lanes >= 8 && spec.StrideWidth % (lanes / 2) == 0;

        /// <summary>
        /// Adds a position tile's tap vectors onto the output, those that land on the same outputs summed in registers first: per
        /// output channel, the vectors are grouped by the half vector where they start (position p, vector c of the pass at
        /// p * stride + c * lanes from the tile's first output), and each output vector of the tile's span takes the vectors that
        /// start on it, the upper halves of those that start half a vector before it and the lower halves of those that start
        /// half a vector into it (one insert each), so every output is read and written once per tile. Measured on Zen 5 for
        /// vocoder_up (stride 8, 16 taps, 8 positions: 4.5 output vectors per channel where 8 tap vectors were added one by one,
        /// each reading outputs the one before it had just written, which the store buffer cannot forward): see the file's header.
        /// </summary>
        private void TapCombinedAdds(Affine outputChannel, Affine start, int channels, int count, TapTile tile, int firstChunk, bool clean)
        {
            int lanes = _lanes, half = lanes / 2, stride = _spec.StrideWidth, length = _spec.OutputWidth;
            int slots = ((count - 1) * stride + (tile.Chunks - 1) * lanes) / half + 2;
            var origin = start * stride + ((long)firstChunk * lanes - _spec.PaddingLeft);
            for (int r = 0; r < channels; r++)
            {
                // The sum of the tap vectors that start on each half vector of the span (null where none does).
                var starting = new List<string>[slots];
                for (int p = 0; p < count; p++)
                {
                    for (int c = 0; c < tile.Chunks; c++)
                    {
                        int slot = (p * stride + c * lanes) / half;
                        (starting[slot] ??= new List<string>()).Add(TapAccumulator(r, p, c));
                    }
                }

                var sums = new string?[slots];
                for (int k = 0; k < slots; k++)
                {
                    if (starting[k] is not { } list) continue;
                    if (list.Count == 1 || k % 2 == 0)
                    {
                        sums[k] = string.Join(" + ", list);
                        continue;
                    }

                    // An odd slot's sum feeds two output vectors (its halves): computed once.
                    sums[k] = TapSum(r, k);
                    Declare(sums[k]!, string.Join(" + ", list));
                }

                var row = (outputChannel + r) * length;
                for (int q = 0; 2 * q < slots; q++)
                {
                    string? whole = sums[2 * q], lower = 2 * q > 0 ? sums[2 * q - 1] : null, upper = 2 * q + 1 < slots ? sums[2 * q + 1] : null;
                    var output = origin + (long)q * lanes;
                    if (whole is null && (lower is null || upper is null))
                    {
                        // Half a vector: the upper half of a vector that starts half a vector before, or the lower half of one that starts half a vector in.
                        if (lower is not null) TapAdd(row, output, clean, VectorClass(lanes) + ".GetUpper(" + lower + ")", length, half);
                        else if (upper is not null) TapAdd(row, output + half, clean, VectorClass(lanes) + ".GetLower(" + upper + ")", length, half);
                        continue;
                    }

                    string value = whole ?? "";
                    if (lower is not null || upper is not null)
                    {
                        // WithUpper onto the upper half moved down (ToVectorUnsafe leaves the rest for WithUpper to fill): an extract and
                        // an insert, where Create(lower, upper) went through a vector on the stack (RyuJIT, .NET 10).
                        string bottom = lower is null ? VectorType(lanes) + ".Zero"
                            : VectorClass(half) + ".ToVector" + Suffix(lanes) + "Unsafe(" + VectorClass(lanes) + ".GetUpper(" + lower + "))";
                        string halves = VectorClass(lanes) + ".WithUpper(" + bottom + ", " + (upper is null ? VectorType(half) + ".Zero" : VectorClass(lanes) + ".GetLower(" + upper + ")") + ")";
                        value = whole is null ? halves : value + " + " + halves;
                    }

                    if (!value.StartsWith("a", StringComparison.Ordinal) || value.Contains(" "))
                    {
                        Declare(TapSum(r, 2 * q), value);
                        value = TapSum(r, 2 * q);
                    }

                    TapAdd(row, output, clean, value, length, lanes);
                }
            }
        }

        /// <summary>
        /// Adds a tap vector onto the outputs <c>[output, output + lanes)</c> of a row: one vector add where the window lies inside
        /// the row (always in a clean tile), else lane by lane for the outputs that exist (at the row's cropped ends).
        /// </summary>
        private void TapAdd(Affine row, Affine output, bool clean, string accumulator, int length, int lanes)
        {
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

        /// <summary>
        /// How the prefetches of the next channel tile's weights are shared out: each input channel's run of them (tile channels
        /// x k floats) takes <c>Lines</c> prefetches 16 floats apart from its start wherever the caller's array starts (its
        /// length in floats less one, over 16, rounded up, and one more: every cache line the run can touch), and the first
        /// <c>Tiles</c> position tiles of a channel tile prefetch <c>Lines</c> of them each, every <c>Tiles</c>-th line from the
        /// cursor's place, the cursor a line further on for each tile (vocoder_up on AVX-512: 4 position tiles, 1 line each).
        /// Measured on Zen 5 for vocoder_up (one process, variants interleaved, a loaded machine): all of a run's lines in the
        /// first position tile (4 prefetches per step, 192 lines in a quarter of the tile's time, more than the misses a core
        /// keeps in flight) ran 4-9 % slower than the lines shared out, with or without the copy of CopiesTileWeights;
        /// prefetching two channel tiles ahead, or into the L2 cache only (prefetcht1), measured the same as one ahead.
        /// </summary>
        private (int Lines, int Tiles) TapPrefetchLines(TapTile tile, int tiles)
        {
            long span = (long)tile.Channels * _spec.KernelWidth;
            int needed = (int)((span - 1 + 15) / 16) + 1;
            int prefetchTiles = Math.Min(tiles, needed);
            return ((needed + prefetchTiles - 1) / prefetchTiles, prefetchTiles);
        }

        /// <summary>
        /// Declares the channel tile's prefetch cursor <c>pa</c>: the next channel tile's weights of this tile's first input
        /// channel (the tile after a row's last is the next block's first), clamped so that every line the position tiles
        /// prefetch, up to <paramref name="farthestLine"/> lines on, lies inside the weights in every step (the last block's last
        /// tile then fetches lines it need not, which costs a few cycles). Prefetching 4 tiles ahead on the AVX2 path, whose steps
        /// are a quarter of the AVX-512 path's work, measured the same as one on Zen 4.
        /// </summary>
        private void TapPrefetchCursor(Affine g, Affine icb, int block, Affine oc, int channels, long farthestLine)
        {
            int kernel = _spec.KernelWidth;
            long weightStep = (long)_spec.OutPerGroup * kernel;
            var inputChannel = g * _spec.InPerGroup + icb;
            long skip = channels, wrapAt = _spec.OutPerGroup - skip;
            var target = (inputChannel * _spec.OutPerGroup + oc + skip) * kernel;
            long wrap = (block - 1) * weightStep, last = _spec.WeightsLength - wrap - farthestLine * 16 - 1;
            var chosen = oc.IsConstant ? (oc.Constant < wrapAt ? target : target + wrap) : null;
            string origin = chosen is { IsConstant: true } ? Text(Math.Min(chosen.Constant, last))
                : "global::System.Math.Min(" + (chosen is not null ? chosen.ToString() : oc + " < " + Text(wrapAt) + " ? " + target + " : " + (target + wrap)) + ", " + Text(last) + ")";
            _writer?.Line("// The prefetch cursor: the next channel tile's weights, which the position tiles prefetch a share each while they run.");
            Statement("ref float pa = ref " + Use("Unsafe") + ".Add(ref w, " + origin + ");");
        }

        /// <summary>Whether the position tiles prefetch the next channel tile's weights: x86-only paths (256 and 512 bits), loops kept.</summary>
        private bool Prefetches => RollReduction && _lanes >= 8;

        /// <summary>Where a position tile reads its weights from.</summary>
        private enum TapWeightSource
        {
            /// <summary>The caller's weights.</summary>
            Caller,

            /// <summary>The caller's weights, each vector also stored into the thread's copy for the tile's later position tiles.</summary>
            CallerAndCopy,

            /// <summary>The copy the tile's first position tile made.</summary>
            Copy,
        }

        /// <summary>The kernel class's per-thread buffer that holds a channel tile's weights of one block (see <see cref="CopiesTileWeights"/>).</summary>
        internal const string TapWeightsField = "t_tapWeights";

        /// <summary>
        /// Whether a path's first position tiles copy their channel tile's weights for the later ones. A tile reads one short run
        /// of weights per input channel, a whole row apart (16 KB on vocoder_up): every run falls in the same few sets of the
        /// L1 cache, which hold 8 lines each, so the later position tiles found none of them there and waited on the L2 cache
        /// (and where the caller's array is not aligned to a cache line each run takes one more line). Measured on Zen 4 for that
        /// layer with AVX-512 off: 1.6 ms with the weights on a cache-line boundary, 2.5-2.9 ms and medians 3x worse off it.
        /// Copied back to back into an aligned buffer they stay in the L1 cache and every later read is aligned: 1.3-1.6 ms
        /// wherever the weights start. On Zen 4 the AVX-512 tile, four times the work per step, hid those reads (the copy
        /// measured 5-10 % slower there, with every prefetch in the first position tile); on Zen 5 (one process, variants
        /// interleaved, a loaded machine; prefetches shared out) the AVX-512 path with the copy ran 6-8 % faster than without,
        /// so every path copies (the 256- and 512-bit paths, x86 only) when the reduction runs in blocks in a loop and a
        /// channel tile has more than one position tile.
        /// </summary>
        internal static bool CopiesTileWeights(KernelSpec spec, TapTile tile, int lanes, UnrollLevel level) =>
            lanes >= 8 && level >= UnrollLevel.ReductionLoops && TapReductionBlock(spec) > 1 && spec.InputWidth > tile.Positions;

        /// <summary>Floats of <see cref="TapWeightsField"/>: the most any of <paramref name="pathWidths"/> copies, and 15 to align its start; 0 when none copies.</summary>
        internal static int TapWeightsFloats(KernelSpec spec, UnrollLevel level, IEnumerable<int> pathWidths)
        {
            int most = 0;
            foreach (int lanes in pathWidths)
            {
                if (!TapWidthFits(spec, lanes)) continue;
                var tile = PlanTapTile(spec, lanes);
                if (CopiesTileWeights(spec, tile, lanes, level)) most = Math.Max(most, TapReductionBlock(spec) * tile.Channels * spec.KernelWidth + 15);
            }

            return most;
        }

        /// <summary>A prefetch of the weights at <paramref name="offset"/> from the prefetch cursor.</summary>
        private void Prefetch(Affine offset) =>
            Statement("global::KernelGen.CompilerServices.GeneratedKernelSupport.Prefetch(ref " + Element("pt", offset) + ");");

        /// <summary>The most input channels per block: 128 x 16 KB of weights on the measured layer (see the file's header).</summary>
        internal const int TapBlockTarget = 128;

        private static string TapAccumulator(int channel, int position, int chunk) => "a" + Text(channel) + "_" + Text(position) + "_" + Text(chunk);

        private static string TapSum(int channel, int slot) => "s" + Text(channel) + "_" + Text(slot);

        private static string TapWeight(int channel, int chunk) => "w" + Text(channel) + "_" + Text(chunk);
    }
}
