using KernelGen.Import;
using KernelGen.IO;
using KernelGen.Onnx.Tests.Imported;

namespace KernelGen.Onnx.Tests;

/// <summary>
/// kernelgen-import on PyTorch's ConvTranspose2d + BatchNorm2d + ReLU + ConvTranspose2d + Tanh: it writes Imported/TorchDecoder.cs
/// exactly (that file, compiled here by the generator, is the tool's output), and the generated kernels with the weights it
/// wrote to .safetensors compute PyTorch's output.
/// </summary>
public sealed class ImportToolTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("kernelgen-import-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Import(out string log)
    {
        string code = Path.Combine(_folder, "TorchDecoder.cs");
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = Importer.Run([OnnxFixtures.PathOf("torch_conv2d_bn_relu_tanh.onnx"), "--namespace", "KernelGen.Onnx.Tests.Imported", "--class", "TorchDecoder", "--out", code],
            output, error);
        Assert.True(exit == 0, error.ToString());
        log = output.ToString();
        return code;
    }

    [Fact]
    public void TheToolWritesTheDeclarationsCompiledHere()
    {
        string written = File.ReadAllText(Import(out string log));
        string committed = File.ReadAllText(Path.Combine(SourceFolder(), "Imported", "TorchDecoder.cs"));
        Assert.Equal(committed.ReplaceLineEndings(), written.ReplaceLineEndings());
        Assert.Contains("2 layers", log, StringComparison.Ordinal);
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
        Assert.Equal(1, Importer.Run([OnnxFixtures.PathOf("torch_conv3d_leaky.onnx"), "--namespace", "N", "--out", Path.Combine(_folder, "x.cs")], TextWriter.Null, error));
        Assert.Contains("3-D", error.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_folder, "x.cs")));
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

    private static string SourceFolder([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
