using Digits;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace KernelGen.Samples.Tests;

/// <summary>
/// Runs the Digits sample's program in-process (its entry point is <see cref="DigitsCommand.Run"/>) into a temporary
/// folder: the checks it reports, the PNG (read back with ImageSharp's decoder), the ASCII preview and the bad arguments.
/// </summary>
public sealed class DigitsProgramTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("kernelgen-digits-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Program_checks_against_PyTorch_and_writes_the_grid_as_a_png_of_the_expected_size()
    {
        string png = Path.Combine(_folder, "out", "digits.png");
        var (exitCode, stdout, stderr) = Run("--out", png);

        Assert.True(exitCode == DigitsCommand.Success, stdout + stderr);
        Assert.Equal("", stderr);
        Assert.Contains("latent 32 + one-hot digit -> 4x4x64 -> 8x8x32 -> 16x16x1", stdout);
        Assert.Matches(@"against PyTorch \(20 fixed latents\): largest relative difference \S+ generated, \S+ runtime, tolerance 0\.0001: match", stdout);
        Assert.Matches(@"100 images \(seed 1\): .* largest difference \S+, tolerance 0\.0001: agree", stdout);
        Assert.Contains(png, stdout);

        // 10 images of 16x16 pixels per row at scale 4, with 4-pixel lines around and between them: 10 * 68 + 4.
        Assert.Equal((684, 684), DigitsGrid.GetPixelSize(DigitsCommand.DefaultColumns, DigitsCommand.DefaultScale));
        Assert.Equal("png", Image.DetectFormat(png)?.Name.ToLowerInvariant());
        using var written = Image.Load<L8>(png);
        Assert.Equal((684, 684), (written.Width, written.Height));

        // PNG is lossless: the file holds exactly the generated kernels' grid for the default seed, mapped to bytes.
        var grid = new DigitsGrid(DigitsGenerator.Load(DigitsGenerator.DefaultWeightsPath), DigitsCommand.DefaultColumns, DigitsCommand.DefaultSeed,
            DigitsCommand.DefaultScale);
        Assert.Equal(grid.ToGreyBytes(), Bytes(written));
        // The top-left image's pixel (0, 0) covers file pixels 4..7 on both axes; the line around it is grey.
        Assert.Equal(DigitsGrid.ToByte(grid.Images[0][0]), written[4, 4].PackedValue);
        Assert.Equal(DigitsGrid.ToByte(grid.Images[0][0]), written[7, 7].PackedValue);
        Assert.Equal(DigitsGrid.LineGrey, written[3, 5].PackedValue);
        Assert.Equal(DigitsGrid.LineGrey, written[683, 683].PackedValue);
    }

    [Fact]
    public void Columns_and_scale_set_the_size_and_the_seed_chooses_the_images()
    {
        string png = Path.Combine(_folder, "small.png");
        var (exitCode, stdout, stderr) = Run("--out", png, "--columns", "3", "--scale", "1", "--seed", "77");
        Assert.True(exitCode == DigitsCommand.Success, stdout + stderr);
        using var written = Image.Load<L8>(png);
        Assert.Equal((3 * 17 + 1, 10 * 17 + 1), (written.Width, written.Height));

        var generator = DigitsGenerator.Load(DigitsGenerator.DefaultWeightsPath);
        Assert.Equal(new DigitsGrid(generator, 3, 77, 1).ToGreyBytes(), Bytes(written));
        Assert.NotEqual(new DigitsGrid(generator, 3, 78, 1).ToGreyBytes(), Bytes(written));
    }

    [Fact]
    public void The_ascii_preview_shows_the_digits_0_to_9_in_two_bands_of_five()
    {
        var (_, stdout, _) = Run("--out", Path.Combine(_folder, "d.png"), "--columns", "2");
        var grid = new DigitsGrid(DigitsGenerator.Load(DigitsGenerator.DefaultWeightsPath), 2, DigitsCommand.DefaultSeed, DigitsCommand.DefaultScale);
        string ascii = grid.ToAscii();
        Assert.EndsWith(ascii, stdout);

        string[] lines = ascii.Split(Environment.NewLine);
        // 8 text rows per band (two pixel rows each), a blank line between the bands, and the final line break.
        Assert.Equal(8 + 1 + 8 + 1, lines.Length);
        Assert.All(lines.Take(8).Concat(lines.Skip(9).Take(8)), line => Assert.Equal(5 * 16 + 4 * 2, line.Length));
        Assert.Equal("", lines[8]);
        // The images are ink on a background: the preview uses both ends of the ramp.
        Assert.Contains(' ', ascii);
        Assert.Contains(DigitsGrid.AsciiRamp[^1], ascii);
    }

    [Fact]
    public void Weights_that_cannot_be_loaded_are_a_failure_with_a_message()
    {
        string bad = Path.Combine(_folder, "bad.safetensors");
        File.WriteAllBytes(bad, [1, 2, 3]);
        var (exitCode, stdout, stderr) = Run("--weights", bad, "--out", Path.Combine(_folder, "x.png"));
        Assert.Equal(DigitsCommand.Failure, exitCode);
        Assert.Contains("cannot load the generator", stderr);
        Assert.Contains(bad, stderr);
        Assert.Equal("", stdout);

        (exitCode, _, stderr) = Run("--weights", Path.Combine(_folder, "none.safetensors"), "--out", Path.Combine(_folder, "x.png"));
        Assert.Equal(DigitsCommand.Failure, exitCode);
        Assert.Contains("none.safetensors", stderr);
        Assert.False(File.Exists(Path.Combine(_folder, "x.png")));
    }

    [Fact]
    public void Weights_elsewhere_without_PyTorchs_outputs_beside_them_skip_that_check()
    {
        string copy = Path.Combine(_folder, "copy.safetensors");
        File.Copy(DigitsGenerator.DefaultWeightsPath, copy);
        var (exitCode, stdout, stderr) = Run("--weights", copy, "--out", Path.Combine(_folder, "c.png"), "--columns", "1");
        Assert.True(exitCode == DigitsCommand.Success, stdout + stderr);
        Assert.DoesNotContain("against PyTorch", stdout);
        Assert.Contains(copy, stdout);
    }

    [Fact]
    public void An_unwritable_output_is_a_failure_with_a_message()
    {
        string file = Path.Combine(_folder, "not-a-folder");
        File.WriteAllText(file, "");
        var (exitCode, _, stderr) = Run("--out", Path.Combine(file, "digits.png"), "--columns", "1");
        Assert.Equal(DigitsCommand.Failure, exitCode);
        Assert.Contains("cannot write", stderr);
    }

    [Theory]
    [InlineData("--columns", "0")]
    [InlineData("--columns", "101")]
    [InlineData("--scale", "0")]
    [InlineData("--scale", "33")]
    [InlineData("--scale", "x")]
    [InlineData("--seed", "1.5")]
    [InlineData("--weights")]
    [InlineData("--out")]
    [InlineData("--frobnicate", "1")]
    [InlineData("stray")]
    public void Bad_arguments_exit_with_the_usage_code_and_write_nothing(params string[] args)
    {
        var (exitCode, stdout, stderr) = Run([.. args, "--out", Path.Combine(_folder, "d.png")]);
        Assert.Equal(DigitsCommand.UsageError, exitCode);
        Assert.StartsWith("error: ", stderr);
        Assert.Contains("Usage:", stderr);
        Assert.Equal("", stdout);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_folder));
    }

    [Fact]
    public void Help_prints_the_usage()
    {
        var (exitCode, stdout, _) = Run("--help");
        Assert.Equal(DigitsCommand.Success, exitCode);
        Assert.Contains("--weights", stdout);
    }

    [Theory]
    [InlineData(-1f, 0)]
    [InlineData(1f, 255)]
    [InlineData(0f, 128)]            // 127.5 rounds away from zero
    [InlineData(-3f, 0)]             // clamped
    [InlineData(7f, 255)]            // clamped
    [InlineData(float.NaN, 0)]
    public void Tanh_outputs_map_linearly_to_grey_bytes(float value, byte expected) => Assert.Equal(expected, DigitsGrid.ToByte(value));

    private static byte[] Bytes(Image<L8> image)
    {
        var bytes = new byte[image.Width * image.Height];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }

    private static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exitCode = DigitsCommand.Run(args, stdout, stderr);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }
}
