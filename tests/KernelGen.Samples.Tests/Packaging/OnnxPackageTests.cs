using System.IO.Compression;
using System.Xml.Linq;
using KernelGen.Samples.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KernelGen.Samples.Tests;

/// <summary>
/// KernelGen.Onnx and kernelgen-import as a user meets them: both packed into the local feed next to KernelGen; the tool
/// installed from the feed with `dotnet tool install` and run on a model PyTorch exported (ConvTranspose1d, BatchNorm1d,
/// LeakyReLU, ConvTranspose1d, Tanh); then one fresh console project outside the repository that restores KernelGen and
/// KernelGen.Onnx from the feed, compiles the declarations the tool wrote (0 warnings, warnings as errors), and with
/// `dotnet run` computes the model twice, with the generated kernels and the weights the tool wrote and with
/// <c>OnnxModel.Load</c>, each matching PyTorch's output. One project for both paths: each build costs a minute.
/// </summary>
[Collection(ChildBuildCollection.Name)]
public sealed class OnnxPackageTests(PackedPackage package, ITestOutputHelper log) : IDisposable
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(10);

    private const string Model = "torch_conv1d_bn_leaky";

    private readonly TempFolder _temp = new("kernelgen-onnx-package-");

    public void Dispose() => _temp.Dispose();

    [PlainPassFact]
    public void The_tool_installed_from_the_feed_writes_declarations_that_build_and_run_against_the_packages()
    {
        string version = package.Version, feed = package.Feed;
        Step(package.PackTool());
        CheckOnnxPackage(Path.Combine(feed, $"KernelGen.Onnx.{version}.nupkg"), version);
        CheckToolPackage(Path.Combine(feed, $"KernelGen.Import.{version}.nupkg"), version);

        // The tool as `dotnet tool install` puts it on a user's machine: from the feed, by its package id, into a tool path.
        string tools = _temp.Combine("tools");
        var environment = package.ConsumerEnvironment;
        Step(ChildProcess.Dotnet(["tool", "install", "--tool-path", tools, "--add-source", feed, "--version", version, "KernelGen.Import"],
            _temp.Path, StepTimeout, environment));
        string command = Path.Combine(tools, OperatingSystem.IsWindows() ? "kernelgen-import.exe" : "kernelgen-import");
        Assert.True(File.Exists(command), $"no {command}; the tool path holds: {string.Join(", ", Directory.GetFiles(tools).Select(Path.GetFileName))}");

        string consumer = _temp.Combine("consumer");
        Directory.CreateDirectory(consumer);
        string fixtures = Repository.Combine("tests", "KernelGen.Onnx.Tests", "Fixtures");
        ChildProcessResult import = Step(ChildProcess.Run(command,
            [Path.Combine(fixtures, Model + ".onnx"), "--namespace", "Consumer.Layers", "--class", "TorchSignal", "--out", Path.Combine(consumer, "Layers.cs")],
            _temp.Path, StepTimeout, environment));
        Assert.Contains("(2 layers)", import.StandardOutput, StringComparison.Ordinal);
        Assert.Equal("", import.StandardError);
        string layers = File.ReadAllText(Path.Combine(consumer, "Layers.cs"));
        Assert.Contains("[GeneratedConvTranspose1D(4, 6, 5, 3, Stride = 2,", layers, StringComparison.Ordinal);

        string project = CreateConsumer(consumer, version);
        ChildProcessResult build = Step(ChildProcess.Dotnet(["build", project, "-c", "Release", "--disable-build-servers", "-p:UseSharedCompilation=false"],
            consumer, StepTimeout, environment));
        Assert.Contains(" 0 Warning(s)", build.StandardOutput, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(package.PackageCache, "kernelgen.onnx", version)), "the consumer did not restore KernelGen.Onnx from the feed");

        ChildProcessResult run = Step(ChildProcess.Dotnet(["run", "--project", project, "-c", "Release", "--no-build", "--", fixtures, Path.Combine(consumer, "Layers.safetensors")],
            consumer, StepTimeout, environment));
        string[] lines = run.StandardOutput.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["generated kernels: 132 values, PyTorch's within 1e-4: True", "OnnxModel.Load: 2 nodes, 132 values, PyTorch's within 1e-4: True"], lines);
    }

    private ChildProcessResult Step(ChildProcessResult result)
    {
        log.WriteLine($"{result.Command}: exit code {result.ExitCode} after {result.Elapsed.TotalSeconds:F1} s");
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private static void CheckOnnxPackage(string nupkg, string version)
    {
        Assert.True(File.Exists(nupkg), $"no {nupkg}");
        using var zip = ZipFile.OpenRead(nupkg);
        string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
        Assert.Contains("lib/net8.0/KernelGen.Onnx.dll", entries);
        Assert.Contains("lib/net10.0/KernelGen.Onnx.dll", entries);
        Assert.Contains("lib/net10.0/KernelGen.Onnx.xml", entries);
        Assert.Contains("README.md", entries);
        Assert.Contains("THIRD-PARTY-NOTICES.md", entries);
        // KernelGen comes as a package dependency, never copied in.
        Assert.DoesNotContain(entries, e => e.EndsWith("/KernelGen.dll", StringComparison.Ordinal));

        var dependencies = Nuspec(zip).Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => (Id: e.Attribute("id")?.Value, Version: e.Attribute("version")?.Value, Exclude: e.Attribute("exclude")?.Value)).ToArray();
        // The same version of KernelGen, whole: its generator and build files too (no exclude="Build,Analyzers").
        Assert.Contains(dependencies, d => d.Id == "KernelGen" && d.Version == version && string.IsNullOrEmpty(d.Exclude));
        Assert.Contains(dependencies, d => d.Id == "Google.Protobuf");
        Assert.DoesNotContain(dependencies, d => d.Id == "Grpc.Tools");
    }

    private static void CheckToolPackage(string nupkg, string version)
    {
        Assert.True(File.Exists(nupkg), $"no {nupkg}");
        using var zip = ZipFile.OpenRead(nupkg);
        string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
        Assert.Contains("tools/net8.0/any/KernelGen.Import.dll", entries);
        Assert.Contains("tools/net10.0/any/DotnetToolSettings.xml", entries);
        // The tool carries what it runs on: KernelGen.Onnx, KernelGen and Google.Protobuf.
        Assert.Contains("tools/net10.0/any/KernelGen.Onnx.dll", entries);
        Assert.Contains("tools/net10.0/any/KernelGen.dll", entries);
        XElement metadata = Nuspec(zip);
        Assert.Equal(version, metadata.Elements().Single(e => e.Name.LocalName == "version").Value);
        Assert.Contains(metadata.Descendants(), e => e.Name.LocalName == "packageType" && e.Attribute("name")?.Value == "DotnetTool");
    }

    private static XElement Nuspec(ZipArchive zip)
    {
        using var stream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    /// <summary>The user's project: the tool's Layers.cs as it wrote it, and a program that runs it and the same model loaded with KernelGen.Onnx.</summary>
    private string CreateConsumer(string folder, string version)
    {
        File.WriteAllText(Path.Combine(folder, "NuGet.config"), package.NuGetConfig);
        string project = Path.Combine(folder, "Consumer.csproj");
        File.WriteAllText(project, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="KernelGen" Version="{version}" />
                <PackageReference Include="KernelGen.Onnx" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), $$"""
            using Consumer.Layers;
            using KernelGen;
            using KernelGen.IO;
            using KernelGen.Onnx;

            string fixtures = args[0];
            float[] input = NpyFile.ReadSingle(Path.Combine(fixtures, "{{Model}}.input.npy"), out int[] shape);
            float[] expected = NpyFile.ReadSingle(Path.Combine(fixtures, "{{Model}}.output.npy"), out _);
            int batch = shape[0];

            // kernelgen-import's declarations, with the weights it wrote.
            using (var weights = SafeTensorsFile.Open(args[1]))
            {
                var hidden = new float[batch * TorchSignal.ConvTranspose0Shape.OutputElements];
                TorchSignal.ConvTranspose0(input, weights.ReadSingle("0.weight"), weights.ReadSingle("0.bias"), hidden);
                var output = new float[batch * TorchSignal.ConvTranspose3Shape.OutputElements];
                TorchSignal.ConvTranspose3(hidden, weights.ReadSingle("3.weight"), output);
                Console.WriteLine($"generated kernels: {output.Length} values, PyTorch's within 1e-4: {Close(expected, output)}");
            }

            // The same model read by KernelGen.Onnx: each node with its batch norm and activation fused.
            var model = OnnxModel.Load(Path.Combine(fixtures, "{{Model}}.onnx"));
            float[] x = input;
            int[] size = shape[2..];
            foreach (var node in model.ConvTransposeNodes)
            {
                var y = new float[node.GetOutputLength(batch, size)];
                ((PreparedConvTranspose1D)node.PrepareFused()).Compute(x, size[0], y);
                (x, size) = (y, node.GetOutputSize(size));
            }

            Console.WriteLine($"OnnxModel.Load: {model.ConvTransposeNodes.Count} nodes, {x.Length} values, PyTorch's within 1e-4: {Close(expected, x)}");

            static bool Close(float[] expected, float[] actual)
            {
                if (expected.Length != actual.Length) return false;
                for (int i = 0; i < expected.Length; i++)
                {
                    if (!(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i]))))
                    {
                        Console.Error.WriteLine($"element {i}: {actual[i]}, PyTorch {expected[i]}");
                        return false;
                    }
                }

                return true;
            }
            """);
        return project;
    }
}
