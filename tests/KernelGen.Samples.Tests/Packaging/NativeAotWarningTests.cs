using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using KernelGen.Samples.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KernelGen.Samples.Tests;

/// <summary>
/// KG1001, the package's warning about a NativeAOT publish for x64 that sets no <c>IlcInstructionSet</c>: fresh projects
/// outside the repository that reference the packed package and declare the course example as a generated kernel are
/// published with NativeAOT (real publishes, as a user runs them), and the binaries are run to show what the warning says:
/// without an instruction set they have no Vector256; with the one the warning names they do.
/// </summary>
[Collection(ChildBuildCollection.Name)]
public sealed class NativeAotWarningTests(PackedPackage package, ITestOutputHelper log) : IDisposable
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);

    private readonly TempFolder _temp = new("kernelgen-aot-warning-");

    public void Dispose() => _temp.Dispose();

    /// <summary>NativeAOT for x64 starts at an instruction set without AVX2 whatever the machine; other architectures do not warn.</summary>
    private static bool X64 => RuntimeInformation.ProcessArchitecture == Architecture.X64;

    [PlainPassFact]
    public void Publishing_without_an_instruction_set_warns_with_KG1001_naming_what_to_set()
    {
        var (publish, run) = PublishAndRun("net10.0", properties: "");
        if (!X64)
        {
            Assert.DoesNotContain("KG1001", publish);
            return;
        }

        // One warning, on the user's project file, with the .NET 10 compiler's name for AVX2 + FMA and the machine's own set.
        Assert.Single(WarningLines(publish));
        string warning = WarningLines(publish)[0];
        Assert.Contains("Consumer.csproj : warning KG1001: KernelGen: this NativeAOT publish for ", warning);
        Assert.Contains("no AVX2 and no FMA", warning);
        Assert.Contains("Set <IlcInstructionSet>x86-64-v3</IlcInstructionSet>", warning);
        Assert.Contains("<IlcInstructionSet>native</IlcInstructionSet>", warning);
        Assert.Contains("add KG1001 to <NoWarn>", warning);
        // What it warns about is true of the binary: no Vector256 (and so no FMA) even on a machine with AVX2.
        Assert.Contains("Vector256=False Fma=False code=NativeAOT", run);
    }

    [PlainPassFact]
    public void Setting_the_instruction_set_the_warning_names_removes_the_warning_and_gives_the_kernels_Vector256()
    {
        if (!X64) return;   // x86-64-v3 is an x64 instruction set: nothing to publish elsewhere
        var (publish, run) = PublishAndRun("net10.0", "<IlcInstructionSet>x86-64-v3</IlcInstructionSet>", runBinary: Avx2.IsSupported && Fma.IsSupported);
        Assert.DoesNotContain("KG1001", publish);
        if (Avx2.IsSupported && Fma.IsSupported)
            Assert.Contains("Vector256=True Fma=True code=NativeAOT", run);
    }

    [PlainPassFact]
    public void NoWarn_silences_KG1001()
    {
        var (publish, run) = PublishAndRun("net10.0", "<NoWarn>$(NoWarn);KG1001</NoWarn>");
        Assert.DoesNotContain("KG1001", publish);
        if (X64) Assert.Contains("Vector256=False", run);   // silenced, not changed
    }

    [PlainPassFact]
    public void On_net8_the_warning_names_the_NET_8_compilers_spelling()
    {
        if (!X64) return;
        // ILC 8 and 9 know AVX2 + FMA as x86-x64-v3 and reject x86-64-v3; ILC 10 the other way round.
        var (publish, _) = PublishAndRun("net8.0", properties: "", runBinary: false);
        string warning = Assert.Single(WarningLines(publish));
        Assert.Contains("Set <IlcInstructionSet>x86-x64-v3</IlcInstructionSet>", warning);
        Assert.Contains("<IlcInstructionSet>native</IlcInstructionSet>", warning);
    }

    private static string[] WarningLines(string output) =>
        output.ReplaceLineEndings("\n").Split('\n').Where(line => line.Contains("warning KG1001", StringComparison.Ordinal)).Distinct().ToArray();

    /// <summary>
    /// Publishes a fresh project for this machine's runtime identifier with <c>PublishAot</c>, the given target framework
    /// and extra properties; returns everything the publish printed and what the binary printed (empty when not run).
    /// </summary>
    private (string Publish, string Run) PublishAndRun(string framework, string properties, bool runBinary = true)
    {
        package.Pack();
        string folder = _temp.Combine("consumer");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "NuGet.config"), package.NuGetConfig);
        File.WriteAllText(Path.Combine(folder, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>{framework}</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <PublishAot>true</PublishAot>
                {properties}
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="KernelGen" Version="{package.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), """
            using System.Runtime.CompilerServices;
            using System.Runtime.Intrinsics;
            using System.Runtime.Intrinsics.X86;
            using KernelGen;

            float[] input = [2, 1, 3, 2];
            float[] weights = [1, 2, 1, 2, 0, 1, 0, 2, 1];
            var output = new float[Upsamplers.SeedShape.OutputLength];
            Upsamplers.Seed(input, weights, output);
            Console.WriteLine($"Vector256={Vector256.IsHardwareAccelerated} Fma={Fma.IsSupported} code={(RuntimeFeature.IsDynamicCodeCompiled ? "JIT" : "NativeAOT")}");
            Console.WriteLine(string.Join(' ', output));

            public static partial class Upsamplers
            {
                [GeneratedConvTranspose2D(1, 1, 2, 2, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
                public static partial void Seed(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);
            }
            """);

        string rid = $"{(OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux")}-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";
        string output = Path.Combine(folder, "publish");
        ChildProcessResult publish = ChildProcess.Dotnet(
            ["publish", Path.Combine(folder, "Consumer.csproj"), "-r", rid, "-c", "Release", "-o", output, "--disable-build-servers", "-p:UseSharedCompilation=false"],
            folder, PublishTimeout, package.ConsumerEnvironment);
        log.WriteLine($"{publish.Command}: exit code {publish.ExitCode} after {publish.Elapsed.TotalSeconds:F1} s");
        Assert.True(publish.ExitCode == 0, publish.ToString());
        if (!runBinary) return (publish.StandardOutput + publish.StandardError, "");

        ChildProcessResult run = ChildProcess.Run(Path.Combine(output, OperatingSystem.IsWindows() ? "Consumer.exe" : "Consumer"), [], folder, RunTimeout);
        log.WriteLine(run.StandardOutput);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("0 4 0 1 10 7 6 3 0 7 0 2 6 3 4 2", run.StandardOutput);   // the course example
        return (publish.StandardOutput + publish.StandardError, run.StandardOutput);
    }
}
