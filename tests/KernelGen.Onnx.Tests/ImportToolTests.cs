using System.Text;
using Google.Protobuf;
using KernelGen.Import;
using KernelGen.IO;
using KernelGen.Onnx.Tests.Imported;
using Onnx;

namespace KernelGen.Onnx.Tests;

/// <summary>
/// kernelgen-import on PyTorch's models, one per rank: ConvTranspose2d + BatchNorm2d + ReLU + ConvTranspose2d + Tanh,
/// ConvTranspose1d + BatchNorm1d + LeakyReLU + ConvTranspose1d + Tanh, ConvTranspose3d + BatchNorm3d + LeakyReLU. It writes
/// Imported/TorchDecoder.cs, TorchSignal.cs and TorchVolume.cs exactly (those files, compiled here by the generator, are the
/// tool's output), and the generated kernels with the weights it wrote to .safetensors compute PyTorch's output.
/// </summary>
public sealed class ImportToolTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("kernelgen-import-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Import(out string log, string fixture = "torch_conv2d_bn_relu_tanh", string className = "TorchDecoder")
    {
        string code = Path.Combine(_folder, className + ".cs");
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = Importer.Run([OnnxFixtures.PathOf(fixture + ".onnx"), "--namespace", "KernelGen.Onnx.Tests.Imported", "--class", className, "--out", code],
            output, error);
        Assert.True(exit == 0, error.ToString());
        Assert.Equal("", error.ToString());
        log = output.ToString();
        return code;
    }

    [Theory]
    [InlineData("torch_conv2d_bn_relu_tanh", "TorchDecoder", 2)]
    [InlineData("torch_conv1d_bn_leaky", "TorchSignal", 2)]
    [InlineData("torch_conv3d_bn_leaky", "TorchVolume", 1)]
    public void TheToolWritesTheDeclarationsCompiledHere(string fixture, string className, int layers)
    {
        string written = File.ReadAllText(Import(out string log, fixture, className));
        string committed = File.ReadAllText(Path.Combine(SourceFolder(), "Imported", className + ".cs"));
        Assert.Equal(committed.ReplaceLineEndings(), written.ReplaceLineEndings());
        Assert.Contains($"({layers} layers)", log, StringComparison.Ordinal);
    }

    [Fact]
    public void TheGeneratedKernelsWithTheWrittenWeightsComputePyTorchsOutput()
    {
        string code = Import(out _);
        using var weights = SafeTensorsFile.Open(Path.ChangeExtension(code, ".safetensors"));
        Assert.Equal(["0.bias", "0.weight", "3.weight"], weights.Names);
        var (input, _) = OnnxFixtures.Npy("torch_conv2d_bn_relu_tanh.input.npy");
        var (expected, _) = OnnxFixtures.Npy("torch_conv2d_bn_relu_tanh.output.npy");

        var hidden = new float[4 * 8 * 7];
        TorchDecoder.ConvTranspose0(input, weights.ReadSingle("0.weight"), weights.ReadSingle("0.bias"), hidden);
        var output = new float[expected.Length];
        TorchDecoder.ConvTranspose3(hidden, weights.ReadSingle("3.weight"), output);
        OnnxFixtures.AssertClose(expected, output, "generated kernels");
    }

    [Fact]
    public void The1DKernelsWithTheWrittenWeightsComputePyTorchsOutputForABatch()
    {
        string code = Import(out _, "torch_conv1d_bn_leaky", "TorchSignal");
        using var weights = SafeTensorsFile.Open(Path.ChangeExtension(code, ".safetensors"));
        Assert.Equal(["0.bias", "0.weight", "3.weight"], weights.Names);
        Assert.Equal([4, 3, 3], weights.GetShape("0.weight")); // (Cin, Cout / groups, kernel) as ONNX has it
        var (input, inputShape) = OnnxFixtures.Npy("torch_conv1d_bn_leaky.input.npy");
        var (expected, outputShape) = OnnxFixtures.Npy("torch_conv1d_bn_leaky.output.npy");
        Assert.Equal([2, 4, 5], inputShape);   // two samples through kernels declared for one: the batch comes from the length
        Assert.Equal([2, 3, 22], outputShape);

        var hidden = new float[2 * 6 * 12];
        TorchSignal.ConvTranspose0(input, weights.ReadSingle("0.weight"), weights.ReadSingle("0.bias"), hidden);
        var output = new float[expected.Length];
        TorchSignal.ConvTranspose3(hidden, weights.ReadSingle("3.weight"), output);
        OnnxFixtures.AssertClose(expected, output, "generated 1-D kernels");
    }

    [Fact]
    public void The3DKernelWithTheWrittenWeightsComputesPyTorchsOutput()
    {
#if KERNELGEN_GENERATED_3D
        string code = Import(out _, "torch_conv3d_bn_leaky", "TorchVolume");
        using var weights = SafeTensorsFile.Open(Path.ChangeExtension(code, ".safetensors"));
        Assert.Equal(["0.bias", "0.weight"], weights.Names);
        var (input, _) = OnnxFixtures.Npy("torch_conv3d_bn_leaky.input.npy");
        var (expected, _) = OnnxFixtures.Npy("torch_conv3d_bn_leaky.output.npy");

        var output = new float[expected.Length];
        TorchVolume.ConvTranspose0(input, weights.ReadSingle("0.weight"), weights.ReadSingle("0.bias"), output);
        OnnxFixtures.AssertClose(expected, output, "generated 3-D kernel");
#else
        Assert.Fail("Imported/TorchVolume.cs is not compiled: the project compiles it only when src/KernelGen/GeneratedConvTranspose3DAttribute.cs exists (see the .csproj).");
#endif
    }

    [Fact]
    public void EveryPropertyThatDiffersFromItsDefaultIsWrittenByItsName()
    {
        var written = new StringBuilder();
        Importer.AppendAttribute(written, new ConvTranspose1D(4, 6, 3, stride: 3, padding: Padding1D.Asymmetric(2, 1), outputPadding: 2, dilation: 2, groups: 2), [7]);
        Assert.Equal("[GeneratedConvTranspose1D(4, 6, 7, 3, Stride = 3, PaddingBegin = 2, PaddingEnd = 1, OutputPadding = 2, Dilation = 2, Groups = 2",
            written.ToString());

        written.Clear();
        Importer.AppendAttribute(written, new ConvTranspose1D(1, 1, 2), [9]);
        Assert.Equal("[GeneratedConvTranspose1D(1, 1, 9, 2", written.ToString());

        written.Clear();
        Importer.AppendAttribute(written, new ConvTranspose3D(4, 6, (2, 3, 4), stride: (2, 3, 1), padding: Padding3D.Asymmetric(1, 2, 3, 4, 5, 6),
            outputPadding: (1, 2, 0), dilation: (3, 1, 2), groups: 2), [5, 6, 7]);
        Assert.Equal("[GeneratedConvTranspose3D(4, 6, 5, 6, 7, 2, KernelHeight = 3, KernelWidth = 4, StrideDepth = 2, StrideHeight = 3, "
            + "PaddingFront = 1, PaddingTop = 2, PaddingLeft = 3, PaddingBack = 4, PaddingBottom = 5, PaddingRight = 6, "
            + "OutputPaddingDepth = 1, OutputPaddingHeight = 2, DilationDepth = 3, DilationWidth = 2, Groups = 2", written.ToString());

        // The kernel's depth is kernelSize, the attribute's default for the other axes: a cube writes no KernelHeight/Width.
        written.Clear();
        Importer.AppendAttribute(written, new ConvTranspose3D(1, 2, 3, stride: (1, 1, 2), outputPadding: (0, 0, 1)), [2, 3, 4]);
        Assert.Equal("[GeneratedConvTranspose3D(1, 2, 2, 3, 4, 3, StrideWidth = 2, OutputPaddingWidth = 1", written.ToString());
    }

    [Theory]
    [InlineData("/0/ConvTranspose", "ConvTranspose0")]
    [InlineData("decoder.up-1", "DecoderUp1")]
    [InlineData("7", "Layer7")]
    [InlineData("", "Layer")]
    public void NodeNamesBecomeMethodNames(string node, string method) => Assert.Equal(method, Importer.MethodName(node));

    [Fact]
    public void BadArgumentsAndModelsAreRefused()
    {
        var error = new StringWriter();
        Assert.Equal(2, Importer.Run(["model.onnx"], TextWriter.Null, error));
        Assert.Contains("usage", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, Importer.Run(["a.onnx", "b.onnx", "--namespace", "N", "--out", "x.cs"], TextWriter.Null, TextWriter.Null));
        error = new StringWriter();
        Assert.Equal(1, Importer.Run([DynamicModel(), "--namespace", "N", "--out", Path.Combine(_folder, "x.cs")], TextWriter.Null, error));
        Assert.Contains("skipped node 'up': the graph gives no fixed input size (give one with --input-shape x=...)", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("has no ConvTranspose node with a fixed input size: nothing written", error.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_folder, "x.cs")));
        Assert.False(File.Exists(Path.Combine(_folder, "x.safetensors")));
        error = new StringWriter();
        string garbage = Path.Combine(_folder, "garbage.onnx");
        File.WriteAllBytes(garbage, [1, 2, 3]);
        Assert.Equal(1, Importer.Run([garbage, "--namespace", "N", "--out", Path.Combine(_folder, "x.cs")], TextWriter.Null, error));
        Assert.Contains(garbage, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void AnInputShapeFromTheCommandLineFixesTheSize()
    {
        string code = Path.Combine(_folder, "Sized.cs");
        var error = new StringWriter();
        Assert.Equal(0, Importer.Run([OnnxFixtures.PathOf("torch_conv2d_bn_relu_tanh.onnx"), "--namespace", "N", "--out", code, "--input-shape", "input=2x3x6x9"],
            TextWriter.Null, error));
        string text = File.ReadAllText(code);
        Assert.Contains("[GeneratedConvTranspose2D(3, 4, 6, 9, 3,", text, StringComparison.Ordinal);
        // Height (6 - 1) * 2 - 2 + 2 + 1 + 1 = 12, width (9 - 1) - 4 + 6 + 1 = 11 feed the second layer.
        Assert.Contains("[GeneratedConvTranspose2D(4, 2, 12, 11, 4,", text, StringComparison.Ordinal);

        Assert.Equal(2, Importer.Run([OnnxFixtures.PathOf("torch_conv2d_bn_relu_tanh.onnx"), "--namespace", "N", "--out", code, "--input-shape", "input=2x3x0x9"], TextWriter.Null, TextWriter.Null));
        error = new StringWriter();
        Assert.Equal(1, Importer.Run([OnnxFixtures.PathOf("torch_conv2d_bn_relu_tanh.onnx"), "--namespace", "N", "--out", code, "--input-shape", "x=1x3x4x5"], TextWriter.Null, error));
        Assert.Contains("'input'", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void AnInputShapeFromTheCommandLineFixesAnOpen3DInput()
    {
        string code = Path.Combine(_folder, "Volume.cs");
        var error = new StringWriter();
        Assert.Equal(0, Importer.Run([DynamicModel(), "--namespace", "N", "--out", code, "--input-shape", "x=1x2x4x5x6"], TextWriter.Null, error));
        Assert.Equal("", error.ToString());
        Assert.Contains("[GeneratedConvTranspose3D(2, 3, 4, 5, 6, 3, StrideDepth = 2, StrideHeight = 2, StrideWidth = 2)]", File.ReadAllText(code), StringComparison.Ordinal);
        using var weights = SafeTensorsFile.Open(Path.ChangeExtension(code, ".safetensors"));
        Assert.Equal([2, 3, 3, 3, 3], weights.GetShape("w"));
    }

    /// <summary>x (n, 2, d, h, w), every size left open -> ConvTranspose "up" with weights w (2, 3, 3, 3, 3), stride 2 -> y.</summary>
    private string DynamicModel()
    {
        var node = new NodeProto { Name = "up", OpType = "ConvTranspose" };
        node.Input.AddRange(["x", "w"]);
        node.Output.Add("y");
        var strides = new AttributeProto { Name = "strides", Type = AttributeProto.Types.AttributeType.Ints };
        strides.Ints.AddRange([2, 2, 2]);
        node.Attribute.Add(strides);
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "n" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 2 });
        foreach (string axis in (string[])["d", "h", "w"]) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = axis });
        var weights = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float };
        weights.Dims.AddRange([2, 3, 3, 3, 3]);
        weights.FloatData.AddRange(Enumerable.Range(0, 2 * 3 * 27).Select(i => 0.125f * (i % 5 - 2)));
        var graph = new GraphProto { Name = "dynamic" };
        graph.Node.Add(node);
        graph.Input.Add(new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } });
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        graph.Initializer.Add(weights);
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        string path = Path.Combine(_folder, "dynamic.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    private static string SourceFolder([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
