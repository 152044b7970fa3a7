using System.Globalization;
using System.Text;
using CsCheck;
using KernelGen.Tests;

namespace KernelGen.Generator.Tests;

/// <summary>One 3-D declaration for the generator (<c>[GeneratedConvTranspose3D]</c>): a geometry per axis (depth, height, width), layout, activation and budget, with its data seed.</summary>
public sealed record KernelCase3D(
    int Batch, int InChannels, int OutChannels, int Groups, (int D, int H, int W) Size,
    (int D, int H, int W) Kernel, (int D, int H, int W) Stride, (int D, int H, int W) PadBegin, (int D, int H, int W) PadEnd,
    (int D, int H, int W) OutputPadding, (int D, int H, int W) Dilation,
    bool ChannelsLast, bool HasBias, FusedActivation Activation, float Slope, int UnrollBudget, int Seed, bool OutputSizeForm = false)
{
    private static int Out(int input, int kernel, int stride, int begin, int end, int outputPadding, int dilation) =>
        (input - 1) * stride - begin - end + dilation * (kernel - 1) + outputPadding + 1;

    public (int D, int H, int W) OutputSize => (
        Out(Size.D, Kernel.D, Stride.D, PadBegin.D, PadEnd.D, OutputPadding.D, Dilation.D),
        Out(Size.H, Kernel.H, Stride.H, PadBegin.H, PadEnd.H, OutputPadding.H, Dilation.H),
        Out(Size.W, Kernel.W, Stride.W, PadBegin.W, PadEnd.W, OutputPadding.W, Dilation.W));

    public int InputLength => InChannels * Size.D * Size.H * Size.W;

    public int OutputLength => OutChannels * OutputSize.D * OutputSize.H * OutputSize.W;

    public int WeightsLength => InChannels * (OutChannels / Groups) * Kernel.D * Kernel.H * Kernel.W;

    /// <summary>Float accumulation of this many products of values in [-1, 1] against a double reference.</summary>
    public float Tolerance => 1e-5f * (4 + InChannels / Groups * Kernel.D * Kernel.H * Kernel.W);

    public float[] Input() => KernelCase.Values(Batch * InputLength, Seed);

    public float[] Weights() => KernelCase.Values(WeightsLength, Seed + 1);

    public float[] Bias() => HasBias ? KernelCase.Values(OutChannels, Seed + 2) : [];

    public static KernelCase3D Cube(int inChannels, int outChannels, int size, int kernel, int stride = 1, int padding = 0, int outputPadding = 0,
        int dilation = 1, int groups = 1, int batch = 1, bool channelsLast = false, bool bias = false, FusedActivation activation = FusedActivation.None,
        float slope = 0.01f, int budget = 0, int seed = 1) =>
        new(batch, inChannels, outChannels, groups, (size, size, size), (kernel, kernel, kernel), (stride, stride, stride), (padding, padding, padding),
            (padding, padding, padding), (outputPadding, outputPadding, outputPadding), (dilation, dilation, dilation), channelsLast, bias, activation, slope,
            budget, seed);

    /// <summary>The runtime layer of the same geometry, on one thread.</summary>
    public float[] Runtime() => Runtime(Input(), Weights(), Bias());

    public float[] Runtime(float[] input, float[] weights, float[] bias)
    {
        var conv = new ConvTranspose3D(InChannels, OutChannels, (Kernel.D, Kernel.H, Kernel.W), (Stride.D, Stride.H, Stride.W),
            Padding3D.Asymmetric(PadBegin.D, PadBegin.H, PadBegin.W, PadEnd.D, PadEnd.H, PadEnd.W), (OutputPadding.D, OutputPadding.H, OutputPadding.W),
            (Dilation.D, Dilation.H, Dilation.W), Groups)
        {
            Layout = ChannelsLast ? TensorLayout.Ndhwc : TensorLayout.Ncdhw,
            Activation = Activation,
            LeakyReluSlope = Slope,
            MaxDegreeOfParallelism = 1,
        };
        var output = new float[Batch * OutputLength];
        conv.Compute(input, Size.D, Size.H, Size.W, weights, bias, output);
        return output;
    }

    /// <summary>The definition, scattered in double: input cell (d, h, w) adds its value times tap (a, b, c) at <c>position * stride + tap * dilation - padBegin</c> per axis.</summary>
    public float[] Naive() => Naive(Input(), Weights(), Bias());

    public float[] Naive(float[] x, float[] w, float[] bias) =>
        NaiveReference3D.ConvTranspose3D(x, w, HasBias ? bias : [], Batch, InChannels, OutChannels, Groups, Size, OutputSize, Kernel, Stride, PadBegin,
            Dilation, ChannelsLast, Activation, Slope);

    /// <summary>A source declaring <paramref name="cases"/> as methods <c>K0</c>, <c>K1</c>... of <c>{namespaceName}.Kernels</c>.</summary>
    public static string Source(string namespaceName, IReadOnlyList<KernelCase3D> cases)
    {
        var source = new StringBuilder($"using System;\nusing KernelGen;\n\nnamespace {namespaceName};\n\npublic static partial class Kernels\n{{\n");
        for (int i = 0; i < cases.Count; i++) source.Append(cases[i].Declaration("K" + i.ToString(CultureInfo.InvariantCulture)));
        return source.Append("}\n").ToString();
    }

    /// <summary>The attribute and partial method as a user would write them: cubic properties where the three axes agree, per-axis ones otherwise.</summary>
    public string Declaration(string name)
    {
        static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
        var attribute = new StringBuilder($"[GeneratedConvTranspose3D({I(InChannels)}, {I(OutChannels)}, {I(Size.D)}, {I(Size.H)}, {I(Size.W)}, {I(Kernel.D)}");
        void Triple(string cubic, (int D, int H, int W) value, int fallback)
        {
            if (value.D == value.H && value.H == value.W)
            {
                if (value.D != fallback) attribute.Append($", {cubic} = {I(value.D)}");
                return;
            }

            if (value.D != fallback) attribute.Append($", {cubic}Depth = {I(value.D)}");
            if (value.H != fallback) attribute.Append($", {cubic}Height = {I(value.H)}");
            if (value.W != fallback) attribute.Append($", {cubic}Width = {I(value.W)}");
        }

        if (Kernel.H != Kernel.D) attribute.Append($", KernelHeight = {I(Kernel.H)}");
        if (Kernel.W != Kernel.D) attribute.Append($", KernelWidth = {I(Kernel.W)}");
        Triple("Stride", Stride, 1);
        if (PadBegin == PadEnd)
        {
            Triple("Padding", PadBegin, 0);
        }
        else
        {
            foreach (var (side, value) in new[] { ("Front", PadBegin.D), ("Top", PadBegin.H), ("Left", PadBegin.W), ("Back", PadEnd.D), ("Bottom", PadEnd.H), ("Right", PadEnd.W) })
            {
                if (value != 0) attribute.Append($", Padding{side} = {I(value)}");
            }
        }

        if (OutputSizeForm)
        {
            var (od, oh, ow) = OutputSize;
            attribute.Append($", OutputDepth = {I(od)}, OutputHeight = {I(oh)}, OutputWidth = {I(ow)}");
        }
        else
        {
            Triple("OutputPadding", OutputPadding, 0);
        }

        Triple("Dilation", Dilation, 1);
        if (Groups != 1) attribute.Append($", Groups = {I(Groups)}");
        if (ChannelsLast) attribute.Append(", Layout = TensorLayout.Ndhwc");
        if (Activation != FusedActivation.None) attribute.Append($", Activation = FusedActivation.{Activation}");
        if (Activation == FusedActivation.LeakyRelu) attribute.Append($", LeakyReluSlope = {Slope.ToString("R", CultureInfo.InvariantCulture)}f");
        if (UnrollBudget > 0) attribute.Append($", UnrollBudget = {I(UnrollBudget)}");
        attribute.Append(")]");
        string bias = HasBias ? " ReadOnlySpan<float> bias," : "";
        return $"    {attribute}\n    public static partial void {name}(ReadOnlySpan<float> input, ReadOnlySpan<float> weights,{bias} Span<float> output);\n";
    }

    private static readonly Gen<(int Kernel, int Stride, int Dilation, int Input, int OutputPadding, int Begin, int End)> Axis =
        from kernel in Gen.Int[1, 4]
        from stride in Gen.Int[1, 3]
        from dilation in Gen.Int[1, 2]
        from input in Gen.Int[1, 4]
        from outputPadding in Gen.Int[0, Math.Max(stride, dilation) - 1]
        from begin in Gen.Int[0, 2]
        from end in Gen.OneOf(Gen.Const(-1), Gen.Int[0, 2])
        select (kernel, stride, dilation, input, outputPadding, begin, end < 0 ? begin : end);

    /// <summary>Small random 3-D geometries (every axis its own), so that many fit in one compilation; a third with a small budget, to exercise the loops.</summary>
    public static readonly Gen<KernelCase3D> Generator =
        from d in Axis
        from h in Axis
        from w in Axis
        from groups in Gen.Int[1, 2]
        from inPerGroup in Gen.Int[1, 3]
        from outPerGroup in Gen.OneOf(Gen.Int[1, 3], Gen.Int[4, 10])
        from batch in Gen.Int[1, 2]
        from channelsLast in Gen.Bool
        from hasBias in Gen.Bool
        from activation in Gen.Enum<FusedActivation>()
        from budget in Gen.OneOf(Gen.Const(0), Gen.Const(0), Gen.Int[8, 400])
        from seed in Gen.Int[0, 1_000_000]
        from outputSizeForm in Gen.Bool
        let c = new KernelCase3D(batch, groups * inPerGroup, groups * outPerGroup, groups, (d.Input, h.Input, w.Input), (d.Kernel, h.Kernel, w.Kernel),
            (d.Stride, h.Stride, w.Stride), (d.Begin, h.Begin, w.Begin), (d.End, h.End, w.End), (d.OutputPadding, h.OutputPadding, w.OutputPadding),
            (d.Dilation, h.Dilation, w.Dilation), channelsLast, hasBias, activation, 0.2f, budget, seed,
            // PyTorch's output_size reaches output paddings below the stride only.
            outputSizeForm && d.OutputPadding < d.Stride && h.OutputPadding < h.Stride && w.OutputPadding < w.Stride)
        where c.OutputSize.D >= 1 && c.OutputSize.H >= 1 && c.OutputSize.W >= 1
        select c;
}
