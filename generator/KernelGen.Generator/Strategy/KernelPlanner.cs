using System;
using System.Collections.Concurrent;
using KernelGen.Generator.Emitting;
using KernelGen.Generator.Model;
using KernelGen.Planning;

namespace KernelGen.Generator.Strategy
{
    /// <summary>How much of a kernel is unrolled: each level keeps more loops than the one before.</summary>
    internal enum UnrollLevel
    {
        /// <summary>Everything unrolled: every index a literal. Only the loop over the samples of a batch remains (outside the kernel).</summary>
        Full = 0,

        /// <summary>The spatial loops stay loops: interior output rows and interior blocks of a phase row.</summary>
        SpatialLoops = 1,

        /// <summary>Also the loops over groups and over blocks of output channels.</summary>
        ChannelLoops = 2,

        /// <summary>Also the reduction over the input channels of a group; only the kernel taps stay unrolled.</summary>
        ReductionLoops = 3,
    }

    /// <summary>Everything the emitter needs to know about one kernel, derived from its <see cref="KernelSpec"/> alone.</summary>
    internal sealed class KernelPlan
    {
        public KernelPlan(KernelSpec spec, AxisPlan rows, AxisPlan columns, KernelStrategy strategy, int vectorExtent, int[] pathWidths,
            UnrollLevel level, int budget, string budgetSource, long unrolledStatements, long emittedStatements,
            AxisPlan? depth = null, PlaneMode[]? planeModes = null)
        {
            Spec = spec;
            Depth = depth;
            PlaneModes = planeModes ?? new[] { PlaneMode.Complete };
            Rows = rows;
            Columns = columns;
            Strategy = strategy;
            VectorExtent = vectorExtent;
            PathWidths = pathWidths;
            Level = level;
            Budget = budget;
            BudgetSource = budgetSource;
            UnrolledStatements = unrolledStatements;
            EmittedStatements = emittedStatements;
        }

        public KernelSpec Spec { get; }

        /// <summary>The phase decomposition of the depth axis (output slices) of a 3-D kernel; null for 1-D and 2-D kernels.</summary>
        public AxisPlan? Depth { get; }

        /// <summary>
        /// The plane variants a path needs, each emitted once per path: <see cref="PlaneMode.Complete"/> alone for 1-D and 2-D
        /// kernels; for a 3-D kernel those its output slices use (set, add, with or without the activation).
        /// </summary>
        public PlaneMode[] PlaneModes { get; }

        /// <summary>The phase decomposition of the height axis (output rows).</summary>
        public AxisPlan Rows { get; }

        /// <summary>The phase decomposition of the width axis (output columns).</summary>
        public AxisPlan Columns { get; }

        public KernelStrategy Strategy { get; }

        /// <summary>How many elements the vectorised axis offers: the longest column run of the width kernel, the output channels per group, or the kernel taps (tap vectors).</summary>
        public int VectorExtent { get; }

        /// <summary>The lanes of each emitted path, widest first; 1 (scalar) is always last.</summary>
        public int[] PathWidths { get; }

        public UnrollLevel Level { get; }

        /// <summary>The unroll budget in force, in statements.</summary>
        public int Budget { get; }

        /// <summary>Where the budget came from: the attribute, the project or the default.</summary>
        public string BudgetSource { get; }

        /// <summary>Statements of all paths if everything were unrolled.</summary>
        public long UnrolledStatements { get; }

        /// <summary>Statements of all paths as emitted.</summary>
        public long EmittedStatements { get; }

        /// <summary>True when even the most rolled form is above <see cref="KernelPlanner.HardCap"/>: nothing is emitted but a throwing body.</summary>
        public bool OverHardCap => EmittedStatements > KernelPlanner.HardCap;

        public long MultiplyAddsPerSample => (long)Rows.TotalTaps * Columns.TotalTaps * (Depth?.TotalTaps ?? 1) * Spec.InChannels * Spec.OutPerGroup;
    }

    /// <summary>
    /// Chooses how to compute a kernel: the strategy (by the runtime's shared rule), the vector widths worth emitting, and how
    /// much to unroll. Sizes are measured by a dry run of the emitter itself, so the numbers are exactly what would be emitted.
    /// </summary>
    internal static class KernelPlanner
    {
        /// <summary>
        /// The default budget: statements (declarations, loads, multiply-adds, stores) over all emitted paths. It keeps every
        /// path well inside what the JIT fully optimises (it falls back to unoptimised code above about 60 KB of IL or 8000
        /// local-variable references in one method) and a generated file near 100-200 KB.
        /// </summary>
        public const int DefaultUnrollBudget = 2048;

        /// <summary>The most statements a kernel may need even with every loop kept (a few MB of source): above it, KG0007.</summary>
        public const int HardCap = 65536;

        private static readonly int[] VectorWidths = { 16, 8, 4 };

        /// <summary>
        /// Plans made lately, by spec and project budget. The generator and the KernelGen analyzer (for KG0007 and KG0009) plan
        /// every declaration, in the same compiler process (one copy of this assembly serves both), and planning is about half
        /// of the generator's time (docs/build-time.md): the analyzer, which runs after the generator, then finds each plan
        /// made. Emptied when full, so that a long-lived IDE process holds no more than <see cref="MaxRecentPlans"/> plans.
        /// </summary>
        private static readonly ConcurrentDictionary<(KernelSpec Spec, int ProjectBudget), KernelPlan> Recent = new();

        private const int MaxRecentPlans = 512;

        /// <param name="projectBudget">The project's <c>KernelGenUnrollBudget</c>, or 0 when it is not set.</param>
        public static KernelPlan Plan(KernelSpec spec, int projectBudget)
        {
            var key = (spec, projectBudget);
            if (Recent.TryGetValue(key, out var recent)) return recent;
            var plan = PlanAnew(spec, projectBudget);
            if (Recent.Count >= MaxRecentPlans) Recent.Clear();
            Recent[key] = plan;
            return plan;
        }

        /// <summary>Forgets the plans made lately (for measurements of the planner itself).</summary>
        internal static void ForgetRecentPlans() => Recent.Clear();

        /// <summary>How many plans are kept (for tests of the bound).</summary>
        internal static int RecentPlanCount => Recent.Count;

        /// <summary>The most plans kept (for tests of the bound).</summary>
        internal static int RecentPlanLimit => MaxRecentPlans;

        /// <summary>Plans <paramref name="spec"/> without looking at the plans made lately.</summary>
        internal static KernelPlan PlanAnew(KernelSpec spec, int projectBudget)
        {
            if (!AxisPlan.CanPlan(spec.HeightAxis, spec.InputHeight) || !AxisPlan.CanPlan(spec.WidthAxis, spec.InputWidth)
                || (spec.Rank == 3 && !AxisPlan.CanPlan(spec.DepthAxis, spec.InputDepth)))
            {
                // An input within a few thousand cells of Int32.MaxValue along one axis: its phase positions would not be
                // ints. No kernel can be written (nor run: the runtime rejects the shape too), so it is reported as over the
                // hard cap (KG0007) rather than planned; the axis plans are placeholders that nothing reads.
                var placeholder = AxisPlan.Create(new KernelGen.Geometry.AxisGeometry(1, 1, 0, 0, 0, 1), 1);
                return new KernelPlan(spec, placeholder, placeholder, KernelStrategy.WidthVectorized, 1, new[] { 1 }, UnrollLevel.ReductionLoops,
                    DefaultUnrollBudget, "the default", long.MaxValue, long.MaxValue);
            }

            var depth = spec.Rank == 3 ? AxisPlan.Create(spec.DepthAxis, spec.InputDepth) : null;
            var modes = PlaneModesOf(spec, depth);
            var rows = AxisPlan.Create(spec.HeightAxis, spec.InputHeight);
            var columns = AxisPlan.Create(spec.WidthAxis, spec.InputWidth);
            int widestPhaseRow = 0;
            foreach (var phase in columns.Phases)
                widestPhaseRow = Math.Max(widestPhaseRow, phase.InteriorEndQ - phase.InteriorFirstQ);

            var strategy = StrategyChooser.ChooseForFixedShape(spec.ChannelsLast, spec.OutPerGroup, widestPhaseRow, (long)spec.InChannels * spec.OutPerGroup * spec.KernelVolume);
            bool taps = KernelBodyWriter.UsesTapVectors(spec, strategy);
            int extent = strategy == KernelStrategy.WidthVectorized ? KernelBodyWriter.WidthVectorExtent(spec, columns)
                : taps ? spec.KernelWidth : spec.OutPerGroup;

            // A path of N lanes is worth emitting only when the data fills at least one N-lane vector (tap vectors: exactly,
            // so that a row of taps is whole vectors).
            var widths = new System.Collections.Generic.List<int>();
            foreach (int lanes in VectorWidths)
            {
                if (extent >= lanes && (!taps || KernelBodyWriter.TapWidthFits(spec, lanes))) widths.Add(lanes);
            }

            widths.Add(1);
            int[] pathWidths = widths.ToArray();

            int budget;
            string source;
            if (spec.UnrollBudget > 0)
            {
                budget = spec.UnrollBudget;
                source = "UnrollBudget on the attribute";
            }
            else if (projectBudget > 0)
            {
                budget = projectBudget;
                source = "KernelGenUnrollBudget of the project";
            }
            else
            {
                budget = DefaultUnrollBudget;
                source = "the default";
            }

            long unrolled = Count(spec, rows, columns, strategy, pathWidths, UnrollLevel.Full, modes);
            var level = UnrollLevel.Full;
            long emitted = unrolled;
            while (emitted > budget && level < UnrollLevel.ReductionLoops)
            {
                level++;
                emitted = Count(spec, rows, columns, strategy, pathWidths, level, modes);
            }

            return new KernelPlan(spec, rows, columns, strategy, extent, pathWidths, level, budget, source, unrolled, emitted, depth, modes);
        }

        /// <summary>
        /// The plane variants the output slices of <paramref name="depth"/> use: an output slice reached by n (input slice, depth
        /// tap) pairs takes one setting plane and n - 1 adding ones, the last of them finishing (activating) it. Without an
        /// activation "finishing" changes nothing, so it is never asked for. In a fixed order, so that the output is deterministic.
        /// </summary>
        internal static PlaneMode[] PlaneModesOf(KernelSpec spec, AxisPlan? depth)
        {
            if (depth is null) return new[] { PlaneMode.Complete };
            bool activation = spec.Activation != KernelActivation.None;
            var used = new bool[4];
            for (int o = 0; o < depth.OutputLength; o++)
            {
                var (_, _, first, end) = depth.ValidTaps(o);
                for (int t = 0; t < end - first; t++)
                    used[(t > 0 ? 2 : 0) + (activation && t == end - first - 1 ? 1 : 0)] = true;
            }

            var modes = new System.Collections.Generic.List<PlaneMode>();
            for (int i = 0; i < used.Length; i++)
            {
                if (used[i]) modes.Add(new PlaneMode(FromOutput: i >= 2, Final: i % 2 == 1));
            }

            return modes.ToArray();
        }

        private static long Count(KernelSpec spec, AxisPlan rows, AxisPlan columns, KernelStrategy strategy, int[] pathWidths, UnrollLevel level,
            PlaneMode[] modes)
        {
            long total = 0;
            foreach (int lanes in pathWidths)
            {
                foreach (var mode in modes)
                    total = KernelBodyWriter.SaturatingAdd(total, KernelBodyWriter.CountStatements(spec, rows, columns, strategy, level, lanes, mode));
            }

            return total;
        }
    }
}
