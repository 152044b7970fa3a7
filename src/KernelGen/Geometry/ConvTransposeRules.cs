// This file is compiled into both the runtime library and the source generator (netstandard2.0),
// so that the two apply the very same geometry rules. Keep it free of APIs newer than netstandard2.0.
#nullable enable

using System.Globalization;

namespace KernelGen.Geometry
{
    /// <summary>One broken rule: which parameter, its value, and what is allowed.</summary>
    internal readonly struct RuleViolation
    {
        public RuleViolation(string parameter, long value, string rule)
            : this(parameter, value, value.ToString(CultureInfo.InvariantCulture), rule)
        {
        }

        public RuleViolation(string parameter, object value, string valueText, string rule)
        {
            Parameter = parameter;
            Value = value;
            ValueText = valueText;
            Rule = rule;
        }

        /// <summary>The name of the offending parameter, as the caller spelled it.</summary>
        public string Parameter { get; }

        /// <summary>The offending value (a <see cref="long"/> for sizes, a <see cref="float"/> for the leaky ReLU slope).</summary>
        public object Value { get; }

        /// <summary>The offending value as the message writes it (invariant culture).</summary>
        public string ValueText { get; }

        /// <summary>What is allowed, phrased to follow "but".</summary>
        public string Rule { get; }

        /// <summary>"stride is 0, but it must be at least 1."</summary>
        public string Message => Parameter + " is " + ValueText + ", but " + Rule + ".";
    }

    /// <summary>Names under which the caller knows each per-axis parameter (they differ between the runtime API and the attribute).</summary>
    internal readonly struct AxisParameterNames
    {
        public AxisParameterNames(string kernel, string stride, string padBegin, string padEnd, string outputPadding, string dilation)
        {
            Kernel = kernel;
            Stride = stride;
            PadBegin = padBegin;
            PadEnd = padEnd;
            OutputPadding = outputPadding;
            Dilation = dilation;
        }

        public string Kernel { get; }
        public string Stride { get; }
        public string PadBegin { get; }
        public string PadEnd { get; }
        public string OutputPadding { get; }
        public string Dilation { get; }
    }

    /// <summary>
    /// The validity rules of a transposed convolution (PyTorch <c>conv_transpose*d</c> with ONNX's asymmetric pads).
    /// Each check returns the first broken rule, or <see langword="null"/>.
    /// </summary>
    internal static class ConvTransposeRules
    {
        /// <summary>Largest tensor (in elements) that any span in the API may need: spans are indexed by <see cref="int"/>.</summary>
        public const long MaxElements = int.MaxValue;

        public static RuleViolation? CheckChannels(int inChannels, int outChannels, int groups,
            string inChannelsName, string outChannelsName, string groupsName)
        {
            if (inChannels < 1) return new RuleViolation(inChannelsName, inChannels, "it must be at least 1");
            if (outChannels < 1) return new RuleViolation(outChannelsName, outChannels, "it must be at least 1");
            if (groups < 1) return new RuleViolation(groupsName, groups, "it must be at least 1");
            if (inChannels % groups != 0)
                return new RuleViolation(groupsName, groups,
                    "it must divide the input channel count (" + inChannels.ToString(CultureInfo.InvariantCulture) + ")");
            if (outChannels % groups != 0)
                return new RuleViolation(groupsName, groups,
                    "it must divide the output channel count (" + outChannels.ToString(CultureInfo.InvariantCulture) + ")");
            return null;
        }

        public static RuleViolation? CheckAxis(AxisGeometry axis, AxisParameterNames names)
        {
            if (axis.Kernel < 1) return new RuleViolation(names.Kernel, axis.Kernel, "it must be at least 1");
            if (axis.Stride < 1) return new RuleViolation(names.Stride, axis.Stride, "it must be at least 1");
            if (axis.Dilation < 1) return new RuleViolation(names.Dilation, axis.Dilation, "it must be at least 1");
            if (axis.PadBegin < 0) return new RuleViolation(names.PadBegin, axis.PadBegin, "it must be 0 or more");
            if (axis.PadEnd < 0) return new RuleViolation(names.PadEnd, axis.PadEnd, "it must be 0 or more");
            if (axis.OutputPadding < 0)
                return new RuleViolation(names.OutputPadding, axis.OutputPadding, "it must be 0 or more");
            if (axis.OutputPadding >= axis.Stride && axis.OutputPadding >= axis.Dilation)
                return new RuleViolation(names.OutputPadding, axis.OutputPadding,
                    "it must be smaller than the stride (" + axis.Stride.ToString(CultureInfo.InvariantCulture)
                    + ") or the dilation (" + axis.Dilation.ToString(CultureInfo.InvariantCulture) + ")");
            return null;
        }

        public static RuleViolation? CheckInputSize(long inputSize, string inputSizeName)
        {
            if (inputSize < 1) return new RuleViolation(inputSizeName, inputSize, "it must be at least 1");
            return null;
        }

        /// <summary>
        /// The extent of one input cell's dilated kernel, <c>dilation * (kernel - 1) + 1</c>, plus the output padding, must fit
        /// in an <see cref="int"/>: every position on the uncropped output is then an <see cref="int"/> for some input size.
        /// (A valid axis has all its parameters between 0 and <see cref="int.MaxValue"/>, so the product cannot overflow a long.)
        /// </summary>
        public static RuleViolation? CheckKernelExtent(AxisGeometry axis, AxisParameterNames names)
        {
            long extent = (long)axis.Dilation * (axis.Kernel - 1) + 1 + axis.OutputPadding;
            if (extent > MaxElements)
                return new RuleViolation(names.Dilation, axis.Dilation,
                    "dilation * (kernel - 1) + 1 + outputPadding = " + axis.Dilation.ToString(CultureInfo.InvariantCulture) + " * "
                    + (axis.Kernel - 1).ToString(CultureInfo.InvariantCulture) + " + 1 + " + axis.OutputPadding.ToString(CultureInfo.InvariantCulture)
                    + " = " + extent.ToString(CultureInfo.InvariantCulture) + " must fit in an Int32");
            return null;
        }

        /// <summary>
        /// The output length of a valid axis must be at least 1 (padding may not crop everything away), and every position
        /// on the uncropped output, <c>(in - 1) * stride + dilation * (kernel - 1) + 1 + outputPadding</c> cells, must be an
        /// <see cref="int"/> (which also bounds the output itself).
        /// </summary>
        public static RuleViolation? CheckOutputSize(AxisGeometry axis, long inputSize, string inputSizeName)
        {
            long output = axis.OutputLength(inputSize);
            if (output < 1)
                return new RuleViolation(inputSizeName, inputSize,
                    "the output size (in - 1) * stride - padBegin - padEnd + dilation * (kernel - 1) + outputPadding + 1 would be "
                    + output.ToString(CultureInfo.InvariantCulture) + "; it must be at least 1");
            long uncropped = axis.FullLength(inputSize) + axis.OutputPadding;
            if (uncropped > MaxElements)
                return new RuleViolation(inputSizeName, inputSize,
                    "the uncropped output size (in - 1) * stride + dilation * (kernel - 1) + 1 + outputPadding would be "
                    + uncropped.ToString(CultureInfo.InvariantCulture) + "; it must fit in an Int32");
            return null;
        }

        /// <summary>The negative slope of the leaky ReLU: any finite number (NaN or an infinity would make every negative output NaN or infinite).</summary>
        public static RuleViolation? CheckLeakyReluSlope(float slope, string slopeName)
        {
            if (float.IsNaN(slope) || float.IsInfinity(slope))
                return new RuleViolation(slopeName, slope, slope.ToString("R", CultureInfo.InvariantCulture), "it must be a finite number");
            return null;
        }
    }
}
