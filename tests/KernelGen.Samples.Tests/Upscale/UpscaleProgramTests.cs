using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Upscale;

namespace KernelGen.Samples.Tests;

/// <summary>
/// Runs the Upscale sample's program in-process (its entry point is <see cref="UpscaleCommand.Run"/>) on files in a
/// temporary folder: the two-file command, the generated demo, and every kind of bad command line.
/// </summary>
public sealed class UpscaleProgramTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("kernelgen-upscale-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Upscales_a_png_file_into_a_png_twice_as_wide_and_high()
    {
        string input = Path.Combine(_folder, "in.png"), output = Path.Combine(_folder, "sub", "out.png");
        using (var image = TestImage.Create(37, 21))
            image.SaveAsPng(input);

        var (exitCode, stdout, stderr) = Run(input, output);

        Assert.Equal(UpscaleCommand.Success, exitCode);
        Assert.Equal("", stderr);
        Assert.Contains("37x21", stdout);
        Assert.Contains("74x42", stdout);
        Assert.Contains("best of", stdout);
        Assert.Equal("png", Image.DetectFormat(output)?.Name.ToLowerInvariant());
        using var written = Image.Load<Rgba32>(output);
        Assert.Equal((74, 42), (written.Width, written.Height));
        // PNG is lossless: the file holds exactly what the upscaler computes from the file it read.
        using var read = Image.Load<Rgba32>(input);
        using var expected = BilinearUpscaler.Upscale(read);
        Assert.Equal(Pixels(expected), Pixels(written));
    }

    [Fact]
    public void Without_arguments_generates_a_test_image_and_its_upscale_into_the_out_folder()
    {
        string folder = Path.Combine(_folder, "demo");

        var (exitCode, stdout, stderr) = Run("--out", folder);

        Assert.Equal(UpscaleCommand.Success, exitCode);
        Assert.Equal("", stderr);
        using var input = Image.Load<Rgba32>(Path.Combine(folder, UpscaleCommand.GeneratedInputName));
        using var output = Image.Load<Rgba32>(Path.Combine(folder, UpscaleCommand.GeneratedOutputName));
        Assert.Equal((TestImage.DefaultWidth, TestImage.DefaultHeight), (input.Width, input.Height));
        Assert.Equal((2 * TestImage.DefaultWidth, 2 * TestImage.DefaultHeight), (output.Width, output.Height));
        using var generated = TestImage.Create();
        Assert.Equal(Pixels(generated), Pixels(input));
        using var expected = BilinearUpscaler.Upscale(input);
        Assert.Equal(Pixels(expected), Pixels(output));
        Assert.Contains($"{TestImage.DefaultWidth}x{TestImage.DefaultHeight}", stdout);
        Assert.Contains($"{2 * TestImage.DefaultWidth}x{2 * TestImage.DefaultHeight}", stdout);
        Assert.Contains("0.25, 0.75, 0.75, 0.25", stdout);
    }

    [Fact]
    public void A_missing_input_file_is_a_clear_error_with_exit_code_1_and_writes_nothing()
    {
        string missing = Path.Combine(_folder, "no-such-image.png"), output = Path.Combine(_folder, "out.png");

        var (exitCode, stdout, stderr) = Run(missing, output);

        Assert.Equal(UpscaleCommand.Failure, exitCode);
        Assert.Equal("", stdout);
        Assert.Contains($"error: input file '{missing}' does not exist.", stderr);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void A_folder_as_input_is_a_clear_error()
    {
        var (exitCode, _, stderr) = Run(_folder, Path.Combine(_folder, "out.png"));
        Assert.Equal(UpscaleCommand.Failure, exitCode);
        Assert.Contains("is a folder, not an image file", stderr);
    }

    [Fact]
    public void A_file_that_is_not_an_image_is_a_clear_error_with_exit_code_1()
    {
        string notAnImage = Path.Combine(_folder, "notes.png"), output = Path.Combine(_folder, "out.png");
        File.WriteAllText(notAnImage, "this is text, not a PNG");

        var (exitCode, stdout, stderr) = Run(notAnImage, output);

        Assert.Equal(UpscaleCommand.Failure, exitCode);
        Assert.Equal("", stdout);
        Assert.StartsWith($"error: cannot read '{notAnImage}' as an image", stderr);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void An_output_name_without_a_known_image_extension_is_a_usage_error_before_any_work()
    {
        string input = Path.Combine(_folder, "in.png"), output = Path.Combine(_folder, "out.unknown");
        using (var image = TestImage.Create(4, 4))
            image.SaveAsPng(input);

        var (exitCode, stdout, stderr) = Run(input, output);

        Assert.Equal(UpscaleCommand.UsageError, exitCode);
        Assert.Equal("", stdout);
        Assert.Contains("cannot tell which image format to write", stderr);
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData(new[] { "only-one.png" }, "expected an input and an output file, but got 1 argument.")]
    [InlineData(new[] { "a.png", "b.png", "c.png" }, "expected an input and an output file, but got 3 arguments.")]
    [InlineData(new[] { "--bogus" }, "unknown option '--bogus'.")]
    [InlineData(new[] { "--out" }, "--out needs a folder.")]
    [InlineData(new[] { "in.png", "out.png", "--out", "folder" }, "--out is only for the generated test image")]
    public void A_bad_command_line_is_a_usage_error_with_exit_code_2(string[] args, string message)
    {
        var (exitCode, stdout, stderr) = Run(args);

        Assert.Equal(UpscaleCommand.UsageError, exitCode);
        Assert.Equal("", stdout);
        Assert.StartsWith($"error: {message}", stderr);
        Assert.Contains("Usage:", stderr);
    }

    [Fact]
    public void Help_prints_the_usage_and_succeeds()
    {
        var (exitCode, stdout, stderr) = Run("--help");
        Assert.Equal(UpscaleCommand.Success, exitCode);
        Assert.Equal("", stderr);
        Assert.Contains("Upscale <input> <output>", stdout);
    }

    private static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exitCode = UpscaleCommand.Run(args, stdout, stderr);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    private static Rgba32[] Pixels(Image<Rgba32> image)
    {
        var pixels = new Rgba32[image.Width * image.Height];
        image.CopyPixelDataTo(pixels);
        return pixels;
    }
}
