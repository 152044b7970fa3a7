using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dcgan;

/// <summary>
/// The command line of the sample: builds the network from a seed, draws a latent vector, times the network with the
/// generated kernels and on the runtime path, checks that both compute the same image, and writes it as a PNG.
/// </summary>
public static class DcganCommand
{
    /// <summary>Exit code of a successful run.</summary>
    public const int Success = 0;

    /// <summary>Exit code when the two paths disagree or the image cannot be written.</summary>
    public const int Failure = 1;

    /// <summary>Exit code for arguments that do not make a valid command line.</summary>
    public const int UsageError = 2;

    /// <summary>The name of the image file written into the output folder.</summary>
    public const string ImageFileName = "dcgan.png";

    /// <summary>The seed of the network's parameters when <c>--seed</c> is not given.</summary>
    public const int DefaultSeed = 2015;

    /// <summary>The seed of the latent vector when <c>--latent-seed</c> is not given.</summary>
    public const int DefaultLatentSeed = 1;

    /// <summary>Timed runs per path when <c>--runs</c> is not given.</summary>
    public const int DefaultRuns = 20;

    /// <summary>Untimed runs per path before the timed ones: the first compiles and (runtime path) packs the weights.</summary>
    public const int WarmUpRuns = 3;

    /// <summary>
    /// The largest difference allowed between an image of the generated kernels and one of the runtime path. Both compute
    /// in float with the same folded weights, but sum the products in different orders (and with different vector widths),
    /// which changes the last bits of each layer's outputs; five layers of up to 2048-term sums keep the difference
    /// after tanh about 1e-6 (measured: 1.1e-6 with AVX-512, AVX2, SSE and scalar code alike), so 1e-4 fails only on a real
    /// error.
    /// </summary>
    public const float AgreementTolerance = 1e-4f;

    /// <summary>The usage text, printed for <c>--help</c> and after a usage error.</summary>
    public const string Usage =
        """
        Usage:
          Dcgan [--out <folder>] [--seed <n>] [--latent-seed <n>] [--runs <n>]
            --out <folder>      where dcgan.png is written (default: the current folder)
            --seed <n>          seed of the network's weights and normalisation parameters (default 2015)
            --latent-seed <n>   seed of the latent vector, i.e. which image is drawn (default 1)
            --runs <n>          timed runs of each path, after 3 warm-up runs (default 20)
          Dcgan --help          show this text
        Exit codes: 0 done, 1 the generated and runtime networks disagree or the image could not be written, 2 bad arguments.
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

        string folder = ".";
        int seed = DefaultSeed, latentSeed = DefaultLatentSeed, runs = DefaultRuns;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help" or "-?")
            {
                output.WriteLine(Usage);
                return Success;
            }

            if (arg is not ("--out" or "--seed" or "--latent-seed" or "--runs"))
                return UsageFailure(error, arg.StartsWith('-') ? $"unknown option '{arg}'." : $"unexpected argument '{arg}'.");
            if (i + 1 >= args.Length || string.IsNullOrWhiteSpace(args[i + 1]))
                return UsageFailure(error, $"{arg} needs a value.");
            string value = args[++i];
            switch (arg)
            {
                case "--out":
                    folder = value;
                    break;
                case "--seed" when TryParse(value, int.MinValue, out seed):
                case "--latent-seed" when TryParse(value, int.MinValue, out latentSeed):
                case "--runs" when TryParse(value, 1, out runs):
                    break;
                case "--seed" or "--latent-seed":
                    return UsageFailure(error, $"{arg} needs an integer, not '{value}'.");
                default: // --runs
                    return UsageFailure(error, $"--runs needs an integer of at least 1, not '{value}'.");
            }
        }

        var network = new DcganNetwork(seed);
        float[] latent = DcganNetwork.CreateLatent(latentSeed);
        var generated = new float[DcganNetwork.ImageLength];
        var runtime = new float[DcganNetwork.ImageLength];
        var runtimeAllCores = new float[DcganNetwork.ImageLength];
        int cores = Environment.ProcessorCount;

        output.WriteLine(Invariant($"DCGAN generator: latent 100 -> 4x4x512 -> 8x8x256 -> 16x16x128 -> 32x32x64 -> 64x64x3 ({(DcganKernels.ActivationLayout == KernelGen.TensorLayout.Nchw ? "NCHW" : "NHWC")}), {network.MultiplyAdds / 1e6:F1} million multiply-adds per image"));
        output.WriteLine(Invariant($"seeds: weights {seed}, latent {latentSeed}; code: {(RuntimeFeature.IsDynamicCodeCompiled ? "JIT" : "NativeAOT")}; SIMD: Vector512 {YesNo(Vector512.IsHardwareAccelerated)}, Vector256 {YesNo(Vector256.IsHardwareAccelerated)}, Vector128 {YesNo(Vector128.IsHardwareAccelerated)}; {cores} cores"));
        output.WriteLine(Invariant($"end-to-end latency per image (after {WarmUpRuns} warm-up runs; median and best of {runs}):"));
        Report(output, "generated kernels, 1 thread", Time(() => network.RunGenerated(latent, generated), runs));
        Report(output, "runtime path, 1 thread", Time(() => network.RunRuntime(latent, runtime, maxDegreeOfParallelism: 1), runs));
        if (cores > 1)
            Report(output, Invariant($"runtime path, {cores} threads"), Time(() => network.RunRuntime(latent, runtimeAllCores, cores), runs));
        else
            network.RunRuntime(latent, runtimeAllCores, 1);

        float difference = Math.Max(LargestDifference(generated, runtime), LargestDifference(generated, runtimeAllCores));
        bool agree = difference <= AgreementTolerance; // false for NaN too
        output.WriteLine(Invariant($"generated vs runtime: largest difference {difference:G3}, tolerance {AgreementTolerance:G3}: {(agree ? "agree" : "DISAGREE")}"));
        if (!agree)
        {
            error.WriteLine("error: the generated network and the runtime network compute different images.");
            return Failure;
        }

        string path = Path.GetFullPath(Path.Combine(folder, ImageFileName));
        try
        {
            PngWriter.Write(path, DcganNetwork.ImageSize, DcganNetwork.ImageSize, DcganImage.ToRgbBytes(generated));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            error.WriteLine($"error: cannot write {path}: {e.Message}");
            return Failure;
        }

        output.WriteLine(Invariant($"wrote {path} (64x64 RGB, tanh output [-1, 1] mapped to bytes 0-255)"));
        return Success;
    }

    /// <summary>The median and the best time of <paramref name="runs"/> calls, after <see cref="WarmUpRuns"/> untimed ones.</summary>
    private static (double MedianMilliseconds, double BestMilliseconds) Time(Action run, int runs)
    {
        for (int i = 0; i < WarmUpRuns; i++)
            run();
        var milliseconds = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            milliseconds[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(milliseconds);
        double median = runs % 2 == 1 ? milliseconds[runs / 2] : (milliseconds[runs / 2 - 1] + milliseconds[runs / 2]) / 2;
        return (median, milliseconds[0]);
    }

    private static void Report(TextWriter output, string path, (double Median, double Best) time) =>
        output.WriteLine(Invariant($"  {path,-30} {time.Median,9:F3} ms median {time.Best,9:F3} ms best"));

    private static float LargestDifference(float[] a, float[] b)
    {
        float largest = 0;
        for (int i = 0; i < a.Length; i++)
        {
            float d = Math.Abs(a[i] - b[i]);
            if (!(d <= largest)) // NaN propagates, so a NaN anywhere is never "within tolerance"
                largest = d;
        }

        return largest;
    }

    private static bool TryParse(string text, int minimum, out int value) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) && value >= minimum;

    private static string YesNo(bool value) => value ? "yes" : "no";

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    private static int UsageFailure(TextWriter error, string message)
    {
        error.WriteLine($"error: {message}");
        error.WriteLine(Usage);
        return UsageError;
    }
}
