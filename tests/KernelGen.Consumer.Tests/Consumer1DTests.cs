namespace KernelGen.Consumer.Tests;

/// <summary>Generated 1-D kernels, built by the real compiler, against the course example and the runtime's <see cref="ConvTranspose1D"/>.</summary>
public class Consumer1DTests
{
    [Fact]
    public void TheCourseExampleRowGivesItsHandWorkedResultExactly()
    {
        var output = new float[Upsamplers1D.RowShape.OutputElements];
        Upsamplers1D.Row([2, 1, 3, 2], [2, 0, 1], output);
        Assert.Equal([0, 4, 0, 7, 0, 7, 0, 2], output);
    }

    [Fact]
    public void ShapeConstantsSpeakOfLengths()
    {
        Assert.Equal(16, Upsamplers1D.VocoderShape.InputLength);
        Assert.Equal(128, Upsamplers1D.VocoderShape.OutputLength);
        Assert.Equal(32 * 16, Upsamplers1D.VocoderShape.InputElements);
        Assert.Equal(16 * 128, Upsamplers1D.VocoderShape.OutputElements);
        Assert.Equal(32 * 16 * 16, Upsamplers1D.VocoderShape.WeightsLength);
        Assert.Equal(16, Upsamplers1D.VocoderShape.BiasLength);
    }

    [Theory]
    [InlineData(TensorLayout.Ncl)]
    [InlineData(TensorLayout.Nlc)]
    public void TheVocoderLayerMatchesTheRuntime(TensorLayout layout)
    {
        var random = new Random(7);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] input = Values(2 * Upsamplers1D.VocoderShape.InputElements), weights = Values(Upsamplers1D.VocoderShape.WeightsLength), bias = Values(16);
        var generated = new float[2 * Upsamplers1D.VocoderShape.OutputElements];
        if (layout == TensorLayout.Ncl) Upsamplers1D.Vocoder(input, weights, bias, generated);
        else Upsamplers1D.VocoderNlc(input, weights, bias, generated);

        var runtime = new float[generated.Length];
        new ConvTranspose1D(32, 16, 16, stride: 8, padding: 4) { Layout = layout, Activation = FusedActivation.LeakyRelu, LeakyReluSlope = 0.1f }
            .Compute(input, 16, weights, bias, runtime);
        for (int i = 0; i < runtime.Length; i++)
            Assert.True(Math.Abs(runtime[i] - generated[i]) <= 1e-4f, $"[{i}] {generated[i]} != {runtime[i]}");
    }

    [Fact]
    public void TheTapVectorLayerMatchesTheRuntimeOnEveryCall()
    {
        var random = new Random(11);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] input = Values(Upsamplers1D.VocoderWideShape.InputElements), weights = Values(Upsamplers1D.VocoderWideShape.WeightsLength), bias = Values(128);
        var runtime = new float[Upsamplers1D.VocoderWideShape.OutputElements];
        new ConvTranspose1D(256, 128, 16, stride: 8, padding: 4).Compute(input, 11, weights, bias, runtime);

        // Twice, the second time with other weights of the same shape: the per-thread copy must hold nothing over from the first call.
        for (int call = 0; call < 2; call++)
        {
            var generated = new float[runtime.Length];
            Upsamplers1D.VocoderWide(input, weights, bias, generated);
            for (int i = 0; i < runtime.Length; i++)
                Assert.True(Math.Abs(runtime[i] - generated[i]) <= 1e-3f, $"call {call + 1}: [{i}] {generated[i]} != {runtime[i]}");

            weights = Values(weights.Length);
            new ConvTranspose1D(256, 128, 16, stride: 8, padding: 4).Compute(input, 11, weights, bias, runtime);
        }
    }

    [Fact]
    public void ABadCallIsRejectedIn1DTerms()
    {
        var e = Assert.Throws<ArgumentException>(() => Upsamplers1D.Row(new float[5], [2, 0, 1], new float[8]));
        Assert.Equal("input", e.ParamName);
        Assert.Contains("inChannels * inputLength = 1 * 4 = 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => Upsamplers1D.Row(new float[4], [2, 0, 1], new float[7]));
        Assert.Contains("batch * outChannels * outputLength = 1 * 1 * 8 = 8", e.Message);
    }
}
