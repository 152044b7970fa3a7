namespace KernelGen.Tests;

/// <summary>
/// The first call of a small prepared layer runs again inside the call (issue 17: under the JIT, call 2 otherwise met the
/// caches and branch predictors cold and took 5 to 40 times a steady call), writes what later calls write, and a large
/// layer's first call does not pay a second run.
/// </summary>
public class FirstCallRepeatTests
{
    [Fact]
    public void SmallFirstCallRunsAgainAndWritesWhatLaterCallsWrite()
    {
        var layer = new ConvTranspose2D(2, 3, kernelSize: 3, stride: 2, padding: 1);
        float[] weights = Enumerable.Range(0, 2 * 3 * 9).Select(i => (i % 7 - 3) * 0.25f).ToArray();
        float[] input = Enumerable.Range(0, 2 * 4 * 4).Select(i => (i % 5 - 2) * 0.5f).ToArray();
        var prepared = layer.Prepare(weights);
        int outputLength = 3 * 7 * 7;
        var first = new float[outputLength];
        var second = new float[outputLength];
        Array.Fill(first, float.NaN);

        prepared.Compute(input, 4, 4, first);
        Assert.True(prepared.RepeatedFirstCall);
        prepared.Compute(input, 4, 4, second);

        Assert.Equal(second, first);
        var unprepared = new float[outputLength];   // packs on every call and never repeats one
        new ConvTranspose2D(2, 3, kernelSize: 3, stride: 2, padding: 1).Compute(input, 4, 4, weights, ReadOnlySpan<float>.Empty, unprepared);
        Assert.Equal(unprepared, first);
    }

    [Fact]
    public void EmptyFirstCallLeavesTheRepeatToTheFirstRealCall()
    {
        var layer = new ConvTranspose2D(1, 1, kernelSize: 2, stride: 2);
        var prepared = layer.Prepare(new float[] { 1, 2, 3, 4 });
        prepared.Compute(ReadOnlySpan<float>.Empty, 3, 3, Span<float>.Empty);
        Assert.False(prepared.RepeatedFirstCall);
        var output = new float[36];
        prepared.Compute(new float[9], 3, 3, output);
        Assert.True(prepared.RepeatedFirstCall);
    }

    /// <summary>
    /// A first call of a few milliseconds' work at most runs again where a first call compiles (under the JIT: game_up's and
    /// stride1's call 2 took 2 to 4 times a steady call on a Zen 5), and only there.
    /// </summary>
    [Fact]
    public void MidSizedFirstCallRunsAgainUnderTheJitOnly()
    {
        // 32 -> 32 channels, 3 x 3 kernel, stride 1, 32 x 32 input: 32 * 32 * 9 * 1024 = 9.4 M multiply-adds (stride1).
        var layer = new ConvTranspose2D(32, 32, kernelSize: 3, stride: 1, padding: 1) { MaxDegreeOfParallelism = 1 };
        float[] weights = Enumerable.Range(0, 32 * 32 * 9).Select(i => (i % 11 - 5) * 0.01f).ToArray();
        float[] input = Enumerable.Range(0, 32 * 32 * 32).Select(i => (i % 7 - 3) * 0.5f).ToArray();
        var prepared = layer.Prepare(weights);
        var first = new float[32 * 32 * 32];
        var second = new float[32 * 32 * 32];
        Array.Fill(first, float.NaN);
        prepared.Compute(input, 32, 32, first);
        Assert.Equal(System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeCompiled, prepared.RepeatedFirstCall);
        Assert.InRange(32L * 32 * 9 * 32 * 32, PreparedConvTranspose2D.FirstCallRepeatMaxMultiplyAdds + 1, PreparedConvTranspose2D.FirstCallRepeatMaxMultiplyAddsJit);
        prepared.Compute(input, 32, 32, second);
        Assert.Equal(second, first);
    }

    [Fact]
    public void LargeFirstCallRunsOnce()
    {
        // 64 x 64 channels, 4 x 4 kernel, 32 x 32 input: 64 * 64 * 16 * 1024 = 67 M multiply-adds, far above the limit.
        var layer = new ConvTranspose2D(64, 64, kernelSize: 4, stride: 2, padding: 1) { MaxDegreeOfParallelism = 1 };
        var prepared = layer.Prepare(new float[64 * 64 * 16]);
        prepared.Compute(new float[64 * 32 * 32], 32, 32, new float[64 * 64 * 64]);
        Assert.False(prepared.RepeatedFirstCall);
    }
}
