using System.Diagnostics;
using System.Globalization;
using KernelGen;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.PixelFormats;

namespace Upscale;

/// <summary>The command line of the sample: parses the arguments, reads, upscales and writes the images, reports.</summary>
public static class UpscaleCommand
{
    /// <summary>Exit code of a successful run.</summary>
    public const int Success = 0;

    /// <summary>Exit code when an image cannot be read or written.</summary>
    public const int Failure = 1;

    /// <summary>Exit code for arguments that do not make a valid command line.</summary>
    public const int UsageError = 2;

    /// <summary>The name of the generated test image when no input is given.</summary>
    public const string GeneratedInputName = "upscale-input.png";

    /// <summary>The name of the upscaled test image when no input is given.</summary>
    public const string GeneratedOutputName = "upscale-output.png";

    /// <summary>The convolution is repeated (after a first call that also plans) at most this many times to time it.</summary>
    private const int MaxTimedRepeats = 10;

    /// <summary>...or until this much time has been spent repeating it, so a large image does not keep the user waiting.</summary>
    private static readonly TimeSpan RepeatBudget = TimeSpan.FromSeconds(1);

    /// <summary>The usage text, printed for <c>--help</c> and after a usage error.</summary>
    public const string Usage =
        """
        Usage:
          Upscale <input> <output>    upscale an image 2x (reads PNG, JPEG, BMP, GIF, TGA, TIFF, WebP, PBM; writes
                                      the format the output's extension names, e.g. .png)
          Upscale [--out <folder>]    generate a test image, write it and its 2x upscale as upscale-input.png and
                                      upscale-output.png into <folder> (default: the current folder)
          Upscale --help              show this text
        Exit codes: 0 done, 1 an image could not be read or written, 2 bad arguments.
        """;

    /// <summary>Runs the program.</summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="output">Where the report goes (standard output).</param>
    /// <param name="error">Where errors go (standard error).</param>
    /// <returns><see cref="Success"/>, <see cref="Failure"/> or <see cref="UsageError"/>.</returns>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        var positional = new List<string>();
        string? outFolder = null;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help" or "-?")
            {
                output.WriteLine(Usage);
                return Success;
            }

            if (arg == "--out")
            {
                if (i + 1 >= args.Length || string.IsNullOrWhiteSpace(args[i + 1]))
                    return UsageFailure(error, "--out needs a folder.");
                outFolder = args[++i];
            }
            else if (arg.StartsWith('-') && arg.Length > 1)
            {
                return UsageFailure(error, $"unknown option '{arg}'.");
            }
            else
            {
                positional.Add(arg);
            }
        }

        if (positional.Count == 0)
            return RunDemo(outFolder ?? Directory.GetCurrentDirectory(), output, error);
        if (outFolder is not null)
            return UsageFailure(error, "--out is only for the generated test image; give the output file as the second argument instead.");
        if (positional.Count != 2)
            return UsageFailure(error, $"expected an input and an output file, but got {positional.Count} argument{(positional.Count == 1 ? "" : "s")}.");
        return UpscaleFile(positional[0], positional[1], output, error);
    }

    /// <summary>Generates the test image into <paramref name="folder"/> and upscales it.</summary>
    private static int RunDemo(string folder, TextWriter output, TextWriter error)
    {
        string inputPath = Path.Combine(folder, GeneratedInputName);
        try
        {
            Directory.CreateDirectory(folder);
            using var testImage = TestImage.Create();
            testImage.SaveAsPng(inputPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return ReportFailure(error, $"cannot write the test image '{inputPath}': {e.Message}");
        }

        output.WriteLine(Invariant($"Generated a {TestImage.DefaultWidth}x{TestImage.DefaultHeight} test image (gradients, a checkerboard, a translucent disc)."));
        return UpscaleFile(inputPath, Path.Combine(folder, GeneratedOutputName), output, error);
    }

    /// <summary>Reads <paramref name="inputPath"/>, upscales it 2x and writes <paramref name="outputPath"/>, timing each step.</summary>
    private static int UpscaleFile(string inputPath, string outputPath, TextWriter output, TextWriter error)
    {
        // Check what can be checked before any work, so that a typo costs nothing and leaves no file behind.
        if (!File.Exists(inputPath))
            return ReportFailure(error, Directory.Exists(inputPath) ? $"input '{inputPath}' is a folder, not an image file." : $"input file '{inputPath}' does not exist.");
        IImageFormat? outputFormat = Configuration.Default.ImageFormatsManager.FindFormatByFileExtension(Path.GetExtension(outputPath).TrimStart('.'));
        if (outputFormat is null)
            return UsageFailure(error, $"cannot tell which image format to write from the output name '{outputPath}'; end it with .png.");

        var clock = Stopwatch.StartNew();
        Image<Rgba32> input;
        try
        {
            input = Image.Load<Rgba32>(inputPath);
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or NotSupportedException
            or IOException or UnauthorizedAccessException)
        {
            return ReportFailure(error, $"cannot read '{inputPath}' as an image: {e.Message}");
        }

        using (input)
        {
            TimeSpan loading = Lap(clock);
            int width = input.Width, height = input.Height;

            float[] planes = BilinearUpscaler.ToPlanes(input);
            TimeSpan toPlanes = Lap(clock);

            PreparedConvTranspose2D layer = BilinearUpscaler.CreateLayer(BilinearUpscaler.RgbaChannels, Environment.ProcessorCount);
            var upscaled = new float[layer.Definition.GetOutputLength(batch: 1, height, width)];
            TimeSpan preparing = Lap(clock);

            BilinearUpscaler.UpscalePlanes(layer, planes, height, width, upscaled);
            TimeSpan firstCall = Lap(clock);

            // The first call also plans for this input size (and JIT-compiles the kernels); later calls show the
            // steady cost of the convolution alone.
            TimeSpan best = TimeSpan.MaxValue;
            int repeats = 0;
            var budget = Stopwatch.StartNew();
            while (repeats < MaxTimedRepeats && budget.Elapsed < RepeatBudget)
            {
                var once = Stopwatch.StartNew();
                BilinearUpscaler.UpscalePlanes(layer, planes, height, width, upscaled);
                best = Min(best, once.Elapsed);
                repeats++;
            }

            clock.Restart();
            using var result = BilinearUpscaler.FromPlanes(upscaled, BilinearUpscaler.Factor * width, BilinearUpscaler.Factor * height);
            TimeSpan toBytes = Lap(clock);

            try
            {
                string? folder = Path.GetDirectoryName(Path.GetFullPath(outputPath));
                if (folder is not null)
                    Directory.CreateDirectory(folder);
                result.Save(outputPath, Configuration.Default.ImageFormatsManager.FindEncoder(outputFormat));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                return ReportFailure(error, $"cannot write '{outputPath}': {e.Message}");
            }

            TimeSpan saving = Lap(clock);

            string taps = string.Join(", ", BilinearUpscaler.BilinearTaps(BilinearUpscaler.Factor).Select(t => t.ToString(CultureInfo.InvariantCulture)));
            output.WriteLine($"Layer:  {layer.Definition}");
            output.WriteLine($"        bilinear taps f = [{taps}], weights w[i, j] = f(i) * f(j) for each of the 4 channels (R, G, B, A)");
            output.WriteLine(Invariant($"Input:  {inputPath}  {width}x{height}"));
            output.WriteLine(Invariant($"Output: {outputPath}  {result.Width}x{result.Height}"));
            output.WriteLine(Invariant(
                $"Timing: load {Ms(loading)}, to float planes {Ms(toPlanes)}, prepare {Ms(preparing)}, convolution {Ms(firstCall)} first call (plans and JIT-compiles)"));
            output.WriteLine(Invariant(
                $"        and {Ms(best)} best of {repeats} more ({Throughput(result.Width * result.Height, best)}), to bytes {Ms(toBytes)}, save {Ms(saving)}"));
            output.WriteLine("Note:   inside, every pixel is bilinear upsampling (half-pixel centres); the outermost ring is darker and more");
            output.WriteLine("        transparent (0.75 of the bilinear value on edges, 0.5625 at corners): the convolution reads zeros beyond the border.");
            return Success;
        }
    }

    private static TimeSpan Lap(Stopwatch clock)
    {
        TimeSpan elapsed = clock.Elapsed;
        clock.Restart();
        return elapsed;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static string Ms(TimeSpan time) => Invariant($"{time.TotalMilliseconds:F2} ms");

    private static string Throughput(long outputPixels, TimeSpan time) =>
        time.TotalSeconds > 0 ? Invariant($"{outputPixels / time.TotalSeconds / 1e6:F0} million output pixels/s") : "too fast to time";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static int ReportFailure(TextWriter error, string message)
    {
        error.WriteLine($"error: {message}");
        return Failure;
    }

    private static int UsageFailure(TextWriter error, string message)
    {
        error.WriteLine($"error: {message}");
        error.WriteLine(Usage);
        return UsageError;
    }
}
