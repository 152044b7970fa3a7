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
