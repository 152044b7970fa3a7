using System.IO.Compression;
using System.Xml.Linq;
using KernelGen.Samples.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KernelGen.Samples.Tests;

/// <summary>
/// The NuGet package as a user meets it: `dotnet pack` of src/KernelGen, the package's contents, and a fresh console
/// project outside the repository that references the package from a local folder feed (no project reference), declares
/// the course example with [GeneratedConvTranspose2D], builds and runs.
/// </summary>
[Collection(ChildBuildCollection.Name)]
public sealed class PackageTests(PackedPackage package, ITestOutputHelper log) : IDisposable
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(10);

    private readonly TempFolder _temp = new("kernelgen-package-");

    public void Dispose() => _temp.Dispose();

    [PlainPassFact]
    public void Packed_package_has_the_expected_layout_and_works_in_a_fresh_project()
    {
        string version = package.Version, feed = package.Feed, packages = package.PackageCache;
        Assert.False(Repository.Contains(feed), $"{feed} must be outside the repository, away from its Directory.*.props");
        Step(package.Pack());

        string nupkg = Path.Combine(feed, $"KernelGen.{version}.nupkg");
        Assert.True(File.Exists(nupkg), $"no {nupkg}; the feed holds: {string.Join(", ", Directory.GetFiles(feed).Select(Path.GetFileName))}");
        // KernelGen.Onnx and the tool may share the feed (OnnxPackageTests); KernelGen's own files are these two.
        Assert.Equal([$"KernelGen.{version}.nupkg", $"KernelGen.{version}.snupkg"], Directory.GetFiles(feed, $"KernelGen.{version}.*").Select(Path.GetFileName).Order());
        CheckPackageContents(nupkg, version);
        CheckSymbolPackage(Path.Combine(feed, $"KernelGen.{version}.snupkg"));

        string consumer = CreateConsumer(version);
        var environment = package.ConsumerEnvironment;
        Step(ChildProcess.Dotnet(["build", consumer, "-c", "Release", "--disable-build-servers", "-p:UseSharedCompilation=false"],
            _temp.Path, StepTimeout, environment));
        Assert.True(Directory.Exists(Path.Combine(packages, "kernelgen", version)), "the consumer did not restore KernelGen from the private cache");

        ChildProcessResult run = Step(ChildProcess.Dotnet([Path.Combine(Path.GetDirectoryName(consumer)!, "bin", "Release", "net10.0", "Consumer.dll")],
            _temp.Path, StepTimeout, environment));
        string[] lines = run.StandardOutput.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["16 outputs, 4x4", "0 4 0 1", "10 7 6 3", "0 7 0 2", "6 3 4 2"], lines);
    }

    private ChildProcessResult Step(ChildProcessResult result)
    {
        log.WriteLine($"{result.Command}: exit code {result.ExitCode} after {result.Elapsed.TotalSeconds:F1} s");
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private static void CheckPackageContents(string nupkg, string version)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
        string listing = string.Join("\n", entries);

        Assert.Contains("lib/net8.0/KernelGen.dll", entries);
        Assert.Contains("lib/net10.0/KernelGen.dll", entries);
        Assert.Contains("lib/net8.0/KernelGen.xml", entries);   // IntelliSense docs
        Assert.Contains("lib/net10.0/KernelGen.xml", entries);
        Assert.Contains("analyzers/dotnet/roslyn4.8/cs/KernelGen.Generator.dll", entries);
        Assert.Contains("README.md", entries);
        // The MSBuild files sit in a net8.0 folder (net10.0 consumers take it too); nothing but the analyzer is framework-neutral,
        // so restore refuses other frameworks with NU1202 (FrameworkRestoreTests).
        Assert.Contains("build/net8.0/KernelGen.props", entries);
        Assert.Contains("build/net8.0/KernelGen.targets", entries);
        Assert.Contains("buildTransitive/net8.0/KernelGen.props", entries);
        Assert.Contains("buildTransitive/net8.0/KernelGen.targets", entries);
        Assert.Equal(4, entries.Count(e => e.StartsWith("build", StringComparison.Ordinal)));
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) && e.Count(c => c == '/') == 1);
        Assert.DoesNotContain(entries, e => e.StartsWith("build", StringComparison.Ordinal) && e.Count(c => c == '/') == 1);
        // The generator is an analyzer only: never a library the user's code would reference and ship.
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) && e.Contains("Generator", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(2, entries.Count(e => e.StartsWith("lib/", StringComparison.Ordinal) && e.EndsWith(".dll", StringComparison.Ordinal)));
        Assert.Single(entries, e => e.StartsWith("analyzers/", StringComparison.Ordinal));
        Assert.True(entries.All(e => !e.EndsWith(".pdb", StringComparison.Ordinal)), $"symbols belong in the .snupkg:\n{listing}");

        // The README in the package is the repository's, with links that work on a package gallery: absolute, into the repository.
        string packedReadme;
        using (var reader = new StreamReader(zip.GetEntry("README.md")!.Open()))
            packedReadme = reader.ReadToEnd();
        Assert.Equal(File.ReadAllText(Repository.Combine("README.md")),
            packedReadme.Replace("](https://github.com/kernelgen/KernelGen/blob/main/", "](", StringComparison.Ordinal));
        Assert.DoesNotMatch(@"\]\((?!https?:|#|mailto:)", packedReadme);                    // no relative link left
        Assert.DoesNotMatch(@"(?i)\b(issue|task) #?\d+\b", packedReadme);                     // no internal process

        using var nuspecStream = zip.GetEntry("KernelGen.nuspec")!.Open();
        XElement metadata = XDocument.Load(nuspecStream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Value(string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;
        Assert.Equal("KernelGen", Value("id"));
        Assert.Equal(version, Value("version"));
        Assert.Equal("MIT", Value("license"));
        Assert.Equal("README.md", Value("readme"));
        Assert.Equal("https://github.com/kernelgen/KernelGen", Value("projectUrl"));
        XElement repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
        Assert.Equal("git", repository.Attribute("type")?.Value);
        Assert.Equal("https://github.com/kernelgen/KernelGen", repository.Attribute("url")?.Value);
        Assert.False(string.IsNullOrWhiteSpace(Value("description")));
        Assert.False(string.IsNullOrWhiteSpace(Value("authors")));
        // No dependencies at all: the runtime needs nothing, and the generator's Roslyn comes with the compiler.
        Assert.DoesNotContain(metadata.Descendants(), e => e.Name.LocalName == "dependency");
    }

    private static void CheckSymbolPackage(string snupkg)
    {
        using var zip = ZipFile.OpenRead(snupkg);
        string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
        Assert.Contains("lib/net8.0/KernelGen.pdb", entries);
        Assert.Contains("lib/net10.0/KernelGen.pdb", entries);
    }

    /// <summary>Writes the user's project: a NuGet.config, a project that references the package, and the course example.</summary>
    private string CreateConsumer(string version)
    {
        string folder = _temp.Combine("consumer");
        Directory.CreateDirectory(folder);
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
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), """
            using KernelGen;

            float[] input = [2, 1,
                             3, 2];
            float[] weights = [1, 2, 1,
                               2, 0, 1,
                               0, 2, 1];
            var output = new float[Upsamplers.SeedShape.OutputLength];
            Upsamplers.Seed(input, weights, output);

            Console.WriteLine($"{output.Length} outputs, {Upsamplers.SeedShape.OutputHeight}x{Upsamplers.SeedShape.OutputWidth}");
            for (int row = 0; row < Upsamplers.SeedShape.OutputHeight; row++)
                Console.WriteLine(string.Join(' ', output.Skip(row * 4).Take(4)));

            public static partial class Upsamplers
            {
                // The course example: a 2x2 input, a 3x3 filter, stride 2, padding 1, output padding 1 give a 4x4 output.
                [GeneratedConvTranspose2D(inChannels: 1, outChannels: 1, inputHeight: 2, inputWidth: 2, kernelSize: 3,
                    Stride = 2, Padding = 1, OutputPadding = 1)]
                public static partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);
            }
            """);
        return project;
    }
}
