using System.Security.Cryptography;

namespace KernelGen.Samples.Tests.Infrastructure;

/// <summary>
/// The KernelGen package, packed once per test run into a local folder feed outside the repository, with a version no
/// earlier run used and a private package cache: a project restored against it can only get this very package. KernelGen.Onnx
/// and the kernelgen-import tool are packed into the same feed with the same version on first use (<see cref="PackOnnx"/>,
/// <see cref="PackTool"/>), so that only the tests that need them pay for them.
/// </summary>
public sealed class PackedPackage : IDisposable
{
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(10);

    private readonly TempFolder _temp = new("kernelgen-feed-");
    private readonly Lazy<ChildProcessResult> _pack, _packOnnx, _packTool;

    public PackedPackage()
    {
        Version = $"0.1.0-test.{RandomNumberGenerator.GetInt32(1, int.MaxValue)}";
        _pack = new Lazy<ChildProcessResult>(() => PackProject("src", "KernelGen", "KernelGen.csproj"));
        _packOnnx = new Lazy<ChildProcessResult>(() => PackProject("src", "KernelGen.Onnx", "KernelGen.Onnx.csproj"));
        _packTool = new Lazy<ChildProcessResult>(() => PackProject("tools", "KernelGen.Import", "KernelGen.Import.csproj"));
    }

    /// <summary>One artifacts folder for all three: KernelGen.Onnx and the tool find KernelGen (and the tool KernelGen.Onnx)
    /// already built with the same properties, so each later pack builds only its own project.</summary>
    private ChildProcessResult PackProject(params string[] project) => ChildProcess.Dotnet(
        ["pack", Repository.Combine(project), "-c", "Release", "-o", Feed,
         "--artifacts-path", _temp.Combine("pack-artifacts"), $"-p:Version={Version}", "--disable-build-servers", "-p:UseSharedCompilation=false"],
        _temp.Path, PackTimeout);

    public string Version { get; }

    /// <summary>The folder feed that holds the package.</summary>
    public string Feed => _temp.Combine("feed");

    /// <summary>The private NuGet package cache consumers restore into (set as <c>NUGET_PACKAGES</c>).</summary>
    public string PackageCache => _temp.Combine("nuget-packages");

    /// <summary>Packs on first use (once for all the tests that share this fixture) and fails the test if packing failed.</summary>
    public ChildProcessResult Pack()
    {
        ChildProcessResult pack = _pack.Value;
        Assert.True(pack.ExitCode == 0, pack.ToString());
        return pack;
    }

    /// <summary>Packs KernelGen, then KernelGen.Onnx (which depends on it), on first use; fails the test if packing failed.</summary>
    public ChildProcessResult PackOnnx()
    {
        Pack();
        ChildProcessResult pack = _packOnnx.Value;
        Assert.True(pack.ExitCode == 0, pack.ToString());
        return pack;
    }

    /// <summary>Packs KernelGen, KernelGen.Onnx and then the kernelgen-import tool (PackAsTool), on first use; fails the test if packing failed.</summary>
    public ChildProcessResult PackTool()
    {
        PackOnnx();
        ChildProcessResult pack = _packTool.Value;
        Assert.True(pack.ExitCode == 0, pack.ToString());
        return pack;
    }

    /// <summary>The environment of a consumer's restore and build: the private package cache.</summary>
    public IReadOnlyDictionary<string, string?> ConsumerEnvironment => new Dictionary<string, string?> { ["NUGET_PACKAGES"] = PackageCache };

    /// <summary>A NuGet.config for a consumer: this feed first, nuget.org for anything else.</summary>
    public string NuGetConfig => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <clear />
            <add key="local" value="{Feed}" />
            <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
          </packageSources>
        </configuration>
        """;

    public void Dispose() => _temp.Dispose();
}
