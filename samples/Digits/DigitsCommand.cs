using System.Diagnostics;
using System.Globalization;

namespace Digits;

/// <summary>
/// The command line of the sample: loads the trained generator, checks it against PyTorch's outputs, draws a grid of
/// digits (one row per digit 0-9) with the generated kernels, checks the runtime path computes the same grid, writes it as a
/// PNG and prints an ASCII preview.
/// </summary>
public static class DigitsCommand
{
    /// <summary>Exit code of a successful run.</summary>
    public const int Success = 0;

    /// <summary>Exit code when the weights cannot be read, a check fails or the image cannot be written.</summary>
    public const int Failure = 1;

    /// <summary>Exit code for arguments that do not make a valid command line.</summary>
    public const int UsageError = 2;

    /// <summary>The image file written when <c>--out</c> is not given.</summary>
    public const string DefaultOutput = "digits.png";

    /// <summary>The seed of the grid's latent vectors when <c>--seed</c> is not given.</summary>
    public const int DefaultSeed = 1;

    /// <summary>Images per digit when <c>--columns</c> is not given.</summary>
    public const int DefaultColumns = 10;

    /// <summary>The size of an image pixel in the PNG when <c>--scale</c> is not given.</summary>
    public const int DefaultScale = 4;

    /// <summary>
    /// The largest difference allowed between the grid of the generated kernels and that of the runtime path: both compute
    /// in float with the same folded weights in different summation orders, a difference of about 1e-7 after tanh.
    /// </summary>
    public const float AgreementTolerance = 1e-4f;

    /// <summary>The usage text, printed for <c>--help</c> and after a usage error.</summary>
    public const string Usage =
        """
        Usage:
          Digits [--out <file.png>] [--weights <file.safetensors>] [--seed <n>] [--columns <n>] [--scale <n>]
            --out <file.png>        where the grid is written (default: digits.png in the current folder)
            --weights <file>        the trained generator (default: Model/generator.safetensors beside the program);
                                    PyTorch's outputs (fixed_*.npy) beside it, if there, are checked too
            --seed <n>              seed of the latent vectors, i.e. which digits are drawn (default 1)
            --columns <n>           images per digit, 1 to 100 (default 10)
            --scale <n>             pixels per image pixel in the PNG, 1 to 32 (default 4)
          Digits --help             show this text
        Exit codes: 0 done, 1 the weights cannot be read, a check failed or the image could not be written, 2 bad arguments.
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

        string outPath = DefaultOutput, weightsPath = DigitsGenerator.DefaultWeightsPath;
        int seed = DefaultSeed, columns = DefaultColumns, scale = DefaultScale;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help" or "-?")
            {
                output.WriteLine(Usage);
                return Success;
            }

            if (arg is not ("--out" or "--weights" or "--seed" or "--columns" or "--scale"))
                return UsageFailure(error, arg.StartsWith('-') ? $"unknown option '{arg}'." : $"unexpected argument '{arg}'.");
            if (i + 1 >= args.Length || string.IsNullOrWhiteSpace(args[i + 1]))
                return UsageFailure(error, $"{arg} needs a value.");
            string value = args[++i];
            switch (arg)
            {
                case "--out":
                    outPath = value;
                    break;
                case "--weights":
                    weightsPath = value;
                    break;
                case "--seed" when TryParse(value, int.MinValue, int.MaxValue, out seed):
                case "--columns" when TryParse(value, 1, 100, out columns):
                case "--scale" when TryParse(value, 1, 32, out scale):
                    break;
                case "--seed":
                    return UsageFailure(error, $"--seed needs an integer, not '{value}'.");
                case "--columns":
                    return UsageFailure(error, $"--columns needs an integer from 1 to 100, not '{value}'.");
                default: // --scale
                    return UsageFailure(error, $"--scale needs an integer from 1 to 32, not '{value}'.");
            }
        }

        DigitsGenerator generator;
        try
        {
            generator = DigitsGenerator.Load(weightsPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException)
        {
            error.WriteLine($"error: cannot load the generator from {Path.GetFullPath(weightsPath)}: {e.Message}");
            return Failure;
        }

        output.WriteLine(Invariant($"Digits generator (conditional DCGAN, trained on scikit-learn's digits): latent 32 + one-hot digit -> 4x4x64 -> 8x8x32 -> 16x16x1, {DigitsGenerator.MultiplyAdds / 1e3:F0} thousand multiply-adds per image"));
        output.WriteLine($"weights: {generator.WeightsPath} (batch norms folded into the convolutions)");

        string modelFolder = Path.GetDirectoryName(generator.WeightsPath) ?? ".";
        if (PyTorchReference.Exists(modelFolder))
        {
            PyTorchReference reference;
            try
            {
                reference = PyTorchReference.Load(modelFolder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                error.WriteLine($"error: cannot read PyTorch's outputs in {modelFolder}: {e.Message}");
                return Failure;
            }

            double generatedDifference = reference.LargestRelativeDifference(generator, useRuntime: false);
            double runtimeDifference = reference.LargestRelativeDifference(generator, useRuntime: true);
            bool matches = generatedDifference <= PyTorchReference.Tolerance && runtimeDifference <= PyTorchReference.Tolerance;
            output.WriteLine(Invariant($"against PyTorch ({reference.Latents.Count} fixed latents): largest relative difference {generatedDifference:G3} generated, {runtimeDifference:G3} runtime, tolerance {PyTorchReference.Tolerance:G3}: {(matches ? "match" : "DIFFER")}"));
            if (!matches)
            {
                error.WriteLine("error: the network computes other images than PyTorch for the fixed latents.");
                return Failure;
            }
        }

        long start = Stopwatch.GetTimestamp();
        var grid = new DigitsGrid(generator, columns, seed, scale);
        TimeSpan generatedTime = Stopwatch.GetElapsedTime(start);
        start = Stopwatch.GetTimestamp();
        var runtimeGrid = new DigitsGrid(generator, columns, seed, scale, useRuntime: true);
        TimeSpan runtimeTime = Stopwatch.GetElapsedTime(start);
        float difference = 0;
        for (int i = 0; i < grid.Images.Count; i++)
            difference = Math.Max(difference, LargestDifference(grid.Images[i], runtimeGrid.Images[i]));
        bool agree = difference <= AgreementTolerance; // false for NaN too
        output.WriteLine(Invariant($"{grid.Images.Count} images (seed {seed}): generated kernels {generatedTime.TotalMilliseconds:F1} ms, runtime path {runtimeTime.TotalMilliseconds:F1} ms (first calls included); largest difference {difference:G3}, tolerance {AgreementTolerance:G3}: {(agree ? "agree" : "DISAGREE")}"));
        if (!agree)
        {
            error.WriteLine("error: the generated network and the runtime network compute different images.");
            return Failure;
        }

        string path = Path.GetFullPath(outPath);
        try
        {
            grid.SavePng(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            error.WriteLine($"error: cannot write {path}: {e.Message}");
            return Failure;
        }

        output.WriteLine(Invariant($"wrote {path} ({grid.Width}x{grid.Height} grey: one row per digit 0-9, {columns} per row)"));
        output.WriteLine();
        output.Write(grid.ToAscii());
        return Success;
    }

    private static float LargestDifference(float[] a, float[] b)
    {
        float largest = 0;
        for (int i = 0; i < a.Length; i++)
        {
            float d = Math.Abs(a[i] - b[i]);
            if (!(d <= largest)) // NaN propagates
                largest = d;
        }

        return largest;
    }

    private static bool TryParse(string text, int minimum, int maximum, out int value) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) && value >= minimum && value <= maximum;

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    private static int UsageFailure(TextWriter error, string message)
    {
        error.WriteLine($"error: {message}");
        error.WriteLine(Usage);
        return UsageError;
    }
}
