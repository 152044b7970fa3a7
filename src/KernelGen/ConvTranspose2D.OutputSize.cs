using KernelGen.Geometry;

namespace KernelGen;

public sealed partial class ConvTranspose2D
{
    /// <summary>
    /// PyTorch's <c>ConvTranspose2d.forward(input, output_size=...)</c>: the layer whose output padding makes an input of
    /// <paramref name="inputSize"/> give exactly <paramref name="outputSize"/>. Per axis the requested size must lie between
    /// the size with no output padding and that size plus <c>stride - 1</c>, as in PyTorch.
    /// </summary>
    /// <param name="inChannels">Input channels (<c>Cin</c>), at least 1.</param>
    /// <param name="outChannels">Output channels (<c>Cout</c>), at least 1.</param>
    /// <param name="kernelSize">Kernel height and width, each at least 1.</param>
    /// <param name="inputSize">The input's height and width, each at least 1 (the layer is for this size).</param>
    /// <param name="outputSize">The output's height and width.</param>
    /// <param name="stride">Stride per axis, each at least 1 (default 1).</param>
    /// <param name="padding">Cells cropped from each side of the full output, each 0 or more (default 0).</param>
    /// <param name="dilation">Spacing between kernel taps per axis, each at least 1 (default 1).</param>
    /// <param name="groups">Channel groups (default 1).</param>
    /// <returns>The layer, with <see cref="OutputPadding"/> set; <see cref="GetOutputSize"/> of <paramref name="inputSize"/> is <paramref name="outputSize"/>.</returns>
    /// <exception cref="ArgumentException">A parameter breaks a rule, or no output padding reaches the requested size; the message names the parameter, its value and the rule.</exception>
    public static ConvTranspose2D ForOutputSize(int inChannels, int outChannels, Size2D kernelSize, Size2D inputSize, Size2D outputSize,
        Size2D? stride = null, Padding2D? padding = null, Size2D? dilation = null, int groups = 1)
    {
        var layer = new ConvTranspose2D(inChannels, outChannels, kernelSize, stride, padding, 0, dilation, groups);
        ThrowIfViolated(ConvTransposeRules.CheckInputSize(inputSize.Height, "inputSize.Height"));
        ThrowIfViolated(ConvTransposeRules.CheckInputSize(inputSize.Width, "inputSize.Width"));
        ThrowIfViolated(OutputSizeRules.ForOutputSize(layer.HeightAxis, inputSize.Height, outputSize.Height, "outputSize.Height", out var height));
        ThrowIfViolated(OutputSizeRules.ForOutputSize(layer.WidthAxis, inputSize.Width, outputSize.Width, "outputSize.Width", out var width));
        return new ConvTranspose2D(inChannels, outChannels, kernelSize, stride, padding, (height.OutputPadding, width.OutputPadding), dilation, groups);
    }

    /// <summary>
    /// An ONNX <c>ConvTranspose</c> node's geometry, with its <c>auto_pad</c> and <c>output_shape</c> resolved into
    /// padding for an input of <paramref name="inputSize"/>, by the current ONNX specification: per axis
    /// <c>total = stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1 - output</c>, where the output is
    /// <paramref name="outputShape"/> or, for <see cref="OnnxAutoPad.SameUpper"/> and <see cref="OnnxAutoPad.SameLower"/>
    /// without one, <c>in * stride</c>. <see cref="OnnxAutoPad.SameUpper"/> puts the odd padding cell at the end (bottom,
    /// right), the other modes at the beginning. An output shape larger than the uncropped output gets its extra cells at
    /// the end, as output padding (as ONNX Runtime and ONNX's reference implementation do). <see cref="OnnxAutoPad.NotSet"/>
    /// without an output shape uses <paramref name="pads"/>; <see cref="OnnxAutoPad.Valid"/> without one crops nothing.
    /// </summary>
    /// <remarks>
    /// ONNX Runtime (1.31, tested) places the odd cell the same way. The specification's wording before 2021
    /// (onnx/onnx#3440), which ONNX Runtime's own unit tests still follow, put it the other way round: to get that
    /// placement, pass the other SAME mode (<see cref="OnnxAutoPad.SameLower"/> for <c>SAME_UPPER</c> and the reverse;
    /// <see cref="OnnxAutoPad.SameUpper"/> for <c>NOTSET</c> with an output shape), or explicit pads with
    /// <see cref="Padding2D.Asymmetric"/>.
    /// </remarks>
    /// <param name="inChannels">Input channels (<c>Cin</c>), at least 1.</param>
    /// <param name="outChannels">Output channels (<c>Cout</c>), at least 1 (the weights' second axis times <paramref name="groups"/>).</param>
    /// <param name="kernelSize">ONNX <c>kernel_shape</c>.</param>
    /// <param name="inputSize">The input's height and width (the layer is for this size).</param>
    /// <param name="autoPad">ONNX <c>auto_pad</c>.</param>
    /// <param name="outputShape">ONNX <c>output_shape</c> (height, width), or null.</param>
    /// <param name="stride">ONNX <c>strides</c> (default 1).</param>
    /// <param name="pads">ONNX <c>pads</c> (used with <see cref="OnnxAutoPad.NotSet"/> and no output shape; must be zero otherwise).</param>
    /// <param name="outputPadding">ONNX <c>output_padding</c> (default 0).</param>
    /// <param name="dilation">ONNX <c>dilations</c> (default 1).</param>
    /// <param name="groups">ONNX <c>group</c> (default 1).</param>
    /// <returns>The layer with explicit padding and output padding; <see cref="GetOutputSize"/> of <paramref name="inputSize"/> is the ONNX output shape.</returns>
    /// <exception cref="ArgumentException">A parameter breaks a rule, or the output shape cannot be reached; the message names the parameter, its value and the rule.</exception>
    public static ConvTranspose2D FromOnnx(int inChannels, int outChannels, Size2D kernelSize, Size2D inputSize, OnnxAutoPad autoPad = OnnxAutoPad.NotSet,
        Size2D? outputShape = null, Size2D? stride = null, Padding2D? pads = null, Size2D? outputPadding = null, Size2D? dilation = null, int groups = 1)
    {
        if (!Enum.IsDefined(autoPad)) throw LayerValidation.UndefinedEnumValue(nameof(autoPad), autoPad);
        bool explicitPads = autoPad == OnnxAutoPad.NotSet && outputShape is null;
        if (!explicitPads && pads is { } given && given != default)
        {
            throw new ArgumentException(
                $"pads is {given}, but with auto_pad {autoPad} or an output shape the pads are derived, so they must be zero (ONNX does not allow both).", nameof(pads));
        }

        var layer = new ConvTranspose2D(inChannels, outChannels, kernelSize, stride, explicitPads ? pads : null, outputPadding, dilation, groups);
        ThrowIfViolated(ConvTransposeRules.CheckInputSize(inputSize.Height, "inputSize.Height"));
        ThrowIfViolated(ConvTransposeRules.CheckInputSize(inputSize.Width, "inputSize.Width"));
        var mode = (AutoPadMode)autoPad;
        ThrowIfViolated(OutputSizeRules.ForOnnx(layer.HeightAxis, inputSize.Height, mode, outputShape?.Height, "outputShape.Height", out var height));
        ThrowIfViolated(OutputSizeRules.ForOnnx(layer.WidthAxis, inputSize.Width, mode, outputShape?.Width, "outputShape.Width", out var width));
        var resolved = new ConvTranspose2D(inChannels, outChannels, kernelSize, stride,
            Padding2D.Asymmetric(height.PadBegin, width.PadBegin, height.PadEnd, width.PadEnd), (height.OutputPadding, width.OutputPadding), dilation, groups);
        resolved.GetOutputSize(inputSize.Height, inputSize.Width); // the derived pads may still crop everything: say so now
        return resolved;
    }
}
