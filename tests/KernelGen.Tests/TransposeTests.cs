using CsCheck;
using KernelGen.Kernels;

namespace KernelGen.Tests;

public class TransposeTests
{
    [Fact]
    public void TransposeMovesEveryElementAndNothingElse() =>
        Gen.Select(Gen.Int[1, 40], Gen.Int[1, 40], Gen.Int[0, 5], Gen.Int[0, 5]).Sample((rows, columns, sourceSlack, destinationSlack) =>
        {
            int sourceStride = columns + sourceSlack, destinationStride = rows + destinationSlack;
            var source = new float[rows * sourceStride];
            for (int i = 0; i < source.Length; i++) source[i] = i + 1;
            var destination = new float[columns * destinationStride];
            Transpose.Run(source, sourceStride, destination, destinationStride, rows, columns);
            for (int c = 0; c < columns; c++)
            for (int r = 0; r < destinationStride; r++)
            {
                // Inside the matrix: the transposed element; in the slack between rows: untouched.
                float expected = r < rows ? source[r * sourceStride + c] : 0;
                Assert.Equal(expected, destination[c * destinationStride + r]);
            }
        }, iter: 300);

    /// <summary>
    /// Four contiguous columns (a 4-channel layer's pixels, as the channel kernel writes them) take a 16-row path on
    /// AVX-512; the random test above rarely draws that exact shape, so every row count around whole 16-row blocks is
    /// tried here, with a remainder for the general path.
    /// </summary>
    [Fact]
    public void TransposeOfFourContiguousColumnsMovesEveryElementAndNothingElse() =>
        Gen.Select(Gen.Int[1, 70], Gen.Int[0, 5]).Sample((rows, destinationSlack) =>
        {
            const int columns = 4;
            int destinationStride = rows + destinationSlack;
            var source = new float[rows * columns];
            for (int i = 0; i < source.Length; i++) source[i] = i + 1;
            var destination = new float[columns * destinationStride];
            Transpose.Run(source, columns, destination, destinationStride, rows, columns);
            for (int c = 0; c < columns; c++)
            for (int r = 0; r < destinationStride; r++)
                Assert.Equal(r < rows ? source[r * columns + c] : 0, destination[c * destinationStride + r]);
        }, iter: 300);

    /// <summary>
    /// <see cref="Transpose.ToPlanes"/> gives, bit for bit, what adding the bias in place, applying the activation and
    /// transposing gave (the 3-D layer's path before it), special values included, and writes nothing past the planes.
    /// Pixel counts around whole 8-pixel blocks and channel counts around whole 4-channel groups, bands included.
    /// </summary>
    [Fact]
    public void ToPlanesIsBiasThenActivationThenTranspose() =>
        Gen.Select(Gen.Int[1, 300], Gen.Int[1, 40], Gen.Int[0, 5], Gen.Bool, Gen.Bool, Gen.Int[0, 1000]).Sample((pixels, channels, slack, withBias, relu, seed) =>
        {
            var random = new Random(seed);
            float[] specials = [float.NaN, -0f, 0f, float.PositiveInfinity, float.NegativeInfinity, -1e-30f];
            float Value() => random.Next(10) == 0 ? specials[random.Next(specials.Length)] : (float)(random.NextDouble() * 4 - 2);
            var source = new float[pixels * channels];
            for (int i = 0; i < source.Length; i++) source[i] = Value();
            float[] bias = withBias ? Enumerable.Range(0, channels).Select(_ => Value()).ToArray() : [];
            int stride = pixels + slack;
            var expected = new float[channels * stride];
            var actual = new float[channels * stride];
            Array.Fill(expected, 42f);
            Array.Fill(actual, 42f);

            var finished = (float[])source.Clone();
            for (int p = 0; p < pixels; p++)
            for (int c = 0; c < channels; c++)
            {
                float v = finished[p * channels + c];
                if (withBias) v += bias[c];
                finished[p * channels + c] = relu ? Activations.Relu(v) : v;
            }

            Transpose.Run(finished, channels, expected, stride, pixels, channels);
            Transpose.ToPlanes(source, actual, stride, pixels, channels, bias, relu);
            for (int i = 0; i < expected.Length; i++)
                Assert.Equal(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(actual[i]));
        }, iter: 300);
}
