using System.Collections.Generic;
using KernelGen.Generator.Model;
using KernelGen.Generator.Strategy;
using KernelGen.Planning;

namespace KernelGen.Generator.Emitting
{
    // ----- 3-D kernels: the depth axis by phase decomposition over specialised 2-D planes -----
    //
    // Output slice od receives input slice id through depth tap kd exactly when id * strideD + kd * dilationD - padFront = od,
    // and each such pair is a 2-D transposed convolution of the slice with the kd-th (kH, kW) plane of the weights: the same
    // decomposition as the runtime's PreparedConvTranspose3D. A path walks the depth phases (AxisPlan of the depth axis, as the
    // plane code walks its rows), and for each output slice calls the plane code once per pair that exists, so the slices a
    // stride would fill with zeros are never read. The plane code is the 2-D emitter's, reading the slices in place: only its
    // channel strides are 3-D ones (constants), so nothing is copied and no buffer is needed, however large the volume.
    // A slice's first pair sets it (bias plus its sum), later pairs add onto the stored sums, and the last applies the
    // activation (PlaneMode): the bias and the activation come once per finished slice, and a slice reached by one pair (a
    // kernel no larger than its stride, the usual 2, 2 up-sampling) is written in one pass, exactly as a 2-D kernel writes.
    internal static partial class KernelEmitter
    {
        /// <summary>The plane variant's method-name suffix: how it starts (Set: from the bias; Add: from the stored sums), and whether it activates.</summary>
        internal static string ModeName(PlaneMode mode) => (mode.FromOutput ? "Add" : "Set") + (mode.Final ? "AndActivate" : "");

        private static string DescribeMode(KernelSpec s, PlaneMode mode) =>
            (mode.FromOutput ? "adds onto the slice's stored sums" : s.HasBias ? "sets the slice to bias + its sum" : "sets the slice to its sum")
            + (mode.Final ? ", then activates" : "");

        private static string PlaneMethod(int lanes, PlaneMode mode) => PathName(lanes) + "Plane" + ModeName(mode);

        /// <summary>The header lines of a 3-D kernel: its geometry and how the depth axis is run.</summary>
        private static IEnumerable<string> DepthStrategyComment(KernelPlan plan)
        {
            var s = plan.Spec;
            var depth = plan.Depth!;
            yield return "// A 3-D layer (PyTorch conv_transpose3d semantics; depth x height x width), layout " + (s.ChannelsLast ? "NDHWC" : "NCDHW") + ":";
            yield return "//   channels      " + Text(s.InChannels) + " -> " + Text(s.OutChannels) + ", groups " + Text(s.Groups);
            yield return "//   input         " + Text(s.InputDepth) + " x " + Text(s.InputHeight) + " x " + Text(s.InputWidth) + " per sample ("
                + Text(s.InputLength) + " elements); the input may hold any whole number of samples";
            yield return "//   kernel        " + Text(s.KernelDepth) + " x " + Text(s.KernelHeight) + " x " + Text(s.KernelWidth)
                + ", stride " + Text(s.StrideDepth) + " x " + Text(s.StrideHeight) + " x " + Text(s.StrideWidth)
                + ", padding " + Padding3DText(s) + ", output padding " + Text(s.OutputPaddingDepth) + " x " + Text(s.OutputPaddingHeight) + " x " + Text(s.OutputPaddingWidth)
                + ", dilation " + Text(s.DilationDepth) + " x " + Text(s.DilationHeight) + " x " + Text(s.DilationWidth);
            yield return "//   output        " + Text(s.OutputDepth) + " x " + Text(s.OutputHeight) + " x " + Text(s.OutputWidth) + " per sample ("
                + Text(s.OutputLength) + " elements)";
            yield return "//   weights       (Cin, Cout/groups, kD, kH, kW) = (" + Text(s.InChannels) + ", " + Text(s.OutPerGroup) + ", " + Text(s.KernelDepth) + ", "
                + Text(s.KernelHeight) + ", " + Text(s.KernelWidth) + "): " + Text(s.WeightsLength) + " values; "
                + (s.HasBias ? "bias: " + Text(s.OutChannels) + " values" : "no bias");
            yield return "//   activation    " + ActivationText(s);
            yield return "//";

            int pairs = 0, most = 0, empty = 0;
            for (int o = 0; o < depth.OutputLength; o++)
            {
                var (_, _, first, end) = depth.ValidTaps(o);
                pairs += end - first;
                most = System.Math.Max(most, end - first);
                if (end == first) empty++;
            }

            yield return "// Depth axis: phase decomposition, as the runtime's PreparedConvTranspose3D. Output slice od receives input slice id through";
            yield return "//   depth tap kd exactly when id * " + Text(s.StrideDepth) + " + kd * " + Text(s.DilationDepth) + " - " + Text(s.PaddingFront)
                + " = od, and each such pair is a 2-D transposed convolution of the slice";
            yield return "//   with the kd-th (kH, kW) plane of the weights. Each path walks the output slices and calls the plane code below once per pair";
            yield return "//   that exists: " + Text(pairs) + " pairs for " + Text(s.OutputDepth) + " output slices, the stride's zero slices never visited.";
            yield return "//   The planes read the input slice, the tap's weights and the output slice in place ("
                + (s.ChannelsLast ? "an NDHWC slice is an NHWC image" : "NCDHW channel strides are constants of the plane code")
                + (KernelBodyWriter.StagedInputFloats(plan) > 0
                    ? "); the " + KernelBodyWriter.StagedPathNames(plan) + " planes alone copy their input slice into a per-thread buffer first (see the strategy below)."
                    : "): nothing is copied, no buffer is needed.");
            yield return most <= 1
                ? "//   Every output slice here is reached by at most one pair, so each is written in one pass, bias and activation fused, as in 2-D."
                : "//   A slice's first pair stores " + (s.HasBias ? "bias + its sum" : "its sum") + ", later pairs add onto the stored sums"
                    + (s.Activation == KernelActivation.None ? "" : " and the last applies the activation") + " (up to " + Text(most) + " pairs per slice).";
            if (empty > 0)
            {
                yield return "//   " + Text(empty) + " output slice" + (empty == 1 ? " is" : "s are") + " reached by no pair: "
                    + (s.HasBias ? "the activated bias" : "the activation of 0") + " is stored there (FillSlice).";
            }

            yield return "//   Depth phases (od = qd * " + Text(s.StrideDepth) + " + rd - " + Text(s.PaddingFront) + "): " + PhaseList("rd", "kd", depth);
        }

        private static string Padding3DText(KernelSpec s) =>
            s.PaddingFront == s.PaddingBack && s.PaddingTop == s.PaddingBottom && s.PaddingLeft == s.PaddingRight
                ? Text(s.PaddingFront) + " x " + Text(s.PaddingTop) + " x " + Text(s.PaddingLeft)
                : "front " + Text(s.PaddingFront) + ", top " + Text(s.PaddingTop) + ", left " + Text(s.PaddingLeft)
                    + ", back " + Text(s.PaddingBack) + ", bottom " + Text(s.PaddingBottom) + ", right " + Text(s.PaddingRight);

        /// <summary>Whether some output slice is reached by no (input slice, depth tap) pair.</summary>
        private static bool NeedsFill(AxisPlan depth)
        {
            for (int o = 0; o < depth.OutputLength; o++)
            {
                var (_, _, first, end) = depth.ValidTaps(o);
                if (end == first) return true;
            }

            return false;
        }

        /// <summary>
        /// Whether a staged path (<see cref="KernelBodyWriter.PacksStagedWeights"/>) stages each input slice once for all its
        /// depth taps: every depth phase has one tap, at the same offset, over the same interior slices (a kernel depth equal to
        /// the stride, the usual 2, 2 up-sampling), so that the path walks the input slices and calls each phase's plane in turn,
        /// the first one copying the slice and the others reading the copy. Bits unchanged (each output slice is still one pair).
        /// volume_up with AVX-512 off on a Zen 5, interleaved in one process: with the repacked weights as well, 1264 against
        /// 1321 us at best for the kernel before both (88.7 % -> 92.7 % of the Vector256 FMA peak); staging once without the
        /// repacking measured 0.7-3 % faster alone.
        /// </summary>
        internal static bool SharesStagedSlices(KernelPlan plan, int lanes)
        {
            if (!KernelBodyWriter.PacksStagedWeights(plan, lanes)) return false;
            AxisPhase[] phases = plan.Depth!.Phases;
            if (phases.Length < 2 || phases[0].EndQ <= phases[0].FirstQ) return false;
            AxisPhase first = phases[0];
            foreach (AxisPhase phase in phases)
            {
                if (phase.KernelTaps.Length != 1 || phase.TapOffsets[0] != first.TapOffsets[0] || phase.FirstQ != first.FirstQ || phase.EndQ != first.EndQ
                    || phase.InteriorFirstQ != phase.FirstQ || phase.InteriorEndQ != phase.EndQ)
                    return false;
            }

            return true;
        }

        /// <summary>One path of a 3-D kernel: the depth loop (one sample) and the plane variants it calls.</summary>
        private static void WriteDepthPath(SourceWriter body, KernelPlan plan, int lanes, SortedSet<string> used)
        {
            var s = plan.Spec;
            var depth = plan.Depth!;
            string parameters = "(ref float x, ref float w" + (s.HasBias ? ", ref float b" : "") + ", ref float y)";
            long inputSlice = s.ChannelsLast ? (long)s.InputPlane * s.InChannels : s.InputPlane;
            long outputSlice = s.ChannelsLast ? (long)s.OutputPlane * s.OutChannels : s.OutputPlane;
            long tapWeights = (long)s.KernelHeight * s.KernelWidth;
            bool activation = s.Activation != KernelActivation.None;
            string bias = s.HasBias ? "ref b, " : "";
            used.Add("Unsafe");

            // The staged paths' planes read the weights repacked (KernelBodyWriter.PacksStagedWeights), once per sample here.
            bool packs = KernelBodyWriter.PacksStagedWeights(plan, lanes);
            string weights = packs ? "wp" : "w";
            long tapStart = packs ? KernelBodyWriter.StagedWeightsTapFloats(s) : tapWeights;
            body.Line();
            body.Line("// The " + PathName(lanes) + " path: one sample, slice by slice along the depth. Input slices lie " + Text(inputSlice)
                + " elements apart, output slices " + Text(outputSlice) + ", and the " + (packs ? "repacked " : "") + "weights of depth tap kd start at kd * " + Text(tapStart) + ".");
            body.Line(AggressiveOptimization);
            body.Open("private static void " + PathName(lanes) + "Path" + parameters);

            if (packs)
            {
                used.Add("MemoryMarshal");
                body.Line("// The weights repacked [kd][kh][input channel][output channel of its group][kw] into a buffer of the calling thread's (made on");
                body.Line("// its first call, reused): a plane's broadcasts of one input channel then lie together, where in place consecutive input");
                body.Line("// channels' lie " + Text((long)s.OutPerGroup * s.KernelVolume * 4) + " bytes apart and crowd a few L1 sets (see the strategy below).");
                body.Line("float[] stagedWeights = " + KernelBodyWriter.StagedWeightsField + " ??= new float[" + Text(s.WeightsLength) + "];");
                body.Line("ref float wp = ref MemoryMarshal.GetArrayDataReference(stagedWeights);");
                body.Line("for (int ic = 0; ic < " + Text(s.InChannels) + "; ic++)");
                body.Line("    for (int oc = 0; oc < " + Text(s.OutPerGroup) + "; oc++)");
                body.Line("        for (int kd = 0; kd < " + Text(s.KernelDepth) + "; kd++)");
                body.Line("            for (int kh = 0; kh < " + Text(s.KernelHeight) + "; kh++)");
                body.Line("                for (int kw = 0; kw < " + Text(s.KernelWidth) + "; kw++)");
                body.Line("                    Unsafe.Add(ref wp, (((kd * " + Text(s.KernelHeight) + " + kh) * " + Text(s.InChannels) + " + ic) * " + Text(s.OutPerGroup) + " + oc) * "
                    + Text(s.KernelWidth) + " + kw) = Unsafe.Add(ref w, (((ic * " + Text(s.OutPerGroup) + " + oc) * " + Text(s.KernelDepth) + " + kd) * "
                    + Text(s.KernelHeight) + " + kh) * " + Text(s.KernelWidth) + " + kw);");
            }

            string Ref(string root, Affine index) => index.IsConstant && index.Constant == 0 ? "ref " + root : "ref Unsafe.Add(ref " + root + ", " + index + ")";

            bool shares = SharesStagedSlices(plan, lanes);
            void Slice(AxisPhase phase, Affine qd, List<(int Kernel, int Offset)> taps, string stage = "")
            {
                var od = qd * s.StrideDepth + (phase.Residue - s.PaddingFront);
                string outputRef = Ref("y", od * outputSlice);
                if (taps.Count == 0)
                {
                    body.Line("FillSlice(" + bias + outputRef + "); // od " + od + ": no pair reaches it");
                    return;
                }

                for (int t = 0; t < taps.Count; t++)
                {
                    var mode = new PlaneMode(FromOutput: t > 0, Final: activation && t == taps.Count - 1);
                    var id = qd - taps[t].Offset;
                    body.Line(PlaneMethod(lanes, mode) + "(" + Ref("x", id * inputSlice) + ", " + Ref(weights, Affine.Of(taps[t].Kernel * tapStart)) + ", "
                        + bias + outputRef + stage + "); // od " + od + " += id " + id + " through kd " + Text(taps[t].Kernel)
                        + (stage.Length == 0 ? "" : stage == ", true" ? ", staging it" : ", staged"));
                }
            }

            List<(int, int)> ValidAt(AxisPhase phase, int q)
            {
                var taps = new List<(int, int)>();
                for (int t = 0; t < phase.KernelTaps.Length; t++)
                {
                    int input = q - phase.TapOffsets[t];
                    if (input >= 0 && input < s.InputDepth) taps.Add((phase.KernelTaps[t], phase.TapOffsets[t]));
                }

                return taps;
            }

            if (shares)
            {
                AxisPhase first = depth.Phases[0];
                body.Line("// All depth phases (rd " + string.Join(", ", System.Array.ConvertAll(depth.Phases, p => Text(p.Residue))) + ") for each input slice in turn, qd "
                    + Text(first.FirstQ) + ".." + Text(first.EndQ - 1) + ": the first plane stages input slice qd - " + Text(first.TapOffsets[0])
                    + ", the others read the staged copy (SharesStagedSlices).");
                bool loop = first.EndQ - first.FirstQ > 1;
                if (loop) body.Open("for (int qd = " + Text(first.FirstQ) + "; qd < " + Text(first.EndQ) + "; qd++)");
                for (int p = 0; p < depth.Phases.Length; p++)
                {
                    var phase = depth.Phases[p];
                    Slice(phase, loop ? Affine.Var("qd") : Affine.Of(first.FirstQ), new List<(int, int)> { (phase.KernelTaps[0], phase.TapOffsets[0]) }, p == 0 ? ", true" : ", false");
                }

                if (loop) body.Close();
            }

            foreach (var phase in shares ? System.Array.Empty<AxisPhase>() : depth.Phases)
            {
                int shift = phase.Residue - s.PaddingFront;
                body.Line("// Depth phase rd " + Text(phase.Residue) + ": od = qd * " + Text(s.StrideDepth) + (shift < 0 ? " - " + Text(-shift) : " + " + Text(shift))
                    + " for qd " + Text(phase.FirstQ) + ".." + Text(phase.EndQ - 1) + "; depth taps " + TapText(phase) + ".");
                for (int q = phase.FirstQ; q < phase.InteriorFirstQ; q++) Slice(phase, Affine.Of(q), ValidAt(phase, q));
                int interior = phase.InteriorEndQ - phase.InteriorFirstQ;
                if (interior > 1)
                {
                    var all = new List<(int, int)>();
                    for (int t = 0; t < phase.KernelTaps.Length; t++) all.Add((phase.KernelTaps[t], phase.TapOffsets[t]));
                    body.Open("for (int qd = " + Text(phase.InteriorFirstQ) + "; qd < " + Text(phase.InteriorEndQ) + "; qd++)");
                    Slice(phase, Affine.Var("qd"), all);
                    body.Close();
                }
                else if (interior == 1)
                {
                    Slice(phase, Affine.Of(phase.InteriorFirstQ), ValidAt(phase, phase.InteriorFirstQ));
                }

                for (int q = System.Math.Max(phase.InteriorEndQ, phase.InteriorFirstQ); q < phase.EndQ; q++) Slice(phase, Affine.Of(q), ValidAt(phase, q));
            }

            body.Close();

            bool inlined = plan.Level == UnrollLevel.Full && plan.EmittedStatements <= InlinedPathStatements;
            foreach (var mode in plan.PlaneModes)
            {
                body.Line();
                body.Line("// The " + PathName(lanes) + " plane that " + DescribeMode(s, mode) + ": one (input slice, depth tap) pair"
                    + (lanes == 1 ? ", one element at a time." : ", " + Text(lanes) + " lanes per vector."));
                body.Line(inlined ? InlinedAndOptimized : AggressiveOptimization);
                body.Open("private static void " + PlaneMethod(lanes, mode) + (shares ? parameters.Replace(")", ", bool stage)") : parameters));
                KernelBodyWriter.Write(plan, lanes, body, used, mode);
                body.Close();
            }
        }

        private static string TapText(AxisPhase phase)
        {
            if (phase.KernelTaps.Length == 0) return "none";
            var parts = new string[phase.KernelTaps.Length];
            for (int t = 0; t < parts.Length; t++)
                parts[t] = "kd " + Text(phase.KernelTaps[t]) + " reads id qd - " + Text(phase.TapOffsets[t]);
            return string.Join(", ", parts);
        }

        /// <summary>Stores the value of an output slice that no pair reaches: the bias (or 0) through the activation, as PyTorch computes it.</summary>
        private static void WriteFillSlice(SourceWriter w, KernelSpec s, SortedSet<string> used)
        {
            used.Add("Unsafe");
            string value = s.HasBias ? "Unsafe.Add(ref b, oc)" : "0f";
            string activated = s.Activation switch
            {
                KernelActivation.Relu => "v < 0f ? 0f : v",
                KernelActivation.LeakyRelu => "v >= 0f ? v : v * " + FloatLiteral(s.LeakyReluSlope),
                KernelActivation.Sigmoid or KernelActivation.Tanh => "Activate(v)",
                _ => "v",
            };
            if (s.Activation is KernelActivation.Sigmoid or KernelActivation.Tanh) used.Add("Activate");
            w.Line();
            w.Line("/// <summary>An output slice that no (input slice, depth tap) pair reaches: each channel holds its activated bias alone.</summary>");
            w.Line(AggressiveOptimization);
            w.Open("private static void FillSlice(" + (s.HasBias ? "ref float b, " : "") + "ref float y)");
            w.Open("for (int oc = 0; oc < " + Text(s.OutChannels) + "; oc++)");
            w.Line("float v = " + value + ";");
            if (s.Activation != KernelActivation.None) w.Line("v = " + activated + ";");
            w.Line(s.ChannelsLast
                ? "for (int i = 0; i < " + Text(s.OutputPlane) + "; i++) Unsafe.Add(ref y, i * " + Text(s.OutChannels) + " + oc) = v;"
                : "for (int i = 0; i < " + Text(s.OutputPlane) + "; i++) Unsafe.Add(ref y, oc * " + Text((long)s.OutputDepth * s.OutputPlane) + " + i) = v;");
            w.Close();
            w.Close();
        }
    }
}
