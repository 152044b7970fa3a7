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
}
