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
}
