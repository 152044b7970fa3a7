using System.Globalization;
using System.Text;
using CsCheck;
using KernelGen.Tests;

namespace KernelGen.Generator.Tests;

/// <summary>How a declaration states its padding and output size (the geometry it resolves to is the same).</summary>
public enum DeclarationForm
{
    /// <summary>Padding (symmetric, or per side where the sides differ) and output padding.</summary>
    Explicit,

    /// <summary>PyTorch's output_size: <c>OutputHeight</c> and <c>OutputWidth</c> instead of the output padding.</summary>
    OutputSize,

    /// <summary>ONNX's auto_pad (<see cref="KernelCase.AutoPad"/>) and, if any, output_shape: no padding, no output padding.</summary>
    Onnx,
}

/// <summary>One declaration for the generator: a geometry, layout, activation and budget, with its data seed.</summary>
/// <param name="Padding">The resolved padding per side.</param>
/// <param name="WeightsFirst">The method declares <c>(weights, input, [bias,] output)</c>: bound by name.</param>
public sealed record KernelCase(
    int Batch, int InChannels, int OutChannels, int Groups, int InputHeight, int InputWidth,
    (int H, int W) Kernel, (int H, int W) Stride, (int Top, int Left, int Bottom, int Right) Padding, (int H, int W) OutputPadding, (int H, int W) Dilation,
    bool ChannelsLast, bool HasBias, FusedActivation Activation, float Slope, int UnrollBudget, int Seed,
    DeclarationForm Form = DeclarationForm.Explicit, OnnxAutoPad AutoPad = OnnxAutoPad.NotSet, (int H, int W)? OutputShape = null, bool WeightsFirst = false,
    bool OneDimensional = false)
{
    /// <summary>The same layer as a 1-D one (declared with <c>[GeneratedConvTranspose1D]</c>): height 1 and nothing on the height axis.</summary>
    public KernelCase As1D() => this with
    {
        OneDimensional = true, InputHeight = 1, Kernel = (1, Kernel.W), Stride = (1, Stride.W), Padding = (0, Padding.Left, 0, Padding.Right),
        OutputPadding = (0, OutputPadding.W), Dilation = (1, Dilation.W), OutputShape = OutputShape is { } shape ? (1, shape.W) : null,
    };

    public int OutputHeight => (InputHeight - 1) * Stride.H - Padding.Top - Padding.Bottom + Dilation.H * (Kernel.H - 1) + OutputPadding.H + 1;

    public int OutputWidth => (InputWidth - 1) * Stride.W - Padding.Left - Padding.Right + Dilation.W * (Kernel.W - 1) + OutputPadding.W + 1;

    public int InputLength => InChannels * InputHeight * InputWidth;

    public int OutputLength => OutChannels * OutputHeight * OutputWidth;

    public int WeightsLength => InChannels * (OutChannels / Groups) * Kernel.H * Kernel.W;

    /// <summary>Float accumulation of this many products of values in [-1, 1] against a double reference.</summary>
    public float Tolerance => 1e-5f * (4 + InChannels / Groups * Kernel.H * Kernel.W);

    public float[] Input() => Values(Batch * InputLength, Seed);

    public float[] Weights() => Values(WeightsLength, Seed + 1);

    public float[] Bias() => HasBias ? Values(OutChannels, Seed + 2) : [];

    public float[] Naive() => NaiveReference.ConvTranspose2D(Input(), Batch, InChannels, InputHeight, InputWidth, Weights(), HasBias ? Bias() : null,
        OutChannels, Kernel, Stride, (Padding.Top, Padding.Left, Padding.Bottom, Padding.Right), OutputPadding, Dilation, Groups, ChannelsLast, Activation, Slope);

    public float[] Runtime()
    {
        var conv = new ConvTranspose2D(InChannels, OutChannels, (Kernel.H, Kernel.W), (Stride.H, Stride.W),
            Padding2D.Asymmetric(Padding.Top, Padding.Left, Padding.Bottom, Padding.Right), (OutputPadding.H, OutputPadding.W), (Dilation.H, Dilation.W), Groups)
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
        if (OneDimensional) return Declaration1D(name);
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
        switch (Form)
        {
            case DeclarationForm.Onnx:
                attribute.Append($", AutoPad = OnnxAutoPad.{AutoPad}");
                if (OutputShape is { } shape) attribute.Append($", OutputHeight = {I(shape.H)}, OutputWidth = {I(shape.W)}");
                break;
            case DeclarationForm.OutputSize:
                PaddingArguments();
                attribute.Append($", OutputHeight = {I(OutputHeight)}, OutputWidth = {I(OutputWidth)}");
                break;
            default:
                PaddingArguments();
                Pair("OutputPadding", OutputPadding, 0);
                break;
        }

        Pair("Dilation", Dilation, 1);
        if (Groups != 1) attribute.Append($", Groups = {I(Groups)}");
        if (ChannelsLast) attribute.Append(", Layout = TensorLayout.Nhwc");
        if (Activation != FusedActivation.None) attribute.Append($", Activation = FusedActivation.{Activation}");
        if (Activation == FusedActivation.LeakyRelu) attribute.Append($", LeakyReluSlope = {Slope.ToString("R", CultureInfo.InvariantCulture)}f");
        if (UnrollBudget > 0) attribute.Append($", UnrollBudget = {I(UnrollBudget)}");
        attribute.Append(")]");
        string bias = HasBias ? " ReadOnlySpan<float> bias," : "";
        string parameters = WeightsFirst
            ? $"ReadOnlySpan<float> weights, ReadOnlySpan<float> input,{bias} Span<float> output"
            : $"ReadOnlySpan<float> input, ReadOnlySpan<float> weights,{bias} Span<float> output";
        return $"    {attribute}\n    public static partial void {name}({parameters});\n";

        void PaddingArguments()
        {
            if (Padding.Top == Padding.Bottom && Padding.Left == Padding.Right)
            {
                Pair("Padding", (Padding.Top, Padding.Left), 0);
                return;
            }

            foreach (var (side, value) in new[] { ("Top", Padding.Top), ("Left", Padding.Left), ("Bottom", Padding.Bottom), ("Right", Padding.Right) })
            {
                if (value != 0) attribute.Append($", Padding{side} = {I(value)}");
            }
        }
    }

    /// <summary>The <c>[GeneratedConvTranspose1D]</c> declaration of a 1-D case (see <see cref="As1D"/>), in its own property names.</summary>
    private string Declaration1D(string name)
    {
        static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
        var attribute = new StringBuilder($"[GeneratedConvTranspose1D({I(InChannels)}, {I(OutChannels)}, {I(InputWidth)}, {I(Kernel.W)}");
        if (Stride.W != 1) attribute.Append($", Stride = {I(Stride.W)}");
        switch (Form)
        {
            case DeclarationForm.Onnx:
                attribute.Append($", AutoPad = OnnxAutoPad.{AutoPad}");
                if (OutputShape is { } shape) attribute.Append($", OutputLength = {I(shape.W)}");
                break;
            case DeclarationForm.OutputSize:
                PaddingArguments();
                attribute.Append($", OutputLength = {I(OutputWidth)}");
                break;
            default:
                PaddingArguments();
                if (OutputPadding.W != 0) attribute.Append($", OutputPadding = {I(OutputPadding.W)}");
                break;
        }

        if (Dilation.W != 1) attribute.Append($", Dilation = {I(Dilation.W)}");
        if (Groups != 1) attribute.Append($", Groups = {I(Groups)}");
        if (ChannelsLast) attribute.Append(", Layout = TensorLayout.Nlc");
        if (Activation != FusedActivation.None) attribute.Append($", Activation = FusedActivation.{Activation}");
        if (Activation == FusedActivation.LeakyRelu) attribute.Append($", LeakyReluSlope = {Slope.ToString("R", CultureInfo.InvariantCulture)}f");
        if (UnrollBudget > 0) attribute.Append($", UnrollBudget = {I(UnrollBudget)}");
        attribute.Append(")]");
        string bias = HasBias ? " ReadOnlySpan<float> bias," : "";
        string parameters = WeightsFirst
            ? $"ReadOnlySpan<float> weights, ReadOnlySpan<float> input,{bias} Span<float> output"
            : $"ReadOnlySpan<float> input, ReadOnlySpan<float> weights,{bias} Span<float> output";
        return $"    {attribute}\n    public static partial void {name}({parameters});\n";

        void PaddingArguments()
        {
            if (Padding.Left == Padding.Right)
            {
                if (Padding.Left != 0) attribute.Append($", Padding = {I(Padding.Left)}");
                return;
            }

            if (Padding.Left != 0) attribute.Append($", PaddingBegin = {I(Padding.Left)}");
            if (Padding.Right != 0) attribute.Append($", PaddingEnd = {I(Padding.Right)}");
        }
    }

    /// <summary>
    /// A declaration in ONNX's terms (auto_pad, output_shape, no explicit padding or output padding), with the geometry the
    /// runtime's <see cref="ConvTranspose2D.FromOnnx"/> resolves it to: the generator must resolve it the same way.
    /// </summary>
    public static KernelCase Onnx(int inChannels, int outChannels, int inputHeight, int inputWidth, (int H, int W) kernel, (int H, int W) stride,
        OnnxAutoPad autoPad, (int H, int W)? outputShape = null, bool bias = false, int seed = 1)
    {
        var layer = ConvTranspose2D.FromOnnx(inChannels, outChannels, (kernel.H, kernel.W), (inputHeight, inputWidth), autoPad,
            outputShape is { } shape ? (shape.H, shape.W) : null, (stride.H, stride.W));
        var p = layer.Padding;
        return new KernelCase(1, inChannels, outChannels, 1, inputHeight, inputWidth, kernel, stride, (p.Top, p.Left, p.Bottom, p.Right),
            (layer.OutputPadding.Height, layer.OutputPadding.Width), (1, 1), false, bias, FusedActivation.None, 0.01f, 0, seed,
            DeclarationForm.Onnx, autoPad, outputShape);
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
        new(batch, inChannels, outChannels, groups, inputHeight, inputWidth, (kernel, kernel), (stride, stride), (padding, padding, padding, padding),
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
        from padTop in Gen.Int[0, 2]
        from padBottom in Gen.OneOf(Gen.Const(-1), Gen.Int[0, 2]) // -1: the same as the top
        from padLeft in Gen.Int[0, 2]
        from padRight in Gen.OneOf(Gen.Const(-1), Gen.Int[0, 2])
        from opH in Gen.Int[0, Math.Max(strideH, dilationH) - 1]
        from opW in Gen.Int[0, Math.Max(strideW, dilationW) - 1]
        from batch in Gen.Int[1, 2]
        from channelsLast in Gen.Bool
        from hasBias in Gen.Bool
        from activation in Gen.Enum<FusedActivation>()
        from budget in Gen.OneOf(Gen.Const(0), Gen.Const(0), Gen.Int[8, 400])
        from seed in Gen.Int[0, 1_000_000]
        from outputSizeForm in Gen.Bool
        from weightsFirst in Gen.Bool
        from oneDimensional in Gen.Int[0, 3]
        let padding = (padTop, padLeft, padBottom < 0 ? padTop : padBottom, padRight < 0 ? padLeft : padRight)
        // PyTorch's output_size reaches output paddings below the stride only.
        let form = outputSizeForm && opH < strideH && opW < strideW ? DeclarationForm.OutputSize : DeclarationForm.Explicit
        let twoD = new KernelCase(batch, groups * inPerGroup, groups * outPerGroup, groups, inputH, inputW, (kernelH, kernelW),
            (strideH, strideW), padding, (opH, opW), (dilationH, dilationW), channelsLast, hasBias, activation, 0.2f, budget, seed,
            form, WeightsFirst: weightsFirst)
        // A quarter of the cases are 1-D layers, declared with [GeneratedConvTranspose1D].
        let c = oneDimensional == 0 ? twoD.As1D() : twoD
        where c.OutputHeight >= 1 && c.OutputWidth >= 1
        select c;
}
