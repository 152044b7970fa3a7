namespace KernelGen.Onnx.Tests;

/// <summary>
/// Models written by the real producers (PyTorch's exporter, onnx.helper; Fixtures/make_onnx_fixtures.py): every ConvTranspose
/// node runs on the KernelGen runtime and the model's output matches PyTorch's (or the ONNX rule's) within 1e-4 relative.
/// </summary>
public class OnnxFixtureTests
{
    public static TheoryData<string> Models =>
    [
        "torch_conv1d_relu", "torch_conv2d_bn_relu_tanh", "torch_conv3d_leaky", "torch_conv2d_sigmoid",
        "torch_conv1d_bn_leaky", "torch_conv3d_bn_leaky",
        "autopad_same_upper_2d", "autopad_same_lower_2d", "autopad_valid_2d", "autopad_same_upper_1d", "autopad_same_lower_3d",
        "output_shape_2d", "output_shape_full_2d", "output_shape_1d", "output_shape_3d", "explicit_pads_2d",
        "float16_weights", "external_data",
    ];

    [Theory]
    [MemberData(nameof(Models))]
    public void EveryConvTransposeNodeMatchesTheProducersOutput(string name)
    {
        var model = OnnxModel.Load(OnnxFixtures.PathOf(name + ".onnx"));
        var (input, inputShape) = OnnxFixtures.Npy(name + ".input.npy");
        var (expected, expectedShape) = OnnxFixtures.Npy(name + ".output.npy");
        Assert.NotEmpty(model.ConvTransposeNodes);

        foreach (bool prepared in new[] { false, true })
        {
            var (actual, shape) = OnnxFixtures.Run(model, input, inputShape, prepared);
            Assert.Equal(expectedShape, shape);
            OnnxFixtures.AssertClose(expected, actual, $"{name} (prepared: {prepared})");
        }
    }

    [Theory]
    [InlineData("torch_conv1d_relu")]
    [InlineData("torch_conv2d_bn_relu_tanh")]
    [InlineData("torch_conv3d_leaky")]
    [InlineData("torch_conv2d_sigmoid")]
    [InlineData("torch_conv1d_bn_leaky")]
    [InlineData("torch_conv3d_bn_leaky")]
    public void LayersFusedWithTheirFollowersComputeTheWholeNetwork(string name)
    {
        var model = OnnxModel.Load(OnnxFixtures.PathOf(name + ".onnx"));
        var (x, shape) = OnnxFixtures.Npy(name + ".input.npy");
        var (expected, expectedShape) = OnnxFixtures.Npy(name + ".output.npy");
        foreach (var node in model.ConvTransposeNodes)
        {
            int[] inputSize = shape[2..];
            var y = new float[node.GetOutputLength(shape[0], inputSize)];
            switch (node.PrepareFused())
            {
                case PreparedConvTranspose1D p: p.Compute(x, inputSize[0], y); break;
                case PreparedConvTranspose2D p: p.Compute(x, inputSize[0], inputSize[1], y); break;
                case PreparedConvTranspose3D p: p.Compute(x, inputSize[0], inputSize[1], inputSize[2], y); break;
                default: throw new InvalidOperationException("PrepareFused returned an unknown type.");
            }

            (x, shape) = (y, [shape[0], node.OutChannels, .. node.GetOutputSize(inputSize)]);
        }

        Assert.Equal(model.OutputNames[0], model.ConvTransposeNodes[^1].FusedOutputName);
        Assert.Equal(expectedShape, shape);
        OnnxFixtures.AssertClose(expected, x, name + " fused");
    }

    [Fact]
    public void PyTorchsLayersKeepEveryAttribute()
    {
        var conv1d = Assert.Single(OnnxModel.Load(OnnxFixtures.PathOf("torch_conv1d_relu.onnx")).ConvTransposeNodes);
        Assert.Equal((1, "/0/ConvTranspose", "input", "/0/ConvTranspose_output_0"), (conv1d.Rank, conv1d.Name, conv1d.InputName, conv1d.OutputName));
        var layer1d = Assert.IsType<ConvTranspose1D>(conv1d.Layer);
        Assert.Same(layer1d, conv1d.Layer1D);
        Assert.Equal((4, 6, 3, 2, Padding1D.Asymmetric(1, 1), 1, 2, 2),
            (layer1d.InChannels, layer1d.OutChannels, layer1d.KernelSize, layer1d.Stride, layer1d.Padding, layer1d.OutputPadding, layer1d.Dilation, layer1d.Groups));
        Assert.Equal("Relu", conv1d.FollowedBy?.OpType);
        Assert.Equal(FusedActivation.Relu, conv1d.FollowedBy?.Activation);
        Assert.Equal("output", conv1d.FusedOutputName);
        Assert.Equal([5], conv1d.InputSize);
        Assert.Equal([12], conv1d.OutputSize);
        Assert.Equal([4, 3, 3], conv1d.Weights.Shape);
        Assert.Equal("0.weight", conv1d.Weights.Name);
        Assert.Equal([6], conv1d.Bias!.Shape);
        Assert.False(conv1d.PadsDependOnInputSize);

        var conv3d = Assert.Single(OnnxModel.Load(OnnxFixtures.PathOf("torch_conv3d_leaky.onnx")).ConvTransposeNodes);
        var layer3d = Assert.IsType<ConvTranspose3D>(conv3d.Layer3D);
        Assert.Equal(3, conv3d.Rank);
        Assert.Equal(new Size3D(2, 3, 3), layer3d.KernelSize);
        Assert.Equal(new Size3D(2, 1, 2), layer3d.Stride);
        Assert.Equal(Padding3D.Asymmetric(0, 1, 1, 0, 1, 1), layer3d.Padding);
        Assert.Equal(new Size3D(1, 0, 1), layer3d.OutputPadding);
        Assert.Equal(new Size3D(1, 2, 1), layer3d.Dilation);
        Assert.Equal(2, layer3d.Groups);
        Assert.Equal(FusedActivation.LeakyRelu, conv3d.FollowedBy!.Activation);
        Assert.Equal(0.2f, conv3d.FollowedBy.LeakyReluAlpha);
    }

    [Fact]
    public void BatchNormThenReluAreReportedAndFuseIntoTheLayer()
    {
        var model = OnnxModel.Load(OnnxFixtures.PathOf("torch_conv2d_bn_relu_tanh.onnx"));
        Assert.Equal("pytorch", model.ProducerName);
        Assert.Equal(13, model.OpsetVersion);
        Assert.Equal(["input"], model.InputNames);
        Assert.Equal(2, model.ConvTransposeNodes.Count);
        var first = model.ConvTransposeNodes[0];
        Assert.Equal(["BatchNormalization", "Relu"], first.Followers.Select(f => f.OpType));
        var bn = first.FollowedBy!.BatchNorm!;
        Assert.Equal(4, bn.Channels);
        Assert.Equal(1e-3f, bn.Epsilon, 1e-9f);
        Assert.Equal(model.Initializers["1.running_var"].Data, bn.RunningVariance.ToArray());
        Assert.Equal("/2/Relu_output_0", first.FusedOutputName);
        var second = model.ConvTransposeNodes[1];
        Assert.Null(second.Bias);
        Assert.Equal(FusedActivation.Tanh, Assert.Single(second.Followers).Activation);
        Assert.Equal(first.OutputSize, second.InputSize); // the shape carried through the batch norm and the ReLU

        // What an importer does: fold the batch norm into the weights, fuse the ReLU, run one layer per node.
        var (input, inputShape) = OnnxFixtures.Npy("torch_conv2d_bn_relu_tanh.input.npy");
        var (expected, _) = OnnxFixtures.Npy("torch_conv2d_bn_relu_tanh.output.npy");
        var x = input;
        int height = inputShape[2], width = inputShape[3];
        foreach (var node in model.ConvTransposeNodes)
        {
            var l = node.Layer2D!;
            float[] weights = node.Weights.Data, bias = node.Bias?.Data ?? [];
            var activation = FusedActivation.None;
            foreach (var follower in node.Followers)
            {
                if (follower.BatchNorm is { } parameters) (weights, bias) = BatchNormFolding.Fold(l, weights, bias, parameters);
                else activation = follower.Activation;
            }

            var fused = new ConvTranspose2D(l.InChannels, l.OutChannels, l.KernelSize, l.Stride, l.Padding, l.OutputPadding, l.Dilation, l.Groups) { Activation = activation };
            var y = new float[fused.GetOutputLength(1, height, width)];
            fused.Compute(x, height, width, weights, bias, y);
            (height, width) = fused.GetOutputSize(height, width);
            x = y;
        }

        OnnxFixtures.AssertClose(expected, x, "fused");
    }

    [Fact]
    public void AutoPadAndOutputShapeResolveForTheGraphsInputSize()
    {
        var upper = Assert.Single(OnnxModel.Load(OnnxFixtures.PathOf("autopad_same_upper_2d.onnx")).ConvTransposeNodes);
        Assert.True(upper.PadsDependOnInputSize);
        Assert.Equal(Padding2D.Asymmetric(0, 0, 1, 1), upper.Layer2D!.Padding);
        Assert.Equal([6, 8], upper.OutputSize);
        var lower = Assert.Single(OnnxModel.Load(OnnxFixtures.PathOf("autopad_same_lower_2d.onnx")).ConvTransposeNodes);
        Assert.Equal(Padding2D.Asymmetric(1, 1, 0, 0), lower.Layer2D!.Padding);
        var shaped = Assert.Single(OnnxModel.Load(OnnxFixtures.PathOf("output_shape_2d.onnx")).ConvTransposeNodes);
        Assert.Equal([6, 10], shaped.OutputSize);
        Assert.Equal(new Size2D(0, 1), shaped.Layer2D!.OutputPadding);

        // The pads were derived for 3 x 4: another size would get an answer that is not ONNX's.
        var error = Assert.Throws<ArgumentException>(() => upper.Compute(new float[2 * 4 * 4], [4, 4], new float[3 * 8 * 8]));
        Assert.Equal("inputSize", error.ParamName);
        Assert.Contains("[3, 4]", error.Message, StringComparison.Ordinal);
        Assert.Equal("inputSize", Assert.Throws<ArgumentException>(() => upper.GetOutputSize([3])).ParamName);
        // Explicit pads work for any size.
        var valid = Assert.Single(OnnxModel.Load(OnnxFixtures.PathOf("autopad_valid_2d.onnx")).ConvTransposeNodes);
        Assert.False(valid.PadsDependOnInputSize);
        Assert.Equal([11, 5], valid.GetOutputSize([5, 2]));
    }

    [Fact]
    public void GivenInputShapesReplaceTheGraphs()
    {
        string path = OnnxFixtures.PathOf("autopad_same_upper_2d.onnx");
        var node = Assert.Single(OnnxModel.Load(path, new Dictionary<string, int[]> { ["x"] = [1, 2, 5, 5] }).ConvTransposeNodes);
        Assert.Equal([5, 5], node.InputSize);
        Assert.Equal([10, 10], node.OutputSize); // SAME_UPPER: input * stride, whatever the graph said
        Assert.Equal("inputShapes", Assert.Throws<ArgumentException>(() => OnnxModel.Load(path, new Dictionary<string, int[]> { ["x"] = [1, 2, 0, 5] })).ParamName);
        var unknown = Assert.Throws<ArgumentException>(() => OnnxModel.Load(path, new Dictionary<string, int[]> { ["input"] = [1, 2, 5, 5] }));
        Assert.Equal("inputShapes", unknown.ParamName);
        Assert.Contains("'x'", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InitializersOfEveryFloatTypeAreConverted()
    {
        var model = OnnxModel.Load(OnnxFixtures.PathOf("float16_weights.onnx"));
        Assert.Equal(new[] { 1.5f, -2.25f, 1e-3f, 3.0f }, model.Initializers["f64"].Data);
        Assert.Equal("DOUBLE", model.Initializers["f64"].ElementType);
        Assert.Equal([2, 2], model.Initializers["f64"].GetShape());
        // bfloat16 keeps the upper 16 bits of a float: 3e10 rounds down to 29896998912.
        Assert.Equal(new[] { 1.0f, -2.5f, 0.15625f, BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(3.0e10f) & unchecked((int)0xFFFF0000)) },
            model.Initializers["bf16"].Data);
        Assert.Equal("BFLOAT16", model.Initializers["bf16"].ElementType);
        Assert.Equal(new[] { 0.5f, -1.0f, 2.0f }, model.Initializers["f32_typed"].Data);
        Assert.Empty(model.Initializers["scalar"].Shape);
        Assert.Equal([7f], model.Initializers["scalar"].Data);
        Assert.Equal("FLOAT16", model.Initializers["w"].ElementType);
        Assert.False(model.Initializers.ContainsKey("i64")); // an integer tensor is no float[]
    }

    [Fact]
    public void ExternalDataIsReadFromTheModelsFolder()
    {
        string path = OnnxFixtures.PathOf("external_data.onnx");
        var fromFile = OnnxModel.Load(path);
        Assert.Equal(path, fromFile.Path);
        using (var stream = File.OpenRead(path))
        {
            var fromStream = OnnxModel.Load(stream, Path.GetDirectoryName(path));
            Assert.Null(fromStream.Path);
            Assert.Equal(fromFile.Initializers["w"].Data, fromStream.Initializers["w"].Data);
        }

        using (var stream = File.OpenRead(path))
        {
            var error = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(stream));
            Assert.Contains("externalDataDirectory", error.Message, StringComparison.Ordinal);
        }
    }
}
