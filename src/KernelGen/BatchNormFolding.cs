using System.Globalization;

namespace KernelGen;

/// <summary>
/// The inference-time parameters of a batch normalisation over <c>C</c> channels, as PyTorch's <c>BatchNorm1d</c>,
/// <c>BatchNorm2d</c> and <c>BatchNorm3d</c> keep them (and ONNX's <c>BatchNormalization</c> takes them): per channel
/// <c>c</c>, <c>y = (x - RunningMean[c]) / sqrt(RunningVariance[c] + Epsilon) * Gamma[c] + Beta[c]</c>.
/// </summary>
/// <remarks>
/// The constructor copies the values, so an instance is immutable and may be shared between threads. A normalisation
/// without learned affine parameters (PyTorch's <c>affine=False</c>) has <c>Gamma</c> all ones and <c>Beta</c> all zeros.
/// </remarks>
public sealed class BatchNormParameters
{
    private readonly float[] _gamma, _beta, _runningMean, _runningVariance;

    /// <summary>Copies and checks the parameters of a batch normalisation.</summary>
    /// <param name="gamma">The learned scale (PyTorch's <c>weight</c>), one per channel, at least one channel.</param>
    /// <param name="beta">The learned shift (PyTorch's <c>bias</c>), one per channel.</param>
    /// <param name="runningMean">The mean of the channel's inputs seen in training (<c>running_mean</c>), one per channel.</param>
    /// <param name="runningVariance">The variance of the channel's inputs seen in training (<c>running_var</c>), one per
    /// channel; <c>runningVariance[c] + epsilon</c> must be positive.</param>
    /// <param name="epsilon">Added to the variance before the square root: finite and 0 or more (PyTorch's default: 1e-5).</param>
    /// <exception cref="ArgumentException">The lengths differ or are 0, <paramref name="epsilon"/> is negative or not finite, or
    /// a channel's <c>variance + epsilon</c> is not positive; the message names the parameter, its value and the rule.</exception>
    public BatchNormParameters(ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> runningMean,
        ReadOnlySpan<float> runningVariance, float epsilon = 1e-5f)
    {
        if (gamma.IsEmpty)
            throw new ArgumentException("gamma has 0 values; a batch normalisation has at least one channel.", nameof(gamma));
        ThrowIfLengthDiffers(beta.Length, gamma.Length, nameof(beta));
        ThrowIfLengthDiffers(runningMean.Length, gamma.Length, nameof(runningMean));
        ThrowIfLengthDiffers(runningVariance.Length, gamma.Length, nameof(runningVariance));
        if (!float.IsFinite(epsilon) || epsilon < 0)
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon,
                $"epsilon is {Format(epsilon)}, but it must be finite and 0 or more.");
        for (int c = 0; c < runningVariance.Length; c++)
        {
            // In double, as PyTorch's CPU kernel computes 1 / sqrt(var + eps); NaN fails the test too.
            if (!(runningVariance[c] + (double)epsilon > 0))
                throw new ArgumentException(
                    $"runningVariance[{c}] is {Format(runningVariance[c])}, but runningVariance + epsilon ({Format(epsilon)}) must be positive: the normalisation divides by its square root.",
                    nameof(runningVariance));
        }

        _gamma = gamma.ToArray();
        _beta = beta.ToArray();
        _runningMean = runningMean.ToArray();
        _runningVariance = runningVariance.ToArray();
        Epsilon = epsilon;
    }

    /// <summary>The number of channels.</summary>
    public int Channels => _gamma.Length;

    /// <summary>The learned scale, one per channel.</summary>
    public ReadOnlySpan<float> Gamma => _gamma;

    /// <summary>The learned shift, one per channel.</summary>
    public ReadOnlySpan<float> Beta => _beta;

    /// <summary>The running mean, one per channel.</summary>
    public ReadOnlySpan<float> RunningMean => _runningMean;

    /// <summary>The running variance, one per channel.</summary>
    public ReadOnlySpan<float> RunningVariance => _runningVariance;

    /// <summary>Added to the variance before the square root.</summary>
    public float Epsilon { get; }

    /// <summary>
    /// The factor the normalisation multiplies channel <paramref name="channel"/> by:
    /// <c>Gamma[channel] / sqrt(RunningVariance[channel] + Epsilon)</c>, in double.
    /// </summary>
    /// <param name="channel">A channel, from 0 to <see cref="Channels"/> - 1.</param>
    public double GetScale(int channel) => _gamma[channel] / Math.Sqrt(_runningVariance[channel] + (double)Epsilon);

    /// <summary>Applies the normalisation to one value of channel <paramref name="channel"/>, in double, as the summary writes it.</summary>
    /// <param name="channel">A channel, from 0 to <see cref="Channels"/> - 1.</param>
    /// <param name="value">The value before normalisation.</param>
    public double Apply(int channel, double value) => (value - _runningMean[channel]) * GetScale(channel) + _beta[channel];

    private static void ThrowIfLengthDiffers(int length, int channels, string parameterName)
    {
        if (length != channels)
            throw new ArgumentException(
                $"{parameterName} has {length} values, but gamma has {channels}: every parameter has one value per channel.", parameterName);
    }

    internal static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>
/// Folds an inference-time batch normalisation into the transposed convolution before it, for every rank (1-D, 2-D, 3-D)
/// and for grouped layers, so that one convolution computes both layers (and an activation after the normalisation can be
/// fused into that convolution's store).
/// </summary>
/// <remarks>
/// <para>At inference, batch normalisation is a fixed affine map per output channel <c>o</c>: with
/// <c>s[o] = gamma[o] / sqrt(var[o] + eps)</c> it is <c>y = (x - mean[o]) * s[o] + beta[o]</c>. The convolution's output
/// channel <c>o</c> is a sum of its weights times inputs plus <c>b[o]</c>, linear in the weights that feed <c>o</c>, so the
/// folded layer has <c>w' = w * s[o]</c> for every weight feeding <c>o</c> and <c>b' = (b[o] - mean[o]) * s[o] + beta[o]</c>.</para>
/// <para>Weights are in the PyTorch/ONNX layout <c>(inChannels, outChannels / groups, k...)</c>: input channel <c>i</c> is in
/// group <c>g = i / (inChannels / groups)</c>, and its weight row <c>j</c> feeds output channel
/// <c>g * (outChannels / groups) + j</c>. Only the number of kernel elements (the product of the kernel's spatial sizes)
/// matters, so one method serves every rank.</para>
/// <para><c>s</c> is computed in double and rounded to float once: each folded weight is one float multiplication from the
/// original. The folded layer equals the two layers up to float rounding (the order of the additions changes).</para>
/// </remarks>
public static class BatchNormFolding
{
    /// <summary>
    /// Writes the folded weights and bias of a transposed convolution followed by <paramref name="batchNorm"/> into
    /// <paramref name="foldedWeights"/> and <paramref name="foldedBias"/>. Allocates nothing.
    /// </summary>
    /// <param name="weights">The convolution's weights, <c>inChannels * (outChannels / groups) * kernelElementCount</c> values
    /// in the layout <c>(inChannels, outChannels / groups, k...)</c>.</param>
    /// <param name="bias">The convolution's bias, <c>outChannels</c> values, or empty for a convolution without bias.</param>
    /// <param name="inChannels">Input channels of the convolution, at least 1, a multiple of <paramref name="groups"/>.</param>
    /// <param name="outChannels">Output channels of the convolution (the channels of the normalisation), at least 1, a
    /// multiple of <paramref name="groups"/>.</param>
    /// <param name="groups">Channel groups of the convolution, at least 1.</param>
    /// <param name="kernelElementCount">The product of the kernel's spatial sizes: the kernel size of a 1-D layer,
    /// height * width of a 2-D one, depth * height * width of a 3-D one; at least 1.</param>
    /// <param name="batchNorm">The normalisation after the convolution, with <paramref name="outChannels"/> channels.</param>
    /// <param name="foldedWeights">Receives the folded weights: as long as <paramref name="weights"/>. May be the same
    /// memory as <paramref name="weights"/> (folding in place), but must not otherwise overlap it.</param>
    /// <param name="foldedBias">Receives the folded bias: <paramref name="outChannels"/> values. May be the same memory as
    /// <paramref name="bias"/>, but must not otherwise overlap it.</param>
    /// <exception cref="ArgumentException">A parameter breaks a rule (checked before anything is written); the message
    /// names the parameter, its value and the rule.</exception>
    public static void Fold(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int inChannels, int outChannels, int groups,
        int kernelElementCount, BatchNormParameters batchNorm, Span<float> foldedWeights, Span<float> foldedBias)
    {
        CheckLayer(weights, bias, inChannels, outChannels, groups, kernelElementCount, batchNorm);
        if (foldedWeights.Length != weights.Length)
            throw new ArgumentException(
                $"foldedWeights has {foldedWeights.Length} values, but it must be as long as weights ({weights.Length}).", nameof(foldedWeights));
        if (foldedBias.Length != outChannels)
            throw new ArgumentException(
                $"foldedBias has {foldedBias.Length} values, but it must have one per output channel ({outChannels}).", nameof(foldedBias));
        // Element i is read before it is written, so the same memory works; a shifted overlap would read values already folded.
        if (weights.Overlaps(foldedWeights, out int weightsShift) && weightsShift != 0)
            throw new ArgumentException("foldedWeights partly overlaps weights; it must be the same memory or separate memory.", nameof(foldedWeights));
        if (bias.Overlaps(foldedBias, out int biasShift) && biasShift != 0)
            throw new ArgumentException("foldedBias partly overlaps bias; it must be the same memory or separate memory.", nameof(foldedBias));
        if (weights.Overlaps(foldedBias))
            throw new ArgumentException("foldedBias overlaps weights; they must be separate memory.", nameof(foldedBias));
        if (bias.Overlaps(foldedWeights))
            throw new ArgumentException("foldedWeights overlaps bias; they must be separate memory.", nameof(foldedWeights));

        int outPerGroup = outChannels / groups, inPerGroup = inChannels / groups;
        for (int ic = 0; ic < inChannels; ic++)
        {
            int firstOutChannel = ic / inPerGroup * outPerGroup;
            for (int j = 0; j < outPerGroup; j++)
            {
                var scale = (float)batchNorm.GetScale(firstOutChannel + j);
                int start = (ic * outPerGroup + j) * kernelElementCount;
                for (int k = start; k < start + kernelElementCount; k++)
                    foldedWeights[k] = weights[k] * scale;
            }
        }

        for (int o = 0; o < outChannels; o++)
        {
            double b = bias.IsEmpty ? 0 : bias[o];
            foldedBias[o] = (float)((b - batchNorm.RunningMean[o]) * batchNorm.GetScale(o) + batchNorm.Beta[o]);
        }
    }

    /// <summary>
    /// Returns the folded weights and bias of a transposed convolution followed by <paramref name="batchNorm"/>
    /// (see <see cref="Fold(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, int, BatchNormParameters, Span{float}, Span{float})"/>
    /// for the parameters and the rules).
    /// </summary>
    /// <returns>New arrays: the weights in the layout of <paramref name="weights"/>, and <paramref name="outChannels"/> bias values.</returns>
    /// <exception cref="ArgumentException">A parameter breaks a rule; the message names the parameter, its value and the rule.</exception>
    public static (float[] Weights, float[] Bias) Fold(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int inChannels,
        int outChannels, int groups, int kernelElementCount, BatchNormParameters batchNorm)
    {
        CheckLayer(weights, bias, inChannels, outChannels, groups, kernelElementCount, batchNorm);
        var foldedWeights = new float[weights.Length];
        var foldedBias = new float[outChannels];
        Fold(weights, bias, inChannels, outChannels, groups, kernelElementCount, batchNorm, foldedWeights, foldedBias);
        return (foldedWeights, foldedBias);
    }

    /// <summary>
    /// Returns the folded weights and bias of <paramref name="convolution"/> followed by <paramref name="batchNorm"/>; the
    /// channels, groups and kernel size come from the layer.
    /// </summary>
    /// <param name="convolution">The 2-D transposed convolution.</param>
    /// <param name="weights">Its weights, <see cref="ConvTranspose2D.WeightsLength"/> values.</param>
    /// <param name="bias">Its bias, <see cref="ConvTranspose2D.OutChannels"/> values, or empty for none.</param>
    /// <param name="batchNorm">The normalisation after it, with <see cref="ConvTranspose2D.OutChannels"/> channels.</param>
    /// <returns>New arrays that <paramref name="convolution"/> computes the two layers with.</returns>
    /// <exception cref="ArgumentException">A parameter breaks a rule; the message names the parameter, its value and the rule.</exception>
    public static (float[] Weights, float[] Bias) Fold(ConvTranspose2D convolution, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        BatchNormParameters batchNorm)
    {
        ArgumentNullException.ThrowIfNull(convolution);
        return Fold(weights, bias, convolution.InChannels, convolution.OutChannels, convolution.Groups,
            convolution.KernelSize.Height * convolution.KernelSize.Width, batchNorm);
    }

    /// <summary>
    /// Returns the folded weights and bias of <paramref name="convolution"/> followed by <paramref name="batchNorm"/>
    /// (PyTorch's <c>BatchNorm1d</c>); the channels, groups and kernel size come from the layer.
    /// </summary>
    /// <param name="convolution">The 1-D transposed convolution.</param>
    /// <param name="weights">Its weights, <see cref="ConvTranspose1D.WeightsLength"/> values.</param>
    /// <param name="bias">Its bias, <see cref="ConvTranspose1D.OutChannels"/> values, or empty for none.</param>
    /// <param name="batchNorm">The normalisation after it, with <see cref="ConvTranspose1D.OutChannels"/> channels.</param>
    /// <returns>New arrays that <paramref name="convolution"/> computes the two layers with.</returns>
    /// <exception cref="ArgumentException">A parameter breaks a rule; the message names the parameter, its value and the rule.</exception>
    public static (float[] Weights, float[] Bias) Fold(ConvTranspose1D convolution, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        BatchNormParameters batchNorm)
    {
        ArgumentNullException.ThrowIfNull(convolution);
        return Fold(weights, bias, convolution.InChannels, convolution.OutChannels, convolution.Groups, convolution.KernelSize, batchNorm);
    }

    /// <summary>
    /// Returns the folded weights and bias of <paramref name="convolution"/> followed by <paramref name="batchNorm"/>
    /// (PyTorch's <c>BatchNorm3d</c>); the channels, groups and kernel size come from the layer.
    /// </summary>
    /// <param name="convolution">The 3-D transposed convolution.</param>
    /// <param name="weights">Its weights, <see cref="ConvTranspose3D.WeightsLength"/> values.</param>
    /// <param name="bias">Its bias, <see cref="ConvTranspose3D.OutChannels"/> values, or empty for none.</param>
    /// <param name="batchNorm">The normalisation after it, with <see cref="ConvTranspose3D.OutChannels"/> channels.</param>
    /// <returns>New arrays that <paramref name="convolution"/> computes the two layers with.</returns>
    /// <exception cref="ArgumentException">A parameter breaks a rule; the message names the parameter, its value and the rule.</exception>
    public static (float[] Weights, float[] Bias) Fold(ConvTranspose3D convolution, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        BatchNormParameters batchNorm)
    {
        ArgumentNullException.ThrowIfNull(convolution);
        var k = convolution.KernelSize;
        return Fold(weights, bias, convolution.InChannels, convolution.OutChannels, convolution.Groups, k.Depth * k.Height * k.Width, batchNorm);
    }

    private static void CheckLayer(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int inChannels, int outChannels, int groups,
        int kernelElementCount, BatchNormParameters batchNorm)
    {
        ArgumentNullException.ThrowIfNull(batchNorm);
        ThrowIfLessThanOne(inChannels, nameof(inChannels));
        ThrowIfLessThanOne(outChannels, nameof(outChannels));
        ThrowIfLessThanOne(groups, nameof(groups));
        ThrowIfLessThanOne(kernelElementCount, nameof(kernelElementCount));
        if (inChannels % groups != 0)
            throw new ArgumentException($"inChannels is {inChannels}, but it must be a multiple of groups ({groups}).", nameof(inChannels));
        if (outChannels % groups != 0)
            throw new ArgumentException($"outChannels is {outChannels}, but it must be a multiple of groups ({groups}).", nameof(outChannels));
        // rows <= weights.Length keeps rows * kernelElementCount below 2^62: no overflow.
        long rows = (long)inChannels * (outChannels / groups);
        if (rows > weights.Length || rows * kernelElementCount != weights.Length)
            throw new ArgumentException(
                $"weights has {weights.Length} values, but inChannels * (outChannels / groups) * kernelElementCount = {inChannels} * {outChannels / groups} * {kernelElementCount} = {(System.Numerics.BigInteger)inChannels * (outChannels / groups) * kernelElementCount}.",
                nameof(weights));
        if (batchNorm.Channels != outChannels)
            throw new ArgumentException(
                $"batchNorm has {batchNorm.Channels} channels, but it must have one per output channel of the convolution ({outChannels}).", nameof(batchNorm));
        if (!bias.IsEmpty && bias.Length != outChannels)
            throw new ArgumentException(
                $"bias has {bias.Length} values, but it must have one per output channel ({outChannels}) or be empty.", nameof(bias));
    }

    private static void ThrowIfLessThanOne(int value, string parameterName)
    {
        if (value < 1)
            throw new ArgumentOutOfRangeException(parameterName, value, $"{parameterName} is {value}, but it must be at least 1.");
    }
}
