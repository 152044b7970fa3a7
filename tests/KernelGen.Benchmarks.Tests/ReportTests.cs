using System.Buffers.Binary;
using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Reporting;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Tests;

/// <summary>The markdown table and the plot say what the measurements say (synthetic measurements: nothing is timed).</summary>
public sealed class ReportTests
{
    private static readonly ConvShape Unet = ShapeTable.Get("unet_up"), Seed = ShapeTable.Get("seed"),
        Vocoder = ShapeTable.Get("vocoder_up"), Volume = ShapeTable.Get("volume_k3");

    private static readonly Measurement[] Measurements =
    [
        new(Unet, EngineKind.KernelGen1T, 1_000_000),   // 67.1 MFLOP in 1000 µs = 67.1 GFLOP/s
        new(Unet, EngineKind.Ort1T, 2_000_000),
        new(Seed, EngineKind.KernelGen1T, 50),
        new(Seed, EngineKind.Ort1T, 2_150),
        new(Seed, EngineKind.OrtAllCores, 2_200),
        new(Vocoder, EngineKind.KernelGen1T, 2_000_000), // 134 MFLOP in 2000 µs = 67.1 GFLOP/s
        new(Volume, EngineKind.KernelGen1T, 1_000_000),
    ];

    private static readonly ReportContext Context = new("Test CPU, 2 logical cores", 100, "Vector256 100.0 GFLOP/s", "the command",
        ["ORT 1T on unet_up_nhwc: transposes"], new Dictionary<EngineKind, string> { [EngineKind.Torch1T] = "no libtorch here" }, "warm");

    [Fact]
    public void TableHoldsTimesGflopsRatiosAndPeakShares()
    {
        string markdown = MarkdownReport.Render(Measurements, Context, "plot.png");

        Assert.Contains("| shape | geometry | FLOPs | KernelGen 1T | ORT 1T | ORT all |", markdown);
        Assert.Contains("| unet_up | 128->64, 32x32 -> 64x64, k2 s2 p0 op0 | 67.1 M | 1000 (67) | 2000 (34) | - |", markdown);
        Assert.Contains("| seed | 1->1, 2x2 -> 4x4, k3 s2 p1 op1 | 72 | 0.0500 (1.4) | 2.15 (0.03) | 2.20 (0.03) |", markdown);
        Assert.Contains("| ORT 1T / KernelGen 1T |", markdown);
        Assert.Contains("| unet_up | 2.00× |", markdown);
        Assert.Contains("| seed | 43.00× |", markdown);
        Assert.Contains("| unet_up | 67.1 % | 33.6 % | - |", markdown);
        // All-core engines are measured against the peak of every core.
        Assert.Contains("| seed | 1.4 % | 0.0 % | 0.0 % |", markdown);
        Assert.Contains("Test CPU, 2 logical cores", markdown);
        Assert.Contains("`the command`", markdown);
        Assert.Contains("- ORT 1T on unet_up_nhwc: transposes", markdown);
        Assert.Contains("- Torch 1T did not run: no libtorch here", markdown);
        Assert.Contains("![GFLOP/s per shape and engine](plot.png)", markdown);
        // 1-D and 3-D geometry in their own terms, FLOPs by the rank's formula.
        Assert.Contains("| vocoder_up | 1-D 512->256, L 32 -> 256, k16 s8 p4 op0 | 134 M | 2000 (67) | - | - |", markdown);
        Assert.Contains("| volume_k3 | 3-D 32->16, 8x8x8 -> 16x16x16, k3 s2 p1 op1 | 14.2 M | 1000 (14) | - | - |", markdown);
        Assert.Contains("D·H·W", markdown);
        // Shapes in table order, whatever the order of the measurements.
        Assert.True(markdown.IndexOf("| seed | 1->1", StringComparison.Ordinal) < markdown.IndexOf("| unet_up | 128", StringComparison.Ordinal));
    }

    /// <summary>
    /// Where the cases' processes measured their own FMA peak, each case also gets its share of that peak (the host gives
    /// processes different speeds); a case without one shows a dash, and a run without any has no such table.
    /// </summary>
    [Fact]
    public void EachCaseIsAlsoAShareOfItsOwnProcesssPeak()
    {
        Measurement[] withPeaks =
        [
            new(Unet, EngineKind.KernelGen1T, 1_000_000, ProcessPeakGflopsPerCore: 80),   // 67.1 GFLOP/s of 80
            new(Unet, EngineKind.Ort1T, 2_000_000),
            new(Seed, EngineKind.OrtAllCores, 2_200, ProcessPeakGflopsPerCore: 100),
        ];

        string markdown = MarkdownReport.Render(withPeaks, Context, "plot.png");

        Assert.Contains("## Share of each case's own process's FMA peak", markdown);
        Assert.Contains("| unet_up | 83.9 % of 80 | - | - |", markdown);
        // All-core engines against the one-core peak times their threads.
        Assert.Contains("| seed | - | - | 0.0 % of 100 |", markdown);
        Assert.DoesNotContain("own process's FMA peak", MarkdownReport.Render(Measurements, Context, "plot.png"));
    }

    /// <summary>
    /// The AVX-512-off timings (the AVX2-only machine) get their own table, as shares of the Vector256 peak and against the
    /// same engine's AVX-512 time of the run; without them, no such table.
    /// </summary>
    [Fact]
    public void Avx512OffTimingsAreSharesOfTheVector256PeakBesideTheAvx512Time()
    {
        var context = Context with
        {
            Vector256PeakGflopsPerCore = 50,
            Avx512Off = [new(Unet, EngineKind.KernelGen1T, 1_500_000), new(Seed, EngineKind.KernelGen1T, 60)],
        };
        string markdown = MarkdownReport.Render(Measurements, context, "plot.png");

        Assert.Contains("## KernelGen with AVX-512 off (the code an AVX2-only machine runs)", markdown);
        Assert.Contains("| shape | KernelGen 1T |", markdown);
        // 67.1 MFLOP in 1500 µs = 44.7 GFLOP/s = 89.5 % of 50; 1.5 times the 1000 µs of AVX-512 on.
        Assert.Contains("| unet_up | 1500 (45, 89.5 %, 1.50× the AVX-512 time) |", markdown);
        Assert.Contains("| seed | 0.0600 (1.2, 2.4 %, 1.20× the AVX-512 time) |", markdown);
        Assert.Contains("Vector256 FMA peak of 50.0 GFLOP/s", markdown);
        Assert.DoesNotContain("AVX-512 off", MarkdownReport.Render(Measurements, Context, "plot.png"));
    }

    [Fact]
    public void ARunWithoutABaselineHasNoRatioTable()
    {
        string markdown = MarkdownReport.Render([new(Unet, EngineKind.KernelGen1T, 1_000_000)], Context, "plot.png");
        Assert.DoesNotContain("## Ratios", markdown);
        Assert.Contains("## Share of the FMA peak", markdown);
    }

    /// <summary>CPUID leaf 1's EAX of the CPUs this project meets, decoded to the family and model vendors name them by.</summary>
    [Theory]
    [InlineData(0x00A10F11, 25, 17)]   // AMD EPYC 9004 (Zen 4, Genoa)
    [InlineData(0x00B00F21, 26, 2)]    // AMD EPYC 9005 (Zen 5, Turin)
    [InlineData(0x000806F8, 6, 143)]   // Intel Xeon 4th gen (Sapphire Rapids)
    [InlineData(0x00000F41, 15, 4)]    // Intel Pentium 4 (base family 15, no extended family)
    [InlineData(0x00000521, 5, 2)]     // Intel Pentium (no extended fields)
    public void CpuidFamilyAndModelAreDecodedAsVendorsDefineThem(int eax, int family, int model) =>
        Assert.Equal((family, model), MachineInfo.FamilyAndModel(eax));

    [Fact]
    public void MachineDescriptionNamesTheCpuIdentity()
    {
        string identity = MachineInfo.Identity();
        if (System.Runtime.Intrinsics.X86.X86Base.IsSupported)
            Assert.Matches(@"^\w{12} family \d+ model \d+$", identity);
        Assert.Contains($"({identity})", MachineInfo.Describe());
    }

    [Theory]
    [InlineData(51.2, "0.0512")]
    [InlineData(3_404, "3.40")]
    [InlineData(24_250, "24.3")]
    [InlineData(1_078_000, "1078")]
    public void MicrosecondsKeepThreeSignificantDigits(double nanoseconds, string expected) =>
        Assert.Equal(expected, MarkdownReport.FormatMicroseconds(nanoseconds));

    [Theory]
    [InlineData(72, "72")]
    [InlineData(18_432, "18.4 k")]
    [InlineData(67_108_864, "67.1 M")]
    public void CountsTakeSiSuffixes(long count, string expected) => Assert.Equal(expected, MarkdownReport.FormatCount(count));

    [Fact]
    public void PlotIsAPngOfTheRequestedSize()
    {
        string path = Path.Combine(Path.GetTempPath(), $"kernelgen-plot-{Guid.NewGuid():N}.png");
        try
        {
            GflopsPlot.Save(Measurements, path, peakGflopsPerCore: 100, width: 640, height: 360);
            byte[] png = File.ReadAllBytes(path);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a], png[..8]);
            // IHDR: width and height, big-endian, at bytes 16 and 20.
            Assert.Equal(640, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
            Assert.Equal(360, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
            Assert.True(png.Length > 5_000, "a plot with bars, axes and a legend is more than a blank image");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
