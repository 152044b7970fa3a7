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
