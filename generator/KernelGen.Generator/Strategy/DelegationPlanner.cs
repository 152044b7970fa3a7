using System;
using System.Globalization;
using KernelGen.Generator.Emitting;
using KernelGen.Generator.Model;
using KernelGen.Planning;

namespace KernelGen.Generator.Strategy
{
    /// <summary>The project's <c>KernelGenDelegation</c>: which layers call the library's kernel instead of an unrolled body.</summary>
    internal enum DelegationMode
    {
        /// <summary>Every layer is unrolled (the default).</summary>
        None = 0,

        /// <summary>2-D layers whose plan is channel-vectorised delegate; the others are unrolled.</summary>
        Auto = 1,

        /// <summary>Every layer delegates, without being planned (see <see cref="DelegationPlanner.ReasonUnplanned"/>).</summary>
        All = 2,
    }

    /// <summary>
    /// The one place that decides whether a layer delegates to the library's kernel (<c>KernelGen.CompilerServices.DelegatedConvTranspose2D</c>
    /// and its 1-D and 3-D siblings) rather than being unrolled, and says why in words the generated header repeats.
    /// </summary>
    /// <remarks>
    /// Why the default is <see cref="DelegationMode.None"/> (docs/build-time.md has the measurements): a generated method is
    /// compiled once for every machine that runs it, so a delegating body cannot stay unrolled for ARM64 alone, and there
    /// (Vector128, ARM64's main path) the library's kernels of the DCGAN layers 1 and 3 were 0.70 to 0.84 of the unrolled
    /// speed; on x64 the library was 1.3 to 1.8 times faster on every channel-vectorised layer measured. Delegating also
    /// costs a copy of the weights and the packed weights per calling thread and about a tenth of a second more on the first
    /// calls. So a project chooses: <c>auto</c> takes the x64 speed-up on channel-vectorised 2-D layers and most of the build
    /// time with it (they are the largest kernels), <c>all</c> meets the build-time target (a project's layers cost the trim
    /// analyser nothing), at the cost of the shapes where the unrolled kernel is faster.
    /// </remarks>
    internal static class DelegationPlanner
    {
        /// <summary>The project's mode: <c>none</c>, <c>auto</c> or <c>all</c> (any case); anything else, or unset, is none.</summary>
        public static DelegationMode Parse(string? value)
        {
            string text = value?.Trim() ?? "";
            if (string.Equals(text, "auto", StringComparison.OrdinalIgnoreCase)) return DelegationMode.Auto;
            if (string.Equals(text, "all", StringComparison.OrdinalIgnoreCase)) return DelegationMode.All;
            return DelegationMode.None;
        }

        /// <summary>
        /// Why <paramref name="plan"/> calls the library's kernel, as the end of the sentence "it calls the library's kernel for
        /// exactly this shape because ..."; null when it is unrolled.
        /// </summary>
        public static string? Reason(KernelPlan plan, DelegationMode mode)
        {
            // Over the hard cap the geometry may be one no kernel can run (KG0007 says so); a scalar-only plan is a tiny layer
            // whose unrolled body is faster than any call into the library could be.
            if (mode == DelegationMode.None || plan.OverHardCap) return null;
            if (mode == DelegationMode.All) return AllReason;

            var s = plan.Spec;
            if (s.Rank != 2 || plan.Strategy != KernelStrategy.ChannelVectorized || KernelBodyWriter.UsesTapVectors(s, plan.Strategy)
                || plan.PathWidths.Length == 1)
            {
                return null;
            }

            return "the project sets KernelGenDelegation to \"auto\" and this plan is channel-vectorised (lanes over its "
                + Text(s.OutPerGroup) + " output channels per group), the shape class where the library's prepared kernel measured"
                + " 1.3 to 1.8 times faster than the unrolled one on x64 (docs/build-time.md), and whose unrolled bodies are the"
                + " largest for the analysers to walk";
        }

        /// <summary>
        /// Under <see cref="DelegationMode.All"/>, why <paramref name="spec"/> delegates without being planned at all; null in the
        /// other modes, or when an axis cannot be planned (an input near Int32.MaxValue along it, which the runtime rejects too:
        /// the planner reports KG0007 for it). Planning is most of the generator's time for a large layer, and in a build whose
        /// compiler starts cold (no compiler server) compiling the planner's code costs about a second: under "all" nothing
        /// reads the plan, so it is not made (docs/build-time.md).
        /// </summary>
        public static string? ReasonUnplanned(KernelSpec spec, DelegationMode mode)
        {
            if (mode != DelegationMode.All) return null;
            if (!AxisPlan.CanPlan(spec.HeightAxis, spec.InputHeight) || !AxisPlan.CanPlan(spec.WidthAxis, spec.InputWidth)
                || (spec.Rank == 3 && !AxisPlan.CanPlan(spec.DepthAxis, spec.InputDepth)))
            {
                return null;
            }

            return AllReason;
        }

        private const string AllReason = "the project sets KernelGenDelegation to \"all\": every layer calls the library's kernel, compiled into the KernelGen"
            + " assembly, which the project's analysers (the trim analyzer of IsAotCompatible among them) do not walk on every build";

        private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
