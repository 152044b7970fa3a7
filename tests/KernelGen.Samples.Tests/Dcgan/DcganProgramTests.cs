using Dcgan;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace KernelGen.Samples.Tests;

/// <summary>
/// Runs the Dcgan sample's program in-process (its entry point is <see cref="DcganCommand.Run"/>) into a temporary
/// folder, and checks its PNG writer and pixel mapping; the PNG files are read back with ImageSharp, an independent decoder.
/// </summary>
public sealed class DcganProgramTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("kernelgen-dcgan-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Program_times_both_paths_checks_them_and_writes_the_generated_image_as_a_64x64_png()
    {
        string outFolder = Path.Combine(_folder, "out");
        var (exitCode, stdout, stderr) = Run("--out", outFolder, "--runs", "2");

        Assert.True(exitCode == DcganCommand.Success, stdout + stderr);
        Assert.Equal("", stderr);
        Assert.Contains("latent 100 -> 4x4x512 -> 8x8x256 -> 16x16x128 -> 32x32x64 -> 64x64x3", stdout);
        Assert.Matches(@"generated kernels, 1 thread\s+\d+\.\d{3} ms median\s+\d+\.\d{3} ms best", stdout);
        Assert.Matches(@"runtime path, 1 thread\s+\d+\.\d{3} ms median", stdout);
        Assert.Matches(@"generated vs runtime: largest difference \S+, tolerance 0\.0001: agree", stdout);

        string png = Path.Combine(outFolder, DcganCommand.ImageFileName);
        Assert.Contains(png, stdout);
        Assert.Equal("png", Image.DetectFormat(png)?.Name.ToLowerInvariant());
        using var written = Image.Load<Rgb24>(png);
        Assert.Equal((64, 64), (written.Width, written.Height));

        // PNG is lossless: the file holds exactly the network's image for the default seeds, mapped to bytes.
        var image = new float[DcganNetwork.ImageLength];
        new DcganNetwork(DcganCommand.DefaultSeed).RunGenerated(DcganNetwork.CreateLatent(DcganCommand.DefaultLatentSeed), image);
        Assert.Equal(DcganImage.ToRgbBytes(image), Bytes(written));
    }

    [Fact]
    public void Seeds_choose_the_image()
    {
        Assert.Equal(DcganCommand.Success, Run("--out", Path.Combine(_folder, "a"), "--runs", "1", "--seed", "3", "--latent-seed", "4").ExitCode);
        using var written = Image.Load<Rgb24>(Path.Combine(_folder, "a", DcganCommand.ImageFileName));
        var image = new float[DcganNetwork.ImageLength];
        new DcganNetwork(3).RunGenerated(DcganNetwork.CreateLatent(4), image);
        Assert.Equal(DcganImage.ToRgbBytes(image), Bytes(written));
    }

    [Theory]
    [InlineData("--runs", "0")]
    [InlineData("--runs", "x")]
    [InlineData("--seed", "1.5")]
    [InlineData("--latent-seed")]
    [InlineData("--out")]
    [InlineData("--frobnicate", "1")]
    [InlineData("--frobnicate")]
    [InlineData("stray")]
    public void Bad_arguments_exit_with_the_usage_code_and_write_nothing(params string[] args)
    {
        var (exitCode, stdout, stderr) = Run([.. args, "--out", _folder]);
        Assert.Equal(DcganCommand.UsageError, exitCode);
        Assert.StartsWith("error: ", stderr);
        Assert.Contains("Usage:", stderr);
        Assert.Equal("", stdout);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_folder));
    }

    [Fact]
    public void Help_prints_the_usage()
    {
        var (exitCode, stdout, _) = Run("--help");
        Assert.Equal(DcganCommand.Success, exitCode);
        Assert.Contains("--latent-seed", stdout);
    }

    [Fact]
    public void An_unwritable_output_is_a_failure_with_a_message()
    {
        string file = Path.Combine(_folder, "not-a-folder");
        File.WriteAllText(file, "");
        var (exitCode, _, stderr) = Run("--out", file, "--runs", "1");
        Assert.Equal(DcganCommand.Failure, exitCode);
        Assert.Contains("cannot write", stderr);
    }

    [Fact]
    public void Png_writer_output_decodes_to_the_same_pixels()
    {
        // An odd size and every byte value, read back by ImageSharp.
        const int width = 7, height = 5;
        byte[] rgb = Enumerable.Range(0, width * height * 3).Select(i => (byte)(i * 37 % 256)).ToArray();
        string path = Path.Combine(_folder, "sub", "odd.png");
        PngWriter.Write(path, width, height, rgb);

        using var decoded = Image.Load<Rgb24>(path);
        Assert.Equal((width, height), (decoded.Width, decoded.Height));
        Assert.Equal(rgb, Bytes(decoded));
    }

    [Fact]
    public void Png_writer_writes_the_signature_the_header_and_correct_checksums()
    {
        using var stream = new MemoryStream();
        PngWriter.Write(stream, 2, 1, [1, 2, 3, 4, 5, 6]);
        byte[] png = stream.ToArray();

        Assert.Equal([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
        // IHDR: length 13, type, width 2, height 1, depth 8, colour type 2 (RGB), compression, filter, interlace 0.
        Assert.Equal([0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R', 0, 0, 0, 2, 0, 0, 0, 1, 8, 2, 0, 0, 0], png[8..29]);
        // The file ends with the empty IEND chunk, whose CRC is the well-known AE 42 60 82.
        Assert.Equal([0, 0, 0, 0, (byte)'I', (byte)'E', (byte)'N', (byte)'D', 0xAE, 0x42, 0x60, 0x82], png[^12..]);
        // The CRC-32 check value of the standard ("123456789" -> CBF43926).
        Assert.Equal(0xCBF43926u, PngWriter.Crc32("123456789"u8));
    }

    [Fact]
    public void Png_writer_rejects_bad_sizes()
    {
        using var stream = new MemoryStream();
        Assert.Throws<ArgumentOutOfRangeException>(() => PngWriter.Write(stream, 0, 1, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => PngWriter.Write(stream, 1, -1, []));
        Assert.Equal("rgb", Assert.Throws<ArgumentException>(() => PngWriter.Write(stream, 2, 2, new byte[11])).ParamName);
        Assert.Equal(0, stream.Length);
    }

    [Theory]
    [InlineData(-1f, 0)]
    [InlineData(1f, 255)]
    [InlineData(0f, 128)]            // 127.5 rounds away from zero
    [InlineData(-0.5f, 64)]          // 63.75
    [InlineData(0.999f, 255)]        // 254.87
    [InlineData(-3f, 0)]             // clamped
    [InlineData(7f, 255)]            // clamped
    [InlineData(float.NaN, 0)]
    public void Tanh_outputs_map_linearly_to_bytes(float value, byte expected) => Assert.Equal(expected, DcganImage.ToByte(value));

    private static byte[] Bytes(Image<Rgb24> image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }

    private static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exitCode = DcganCommand.Run(args, stdout, stderr);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }
}
