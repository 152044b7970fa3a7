using KernelGen;

namespace Dcgan;

/// <summary>
/// One layer of the DCGAN generator: a transposed convolution (kernel 4, one group) from a square input to a square
/// output, optionally followed by batch normalisation, then an activation. Holds the weights as initialised and the
/// folded weights and bias that both the generated kernels and the runtime path compute with.
/// </summary>
public sealed class DcganLayer
{
    internal DcganLayer(string name, int inChannels, int outChannels, int inputSize, int stride, int padding, FusedActivation activation,
        float[] weights, float[] bias, BatchNormParameters? batchNorm)
    {
        Name = name;
        InChannels = inChannels;
        OutChannels = outChannels;
        InputSize = inputSize;
        Stride = stride;
        Padding = padding;
        Activation = activation;
        Weights = weights;
        Bias = bias;
        BatchNorm = batchNorm;
        OutputSize = (inputSize - 1) * stride - 2 * padding + KernelSize;
        (FoldedWeights, FoldedBias) = batchNorm is null
            ? ((float[])weights.Clone(), (float[])bias.Clone())
            : BatchNormFolding.Fold(weights, bias, inChannels, outChannels, groups: 1, KernelSize * KernelSize, batchNorm);
    }

    /// <summary>The kernel height and width of every DCGAN layer.</summary>
    public const int KernelSize = 4;

    /// <summary>The name of the generated kernel that computes this layer.</summary>
    public string Name { get; }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Input height and width.</summary>
    public int InputSize { get; }

    /// <summary>Output height and width: <c>(InputSize - 1) * Stride - 2 * Padding + KernelSize</c>.</summary>
    public int OutputSize { get; }

    /// <summary>Stride on both axes.</summary>
    public int Stride { get; }

    /// <summary>Padding on every side.</summary>
    public int Padding { get; }

    /// <summary>The activation after the (normalised) convolution, fused into the kernel's store.</summary>
    public FusedActivation Activation { get; }

    /// <summary>The convolution's weights as initialised, before folding: PyTorch's layout <c>(Cin, Cout, 4, 4)</c>.</summary>
    public float[] Weights { get; }

    /// <summary>The convolution's own bias before folding (<c>Cout</c> values; zeros where DCGAN has none).</summary>
    public float[] Bias { get; }

    /// <summary>The batch normalisation after the convolution, or <see langword="null"/> for the output layer.</summary>
    public BatchNormParameters? BatchNorm { get; }

    /// <summary>The weights the network computes with: <see cref="Weights"/> with <see cref="BatchNorm"/> folded in.</summary>
    public float[] FoldedWeights { get; }

    /// <summary>The bias the network computes with: <see cref="Bias"/> with <see cref="BatchNorm"/> folded in.</summary>
    public float[] FoldedBias { get; }

    /// <summary>Elements of the layer's input (one sample).</summary>
    public int InputLength => InputSize * InputSize * InChannels;

    /// <summary>Elements of the layer's output (one sample).</summary>
    public int OutputLength => OutputSize * OutputSize * OutChannels;

    /// <summary>Multiply-adds of one sample as the definition counts them (every tap, zero or cropped).</summary>
    public long MultiplyAdds => (long)InputSize * InputSize * InChannels * OutChannels * KernelSize * KernelSize;

    /// <summary>The same layer on KernelGen's runtime path: the same layout (<see cref="DcganKernels.ActivationLayout"/>) and fused activation.</summary>
    /// <param name="maxDegreeOfParallelism">The most threads one call may use.</param>
    public ConvTranspose2D CreateRuntimeLayer(int maxDegreeOfParallelism) =>
        new(InChannels, OutChannels, kernelSize: KernelSize, stride: Stride, padding: Padding)
        {
            Layout = DcganKernels.ActivationLayout,
            Activation = Activation,
            MaxDegreeOfParallelism = maxDegreeOfParallelism,
        };
}
