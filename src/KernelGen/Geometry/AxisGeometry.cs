// This file is compiled into both the runtime library and the source generator (netstandard2.0),
// so that the two apply the very same geometry rules. Keep it free of APIs newer than netstandard2.0.
#nullable enable

namespace KernelGen.Geometry
{
    /// <summary>
    /// The geometry of one spatial axis of a transposed convolution, in PyTorch/ONNX terms.
    /// Output length: <c>(in - 1) * stride - padBegin - padEnd + dilation * (kernel - 1) + outputPadding + 1</c>.
    /// </summary>
    internal readonly struct AxisGeometry : System.IEquatable<AxisGeometry>
    {
        public AxisGeometry(int kernel, int stride, int padBegin, int padEnd, int outputPadding, int dilation)
        {
            Kernel = kernel;
            Stride = stride;
            PadBegin = padBegin;
            PadEnd = padEnd;
            OutputPadding = outputPadding;
            Dilation = dilation;
        }

        public int Kernel { get; }
        public int Stride { get; }
        public int PadBegin { get; }
        public int PadEnd { get; }
        public int OutputPadding { get; }
        public int Dilation { get; }

        /// <summary>Length of the uncropped ("full") output: every input cell's dilated kernel footprint.</summary>
        public long FullLength(long input) => (input - 1) * Stride + (long)Dilation * (Kernel - 1) + 1;

        /// <summary>Output length for an input of <paramref name="input"/> cells (may be below 1 for bad geometry).</summary>
        public long OutputLength(long input) => FullLength(input) - PadBegin - PadEnd + OutputPadding;

        public bool Equals(AxisGeometry other) =>
            Kernel == other.Kernel && Stride == other.Stride && PadBegin == other.PadBegin && PadEnd == other.PadEnd
            && OutputPadding == other.OutputPadding && Dilation == other.Dilation;

        public override bool Equals(object? obj) => obj is AxisGeometry other && Equals(other);

        public override int GetHashCode()
        {
            unchecked
            {
                int h = Kernel;
                h = (h * 397) ^ Stride;
                h = (h * 397) ^ PadBegin;
                h = (h * 397) ^ PadEnd;
                h = (h * 397) ^ OutputPadding;
                h = (h * 397) ^ Dilation;
                return h;
            }
        }

        public override string ToString() =>
            "kernel " + Kernel + ", stride " + Stride + ", padding " + PadBegin + "/" + PadEnd
            + ", output padding " + OutputPadding + ", dilation " + Dilation;
    }
}
