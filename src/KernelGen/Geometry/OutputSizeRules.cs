// This file is compiled into both the runtime library and the source generator (netstandard2.0), so that a requested
// output size means the same in both. Keep it free of APIs newer than netstandard2.0.
#nullable enable

using System.Globalization;

namespace KernelGen.Geometry
{
    /// <summary>ONNX's <c>auto_pad</c>, as the rules below read it (the values of the public <c>KernelGen.OnnxAutoPad</c>).</summary>
    internal enum AutoPadMode
    {
        NotSet = 0,
        SameUpper = 1,
        SameLower = 2,
        Valid = 3,
    }

    /// <summary>
    /// How a requested output size becomes padding, per axis: PyTorch's <c>output_size</c> (the output padding that reaches
    /// it) and ONNX's <c>auto_pad</c> / <c>output_shape</c> (the pads that reach it). Each returns the first broken rule, or
    /// <see langword="null"/> and the resolved axis.
    /// </summary>
    internal static class OutputSizeRules
    {
        /// <summary>
        /// PyTorch's <c>ConvTranspose*d.forward(input, output_size)</c>: the output padding that makes an input of
        /// <paramref name="input"/> cells give <paramref name="requested"/>, which must lie between the size with no output
        /// padding and that size plus <c>stride - 1</c>.
        /// </summary>
        /// <param name="axis">The axis; its output padding is ignored (PyTorch ignores the module's <c>output_padding</c> then).</param>
        public static RuleViolation? ForOutputSize(AxisGeometry axis, long input, long requested, string requestedName, out AxisGeometry resolved)
        {
            var natural = new AxisGeometry(axis.Kernel, axis.Stride, axis.PadBegin, axis.PadEnd, 0, axis.Dilation);
            resolved = natural;
            long min = natural.OutputLength(input), max = min + axis.Stride - 1;
            if (requested < min || requested > max)
            {
                return new RuleViolation(requestedName, requested, "for an input of " + Text(input) + " it must be between " + Text(min)
                    + " and " + Text(max) + " (the size with no output padding, plus up to stride - 1 = " + Text(axis.Stride - 1) + ", as PyTorch's output_size allows)");
            }

            resolved = new AxisGeometry(axis.Kernel, axis.Stride, axis.PadBegin, axis.PadEnd, (int)(requested - min), axis.Dilation);
            return null;
        }

        /// <summary>
        /// ONNX <c>ConvTranspose</c> with <c>auto_pad</c> and/or <c>output_shape</c>, by the current ONNX specification:
        /// <c>total = stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1 - output</c>, where the output is
        /// <paramref name="outputShape"/>, or <c>in * stride</c> for SAME_UPPER / SAME_LOWER without one; SAME_UPPER crops
        /// <c>total / 2</c> at the beginning and the rest (the odd cell) at the end, every other mode the odd cell at the
        /// beginning. VALID without an output shape crops nothing. An output larger than the uncropped one (a negative
        /// total) gets its extra cells at the end as output padding, which must then stay below the stride or the dilation
        /// (as ONNX Runtime and ONNX's reference implementation place them). NOTSET without an output shape keeps the axis's
        /// explicit pads.
        /// </summary>
        public static RuleViolation? ForOnnx(AxisGeometry axis, long input, AutoPadMode mode, long? outputShape, string outputShapeName,
            out AxisGeometry resolved)
        {
            resolved = axis;
            if (outputShape is null && mode == AutoPadMode.NotSet) return null;
            var uncropped = new AxisGeometry(axis.Kernel, axis.Stride, 0, 0, axis.OutputPadding, axis.Dilation);
            long natural = uncropped.OutputLength(input);
            if (outputShape is null && mode == AutoPadMode.Valid)
            {
                resolved = uncropped;
                return null;
            }

            long target = outputShape ?? input * axis.Stride;
            if (target < 1)
                return new RuleViolation(outputShapeName, target, "it must be at least 1");
            long total = natural - target;
            if (total >= 0)
            {
                long begin = mode == AutoPadMode.SameUpper ? total / 2 : total - total / 2;
                if (total > int.MaxValue)
                    return new RuleViolation(outputShapeName, target, "it crops " + Text(total) + " cells, more than an Int32 holds");
                resolved = new AxisGeometry(axis.Kernel, axis.Stride, (int)begin, (int)(total - begin), axis.OutputPadding, axis.Dilation);
                return null;
            }

            long outputPadding = axis.OutputPadding - total;
            if (outputPadding >= axis.Stride && outputPadding >= axis.Dilation)
            {
                return new RuleViolation(outputShapeName, target, "it is " + Text(-total) + " cells larger than the uncropped output ("
                    + Text(natural) + "), and the extra cells, added at the end as output padding, must number less than the stride ("
                    + Text(axis.Stride) + ") or the dilation (" + Text(axis.Dilation) + ")");
            }

            resolved = new AxisGeometry(axis.Kernel, axis.Stride, 0, 0, (int)outputPadding, axis.Dilation);
            return null;
        }

        private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
