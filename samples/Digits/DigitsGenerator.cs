using KernelGen;
using KernelGen.IO;

namespace Digits;

/// <summary>
/// The trained digits generator at inference time: a latent vector of 32 numbers and a digit 0-9 become a 16x16 grey image
/// of that digit through three transposed convolutions, 42x1x1 → 4x4x64 → 8x8x32 → 16x16x1.
/// </summary>
/// <remarks>
/// <para>The network is a conditional DCGAN generator that <c>training/train_digits.py</c> trained in PyTorch on
/// scikit-learn's handwritten digits: <c>nn.Sequential(ConvTranspose2d(42, 64, 4, 1, 0, bias=False), BatchNorm2d(64), ReLU,
/// ConvTranspose2d(64, 32, 4, 2, 1, bias=False), BatchNorm2d(32), ReLU, ConvTranspose2d(32, 1, 4, 2, 1), Tanh)</c> fed with
/// <c>cat([latent, one_hot(digit)])</c> as a 1x1 image. <see cref="Load"/> reads its state dict from the
/// <c>.safetensors</c> file the script wrote and folds each batch normalisation into the convolution before it
/// (<see cref="BatchNormFolding"/>), so each layer is one convolution with its activation fused.</para>
/// <para><see cref="RunGenerated"/> runs the kernels that KernelGen's source generator wrote for these three shapes
/// (<see cref="DigitsKernels"/>), <see cref="RunRuntime"/> the same folded layers on the runtime path
/// (<see cref="PreparedConvTranspose2D"/>, one thread).</para>
/// <para>One generator holds the buffers of its input and intermediate activations: it is not safe to run it from several
/// threads at once, and it allocates nothing per run.</para>
/// </remarks>
public sealed class DigitsGenerator
{
    /// <summary>The length of the latent vector.</summary>
    public const int LatentLength = 32;

    /// <summary>The digits the generator draws: 0 to 9, given to the network as a one-hot code after the latent vector.</summary>
    public const int DigitCount = 10;

    /// <summary>The network's input: the latent vector, then the one-hot code of the digit (a 1x1 image with 42 channels).</summary>
    public const int InputLength = DigitsKernels.ProjectShape.InputLength;

    /// <summary>The height and width of the image.</summary>
    public const int ImageSize = DigitsKernels.ToImageShape.OutputHeight;

    /// <summary>Elements of the image: 16 x 16 grey values in [-1, 1], row by row (-1 is the background, 1 the ink).</summary>
    public const int ImageLength = DigitsKernels.ToImageShape.OutputLength;

    /// <summary>The <c>eps</c> of the network's <c>BatchNorm2d</c> layers (PyTorch's default; not stored in the file).</summary>
    public const float BatchNormEpsilon = 1e-5f;

    /// <summary>Where the trained weights are, relative to the program: <c>Model/generator.safetensors</c>.</summary>
    public static readonly string DefaultWeightsPath = Path.Combine(AppContext.BaseDirectory, "Model", "generator.safetensors");

    private const int KernelSize = 4;

    // The layers as the training script declares them, by their names in the state dict (nn.Sequential's indices).
    private static readonly LayerSpec[] Specs =
    [
        new("layers.0", "layers.1", InputLength, 64, InputSize: 1, Stride: 1, Padding: 0, FusedActivation.Relu),
        new("layers.3", "layers.4", 64, 32, InputSize: 4, Stride: 2, Padding: 1, FusedActivation.Relu),
        new("layers.6", BatchNorm: null, 32, 1, InputSize: 8, Stride: 2, Padding: 1, FusedActivation.Tanh),
    ];

    private readonly (float[] Weights, float[] Bias)[] _folded;
    private readonly PreparedConvTranspose2D[] _runtime;
    private readonly float[] _input = new float[InputLength];
    private readonly float[] _hidden1 = new float[DigitsKernels.ProjectShape.OutputLength];
    private readonly float[] _hidden2 = new float[DigitsKernels.UpsampleTo8Shape.OutputLength];

    private DigitsGenerator(string path, (float[] Weights, float[] Bias)[] folded)
    {
        WeightsPath = path;
        _folded = folded;
        _runtime = new PreparedConvTranspose2D[Specs.Length];
        for (int i = 0; i < Specs.Length; i++)
            _runtime[i] = Specs[i].CreateRuntimeLayer().Prepare(folded[i].Weights, folded[i].Bias);
    }

    /// <summary>The file the weights were read from.</summary>
    public string WeightsPath { get; }

    /// <summary>Multiply-adds of one image as the definition counts them, over the three layers.</summary>
    public static long MultiplyAdds => Specs.Sum(spec => (long)spec.InputSize * spec.InputSize * spec.InChannels * spec.OutChannels * KernelSize * KernelSize);

    /// <summary>
    /// Reads the generator's state dict from a <c>.safetensors</c> file and folds its batch normalisations.
    /// </summary>
    /// <param name="path">The file <c>training/train_digits.py</c> wrote (any float dtype), or one with the same tensors:
    /// <c>layers.{0,3,6}.weight</c>, <c>layers.6.bias</c> and <c>layers.{1,4}.{weight,bias,running_mean,running_var}</c>.</param>
    /// <returns>The generator, ready to run on both paths.</returns>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a safetensors file, or a tensor is missing or has another
    /// shape than the network's; the message names the file and the tensor.</exception>
    public static DigitsGenerator Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = SafeTensorsFile.Open(path);
        var folded = new (float[] Weights, float[] Bias)[Specs.Length];
        for (int i = 0; i < Specs.Length; i++)
        {
            LayerSpec spec = Specs[i];
            float[] weights = Read(file, spec.Convolution + ".weight", [spec.InChannels, spec.OutChannels, KernelSize, KernelSize]);
            if (spec.BatchNorm is null)
            {
                folded[i] = (weights, Read(file, spec.Convolution + ".bias", [spec.OutChannels]));
                continue;
            }

            // DCGAN's convolutions before a normalisation have no bias (its shift would be cancelled by the mean).
            if (file.Contains(spec.Convolution + ".bias"))
                throw new InvalidDataException($"'{path}' has a tensor '{spec.Convolution}.bias', but the network's layer {spec.Convolution} has no bias (bias=False).");
            var batchNorm = new BatchNormParameters(
                Read(file, spec.BatchNorm + ".weight", [spec.OutChannels]),
                Read(file, spec.BatchNorm + ".bias", [spec.OutChannels]),
                Read(file, spec.BatchNorm + ".running_mean", [spec.OutChannels]),
                Read(file, spec.BatchNorm + ".running_var", [spec.OutChannels]),
                BatchNormEpsilon);
            folded[i] = BatchNormFolding.Fold(weights, ReadOnlySpan<float>.Empty, spec.InChannels, spec.OutChannels, groups: 1,
                KernelSize * KernelSize, batchNorm);
        }

        return new DigitsGenerator(Path.GetFullPath(path), folded);
    }

    /// <summary>Writes the network's input for one image: the latent vector, then the one-hot code of <paramref name="digit"/>.</summary>
    /// <param name="latent">The latent vector, <see cref="LatentLength"/> values.</param>
    /// <param name="digit">The digit to draw, 0 to 9.</param>
    /// <param name="input">Receives <see cref="InputLength"/> values.</param>
    public static void CreateInput(ReadOnlySpan<float> latent, int digit, Span<float> input)
    {
        CheckLatent(latent, digit);
        if (input.Length != InputLength)
            throw new ArgumentException($"input has {input.Length} values, but the network's input has {InputLength} (latent {LatentLength} + one-hot {DigitCount}).", nameof(input));
        latent.CopyTo(input);
        input[LatentLength..].Clear();
        input[LatentLength + digit] = 1f;
    }

    /// <summary>Computes the image of <paramref name="digit"/> for one latent vector with the generated kernels (on the calling thread).</summary>
    /// <param name="latent">The latent vector, <see cref="LatentLength"/> values.</param>
    /// <param name="digit">The digit to draw, 0 to 9.</param>
    /// <param name="image">Receives the image, <see cref="ImageLength"/> values in [-1, 1], row by row.</param>
    public void RunGenerated(ReadOnlySpan<float> latent, int digit, Span<float> image)
    {
        CheckImage(image);
        CreateInput(latent, digit, _input);
        DigitsKernels.Project(_input, _folded[0].Weights, _folded[0].Bias, _hidden1);
        DigitsKernels.UpsampleTo8(_hidden1, _folded[1].Weights, _folded[1].Bias, _hidden2);
        DigitsKernels.ToImage(_hidden2, _folded[2].Weights, _folded[2].Bias, image);
    }

    /// <summary>Computes the image of <paramref name="digit"/> for one latent vector on KernelGen's runtime path (one thread),
    /// the same folded layers and activations as <see cref="RunGenerated"/>.</summary>
    /// <param name="latent">The latent vector, <see cref="LatentLength"/> values.</param>
    /// <param name="digit">The digit to draw, 0 to 9.</param>
    /// <param name="image">Receives the image, <see cref="ImageLength"/> values in [-1, 1], row by row.</param>
    public void RunRuntime(ReadOnlySpan<float> latent, int digit, Span<float> image)
    {
        CheckImage(image);
        CreateInput(latent, digit, _input);
        _runtime[0].Compute(_input, 1, 1, _hidden1);
        _runtime[1].Compute(_hidden1, Specs[1].InputSize, Specs[1].InputSize, _hidden2);
        _runtime[2].Compute(_hidden2, Specs[2].InputSize, Specs[2].InputSize, image);
    }

    private static float[] Read(SafeTensorsFile file, string name, int[] expectedShape)
    {
        if (!file.Contains(name))
            throw new InvalidDataException($"'{file.Path}' has no tensor '{name}'; the digits generator needs it (shape [{string.Join(", ", expectedShape)}]).");
        int[] shape = file.GetShape(name);
        if (!shape.AsSpan().SequenceEqual(expectedShape))
            throw new InvalidDataException(
                $"Tensor '{name}' of '{file.Path}' has shape [{string.Join(", ", shape)}], but the digits generator's is [{string.Join(", ", expectedShape)}].");
        return file.ReadSingle(name);
    }

    private static void CheckLatent(ReadOnlySpan<float> latent, int digit)
    {
        if (latent.Length != LatentLength)
            throw new ArgumentException($"The latent vector has {latent.Length} values, but it must have {LatentLength}.", nameof(latent));
        if ((uint)digit >= DigitCount)
            throw new ArgumentOutOfRangeException(nameof(digit), digit, "The digit must be 0 to 9.");
    }

    private static void CheckImage(Span<float> image)
    {
        if (image.Length != ImageLength)
            throw new ArgumentException($"The image has {image.Length} values, but it must have {ImageLength} (16 x 16).", nameof(image));
    }

    /// <summary>One layer of the network: a transposed convolution (kernel 4, square input) and the batch norm after it, if any.</summary>
    private sealed record LayerSpec(string Convolution, string? BatchNorm, int InChannels, int OutChannels, int InputSize, int Stride,
        int Padding, FusedActivation Activation)
    {
        public ConvTranspose2D CreateRuntimeLayer() =>
            new(InChannels, OutChannels, kernelSize: KernelSize, stride: Stride, padding: Padding)
            {
                Layout = DigitsKernels.ActivationLayout,
                Activation = Activation,
                MaxDegreeOfParallelism = 1,
            };
    }
}
