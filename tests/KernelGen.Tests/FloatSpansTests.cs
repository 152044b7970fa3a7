using KernelGen.Kernels;

namespace KernelGen.Tests;

/// <summary>
/// The library's own clear, copy and overlap check (<see cref="FloatSpans"/>), which replace the framework's on the path of
/// every call so that tiered compilation never recompiles a method of it during the calls (docs/first-calls.md).
/// </summary>
public class FloatSpansTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)]
    [InlineData(7, 3)]
    [InlineData(16, 1)]
    [InlineData(67, 5)]
    [InlineData(260, 13)]
    public void ClearZeroesExactlyTheSpan(int length, int start)
    {
        float[] values = Enumerable.Range(0, length + start + 3).Select(i => i + 1f).ToArray();
        FloatSpans.Clear(values.AsSpan(start, length));
        for (int i = 0; i < values.Length; i++)
            Assert.Equal(i >= start && i < start + length ? 0f : i + 1f, values[i]);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(3, 1)]
    [InlineData(8, 0)]
    [InlineData(33, 2)]
    [InlineData(129, 7)]
    public void CopyWritesTheSourceAndNothingElse(int length, int start)
    {
        float[] source = Enumerable.Range(0, length).Select(i => i * 0.5f - 3f).ToArray();
        source[0..Math.Min(length, 1)].AsSpan().Fill(float.NaN);   // special values are copied as they are
        float[] destination = Enumerable.Repeat(-1f, length + start + 4).ToArray();
        FloatSpans.Copy(source, destination.AsSpan(start));
        for (int i = 0; i < destination.Length; i++)
        {
            if (i >= start && i < start + length) Assert.Equal(source[i - start], destination[i]);
            else Assert.Equal(-1f, destination[i]);
        }
    }

    /// <summary>
    /// The width kernels' padded-row copy (<see cref="WidthVectorizedKernel.CopyRowsBetweenZeros"/>) at every row length
    /// around the vector widths (its last vector moved back, its scalar fallback below the narrowest), with borders of 0 to
    /// 17 floats on each side: each row holds its source row between zeros, and nothing outside the rows is written.
    /// </summary>
    [Fact]
    public void RowsBetweenZerosHoldTheSourceBetweenZerosAndNothingElse()
    {
        foreach (int length in new[] { 0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 70 })
        foreach (int left in new[] { 0, 1, 2, 9 })
        foreach (int right in new[] { 0, 1, 2, 8, 17 })
        foreach (int rows in new[] { 1, 3 })
        {
            int pitch = left + length + right;
            if (pitch == 0) continue;
            float[] source = Enumerable.Range(0, rows * length + 2).Select(i => i + 1f).ToArray();
            float[] destination = Enumerable.Repeat(float.NaN, rows * pitch + 4).ToArray();
            WidthVectorizedKernel.CopyRowsBetweenZeros(ref source[1], length, ref destination[2], pitch, left, rows);
            for (int i = 0; i < destination.Length; i++)
            {
                int cell = i - 2, row = cell < 0 ? -1 : cell / pitch, x = cell - row * pitch - left;
                if (cell < 0 || row >= rows) Assert.True(float.IsNaN(destination[i]), $"length {length} left {left} right {right}: wrote cell {i}");
                else Assert.Equal(x >= 0 && x < length ? source[1 + row * length + x] : 0f, destination[i]);
            }
        }
    }

    [Fact]
    public void Fill0WritesZerosToItsRangeAndNothingElse()
    {
        // Every length around the 128- and 256-bit vector widths, so each branch's last vector moved back is covered on
        // whichever instruction set the test runs with (CI runs it with AVX-512, AVX2 and all intrinsics off too).
        for (int length = 0; length <= 40; length++)
        {
            float[] destination = Enumerable.Repeat(float.NaN, length + 6).ToArray();
            WidthVectorizedKernel.Fill0(ref destination[3], length);
            for (int i = 0; i < destination.Length; i++)
            {
                if (i >= 3 && i < 3 + length) Assert.Equal(0f, destination[i]);
                else Assert.True(float.IsNaN(destination[i]), $"length {length}: wrote cell {i}");
            }
        }
    }

    [Fact]
    public void CopyRefusesAShortDestination() =>
        Assert.Throws<ArgumentException>(() => FloatSpans.Copy(new float[5], new float[4]));

    [Fact]
    public void OverlapAgreesWithTheFramework()
    {
        float[] buffer = new float[40];
        for (int a = 0; a < 12; a++)
        for (int aLength = 0; aLength < 10; aLength++)
        for (int b = 0; b < 12; b++)
        for (int bLength = 0; bLength < 10; bLength++)
        {
            ReadOnlySpan<float> first = buffer.AsSpan(a, aLength), second = buffer.AsSpan(b, bLength);
            Assert.Equal(first.Overlaps(second), FloatSpans.Overlap(first, second));
        }

        Assert.False(FloatSpans.Overlap(new float[4], new float[4]));
    }
}
