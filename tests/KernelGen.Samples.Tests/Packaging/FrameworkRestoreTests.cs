using KernelGen.Samples.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KernelGen.Samples.Tests;

/// <summary>
/// Which frameworks the package says it serves, as `dotnet restore` of a fresh project against the packed package decides.
/// Every asset is in a net8.0 or net10.0 folder (lib/, build/, buildTransitive/); only the analyzer is framework-neutral,
/// and NuGet does not count analyzers when it decides compatibility. So a netstandard2.1 project (Unity) or a net6.0 one
/// (older Godot 4) is refused at restore with NU1202, instead of restoring and then failing to build with CS0246
/// ("KernelGen could not be found"), as it did when the props sat at the root of build/.
/// </summary>
[Collection(ChildBuildCollection.Name)]
public sealed class FrameworkRestoreTests(PackedPackage package, ITestOutputHelper log) : IDisposable
{
    private static readonly TimeSpan RestoreTimeout = TimeSpan.FromMinutes(10);

    private readonly TempFolder _temp = new("kernelgen-frameworks-");

    public void Dispose() => _temp.Dispose();

    [PlainPassTheory]
    [InlineData("netstandard2.1", ".NETStandard,Version=v2.1")]
    [InlineData("net6.0", ".NETCoreApp,Version=v6.0")]
    public void Restore_refuses_a_framework_the_package_does_not_serve_with_NU1202(string framework, string frameworkName)
    {
        ChildProcessResult restore = Restore(framework);
        Assert.True(restore.ExitCode != 0, $"restore for {framework} succeeded; it must fail with NU1202:\n{restore}");
        string output = restore.StandardOutput + restore.StandardError;
        Assert.Contains($"error NU1202: Package KernelGen {package.Version} is not compatible with {framework} ({frameworkName})", output);
        // The message lists what the package does serve.
        Assert.Contains("- net8.0 (.NETCoreApp,Version=v8.0)", output);
        Assert.Contains("- net10.0 (.NETCoreApp,Version=v10.0)", output);
    }

    [PlainPassTheory]
    [InlineData("net8.0")]
    [InlineData("net10.0")]
    public void Restore_accepts_the_frameworks_the_package_serves(string framework)
    {
        ChildProcessResult restore = Restore(framework);
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.DoesNotContain("NU1202", restore.StandardOutput + restore.StandardError);
    }

    /// <summary>Restores a fresh library project for <paramref name="framework"/> that references the package.</summary>
    private ChildProcessResult Restore(string framework)
    {
        package.Pack();
        string folder = _temp.Combine(framework);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "NuGet.config"), package.NuGetConfig);
        string project = Path.Combine(folder, "Library.csproj");
        File.WriteAllText(project, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>{framework}</TargetFramework>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="KernelGen" Version="{package.Version}" />
              </ItemGroup>
            </Project>
            """);
        ChildProcessResult restore = ChildProcess.Dotnet(["restore", project, "--disable-build-servers"], folder, RestoreTimeout, package.ConsumerEnvironment);
        log.WriteLine($"{restore.Command}: exit code {restore.ExitCode} after {restore.Elapsed.TotalSeconds:F1} s");
        return restore;
    }
}
