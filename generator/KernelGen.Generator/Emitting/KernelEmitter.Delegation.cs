using System.Collections.Generic;
using System.Text;
using KernelGen.Generator.Model;
using KernelGen.Generator.Strategy;
using Microsoft.CodeAnalysis.CSharp;

namespace KernelGen.Generator.Emitting
{
    /// <summary>
    /// A layer that delegates to the library's kernel (see <see cref="DelegationPlanner"/>): the same partial method and
    /// <c>{Method}Shape</c> class, a body of one call, and a kernel class holding the layer's
    /// <c>KernelGen.CompilerServices.DelegatedConvTranspose{1,2,3}D</c> in a static readonly field built from its constants.
    /// </summary>
    internal static partial class KernelEmitter
    {
        /// <summary>The field of the kernel class that holds the delegating layer.</summary>
        internal const string DelegatedLayerField = "Layer";

        /// <param name="plan">The layer's plan, or null when it delegates without one (see <see cref="DelegationPlanner.ReasonUnplanned"/>).</param>
        private static void WriteDelegatingKernel(SourceWriter w, KernelDeclaration declaration, KernelSpec s, KernelPlan? plan, string reason, string version)
        {
            var target = declaration.Target;
            string attribute = s.Rank switch { 1 => "[GeneratedConvTranspose1D]", 3 => "[GeneratedConvTranspose3D]", _ => "[GeneratedConvTranspose2D]" };
            w.Line("// KernelGen: the transposed convolution declared by " + attribute + " on " + target.DisplayName + ",");
            w.Line("// computed by the KernelGen library's kernel for exactly this shape. Do not edit: change the attribute instead.");
            w.Line("//");
            foreach (string line in DelegatedGeometry(s)) w.Line(line);
            w.Line("//");
            string size;
            if (plan is null)
            {
                size = "Delegated, its unrolled body not even planned (nothing would read the plan, whose making is most of the generator's"
                    + " time for a large layer): this layer";
            }
            else
            {
                var paths = new List<string>();
                foreach (int lanes in plan.PathWidths) paths.Add(PathName(lanes));
                size = "Delegated: this layer's unrolled body would be " + Text(plan.EmittedStatements) + " statements over its " + string.Join(", ", paths)
                    + " paths (unroll budget " + Text(plan.Budget) + ", " + plan.BudgetSource + "); it";
            }

            foreach (string line in Wrap(size + " calls the library's kernel for exactly this shape because " + reason + ".")) w.Line(line);
            foreach (string line in Wrap("The library checks every span as the unrolled method does (the same ArgumentExceptions, naming this method's"
                + " parameters) before anything is written. Per calling thread it keeps the prepared kernel and a copy of the weights and bias it"
                + " was packed from, compares them bit for bit on every call (one read pass) and packs again, in place, only when they differ:"
                + " no result depends on an earlier call. A thread's first call allocates the prepared kernel and the copy (about twice the"
                + " weights' size); later calls allocate nothing. One thread per call (MaxDegreeOfParallelism 1), as the unrolled kernels.")) w.Line(line);
            w.Line();
            w.Line("#nullable enable");
            WriteWarningSuppressions(w);
            w.Line();
            OpenContainers(w, target);
            if (declaration.Shape is { } shape)
            {
                WriteShapeClass(w, target, shape, placeholder: false);
                w.Line();
            }

            var p = target.ParameterNames;
            string kernel = "global::KernelGen.Generated." + KernelClassName(declaration);
            WriteGeneratedCode(w, version);
            if (!target.DeclaresMethodImpl) w.Line(AggressiveOptimization);
            w.Line(target.Declaration);
            w.Open();
            w.Line(kernel + "." + DelegatedLayerField + ".Compute(" + p[0] + ", " + p[1] + ", " + (target.HasBias ? p[2] : "default") + ", " + p[p.Count - 1] + ");");
            w.Close();
            CloseContainers(w, target);
            w.Line();

            w.Open("namespace KernelGen.Generated");
            w.Line("/// <summary>The library kernel behind <c>" + target.DisplayName + "</c>: generated code, called only by that method.</summary>");
            WriteGeneratedCode(w, version);
            w.Line("[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)]");
            w.Open("internal static class " + KernelClassName(declaration));
            w.Line("/// <summary>The layer: its geometry as declared, one thread per call, and the method's parameter names for its exceptions.</summary>");
            string rank = Text(s.Rank);
            string type = "global::KernelGen.CompilerServices.DelegatedConvTranspose" + rank + "D";
            w.Line("internal static readonly " + type + " " + DelegatedLayerField + " = new " + type + "(");
            w.Line("    " + LayerConstruction(s));
            w.Line("    {");
            w.Line("        Layout = global::KernelGen.TensorLayout." + (s.Rank switch { 1 => s.ChannelsLast ? "Nlc" : "Ncl", 3 => s.ChannelsLast ? "Ndhwc" : "Ncdhw", _ => s.ChannelsLast ? "Nhwc" : "Nchw" }) + ",");
            w.Line("        Activation = global::KernelGen.FusedActivation." + s.Activation + ",");
            if (s.Activation == KernelActivation.LeakyRelu) w.Line("        LeakyReluSlope = " + FloatLiteral(s.LeakyReluSlope) + ",");
            w.Line("        MaxDegreeOfParallelism = 1,");
            w.Line("    },");
            string sizes = s.Rank switch
            {
                1 => "inputLength: " + Text(s.InputWidth),
                3 => "inputDepth: " + Text(s.InputDepth) + ", inputHeight: " + Text(s.InputHeight) + ", inputWidth: " + Text(s.InputWidth),
                _ => "inputHeight: " + Text(s.InputHeight) + ", inputWidth: " + Text(s.InputWidth),
            };
            w.Line("    " + sizes + ", inputName: " + NameLiteral(p[0]) + ", weightsName: " + NameLiteral(p[1]) + ", biasName: "
                + (target.HasBias ? NameLiteral(p[2]) : "null") + ", outputName: " + NameLiteral(p[p.Count - 1]) + ");");
            w.Close();
            w.Close();
        }

        /// <summary>The runtime layer's constructor call, every argument named.</summary>
        private static string LayerConstruction(KernelSpec s)
        {
            string groups = ", groups: " + Text(s.Groups) + ")";
            string channels = "inChannels: " + Text(s.InChannels) + ", outChannels: " + Text(s.OutChannels);
            if (s.Rank == 1)
            {
                return "new global::KernelGen.ConvTranspose1D(" + channels + ", kernelSize: " + Text(s.KernelWidth) + ", stride: " + Text(s.StrideWidth)
                    + ", padding: global::KernelGen.Padding1D.Asymmetric(" + Text(s.PaddingLeft) + ", " + Text(s.PaddingRight) + "), outputPadding: "
                    + Text(s.OutputPaddingWidth) + ", dilation: " + Text(s.DilationWidth) + groups;
            }

            if (s.Rank == 3)
            {
                return "new global::KernelGen.ConvTranspose3D(" + channels + ", kernelSize: " + Triple(s.KernelDepth, s.KernelHeight, s.KernelWidth)
                    + ", stride: " + Triple(s.StrideDepth, s.StrideHeight, s.StrideWidth) + ", padding: global::KernelGen.Padding3D.Asymmetric("
                    + Text(s.PaddingFront) + ", " + Text(s.PaddingTop) + ", " + Text(s.PaddingLeft) + ", " + Text(s.PaddingBack) + ", "
                    + Text(s.PaddingBottom) + ", " + Text(s.PaddingRight) + "), outputPadding: "
                    + Triple(s.OutputPaddingDepth, s.OutputPaddingHeight, s.OutputPaddingWidth) + ", dilation: "
                    + Triple(s.DilationDepth, s.DilationHeight, s.DilationWidth) + groups;
            }

            return "new global::KernelGen.ConvTranspose2D(" + channels + ", kernelSize: (" + Text(s.KernelHeight) + ", " + Text(s.KernelWidth) + "), stride: ("
                + Text(s.StrideHeight) + ", " + Text(s.StrideWidth) + "), padding: global::KernelGen.Padding2D.Asymmetric(" + Text(s.PaddingTop) + ", "
                + Text(s.PaddingLeft) + ", " + Text(s.PaddingBottom) + ", " + Text(s.PaddingRight) + "), outputPadding: (" + Text(s.OutputPaddingHeight)
                + ", " + Text(s.OutputPaddingWidth) + "), dilation: (" + Text(s.DilationHeight) + ", " + Text(s.DilationWidth) + ")" + groups;
        }

        private static string Triple(int depth, int height, int width) => "(" + Text(depth) + ", " + Text(height) + ", " + Text(width) + ")";

        /// <summary>A parameter's name as <c>nameof</c> gives it (without a verbatim <c>@</c>), as a string literal.</summary>
        private static string NameLiteral(string parameter) =>
            SymbolDisplay.FormatLiteral(parameter.StartsWith("@", System.StringComparison.Ordinal) ? parameter.Substring(1) : parameter, quote: true);

        /// <summary>The layer's geometry in the header, in the terms of its rank.</summary>
        private static IEnumerable<string> DelegatedGeometry(KernelSpec s)
        {
            string Dims(int depth, int height, int width) => s.Rank switch
            {
                1 => Text(width),
                3 => Text(depth) + " x " + Text(height) + " x " + Text(width),
                _ => Text(height) + " x " + Text(width),
            };

            yield return s.Rank switch
            {
                1 => "// Geometry (PyTorch conv_transpose1d semantics; lengths):",
                3 => "// Geometry (PyTorch conv_transpose3d semantics; depth x height x width):",
                _ => "// Geometry (PyTorch conv_transpose2d semantics; height x width):",
            };
            string layout = s.Rank switch { 1 => s.ChannelsLast ? "NLC" : "NCL", 3 => s.ChannelsLast ? "NDHWC" : "NCDHW", _ => s.ChannelsLast ? "NHWC" : "NCHW" };
            yield return "//   channels      " + Text(s.InChannels) + " -> " + Text(s.OutChannels) + ", groups " + Text(s.Groups) + ", layout " + layout;
            yield return "//   input         " + Dims(s.InputDepth, s.InputHeight, s.InputWidth) + " per sample (" + Text(s.InputLength)
                + " elements); the input may hold any whole number of samples";
            yield return "//   kernel        " + Dims(s.KernelDepth, s.KernelHeight, s.KernelWidth) + ", stride " + Dims(s.StrideDepth, s.StrideHeight, s.StrideWidth)
                + ", padding " + (s.Rank == 1 ? Text(s.PaddingLeft) + " and " + Text(s.PaddingRight)
                    : s.Rank == 3 ? "front " + Text(s.PaddingFront) + ", top " + Text(s.PaddingTop) + ", left " + Text(s.PaddingLeft) + ", back " + Text(s.PaddingBack)
                        + ", bottom " + Text(s.PaddingBottom) + ", right " + Text(s.PaddingRight)
                    : PaddingText(s))
                + ", output padding " + Dims(s.OutputPaddingDepth, s.OutputPaddingHeight, s.OutputPaddingWidth)
                + ", dilation " + Dims(s.DilationDepth, s.DilationHeight, s.DilationWidth);
            yield return "//   output        " + Dims(s.OutputDepth, s.OutputHeight, s.OutputWidth) + " per sample (" + Text(s.OutputLength) + " elements)";
            yield return "//   weights       " + Text(s.WeightsLength) + " values, (Cin, Cout/groups, " + (s.Rank switch { 1 => "k", 3 => "kD, kH, kW", _ => "kH, kW" })
                + "); " + (s.HasBias ? "bias: " + Text(s.OutChannels) + " values" : "no bias");
            yield return "//   activation    " + (s.Activation switch
            {
                KernelActivation.Relu => "ReLU",
                KernelActivation.LeakyRelu => "leaky ReLU (slope " + FloatLiteral(s.LeakyReluSlope) + ")",
                KernelActivation.Sigmoid => "sigmoid",
                KernelActivation.Tanh => "tanh",
                _ => "none",
            });
        }

        /// <summary>A comment of whole words in lines of at most 120 characters.</summary>
        private static IEnumerable<string> Wrap(string text)
        {
            var line = new StringBuilder("//");
            foreach (string word in text.Split(' '))
            {
                if (line.Length > 2 && line.Length + 1 + word.Length > 120)
                {
                    yield return line.ToString();
                    line.Clear().Append("//");
                }

                line.Append(' ').Append(word);
            }

            yield return line.ToString();
        }
    }
}
