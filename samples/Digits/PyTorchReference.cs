using KernelGen.IO;

namespace Digits;

/// <summary>
/// What PyTorch computed with the trained generator for a few fixed latent vectors, as the training script saved it beside
/// the weights: <c>fixed_latents.npy</c> (N, 32), <c>fixed_digits.npy</c> (N,) and <c>fixed_outputs.npy</c> (N, 1, 16, 16),
/// PyTorch's generator in eval mode with the weights as the file holds them.
/// </summary>
public sealed class PyTorchReference
{
    /// <summary>The file of the latent vectors.</summary>
    public const string LatentsFileName = "fixed_latents.npy";

    /// <summary>The file of the digits, one per latent vector, stored as float32 (0.0 to 9.0).</summary>
    public const string DigitsFileName = "fixed_digits.npy";

    /// <summary>The file of PyTorch's images.</summary>
    public const string OutputsFileName = "fixed_outputs.npy";

    /// <summary>
    /// The largest difference allowed from PyTorch's images, relative to the larger of 1 and PyTorch's value. Both compute
    /// in float from the same float16 weights, but KernelGen folds the batch norms into the weights (one more rounding per
    /// weight) and sums in another order; over three layers the difference stays near 1e-6, so 1e-4 fails only on a real error.
    /// </summary>
    public const double Tolerance = 1e-4;

    private PyTorchReference(float[][] latents, int[] digits, float[][] outputs)
    {
        Latents = latents;
        Digits = digits;
        Outputs = outputs;
    }

    /// <summary>The latent vectors, <see cref="DigitsGenerator.LatentLength"/> values each.</summary>
    public IReadOnlyList<float[]> Latents { get; }

    /// <summary>The digit of each latent vector.</summary>
    public IReadOnlyList<int> Digits { get; }

    /// <summary>PyTorch's image for each latent vector and digit, <see cref="DigitsGenerator.ImageLength"/> values each.</summary>
    public IReadOnlyList<float[]> Outputs { get; }

    /// <summary>Whether <paramref name="folder"/> holds the three files.</summary>
    public static bool Exists(string folder) =>
        File.Exists(Path.Combine(folder, LatentsFileName)) && File.Exists(Path.Combine(folder, DigitsFileName)) &&
        File.Exists(Path.Combine(folder, OutputsFileName));

    /// <summary>Reads the three files from <paramref name="folder"/> and checks that their shapes fit together.</summary>
    /// <exception cref="InvalidDataException">A file is not a float <c>.npy</c> file, or the shapes do not fit the network.</exception>
    public static PyTorchReference Load(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        float[] latents = NpyFile.ReadSingle(Path.Combine(folder, LatentsFileName), out int[] latentShape);
        float[] digits = NpyFile.ReadSingle(Path.Combine(folder, DigitsFileName), out int[] digitShape);
        float[] outputs = NpyFile.ReadSingle(Path.Combine(folder, OutputsFileName), out int[] outputShape);
        if (latentShape is not [int count, DigitsGenerator.LatentLength] || digitShape is not [var digitCount] || digitCount != count ||
            outputShape is not [var outputCount, 1, DigitsGenerator.ImageSize, DigitsGenerator.ImageSize] || outputCount != count)
            throw new InvalidDataException(
                $"The reference files in '{folder}' have shapes [{string.Join(", ", latentShape)}], [{string.Join(", ", digitShape)}] and " +
                $"[{string.Join(", ", outputShape)}]; they must be (N, {DigitsGenerator.LatentLength}), (N,) and (N, 1, 16, 16).");

        var digitValues = new int[count];
        for (int i = 0; i < count; i++)
        {
            if (digits[i] is not (>= 0 and < DigitsGenerator.DigitCount) || digits[i] != MathF.Floor(digits[i]))
                throw new InvalidDataException($"{DigitsFileName} in '{folder}' holds {digits[i]} at index {i}, which is not a digit 0 to 9.");
            digitValues[i] = (int)digits[i];
        }

        return new PyTorchReference(Split(latents, DigitsGenerator.LatentLength), digitValues, Split(outputs, DigitsGenerator.ImageLength));
    }

    /// <summary>
    /// Runs <paramref name="generator"/> on every latent vector and returns the largest difference from PyTorch's image,
    /// relative to the larger of 1 and PyTorch's value (NaN if any value is NaN).
    /// </summary>
    /// <param name="generator">The network.</param>
    /// <param name="useRuntime">Compute with the runtime path instead of the generated kernels.</param>
    public double LargestRelativeDifference(DigitsGenerator generator, bool useRuntime)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var image = new float[DigitsGenerator.ImageLength];
        double largest = 0;
        for (int i = 0; i < Latents.Count; i++)
        {
            if (useRuntime)
                generator.RunRuntime(Latents[i], Digits[i], image);
            else
                generator.RunGenerated(Latents[i], Digits[i], image);
            for (int j = 0; j < image.Length; j++)
            {
                double expected = Outputs[i][j];
                double difference = Math.Abs(image[j] - expected) / Math.Max(1, Math.Abs(expected));
                if (!(difference <= largest)) // NaN propagates, so a NaN anywhere is never "within tolerance"
                    largest = difference;
            }
        }

        return largest;
    }

    private static float[][] Split(float[] values, int length)
    {
        var parts = new float[values.Length / length][];
        for (int i = 0; i < parts.Length; i++)
            parts[i] = values.AsSpan(i * length, length).ToArray();
        return parts;
    }
}
