using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Dcgan;
using KernelGen.Samples.Tests.Infrastructure;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit.Abstractions;

namespace KernelGen.Samples.Tests;

/// <summary>
/// Publishes samples/Dcgan with NativeAOT exactly as the README says (`dotnet publish samples/Dcgan -r &lt;rid&gt; -c Release
/// -p:PublishAot=true`, into a temporary folder), requires a publish without a single warning, runs the native binary and
/// checks the image it writes.
/// </summary>
[Collection(ChildBuildCollection.Name)]
public sealed partial class DcganNativeAotTests(ITestOutputHelper log) : IDisposable
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);

    private readonly TempFolder _temp = new("kernelgen-dcgan-aot-");

    public void Dispose() => _temp.Dispose();

    [PlainPassFact]
    public void Dcgan_publishes_with_NativeAOT_without_warnings_and_the_binary_writes_the_image()
    {
        string output = _temp.Combine("publish");
        ChildProcessResult publish = ChildProcess.Dotnet(
            ["publish", Repository.Combine("samples", "Dcgan", "Dcgan.csproj"), "-r", RuntimeIdentifier, "-c", "Release", "-p:PublishAot=true",
             "-o", output, "--artifacts-path", _temp.Combine("artifacts"), "--disable-build-servers", "-p:UseSharedCompilation=false"],
            _temp.Path, PublishTimeout);
        log.WriteLine($"{publish.Command}: exit code {publish.ExitCode} after {publish.Elapsed.TotalSeconds:F1} s");

        Assert.True(publish.ExitCode == 0, publish.ToString());
        string everything = publish.StandardOutput + publish.StandardError;
        // Trimming (IL2xxx), AOT (IL3xxx) or any other warning: the sample must publish clean, not merely succeed.
        Assert.DoesNotMatch(TrimOrAotDiagnostic(), everything);
        Assert.DoesNotMatch(AnyWarning(), everything);

        string binary = Path.Combine(output, OperatingSystem.IsWindows() ? "Dcgan.exe" : "Dcgan");
        Assert.True(File.Exists(binary), $"no native binary {binary}:\n{publish}");
        Assert.False(File.Exists(Path.Combine(output, "Dcgan.dll")), "a NativeAOT publish has no IL assembly of the app");

        string images = _temp.Combine("images");
        ChildProcessResult run = ChildProcess.Run(binary, ["--out", images, "--runs", "2"], _temp.Path, RunTimeout);
        log.WriteLine(run.StandardOutput);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("code: NativeAOT", run.StandardOutput); // it really ran ahead-of-time compiled code
        Assert.Contains(": agree", run.StandardOutput);

        // The native binary computes the image the JIT-compiled sample computes (the same seeds), within the agreement tolerance.
        using var written = Image.Load<Rgb24>(Path.Combine(images, DcganCommand.ImageFileName));
        Assert.Equal((64, 64), (written.Width, written.Height));
        var pixels = new byte[64 * 64 * 3];
        written.CopyPixelDataTo(pixels);
        var image = new float[DcganNetwork.ImageLength];
        new DcganNetwork(DcganCommand.DefaultSeed).RunGenerated(DcganNetwork.CreateLatent(DcganCommand.DefaultLatentSeed), image);
        byte[] expected = DcganImage.ToRgbBytes(image);
        // A value within 1e-4 of a rounding boundary may round the other way: allow a difference of one level, rarely.
        int differing = expected.Zip(pixels, (e, p) => Math.Abs(e - p)).Count(d => d != 0);
        Assert.All(expected.Zip(pixels), pair => Assert.InRange(Math.Abs(pair.First - pair.Second), 0, 1));
        Assert.True(differing < 10, $"{differing} bytes differ from the JIT-compiled sample's image");
    }

    /// <summary>The runtime identifier of this machine, portable form (linux-x64, linux-arm64, osx-arm64, win-x64...).</summary>
    private static string RuntimeIdentifier
    {
        get
        {
            string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
            string architecture = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
            return $"{os}-{architecture}";
        }
    }

    [GeneratedRegex(@"\b(warning|error)\s+IL[23]\d{3}\b")]
    private static partial Regex TrimOrAotDiagnostic();

    [GeneratedRegex(@":\s+warning\s+[A-Z]+\d+")]
    private static partial Regex AnyWarning();
}
