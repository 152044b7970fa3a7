namespace KernelGen.Onnx;

/// <summary>
/// The node that alone reads a <c>ConvTranspose</c> node's output, when it is one KernelGen can fuse into the layer: an
/// activation (<c>Relu</c>, <c>LeakyRelu</c>, <c>Sigmoid</c>, <c>Tanh</c>: <see cref="Activation"/>) or a
/// <c>BatchNormalization</c> with constant parameters (<see cref="BatchNorm"/>, for <see cref="BatchNormFolding"/>).
/// </summary>
public sealed class OnnxFollower
{
    internal OnnxFollower(string opType, string nodeName, string outputName, FusedActivation activation, float leakyReluAlpha, BatchNormParameters? batchNorm)
    {
        OpType = opType;
        NodeName = nodeName;
        OutputName = outputName;
        Activation = activation;
        LeakyReluAlpha = leakyReluAlpha;
        BatchNorm = batchNorm;
    }

    /// <summary>The node's ONNX operator: <c>Relu</c>, <c>LeakyRelu</c>, <c>Sigmoid</c>, <c>Tanh</c> or <c>BatchNormalization</c>.</summary>
    public string OpType { get; }

    /// <summary>The node's name (may be empty: ONNX names are optional).</summary>
    public string NodeName { get; }

    /// <summary>The node's output: after fusing, the fused layer's output takes this name.</summary>
    public string OutputName { get; }

    /// <summary>The activation to set on the layer (<see cref="FusedActivation.None"/> for a batch normalisation).</summary>
    public FusedActivation Activation { get; }

    /// <summary>The negative slope of a <c>LeakyRelu</c> (its <c>alpha</c>, ONNX's default 0.01); 0.01 for the other operators.</summary>
    public float LeakyReluAlpha { get; }

    /// <summary>A <c>BatchNormalization</c>'s scale, bias, mean, variance and epsilon; null for an activation.</summary>
    public BatchNormParameters? BatchNorm { get; }

    /// <inheritdoc/>
    public override string ToString() => OpType == "LeakyRelu" ? $"LeakyRelu(alpha {LeakyReluAlpha}) '{NodeName}'" : $"{OpType} '{NodeName}'";
}

/// <summary>
/// An ONNX model or one of its nodes that KernelGen cannot read or compute: the message names the file or the node and says
/// what is wrong.
/// </summary>
public sealed class OnnxModelException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the file or node.</param>
    /// <param name="nodeName">The node at fault, or null if the fault is not a node's.</param>
    /// <param name="innerException">The exception that revealed the fault, or null.</param>
    public OnnxModelException(string message, string? nodeName = null, Exception? innerException = null)
        : base(message, innerException)
    {
        NodeName = nodeName;
    }

    /// <summary>The node at fault (its name, or its description when it has none); null if the fault is not a node's.</summary>
    public string? NodeName { get; }
}
