namespace Dcgan;

/// <summary>
/// The inference-time parameters of a 2-D batch normalisation over <c>C</c> channels, as PyTorch's <c>BatchNorm2d</c>
/// keeps them: per channel <c>c</c>, <c>y = (x - RunningMean[c]) / sqrt(RunningVariance[c] + Epsilon) * Gamma[c] + Beta[c]</c>.
/// </summary>
/// <param name="Gamma">The learned scale (PyTorch's <c>weight</c>), one per channel.</param>
/// <param name="Beta">The learned shift (PyTorch's <c>bias</c>), one per channel.</param>
/// <param name="RunningMean">The mean of the channel's inputs seen in training, one per channel.</param>
/// <param name="RunningVariance">The variance of the channel's inputs seen in training, one per channel.</param>
/// <param name="Epsilon">Added to the variance before the square root (PyTorch's default: 1e-5).</param>
public sealed record BatchNormParameters(float[] Gamma, float[] Beta, float[] RunningMean, float[] RunningVariance, float Epsilon = 1e-5f)
{
    /// <summary>The number of channels.</summary>
    public int Channels => Gamma.Length;

    /// <summary>Applies the normalisation to one value of channel <paramref name="channel"/>, in double, as written above.</summary>
    public double Apply(int channel, double value) =>
        (value - RunningMean[channel]) / Math.Sqrt(RunningVariance[channel] + (double)Epsilon) * Gamma[channel] + Beta[channel];
}

/// <summary>
/// Folds an inference-time batch normalisation into the transposed convolution before it.
/// </summary>
/// <remarks>
/// At inference, batch normalisation is a fixed affine map per output channel <c>o</c>: with
/// <c>s[o] = gamma[o] / sqrt(var[o] + eps)</c> it is <c>y = (x - mean[o]) * s[o] + beta[o]</c>. The convolution's output
/// channel <c>o</c> is <c>x = sum(w[., o, ., .] * input) + b[o]</c>, linear in the weights of that channel, so
/// <c>y = sum((w[., o, ., .] * s[o]) * input) + (b[o] - mean[o]) * s[o] + beta[o]</c>: one convolution with
/// <c>w' = w * s[o]</c> (every weight feeding output channel <c>o</c>) and <c>b' = (b - mean) * s + beta</c> computes both
/// layers, and the activation after the normalisation can then be fused into that convolution's store.
/// </remarks>
public static class BatchNormFolding
{
    /// <summary>
    /// Returns the folded weights and bias of a transposed convolution (weights in PyTorch's layout
    /// <c>(inChannels, outChannels, kernelHeight, kernelWidth)</c>, one group) followed by <paramref name="batchNorm"/>.
    /// </summary>
    /// <param name="weights">The convolution's weights, <c>inChannels * outChannels * kernelArea</c> values.</param>
    /// <param name="bias">The convolution's bias, <c>outChannels</c> values (zeros for a convolution without bias).</param>
    /// <param name="outChannels">Output channels of the convolution, the channels of the normalisation.</param>
    /// <param name="kernelArea">Kernel height times kernel width.</param>
    /// <param name="batchNorm">The normalisation after the convolution.</param>
    public static (float[] Weights, float[] Bias) Fold(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int outChannels, int kernelArea,
        BatchNormParameters batchNorm)
    {
        ArgumentNullException.ThrowIfNull(batchNorm);
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelArea, 1);
        if (batchNorm.Channels != outChannels)
            throw new ArgumentException($"The normalisation has {batchNorm.Channels} channels, the convolution {outChannels} output channels.", nameof(batchNorm));
        if (bias.Length != outChannels)
            throw new ArgumentException($"The bias has {bias.Length} values, but the convolution has {outChannels} output channels.", nameof(bias));
        int perInChannel = outChannels * kernelArea;
        if (weights.Length == 0 || weights.Length % perInChannel != 0)
            throw new ArgumentException($"The weights have {weights.Length} values, not a positive multiple of outChannels * kernelArea = {perInChannel}.", nameof(weights));

        // The scale in double, rounded to float once: the folded weights are then one float multiplication from the originals.
        var scale = new float[outChannels];
        var foldedBias = new float[outChannels];
        for (int o = 0; o < outChannels; o++)
        {
            double s = batchNorm.Gamma[o] / Math.Sqrt(batchNorm.RunningVariance[o] + (double)batchNorm.Epsilon);
            scale[o] = (float)s;
            foldedBias[o] = (float)((bias[o] - (double)batchNorm.RunningMean[o]) * s + batchNorm.Beta[o]);
        }

        var foldedWeights = new float[weights.Length];
        for (int i = 0; i < weights.Length; i++)
            foldedWeights[i] = weights[i] * scale[i / kernelArea % outChannels]; // index (ic, o, ky, kx): o = i / kernelArea mod outChannels
        return (foldedWeights, foldedBias);
    }
}
