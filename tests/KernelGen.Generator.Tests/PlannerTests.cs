using CsCheck;
using KernelGen.Generator.Emitting;
using KernelGen.Generator.Model;
using KernelGen.Generator.Strategy;
using KernelGen.Planning;

namespace KernelGen.Generator.Tests;

/// <summary>The planner's numbers: the dry-run count is what the emitter writes, and the budget picks the least-rolled level that fits.</summary>
public class PlannerTests
{
    internal static KernelSpec Spec(KernelCase c, int budget = 0) => new(c.InChannels, c.OutChannels, c.Groups, c.InputHeight, c.InputWidth,
        c.Kernel.H, c.Kernel.W, c.Stride.H, c.Stride.W, c.Padding.Top, c.Padding.Bottom, c.Padding.Left, c.Padding.Right, c.OutputPadding.H, c.OutputPadding.W, c.Dilation.H, c.Dilation.W,
        c.ChannelsLast, (KernelActivation)(int)c.Activation, c.Slope, c.HasBias, budget, c.OneDimensional ? 1 : 2);

    internal static KernelSpec Spec(KernelCase3D c, int budget = 0) => new(c.InChannels, c.OutChannels, c.Groups, c.Size.H, c.Size.W,
        c.Kernel.H, c.Kernel.W, c.Stride.H, c.Stride.W, c.PadBegin.H, c.PadEnd.H, c.PadBegin.W, c.PadEnd.W, c.OutputPadding.H, c.OutputPadding.W, c.Dilation.H, c.Dilation.W,
        c.ChannelsLast, (KernelActivation)(int)c.Activation, c.Slope, c.HasBias, budget, 3,
        c.Size.D, c.Kernel.D, c.Stride.D, c.PadBegin.D, c.PadEnd.D, c.OutputPadding.D, c.Dilation.D);

    /// <summary>Every plane variant of a 3-D kernel, at every level and width: the dry run counts what the emitter writes (set, add, activate).</summary>
    private static void AssertCountsMatch(KernelCase3D c)
    {
        var plan = KernelPlanner.Plan(Spec(c), 0);
        foreach (var level in Enum.GetValues<UnrollLevel>())
        {
            var forced = new KernelPlan(plan.Spec, plan.Rows, plan.Columns, plan.Strategy, plan.VectorExtent, plan.PathWidths, level,
                plan.Budget, plan.BudgetSource, plan.UnrolledStatements, plan.EmittedStatements, plan.Depth, plan.PlaneModes);
            foreach (int lanes in plan.PathWidths)
            {
                foreach (var mode in new[] { new PlaneMode(false, false), new PlaneMode(false, true), new PlaneMode(true, false), new PlaneMode(true, true) })
                {
                    long counted = KernelBodyWriter.CountStatements(plan.Spec, plan.Rows, plan.Columns, plan.Strategy, level, lanes, mode);
                    long written = KernelBodyWriter.Write(forced, lanes, new SourceWriter(), new SortedSet<string>(StringComparer.Ordinal), mode);
                    Assert.True(counted == written, $"{c}: level {level}, {lanes} lanes, {mode}: counted {counted}, wrote {written}");
                }
            }
        }
    }

    [Fact]
    public void TheDryRunCountsExactlyWhatIsWrittenFor3DPlanes()
    {
        foreach (var c in Equivalence3DTests.EdgeCases) AssertCountsMatch(c);
        KernelCase3D.Generator.Sample(AssertCountsMatch, iter: 30);
    }

    /// <summary>The plane variants follow the pairs per output slice: one pair sets and finishes; more set, add and finish with the last.</summary>
    [Fact]
    public void PlaneVariantsAreThoseTheOutputSlicesNeed()
    {
        static PlaneMode[] Modes(KernelCase3D c) => KernelPlanner.Plan(Spec(c), 0).PlaneModes;
        // Kernel 2, stride 2: one pair per slice.
        Assert.Equal([new PlaneMode(false, true)], Modes(KernelCase3D.Cube(2, 2, 3, 2, stride: 2, activation: FusedActivation.Relu)));
        Assert.Equal([new PlaneMode(false, false)], Modes(KernelCase3D.Cube(2, 2, 3, 2, stride: 2)));
        // Kernel 3, stride 2, padding 1: slices of one and of two pairs.
        Assert.Equal([new PlaneMode(false, false), new PlaneMode(false, true), new PlaneMode(true, true)],
            Modes(KernelCase3D.Cube(2, 2, 3, 3, stride: 2, padding: 1, activation: FusedActivation.Relu)));
        // Kernel 4, stride 1, padding 1: two to three pairs per slice, so adds that do not finish too; no activation: nothing finishes.
        Assert.Equal([new PlaneMode(false, false), new PlaneMode(true, false)], Modes(KernelCase3D.Cube(2, 2, 3, 4, padding: 1)));
        Assert.Equal([new PlaneMode(false, false), new PlaneMode(true, false), new PlaneMode(true, true)],
            Modes(KernelCase3D.Cube(2, 2, 3, 4, padding: 1, activation: FusedActivation.Tanh)));
        // Without the padding the first and last slices have a single pair: all four variants.
        Assert.Equal([new PlaneMode(false, false), new PlaneMode(false, true), new PlaneMode(true, false), new PlaneMode(true, true)],
            Modes(KernelCase3D.Cube(2, 2, 3, 4, activation: FusedActivation.Tanh)));
        Assert.Equal([new PlaneMode(false, true)], KernelPlanner.Plan(Spec(KernelCase.Square(2, 2, 3, 3, 3, activation: FusedActivation.Relu)), 0).PlaneModes);
    }

    /// <summary>
    /// An input within a few cells of Int32.MaxValue (1 channel, 1 row: a valid declaration, its padding cropping the output
    /// to a few cells) has uncropped positions past Int32: the planner reports it over the hard cap (KG0007) instead of
    /// throwing, which would take the generator and the analyzer down.
    /// </summary>
    [Fact]
    public void AnAxisWhosePositionsDoNotFitInAnInt32IsOverTheHardCap()
    {
        // Kernel 4, stride 1: the uncropped width is input + 3 = Int32.MaxValue + 2; the padding crops it to 3 cells.
        int input = int.MaxValue - 1, padding = (int)(((long)input + 3 - 3) / 2);
        var spec = new KernelSpec(1, 1, 1, 1, input, 1, 4, 1, 1, 0, 0, padding, padding, 0, 0, 1, 1, false, KernelActivation.None, 0.01f, false, 0);
        Assert.InRange(spec.WidthAxis.OutputLength(input), 1, 8);
        var plan = KernelPlanner.Plan(spec, 0);
        Assert.True(plan.OverHardCap);
    }

    private static void AssertCountsMatch(KernelCase c)
    {
        var plan = KernelPlanner.Plan(Spec(c), 0);
        foreach (var level in Enum.GetValues<UnrollLevel>())
        {
            var forced = new KernelPlan(plan.Spec, plan.Rows, plan.Columns, plan.Strategy, plan.VectorExtent, plan.PathWidths, level,
                plan.Budget, plan.BudgetSource, plan.UnrolledStatements, plan.EmittedStatements);
            foreach (int lanes in plan.PathWidths)
            {
                long counted = KernelBodyWriter.CountStatements(plan.Spec, plan.Rows, plan.Columns, plan.Strategy, level, lanes);
                long written = KernelBodyWriter.Write(forced, lanes, new SourceWriter(), new SortedSet<string>(StringComparer.Ordinal));
                Assert.True(counted == written, $"{c}: level {level}, {lanes} lanes: counted {counted}, wrote {written}");
            }
        }
    }

    [Fact]
    public void TheDryRunCountsExactlyWhatIsWritten()
    {
        foreach (var c in EquivalenceTests.EdgeCases) AssertCountsMatch(c);
        KernelCase.Generator.Sample(AssertCountsMatch, iter: 60);
    }

    [Fact]
    public void EquivalenceCasesReachEveryStagedWidthPath()
    {
        // The Vector256 paths of the edge cases that stage their input (many-channel NCHW width kernels), as the equivalence test compiles them.
        var staged = new List<(KernelCase Case, KernelPlan Plan, string Text)>();
        foreach (var c in EquivalenceTests.EdgeCases)
        {
            var plan = KernelPlanner.Plan(Spec(c, c.UnrollBudget), projectBudget: 300);
            if (plan.Strategy != KernelStrategy.WidthVectorized) continue;
            foreach (int lanes in plan.PathWidths)
            {
                var writer = new SourceWriter();
                KernelBodyWriter.Write(plan, lanes, writer, new SortedSet<string>(StringComparer.Ordinal));
                string text = writer.ToString();
                bool stages = KernelBodyWriter.StagesInput(plan.Spec, plan.Columns, lanes);
                // Only the Vector256 and Vector512 paths stage; the others read the caller's input as before.
                Assert.True(stages == text.Contains("t_stagedInput ??= new float[" + KernelBodyWriter.StagedInputFloats(plan) + "]"), $"{c}, {lanes} lanes");
                Assert.True(!stages || lanes == 8 || lanes == 16, $"{c}, {lanes} lanes");
                // Staged rows are padded with zero columns: no vector shifts lanes.
                if (stages) Assert.DoesNotContain("Shift", text);
                if (stages) staged.Add((c, plan, text));
            }
        }

        Assert.Contains(staged, r => r.Case.Stride.W == 2 && r.Text.Contains("zero column(s) before") && r.Text.Contains("Interleave"));
        Assert.Contains(staged, r => r.Case.Stride.W == 1 && r.Case.Groups > 1 && r.Case.Batch > 1);
        Assert.Contains(staged, r => r.Case.Stride.W == 3);
        // 1-D layers (one input row): the Vector256 path stages, paired with edges and a lone last column, and stride 3 with groups and a batch.
        Assert.Contains(staged, r => r.Case.OneDimensional && r.Case.Stride.W == 2 && r.Text.Contains("InterleaveLower256") && r.Plan.Spec.OutputWidth % 2 == 1);
        Assert.Contains(staged, r => r.Case.OneDimensional && r.Case.Stride.W == 3 && r.Case.Groups > 1 && r.Case.Batch > 1);
        Assert.Contains(staged, r => r.Case.OutChannels / r.Case.Groups % KernelBodyWriter.WidthBlocking(r.Plan.Spec, r.Plan.Columns, 8).Channels != 0); // a channel tail block
        Assert.Contains(staged, r => r.Text.Contains("for (int qh = ") && r.Text.Contains("if ((uint)(qh"));    // rows in a loop, edge rows guarded
        Assert.Contains(staged, r => !r.Text.Contains("for (int ic = 0;") && r.Text.Contains("ref xs, "));       // input channels unrolled
        Assert.Contains(staged, r => r.Text.Contains("for (int ic = 0;") && r.Text.Contains("ref float xc = ref Unsafe.Add(ref xs"));
        // The Vector256 path's block-packed weights (the only path that packs them): per group, read through the iteration's refs
        // or (input channels unrolled) from the buffer itself; two input channels per iteration where a channel is few FMAs
        // (k2 s2), the streamed rows copied by both; one where the group's input channels are odd or a channel is many FMAs.
        foreach (var r in staged)
            Assert.True(r.Text.Contains("t_blockWeights ??= new float[") == (r.Text.Contains("Vec256 x1;") && r.Plan.Spec.Rank <= 2), $"{r.Case}");
        Assert.Contains(staged, r => r.Text.Contains("int pg = pi / ") && r.Text.Contains("ic += 2)") && r.Plan.Spec.OutPerGroup % 3 != 0);
        Assert.Contains(staged, r => r.Text.Contains("t_blockWeights") && !r.Text.Contains("for (int ic = 0;") && r.Text.Contains("ref wp, "));
        Assert.Contains(staged, r => r.Text.Contains("t_blockWeights") && r.Text.Contains("ic += 2)")
            && KernelBodyWriter.StreamsStagedRows(r.Plan.Spec, r.Plan.Rows, r.Plan.Columns, r.Plan.Level, 8) && r.Text.Contains("ref Unsafe.Add(ref xc, (nint)(qn * 512 + 16))"));
        Assert.Contains(staged, r => r.Text.Contains("t_blockWeights") && r.Case.Kernel.W == 2 && r.Plan.Spec.InPerGroup % 2 == 1 && r.Text.Contains("ic++)") && !r.Text.Contains("ic += 2)"));
        Assert.Contains(staged, r => r.Text.Contains("t_blockWeights") && r.Case.Kernel.W == 4 && r.Text.Contains("ic++)") && !r.Text.Contains("ic += 2)"));
        // Vector512 (rows of two vectors or more): paired with a channel tail, and stride 1.
        Assert.Contains(staged, r => r.Text.Contains("Vec512 x1;") && r.Case.Stride.W == 2 && r.Text.Contains("InterleaveLower512")
            && r.Case.OutChannels / r.Case.Groups % KernelBodyWriter.WidthBlocking(r.Plan.Spec, r.Plan.Columns, 16).Channels != 0);
        Assert.Contains(staged, r => r.Text.Contains("Vec512 x1;") && r.Case.Stride.W == 1);
        Assert.Contains(staged, r => r.Text.Contains("Vec512 x1;") && r.Text.Contains("if ((uint)(qh"));
        // Row phases over the same input rows (k2 s2): one loop over them, both phases' rows inside.
        Assert.Contains(staged, r => r.Text.Contains("Vec512 x1;") && r.Case.Kernel.H == 2
            && r.Text.Split("for (int qh = ").Length == 2 && r.Text.Contains("rh 1 ky {1}"));
        // ... and where one Vector512 block covers a row (32 columns): the staged rows streamed, the first one copied before the rows.
        Assert.Contains(staged, r => r.Text.Contains("Vec512 x1;") && KernelBodyWriter.StreamsStagedRows(r.Plan.Spec, r.Plan.Rows, r.Plan.Columns, r.Plan.Level, 16)
            && r.Text.Contains("Only input row 0 now") && r.Text.Contains("int qn = qh < 2 ? qh + 1 : 2;") && r.Text.Contains("GeneratedKernelSupport.Prefetch"));
        // Vector512 rows of 16 to 31 column pairs: blocks of two output rows, a loop of interior pairs beside literal edge pairs
        // and an odd phase's lone last row; and rows unrolled, every pair literal.
        Assert.Contains(staged, r => r.Text.Contains("Vec512 x1;") && KernelBodyWriter.PairsStagedRows(r.Plan.Spec, r.Plan.Columns, 16)
            && r.Text.Contains("qh += 2)") && r.Text.Contains(", oy 0 and 2, ") && r.Plan.Spec.InputHeight % 2 == 1);
        Assert.Contains(staged, r => r.Text.Contains("Vec512 x1;") && KernelBodyWriter.PairsStagedRows(r.Plan.Spec, r.Plan.Columns, 16)
            && !r.Text.Contains("for (int qh"));

        // 3-D: each Vector256 plane stages its input slice; planes that add onto a slice's stored sums too.
        var staged3D = new List<(KernelPlan Plan, PlaneMode Mode)>();
        foreach (var c in Equivalence3DTests.EdgeCases)
        {
            var plan = KernelPlanner.Plan(Spec(c, c.UnrollBudget), projectBudget: 300);
            if (plan.Strategy != KernelStrategy.WidthVectorized || !KernelBodyWriter.StagesInput(plan.Spec, plan.Columns, 8)) continue;
            foreach (var mode in plan.PlaneModes)
            {
                var writer = new SourceWriter();
                KernelBodyWriter.Write(plan, 8, writer, new SortedSet<string>(StringComparer.Ordinal), mode);
                Assert.Contains("t_stagedInput ??= new float[" + KernelBodyWriter.StagedInputFloats(plan) + "]", writer.ToString());
                staged3D.Add((plan, mode));
            }
        }

        Assert.Contains(staged3D, r => !r.Mode.FromOutput && r.Plan.PlaneModes.Length == 1);
        Assert.Contains(staged3D, r => r.Mode.FromOutput && r.Mode.Final);
    }

    [Fact]
    public void EquivalenceCasesReachEverySharedBroadcastWidthPath()
    {
        // The Vector512 paths of the 1-D many-channel width kernels: blocks of several vectors, each broadcast weight shared by them.
        var shared = new List<(KernelCase Case, KernelPlan Plan, string Text)>();
        foreach (var c in EquivalenceTests.EdgeCases)
        {
            var plan = KernelPlanner.Plan(Spec(c, c.UnrollBudget), projectBudget: 300);
            if (plan.Strategy != KernelStrategy.WidthVectorized) continue;
            foreach (int lanes in plan.PathWidths)
            {
                if (!KernelBodyWriter.SharesWeightBroadcasts(plan.Spec, plan.Columns, lanes)) continue;
                Assert.True(lanes == 16 && c.OneDimensional, $"{c}, {lanes} lanes");
                var writer = new SourceWriter();
                KernelBodyWriter.Write(plan, lanes, writer, new SortedSet<string>(StringComparer.Ordinal));
                string text = writer.ToString();
                // One broadcast per weight, then one FMA per vector of the block reads it.
                Assert.Contains("k = V512.Create(", text);
                Assert.Contains("(x2, k, a", text);
                shared.Add((c, plan, text));
            }
        }

        Assert.Contains(shared, r => r.Case.Stride.W == 2 && r.Text.Contains("Interleave") && r.Text.Contains("ShiftUp") && r.Text.Contains("ShiftDown"));
        Assert.Contains(shared, r => r.Case.Stride.W == 3 && r.Case.Groups > 1 && r.Case.Batch > 1);
        Assert.Contains(shared, r => r.Case.OutChannels / r.Case.Groups % KernelBodyWriter.WidthBlocking(r.Plan.Spec, r.Plan.Columns, 16).Channels != 0); // a channel tail block
        Assert.Contains(shared, r => r.Plan.Spec.OutputWidth % 2 == 1 && r.Case.Stride.W == 2);                                                          // a lone last column
    }

    [Fact]
    public void EquivalenceCasesReachEveryInputOffsetVector256Path()
    {
        // The unstaged Vector256 paths of few-channel NCHW width kernels: blocks of several vectors, input offset by input offset.
        var reached = new List<(KernelCase Case, KernelPlan Plan, string Text)>();
        foreach (var c in EquivalenceTests.EdgeCases)
        {
            var plan = KernelPlanner.Plan(Spec(c, c.UnrollBudget), projectBudget: 300);
            if (plan.Strategy != KernelStrategy.WidthVectorized || !KernelBodyWriter.GoesByInputOffset(plan.Spec, plan.Columns, 8)) continue;
            var (channels, vectors) = KernelBodyWriter.WidthBlocking(plan.Spec, plan.Columns, 8);
            int parts = c.Stride.W == 2 && !c.ChannelsLast ? 2 : 1;
            Assert.True(channels * vectors * parts + vectors + 1 <= 15, $"{c}: {channels} x {vectors}"); // one register left for an edge shift
            var writer = new SourceWriter();
            KernelBodyWriter.Write(plan, 8, writer, new SortedSet<string>(StringComparer.Ordinal));
            string text = writer.ToString();
            Assert.Contains("k = V256.Create(", text);
            Assert.Contains("(x1, k, a", text);
            reached.Add((c, plan, text));
        }

        Assert.Contains(reached, r => r.Case.Stride.W == 1);
        Assert.Contains(reached, r => r.Text.Contains("Interleave") && r.Text.Contains("ShiftUp") && r.Text.Contains("ShiftDown"));
        Assert.Contains(reached, r => r.Case.OutChannels / r.Case.Groups % KernelBodyWriter.WidthBlocking(r.Plan.Spec, r.Plan.Columns, 8).Channels != 0); // a channel tail block
        Assert.Contains(reached, r => r.Case.Groups > 1 && r.Case.InChannels == r.Case.Groups);                                                          // one-channel groups
    }

    [Fact]
    public void LargeWeightsArePackedWheneverAWeightServesMoreThanOnePixel()
    {
        static KernelBodyWriter.ChannelWeightPlan Weights(KernelCase c, int lanes)
        {
            var plan = KernelPlanner.Plan(Spec(c), 0);
            Assert.Equal(KernelStrategy.ChannelVectorized, plan.Strategy);
            return KernelBodyWriter.PlanChannelWeights(plan.Spec, plan.Rows, plan.Columns, lanes);
        }

        // The DCGAN sample's second layer: 8 MB of weights, 12 pixels per weight, fewer than two Vector512 blocks of 8. Gathered in
        // place its Vector512 path took 8.0 ms against 1.5-1.8 ms packed (docs/build-time.md).
        var dcgan2 = KernelCase.Square(512, 256, 4, 4, 4, stride: 2, padding: 1, bias: true, activation: FusedActivation.Relu);
        foreach (int lanes in new[] { 16, 8, 4 })
            Assert.True(Weights(dcgan2, lanes).Packed);

        // Its first layer (a 1x1 input): each weight serves one pixel, so each gathered vector is read once.
        var dcgan1 = KernelCase.Square(100, 512, 1, 1, 4, bias: true, activation: FusedActivation.Relu);
        Assert.Contains("serves one pixel", Weights(dcgan1, 16).Reason);
        Assert.False(Weights(dcgan1, 16).Packed);

        // Weights that stay in the first-level cache keep the gathers below two register blocks of pixels.
        var small = KernelCase.Square(2, 12, 4, 4, 3, stride: 2, padding: 1, channelsLast: true);
        var gathered = Weights(small, 16);
        Assert.False(gathered.Packed);
        Assert.Contains("first-level cache", gathered.Reason);
    }

    [Fact]
    public void EquivalenceCasesReachEveryChannelWeightPath()
    {
        // What each vector path of each edge case emits at the budget the equivalence test compiles with.
        var reached = new List<(int Lanes, KernelCase Case, UnrollLevel Level, KernelBodyWriter.ChannelWeightPlan Weights, string Text, int Buffer)>();
        foreach (var c in EquivalenceTests.EdgeCases)
        {
            var plan = KernelPlanner.Plan(Spec(c, c.UnrollBudget), projectBudget: 300);
            // Tap vectors (1-D NCL) read the weights in place: no channel-weight plan applies.
            if (plan.Strategy != KernelStrategy.ChannelVectorized || KernelBodyWriter.UsesTapVectors(plan.Spec, plan.Strategy)) continue;
            foreach (int lanes in plan.PathWidths)
            {
                var writer = new SourceWriter();
                KernelBodyWriter.Write(plan, lanes, writer, new SortedSet<string>(StringComparer.Ordinal));
                reached.Add((lanes, c, plan.Level, KernelBodyWriter.PlanChannelWeights(plan.Spec, plan.Rows, plan.Columns, lanes), writer.ToString(),
                    KernelBodyWriter.PackedWeightsFloats(plan)));
            }
        }

        foreach (int lanes in new[] { 16, 8, 4 })
        {
            var path = reached.Where(r => r.Lanes == lanes).ToArray();
            var packed = path.Where(r => r.Weights.Packed).ToArray();
            // Packed into the per-thread buffer (sized for the widest path's use), never onto the stack.
            Assert.All(packed, r => Assert.Contains("t_packedWeights ??= new float[" + r.Buffer + "]", r.Text));
            Assert.All(packed, r => Assert.True(r.Weights.BufferFloats <= r.Buffer));
            Assert.All(packed, r => Assert.DoesNotContain("stackalloc", r.Text));
            Assert.All(packed, r => Assert.True(r.Weights.BufferFloats <= KernelBodyWriter.PackedWeightsLimit));
            Assert.Contains(path, r => !r.Weights.Packed && r.Case.Kernel.H * r.Case.Kernel.W > 1); // gathered in place (tiny layers)
            Assert.Contains(packed, r => r.Weights.FullChunks > 1 && r.Weights.RemainderChannels == 0 && r.Case.Activation != FusedActivation.None && r.Text.Contains("icb == 0"));
            Assert.Contains(packed, r => r.Weights.RemainderChannels > 0);
            Assert.Contains(packed, r => r.Case.Groups > 1);
            Assert.Contains(packed, r => !r.Case.ChannelsLast);
            Assert.Contains(packed, r => !r.Case.ChannelsLast && r.Weights.Chunked);
            Assert.Contains(packed, r => r.Case.Batch > 1);
            Assert.Contains(packed, r => r.Case.HasBias);
            Assert.Contains(packed, r => r.Text.Contains("static void Rows0("));        // rows as local functions
            Assert.Contains(packed, r => r.Level == UnrollLevel.Full);
            Assert.Contains(packed, r => r.Level == UnrollLevel.SpatialLoops && r.Text.Contains("ref float xa = ref Unsafe.Add(ref x, qh")); // input channels unrolled, cursors from loop variables
            Assert.Contains(packed, r => r.Text.Contains("for (int ic = 0;"));          // input channels as a loop
        }
    }

    [Fact]
    public void TheBudgetPicksTheLeastRolledLevelThatFits()
    {
        var course = Spec(EquivalenceTests.EdgeCases[0]);
        var full = KernelPlanner.Plan(course, 0);
        Assert.Equal(UnrollLevel.Full, full.Level);
        Assert.Equal(KernelPlanner.DefaultUnrollBudget, full.Budget);
        Assert.Equal(full.UnrolledStatements, full.EmittedStatements);
        Assert.Equal(25, full.MultiplyAddsPerSample);
        Assert.Equal([1], full.PathWidths); // a phase row of 2 cannot fill a 128-bit vector

        var project = KernelPlanner.Plan(course, projectBudget: (int)full.UnrolledStatements - 1);
        Assert.NotEqual(UnrollLevel.Full, project.Level);
        Assert.True(project.EmittedStatements < project.UnrolledStatements);
        Assert.Equal("KernelGenUnrollBudget of the project", project.BudgetSource);

        var attribute = KernelPlanner.Plan(course with { UnrollBudget = (int)full.UnrolledStatements }, projectBudget: 1);
        Assert.Equal(UnrollLevel.Full, attribute.Level); // the attribute wins over the project
    }

    [Fact]
    public void StrategyFollowsTheLayoutAndFallsBackWhenItsAxisCannotFillAVector()
    {
        Assert.Equal(KernelStrategy.WidthVectorized, StrategyChooser.ChooseForFixedShape(channelsLast: false, outChannelsPerGroup: 64, widestPhaseRow: 15));
        Assert.Equal(KernelStrategy.ChannelVectorized, StrategyChooser.ChooseForFixedShape(channelsLast: false, outChannelsPerGroup: 16, widestPhaseRow: 1));
        Assert.Equal(KernelStrategy.WidthVectorized, StrategyChooser.ChooseForFixedShape(channelsLast: false, outChannelsPerGroup: 4, widestPhaseRow: 1));
        Assert.Equal(KernelStrategy.ChannelVectorized, StrategyChooser.ChooseForFixedShape(channelsLast: true, outChannelsPerGroup: 4, widestPhaseRow: 30));
        Assert.Equal(KernelStrategy.WidthVectorized, StrategyChooser.ChooseForFixedShape(channelsLast: true, outChannelsPerGroup: 2, widestPhaseRow: 30));
    }

    [Fact]
    public void NchwLayersWhoseWeightsOutgrowTheL2CacheTakeChannelVectors()
    {
        // vocoder_up, 512 -> 256, kernel 16: 2 M floats of weights, which the width kernel sweeps once per phase.
        Assert.Equal(KernelStrategy.ChannelVectorized, StrategyChooser.ChooseForFixedShape(false, 256, 32, 512L * 256 * 16));
        Assert.Equal(KernelStrategy.WidthVectorized, StrategyChooser.ChooseForFixedShape(false, 256, 32, StrategyChooser.MaxWidthKernelWeights));
        Assert.Equal(KernelStrategy.ChannelVectorized, StrategyChooser.ChooseForFixedShape(false, 256, 32, StrategyChooser.MaxWidthKernelWeights + 1));
        // Too few output channels to fill channel vectors, or NHWC (channel vectors already): unchanged.
        Assert.Equal(KernelStrategy.WidthVectorized, StrategyChooser.ChooseForFixedShape(false, 4, 32, 1L << 30));
        Assert.Equal(KernelStrategy.WidthVectorized, StrategyChooser.ChooseForFixedShape(true, 2, 32, 1L << 30));
        // dcgan (128 -> 64, kernel 4: 128 K floats) keeps width vectors.
        Assert.Equal(KernelStrategy.WidthVectorized, KernelPlanner.Plan(Spec(KernelCase.Square(128, 64, 16, 16, 4, stride: 2, padding: 1)), 0).Strategy);
        Assert.Equal(KernelStrategy.ChannelVectorized, KernelPlanner.Plan(Spec(KernelCase.Square(512, 256, 32, 32, 4, stride: 2, padding: 1)), 0).Strategy);
    }

    [Fact]
    public void VectorPathsAreEmittedOnlyWhenTheDataFillsThem()
    {
        Assert.Equal([16, 8, 4, 1], KernelPlanner.Plan(Spec(KernelCase.Square(1, 1, 2, 37, 3, padding: 1)), 0).PathWidths);
        Assert.Equal([8, 4, 1], KernelPlanner.Plan(Spec(KernelCase.Square(1, 1, 2, 9, 1)), 0).PathWidths);
        Assert.Equal([4, 1], KernelPlanner.Plan(Spec(KernelCase.Square(1, 1, 2, 4, 1)), 0).PathWidths);
        Assert.Equal([1], KernelPlanner.Plan(Spec(KernelCase.Square(1, 1, 2, 3, 1)), 0).PathWidths);
    }
}
