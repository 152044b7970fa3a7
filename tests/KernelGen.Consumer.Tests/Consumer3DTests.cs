using System.Text.Json;

namespace KernelGen.Consumer.Tests;

/// <summary>Generated 3-D kernels, built by the real compiler, against the course example stacked in depth, PyTorch and the runtime's <see cref="ConvTranspose3D"/>.</summary>
public class Consumer3DTests
{
    /// <summary>The 2-D course example's answer Y: input [[2, 1], [3, 2]], filter [[1, 2, 1], [2, 0, 1], [0, 2, 1]], stride 2, padding 1, output padding 1.</summary>
    private static readonly float[] CourseAnswer = [0, 4, 0, 1, 10, 7, 6, 3, 0, 7, 0, 2, 6, 3, 4, 2];

    private static readonly float[] CourseInput = [2, 1, 3, 2];

    private static readonly float[] CourseFilter = [1, 2, 1, 2, 0, 1, 0, 2, 1];

    private static float[] Scaled(float[] values, float factor) => values.Select(v => factor * v).ToArray();

    /// <summary>
    /// Input slices x and -x, filter slices f and 2f, stride 2 along the depth: input slice i pastes its copies at depth 2i, filter
    /// slice k one further, so the output slices are x * f, x * 2f, -x * f, -x * 2f: Y, 2Y, -Y, -2Y (as the runtime's test).
    /// </summary>
    [Fact]
    public void TheCourseExampleStackedInDepthGivesItsHandWorkedResultExactly()
    {
        float[] input = [.. CourseInput, .. Scaled(CourseInput, -1)], weights = [.. CourseFilter, .. Scaled(CourseFilter, 2)];
        float[] expected = [.. CourseAnswer, .. Scaled(CourseAnswer, 2), .. Scaled(CourseAnswer, -1), .. Scaled(CourseAnswer, -2)];
        Assert.Equal(64, Volumes3D.CourseShape.OutputElements);
        var output = new float[Volumes3D.CourseShape.OutputElements];
        Volumes3D.Course(input, weights, output);
        Assert.Equal(expected, output);
        Array.Clear(output);
        Volumes3D.CourseNdhwc(input, weights, output);
        Assert.Equal(expected, output);
    }

    /// <summary>
    /// Filter slices f, 2f, 3f, padding 1 and output padding 1 along the depth too (output depth (2 - 1) * 2 - 2 + 2 + 1 + 1 = 4):
    /// output slice o gathers input slice i through depth tap k where 2i + k - 1 = o. Slice 0: x through 2f = 2Y. Slice 1: x through
    /// 3f plus -x through f = 2Y (two pairs: the kernel sets, then adds and activates). Slice 2: -x through 2f = -2Y. Slice 3: -x
    /// through 3f = -3Y. With bias 1 and ReLU (Y is never negative): 2Y + 1, 2Y + 1, then 0 where -2Y + 1 and -3Y + 1 are negative,
    /// 1 where Y is 0.
    /// </summary>
    [Fact]
    public void TwoPairsPerSliceAddUpAndActivateOnceByHand()
    {
        float[] input = [.. CourseInput, .. Scaled(CourseInput, -1)];
        float[] weights = [.. CourseFilter, .. Scaled(CourseFilter, 2), .. Scaled(CourseFilter, 3)];
        float Relu(float v) => v < 0 ? 0 : v;
        float[] expected = [.. CourseAnswer.Select(y => 2 * y + 1), .. CourseAnswer.Select(y => 2 * y + 1),
            .. CourseAnswer.Select(y => Relu(-2 * y + 1)), .. CourseAnswer.Select(y => Relu(-3 * y + 1))];
        var output = new float[Volumes3D.CourseTwoPairsShape.OutputElements];
        Volumes3D.CourseTwoPairs(input, weights, [1f], output);
        Assert.Equal(expected, output);
    }

    [Fact]
    public void ShapeConstantsSpeakOfThreeAxes()
    {
        Assert.Equal((6, 6, 6), (Volumes3D.VolumeUpShape.InputDepth, Volumes3D.VolumeUpShape.InputHeight, Volumes3D.VolumeUpShape.InputWidth));
        Assert.Equal((12, 12, 12), (Volumes3D.VolumeUpShape.OutputDepth, Volumes3D.VolumeUpShape.OutputHeight, Volumes3D.VolumeUpShape.OutputWidth));
        Assert.Equal(16 * 6 * 6 * 6, Volumes3D.VolumeUpShape.InputElements);
        Assert.Equal(8 * 12 * 12 * 12, Volumes3D.VolumeUpShape.OutputElements);
        Assert.Equal(16 * 8 * 2 * 2 * 2, Volumes3D.VolumeUpShape.WeightsLength);
        Assert.Equal(8, Volumes3D.VolumeUpShape.BiasLength);
        Assert.Equal((4, 4, 4), (Volumes3D.CourseShape.OutputDepth, Volumes3D.CourseShape.OutputHeight, Volumes3D.CourseShape.OutputWidth));
    }

    public static TheoryData<string, TensorLayout> Layers => new()
    {
        { nameof(Volumes3D.VolumeUp), TensorLayout.Ncdhw },
        { nameof(Volumes3D.VolumeUp), TensorLayout.Ndhwc },
        { nameof(Volumes3D.VolumeK3), TensorLayout.Ncdhw },
        { nameof(Volumes3D.VolumeK3), TensorLayout.Ndhwc },
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void RealLayersMatchTheRuntime(string layer, TensorLayout layout)
    {
        bool k3 = layer == nameof(Volumes3D.VolumeK3);
        int inChannels = k3 ? 8 : 16, outChannels = k3 ? 4 : 8, size = k3 ? 4 : 6;
        var conv = k3
            ? new ConvTranspose3D(8, 4, 3, stride: 2, padding: 1, outputPadding: 1) { Layout = layout, Activation = FusedActivation.LeakyRelu, LeakyReluSlope = 0.1f }
            : new ConvTranspose3D(16, 8, 2, stride: 2) { Layout = layout, Activation = FusedActivation.Relu };
        var (od, oh, ow) = conv.GetOutputSize(size, size, size);
        var random = new Random(11);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] input = Values(2 * inChannels * size * size * size), weights = Values(conv.WeightsLength), bias = Values(outChannels);
        var generated = new float[2 * outChannels * od * oh * ow];
        Action run = (layer, layout) switch
        {
            (nameof(Volumes3D.VolumeUp), TensorLayout.Ncdhw) => () => Volumes3D.VolumeUp(input, weights, bias, generated),
            (nameof(Volumes3D.VolumeUp), _) => () => Volumes3D.VolumeUpNdhwc(input, weights, bias, generated),
            (_, TensorLayout.Ncdhw) => () => Volumes3D.VolumeK3(input, weights, bias, generated),
            _ => () => Volumes3D.VolumeK3Ndhwc(input, weights, bias, generated),
        };
        run();

        var runtime = new float[generated.Length];
        conv.Compute(input, size, size, size, weights, bias, runtime);
        for (int i = 0; i < runtime.Length; i++)
            Assert.True(Math.Abs(runtime[i] - generated[i]) <= 1e-4f, $"[{i}] {generated[i]} != {runtime[i]}");
    }

    public static TheoryData<string> PyTorchCases()
    {
        var data = new TheoryData<string>();
        foreach (var c in LoadFixture().RootElement.GetProperty("cases").EnumerateArray())
            data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    /// <summary>PyTorch 1.13's outputs (tests/KernelGen.Tests/Fixtures/conv_transpose3d.py): values are multiples of 1/8, so every sum is exact and the results must be equal.</summary>
    [Theory]
    [MemberData(nameof(PyTorchCases))]
    public void MatchesPyTorchExactly(string name)
    {
        var c = LoadFixture().RootElement.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        float[] Floats(string property) => c.GetProperty(property).EnumerateArray().Select(v => v.GetSingle()).ToArray();
        float[] input = Floats("input"), weights = Floats("weights"), bias = Floats("bias"), expected = Floats("output");
        var output = new float[expected.Length];
        switch (name)
        {
            case "volume_up_small": Volumes3D.VolumeUpSmall(input, weights, bias, output); break;
            case "volume_k3": Volumes3D.VolumeK3Small(input, weights, bias, output); break;
            case "anisotropic": Volumes3D.Anisotropic(input, weights, output); break;
            case "grouped_dilated": Volumes3D.GroupedDilated(input, weights, bias, output); break;
            case "depthwise": Volumes3D.Depthwise(input, weights, output); break;
            case "many_channels": Volumes3D.ManyChannels(input, weights, bias, output); break;
            default: Assert.Fail("no generated kernel declared for the fixture case " + name); break;
        }

        Assert.Equal(expected, output);
    }

    [Fact]
    public void ABadCallIsRejectedIn3DTerms()
    {
        var e = Assert.Throws<ArgumentException>(() => Volumes3D.Course(new float[9], new float[18], new float[64]));
        Assert.Equal("input", e.ParamName);
        Assert.Contains("inChannels * inputDepth * inputHeight * inputWidth = 1 * 2 * 2 * 2 = 8", e.Message);
        e = Assert.Throws<ArgumentException>(() => Volumes3D.Course(new float[8], new float[9], new float[64]));
        Assert.Equal("weights", e.ParamName);
        Assert.Contains("inChannels * (outChannels / groups) * kernelDepth * kernelHeight * kernelWidth = 1 * 1 * 2 * 3 * 3 = 18", e.Message);
        e = Assert.Throws<ArgumentException>(() => Volumes3D.Course(new float[8], new float[18], new float[63]));
        Assert.Equal("output", e.ParamName);
        Assert.Contains("batch * outChannels * outputDepth * outputHeight * outputWidth = 1 * 1 * 4 * 4 * 4 = 64", e.Message);
    }

    private static JsonDocument LoadFixture() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "conv_transpose3d.json")));
}
