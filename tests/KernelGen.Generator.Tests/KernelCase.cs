using System.Globalization;
using System.Text;
using CsCheck;
using KernelGen.Tests;

namespace KernelGen.Generator.Tests;

/// <summary>One declaration for the generator: a geometry, layout, activation and budget, with its data seed.</summary>
public sealed record KernelCase(
    int Batch, int InChannels, int OutChannels, int Groups, int InputHeight, int InputWidth,
    (int H, int W) Kernel, (int H, int W) Stride, (int H, int W) Padding, (int H, int W) OutputPadding, (int H, int W) Dilation,
    bool ChannelsLast, bool HasBias, FusedActivation Activation, float Slope, int UnrollBudget, int Seed)
{
    public int OutputHeight => (InputHeight - 1) * Stride.H - 2 * Padding.H + Dilation.H * (Kernel.H - 1) + OutputPadding.H + 1;

    public int OutputWidth => (InputWidth - 1) * Stride.W - 2 * Padding.W + Dilation.W * (Kernel.W - 1) + OutputPadding.W + 1;

    public int InputLength => InChannels * InputHeight * InputWidth;

    public int OutputLength => OutChannels * OutputHeight * OutputWidth;

    public int WeightsLength => InChannels * (OutChannels / Groups) * Kernel.H * Kernel.W;

    /// <summary>Float accumulation of this many products of values in [-1, 1] against a double reference.</summary>
    public float Tolerance => 1e-5f * (4 + InChannels / Groups * Kernel.H * Kernel.W);

    public float[] Input() => Values(Batch * InputLength, Seed);

    public float[] Weights() => Values(WeightsLength, Seed + 1);

    public float[] Bias() => HasBias ? Values(OutChannels, Seed + 2) : [];

    public float[] Naive() => NaiveReference.ConvTranspose2D(Input(), Batch, InChannels, InputHeight, InputWidth, Weights(), HasBias ? Bias() : null,
        OutChannels, Kernel, Stride, (Padding.H, Padding.W, Padding.H, Padding.W), OutputPadding, Dilation, Groups, ChannelsLast, Activation, Slope);

    public float[] Runtime()
    {
        var conv = new ConvTranspose2D(InChannels, OutChannels, (Kernel.H, Kernel.W), (Stride.H, Stride.W), (Padding.H, Padding.W),
            (OutputPadding.H, OutputPadding.W), (Dilation.H, Dilation.W), Groups)
        {
            Layout = ChannelsLast ? TensorLayout.Nhwc : TensorLayout.Nchw,
            Activation = Activation,
            LeakyReluSlope = Slope,
            MaxDegreeOfParallelism = 1,
        };
        var output = new float[Batch * OutputLength];
        conv.Compute(Input(), InputHeight, InputWidth, Weights(), Bias(), output);
        return output;
    }

    /// <summary>A source declaring <paramref name="cases"/> as methods <c>K0</c>, <c>K1</c>... of <c>{namespaceName}.Kernels</c>.</summary>
    public static string Source(string namespaceName, IReadOnlyList<KernelCase> cases)
    {
        var source = new StringBuilder($"using System;\nusing KernelGen;\n\nnamespace {namespaceName};\n\npublic static partial class Kernels\n{{\n");
        for (int i = 0; i < cases.Count; i++) source.Append(cases[i].Declaration("K" + i.ToString(CultureInfo.InvariantCulture)));
        return source.Append("}\n").ToString();
    }

    /// <summary>The attribute and partial method, written as a user would (square properties where both axes agree).</summary>
    public string Declaration(string name)
    {
        static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
        var attribute = new StringBuilder($"[GeneratedConvTranspose2D({I(InChannels)}, {I(OutChannels)}, {I(InputHeight)}, {I(InputWidth)}, {I(Kernel.H)}");
        void Pair(string square, (int H, int W) value, int fallback)
        {
            if (value.H == value.W)
            {
                if (value.H != fallback) attribute.Append($", {square} = {I(value.H)}");
            }
            else
            {
                attribute.Append($", {square}Height = {I(value.H)}, {square}Width = {I(value.W)}");
            }
        }

        if (Kernel.W != Kernel.H) attribute.Append($", KernelWidth = {I(Kernel.W)}");
        Pair("Stride", Stride, 1);
        Pair("Padding", Padding, 0);
        Pair("OutputPadding", OutputPadding, 0);
        Pair("Dilation", Dilation, 1);
        if (Groups != 1) attribute.Append($", Groups = {I(Groups)}");
        if (ChannelsLast) attribute.Append(", Layout = TensorLayout.Nhwc");
        if (Activation != FusedActivation.None) attribute.Append($", Activation = FusedActivation.{Activation}");
        if (Activation == FusedActivation.LeakyRelu) attribute.Append($", LeakyReluSlope = {Slope.ToString("R", CultureInfo.InvariantCulture)}f");
        if (UnrollBudget > 0) attribute.Append($", UnrollBudget = {I(UnrollBudget)}");
        attribute.Append(")]");
        string bias = HasBias ? " ReadOnlySpan<float> bias," : "";
        return $"    {attribute}\n    public static partial void {name}(ReadOnlySpan<float> input, ReadOnlySpan<float> weights,{bias} Span<float> output);\n";
    }

    public static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    public static KernelCase Square(int inChannels, int outChannels, int inputHeight, int inputWidth, int kernel, int stride = 1, int padding = 0,
        int outputPadding = 0, int dilation = 1, int groups = 1, int batch = 1, bool channelsLast = false, bool bias = false,
        FusedActivation activation = FusedActivation.None, float slope = 0.01f, int budget = 0, int seed = 1) =>
        new(batch, inChannels, outChannels, groups, inputHeight, inputWidth, (kernel, kernel), (stride, stride), (padding, padding),
            (outputPadding, outputPadding), (dilation, dilation), channelsLast, bias, activation, slope, budget, seed);

    /// <summary>Small random geometries, so that many fit in one compilation; a third of them with a small budget, to exercise the loops.</summary>
    public static readonly Gen<KernelCase> Generator =
        from kernelH in Gen.Int[1, 4]
        from kernelW in Gen.Int[1, 3]
        from strideH in Gen.Int[1, 3]
        from strideW in Gen.Int[1, 3]
        from dilationH in Gen.Int[1, 2]
        from dilationW in Gen.Int[1, 2]
        from groups in Gen.Int[1, 2]
        from inPerGroup in Gen.Int[1, 3]
        from outPerGroup in Gen.OneOf(Gen.Int[1, 3], Gen.Int[4, 10])
        from inputH in Gen.Int[1, 5]
        from inputW in Gen.Int[1, 18]
        from padH in Gen.Int[0, 2]
        from padW in Gen.Int[0, 2]
        from opH in Gen.Int[0, Math.Max(strideH, dilationH) - 1]
        from opW in Gen.Int[0, Math.Max(strideW, dilationW) - 1]
        from batch in Gen.Int[1, 2]
        from channelsLast in Gen.Bool
        from hasBias in Gen.Bool
        from activation in Gen.Enum<FusedActivation>()
        from budget in Gen.OneOf(Gen.Const(0), Gen.Const(0), Gen.Int[8, 400])
        from seed in Gen.Int[0, 1_000_000]
        let c = new KernelCase(batch, groups * inPerGroup, groups * outPerGroup, groups, inputH, inputW, (kernelH, kernelW),
            (strideH, strideW), (padH, padW), (opH, opW), (dilationH, dilationW), channelsLast, hasBias, activation, 0.2f, budget, seed)
        where c.OutputHeight >= 1 && c.OutputWidth >= 1
        select c;
}
