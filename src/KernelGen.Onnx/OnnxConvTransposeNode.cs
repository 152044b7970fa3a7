namespace KernelGen.Onnx;

/// <summary>
/// One ONNX <c>ConvTranspose</c> node as a ready KernelGen layer: its geometry resolved (<c>auto_pad</c> and <c>output_shape</c>
/// become explicit padding for the input size the graph gives), its weights and bias bound, and the node that alone follows
/// it if KernelGen can fuse that one.
/// </summary>
/// <remarks>Activations are in ONNX's layout (NCL, NCHW, NCDHW); the batch size is inferred from the input length. An instance
/// may be used from several threads at once.</remarks>
public sealed class OnnxConvTransposeNode
{
    private readonly int[]? _inputSize;
    private readonly int[]? _outputSize;

    internal OnnxConvTransposeNode(string name, string inputName, string outputName, int rank, object layer, OnnxTensor weights, OnnxTensor? bias,
        int[]? inputSize, int[]? outputSize, bool sizeDependent)
    {
        Name = name;
        InputName = inputName;
        OutputName = outputName;
        Rank = rank;
        Layer = layer;
        Weights = weights;
        Bias = bias;
        _inputSize = inputSize;
        _outputSize = outputSize;
        PadsDependOnInputSize = sizeDependent;
        OutChannels = rank switch { 1 => Layer1D!.OutChannels, 2 => Layer2D!.OutChannels, _ => Layer3D!.OutChannels };
        InChannels = rank switch { 1 => Layer1D!.InChannels, 2 => Layer2D!.InChannels, _ => Layer3D!.InChannels };
    }

    /// <summary>The node's name (may be empty: ONNX names are optional).</summary>
    public string Name { get; }

    /// <summary>The name of the node's input <c>X</c>.</summary>
    public string InputName { get; }

    /// <summary>The name of the node's output <c>Y</c>.</summary>
    public string OutputName { get; }

    /// <summary>The layer's rank: 1, 2 or 3 spatial axes (from the weights' rank minus 2).</summary>
    public int Rank { get; }

    /// <summary>The layer: a <see cref="ConvTranspose1D"/>, <see cref="ConvTranspose2D"/> or <see cref="ConvTranspose3D"/> by
    /// <see cref="Rank"/>, with explicit padding and output padding, no activation.</summary>
    public object Layer { get; }

    /// <summary>The layer if <see cref="Rank"/> is 1, else null.</summary>
    public ConvTranspose1D? Layer1D => Layer as ConvTranspose1D;

    /// <summary>The layer if <see cref="Rank"/> is 2, else null.</summary>
    public ConvTranspose2D? Layer2D => Layer as ConvTranspose2D;

    /// <summary>The layer if <see cref="Rank"/> is 3, else null.</summary>
    public ConvTranspose3D? Layer3D => Layer as ConvTranspose3D;

    /// <summary>Input channels (the weights' first axis).</summary>
    public int InChannels { get; }

    /// <summary>Output channels (the weights' second axis times <c>group</c>).</summary>
    public int OutChannels { get; }

    /// <summary>The weights, <c>(Cin, Cout/group, kernel...)</c>.</summary>
    public OnnxTensor Weights { get; }

    /// <summary>The bias (<c>Cout</c> values), or null if the node has none.</summary>
    public OnnxTensor? Bias { get; }

    /// <summary>The input's spatial size as the graph gives it (from its inputs, value_info or the layers before), or null if the
    /// graph leaves it open.</summary>
    public IReadOnlyList<int>? InputSize => _inputSize;

    /// <summary>The output's spatial size for <see cref="InputSize"/>, or null if that is not known.</summary>
    public IReadOnlyList<int>? OutputSize => _outputSize;

    /// <summary>Whether the padding was derived from <see cref="InputSize"/> (<c>auto_pad</c> SAME_UPPER / SAME_LOWER or an
    /// <c>output_shape</c>): then the layer computes ONNX's answer for that input size only, and <see cref="Compute"/> accepts no other.</summary>
    public bool PadsDependOnInputSize { get; }

    /// <summary>The first of <see cref="Followers"/>: the node that alone reads this node's output, if it is a <c>Relu</c>, <c>LeakyRelu</c>, <c>Sigmoid</c>,
    /// <c>Tanh</c> or an inference <c>BatchNormalization</c> with constant parameters; null otherwise (no reader, several,
    /// another operator, or the output is also a graph output).</summary>
    public OnnxFollower? FollowedBy => Followers.Count > 0 ? Followers[0] : null;

    /// <summary>The chain of fusable nodes after this one: empty, one activation, one batch normalisation, or a batch
    /// normalisation and then an activation, each the sole reader of the one before (the output of the last is
    /// <see cref="FusedOutputName"/>).</summary>
    public IReadOnlyList<OnnxFollower> Followers { get; internal set; } = [];

    /// <summary>The output a layer fused with all of <see cref="Followers"/> produces: the last follower's output, or
    /// <see cref="OutputName"/> if there is none.</summary>
    public string FusedOutputName => Followers.Count > 0 ? Followers[^1].OutputName : OutputName;

    /// <summary>The output's spatial size for an input of the given spatial size.</summary>
    /// <param name="inputSize">The input's spatial size: <see cref="Rank"/> values (length; height, width; depth, height, width).</param>
    /// <returns>The output's spatial size.</returns>
    /// <exception cref="ArgumentException">The size has the wrong number of values, a value is out of range, or it differs from
    /// <see cref="InputSize"/> when <see cref="PadsDependOnInputSize"/>.</exception>
    public int[] GetOutputSize(ReadOnlySpan<int> inputSize)
    {
        CheckInputSize(inputSize);
        return OutputSizeOf(Layer, inputSize);
    }

    /// <summary>Number of output elements for <paramref name="batch"/> samples of the given input spatial size.</summary>
    /// <param name="batch">Samples, 0 or more.</param>
    /// <param name="inputSize">The input's spatial size (<see cref="Rank"/> values).</param>
    /// <returns><c>batch * outChannels * (output spatial elements)</c>.</returns>
    /// <exception cref="ArgumentException">A size is out of range or does not fit in an <see cref="int"/>.</exception>
    public int GetOutputLength(int batch, ReadOnlySpan<int> inputSize)
    {
        CheckInputSize(inputSize);
        return Layer switch
        {
            ConvTranspose1D l => l.GetOutputLength(batch, inputSize[0]),
            ConvTranspose2D l => l.GetOutputLength(batch, inputSize[0], inputSize[1]),
            _ => ((ConvTranspose3D)Layer).GetOutputLength(batch, inputSize[0], inputSize[1], inputSize[2]),
        };
    }

    /// <summary>Computes the node: <c>Y = ConvTranspose(X, W, B)</c>, packing the weights on every call (use <see cref="Prepare"/> to pack them once).</summary>
    /// <param name="input">Zero or more samples of <c>inChannels * (input spatial elements)</c>, channels first.</param>
    /// <param name="inputSize">The input's spatial size (<see cref="Rank"/> values).</param>
    /// <param name="output">At least <see cref="GetOutputLength"/> elements; the first that many are written.</param>
    /// <exception cref="ArgumentException">A size or span is wrong; nothing has been written.</exception>
    public void Compute(ReadOnlySpan<float> input, ReadOnlySpan<int> inputSize, Span<float> output)
    {
        CheckInputSize(inputSize);
        ReadOnlySpan<float> weights = Weights.Data, bias = Bias is null ? default : Bias.Data;
        switch (Layer)
        {
            case ConvTranspose1D l: l.Compute(input, inputSize[0], weights, bias, output); break;
            case ConvTranspose2D l: l.Compute(input, inputSize[0], inputSize[1], weights, bias, output); break;
            default: ((ConvTranspose3D)Layer).Compute(input, inputSize[0], inputSize[1], inputSize[2], weights, bias, output); break;
        }
    }

    /// <summary>Packs the weights and bias once, for many calls without allocation.</summary>
    /// <returns>A <see cref="PreparedConvTranspose1D"/>, <see cref="PreparedConvTranspose2D"/> or <see cref="PreparedConvTranspose3D"/>
    /// by <see cref="Rank"/> (a copy: later changes to <see cref="OnnxTensor.Data"/> do not affect it).</returns>
    public object Prepare()
    {
        ReadOnlySpan<float> weights = Weights.Data, bias = Bias is null ? default : Bias.Data;
        return Layer switch
        {
            ConvTranspose1D l => l.Prepare(weights, bias),
            ConvTranspose2D l => l.Prepare(weights, bias),
            _ => ((ConvTranspose3D)Layer).Prepare(weights, bias),
        };
    }

    /// <summary>
    /// Packs the layer with all of <see cref="Followers"/> fused into it: a batch normalisation folded into the weights and bias
    /// (<see cref="BatchNormFolding"/>), an activation set as the layer's <see cref="FusedActivation"/>. One call then computes
    /// the node and its followers, and its output is <see cref="FusedOutputName"/>.
    /// </summary>
    /// <returns>A <see cref="PreparedConvTranspose1D"/>, <see cref="PreparedConvTranspose2D"/> or <see cref="PreparedConvTranspose3D"/>
    /// by <see cref="Rank"/>; its <c>Definition</c> is the fused layer.</returns>
    public object PrepareFused()
    {
        float[] weights = Weights.Data, bias = Bias?.Data ?? [];
        var activation = FusedActivation.None;
        float slope = 0.01f;
        foreach (var follower in Followers)
        {
            if (follower.BatchNorm is { } batchNorm)
            {
                (weights, bias) = Layer switch
                {
                    ConvTranspose1D l => BatchNormFolding.Fold(l, weights, bias, batchNorm),
                    ConvTranspose2D l => BatchNormFolding.Fold(l, weights, bias, batchNorm),
                    _ => BatchNormFolding.Fold((ConvTranspose3D)Layer, weights, bias, batchNorm),
                };
            }
            else
            {
                (activation, slope) = (follower.Activation, follower.LeakyReluAlpha);
            }
        }

        return Layer switch
        {
            ConvTranspose1D l => new ConvTranspose1D(l.InChannels, l.OutChannels, l.KernelSize, l.Stride, l.Padding, l.OutputPadding, l.Dilation, l.Groups)
            {
                Activation = activation,
                LeakyReluSlope = slope,
            }.Prepare(weights, bias),
            ConvTranspose2D l => new ConvTranspose2D(l.InChannels, l.OutChannels, l.KernelSize, l.Stride, l.Padding, l.OutputPadding, l.Dilation, l.Groups)
            {
                Activation = activation,
                LeakyReluSlope = slope,
            }.Prepare(weights, bias),
            _ => Fused3D((ConvTranspose3D)Layer, activation, slope).Prepare(weights, bias),
        };

        static ConvTranspose3D Fused3D(ConvTranspose3D l, FusedActivation activation, float slope) =>
            new(l.InChannels, l.OutChannels, l.KernelSize, l.Stride, l.Padding, l.OutputPadding, l.Dilation, l.Groups)
            {
                Activation = activation,
                LeakyReluSlope = slope,
            };
    }

    /// <inheritdoc/>
    public override string ToString() => $"ConvTranspose '{Name}' ({InputName} -> {OutputName}): {Layer}";

    private void CheckInputSize(ReadOnlySpan<int> inputSize)
    {
        if (inputSize.Length != Rank)
            throw new ArgumentException($"inputSize has {inputSize.Length} values, but node '{Name}' is {Rank}-D and needs {Rank}.", nameof(inputSize));
        if (PadsDependOnInputSize && !inputSize.SequenceEqual(_inputSize))
        {
            throw new ArgumentException(
                $"inputSize is [{string.Join(", ", inputSize.ToArray())}], but node '{Name}' derives its pads from auto_pad or output_shape for the graph's input size [{string.Join(", ", _inputSize!)}], so it computes ONNX's answer for that size only.",
                nameof(inputSize));
        }
    }

    internal static int[] OutputSizeOf(object layer, ReadOnlySpan<int> inputSize) => layer switch
    {
        ConvTranspose1D l => [l.GetOutputSize(inputSize[0])],
        ConvTranspose2D l => l.GetOutputSize(inputSize[0], inputSize[1]) is var (h, w) ? [h, w] : [],
        _ => ((ConvTranspose3D)layer).GetOutputSize(inputSize[0], inputSize[1], inputSize[2]) is var (d, h, w) ? [d, h, w] : [],
    };
}
