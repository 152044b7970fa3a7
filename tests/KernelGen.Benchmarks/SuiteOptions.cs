using System.Globalization;
using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks;

/// <summary>What the suite should do.</summary>
public enum SuiteMode
{
    /// <summary>Every shape × engine once, checked against the reference, nothing timed.</summary>
    Quick,

    /// <summary>The correctness pass, then the BenchmarkDotNet run, then the report and plot.</summary>
    Full,

    /// <summary>Only the FMA peak measurement.</summary>
    Fma,

    /// <summary>A quick in-process timing for development (checked, warmed up, interleaved rounds); not the report.</summary>
    Probe,

    /// <summary>All cores against one thread of the runtime, quiet and with busy competitor threads (Contention/ContentionRun.cs).</summary>
    Contention,

    /// <summary>KernelGen's one-thread engines against the memory floor of each shape (Memory/MemoryRun.cs).</summary>
    Memory,
}

/// <summary>The parsed command line (see Program.cs for the syntax).</summary>
/// <param name="Mode">What to run.</param>
/// <param name="Shapes">The shapes to run, in table order.</param>
/// <param name="Engines">The engines to run, in report order.</param>
/// <param name="OutputFolder">Where the full run writes benchmarks.md, the PNG and BenchmarkDotNet's artifacts.</param>
/// <param name="Launches">BenchmarkDotNet launches (processes) per case; more rounds smooth the two-thread bimodality.</param>
/// <param name="ProbeSeconds">Timed seconds per shape of the probe mode.</param>
/// <param name="Avx512OffPass">
/// Whether the full run times the KernelGen engines a second time with AVX-512 switched off (when this machine has it), as
/// an AVX2-only machine runs them.
/// </param>
/// <param name="ChunksPerThread">
/// The contention mode's chunks per thread of the all-core variant (0: the library's default), to compare other splits.
/// </param>
public sealed record SuiteOptions(
    SuiteMode Mode, IReadOnlyList<ConvShape> Shapes, IReadOnlyList<EngineKind> Engines, string OutputFolder, int Launches,
    double ProbeSeconds = 3, bool Avx512OffPass = true, int ChunksPerThread = 0)
{
    /// <summary>The default output folder, under the ignored artifacts/ folder of the current directory.</summary>
    public const string DefaultOutputFolder = "artifacts/benchmarks";

    /// <summary>The usage text.</summary>
    public const string Usage = """
        Usage: dotnet run -c Release --project tests/KernelGen.Benchmarks -- (--full | --quick | --fma) [options]
          --full               correctness pass, then BenchmarkDotNet over every shape x engine, then benchmarks.md and benchmarks.png
          --quick              every shape x engine once, checked against the reference; nothing timed
          --fma                measure the float32 FMA peak per core only
          --contention         all cores vs one thread of the runtime, quiet and with busy threads on the other cores (--seconds per shape)
          --memory             KernelGen 1T and generated 1T against each shape's memory floor (input read once, output written once)
          --probe              development timing in this process: median and best per shape x engine (default 3 s per shape)
          --shapes a,b,...     only these shapes (default: all): seed, small_fixed, game_up, mono_up, unet_up, dcgan,
                               depthwise, stride1, unet_up_nhwc, vocoder_up, vocoder_up2 (1-D), volume_up,
                               volume_k3 (3-D)
          --engines a,b,...    only these engines (default: all): Naive, KernelGen1T, KernelGenAllCores, Generated1T,
                               Ort1T, OrtAllCores, Torch1T, TorchAllCores
          --out DIR            output folder of --full (default: artifacts/benchmarks)
          --launches N         BenchmarkDotNet processes per case (default: 1)
          --no-avx512-off      skip --full's second timing of the KernelGen engines with DOTNET_EnableAVX512=0 (the AVX2-only
                               machine), which runs by default where Vector512 is accelerated
          --seconds S          timed seconds per shape of --probe, --contention and --memory (default: 3)
          --chunks N           --contention's chunks per thread of the all-core variant (default: the library's)
        """;

    /// <summary>Parses the command line.</summary>
    /// <exception cref="ArgumentException">An unknown option, a missing value or no mode.</exception>
    public static SuiteOptions Parse(IReadOnlyList<string> args)
    {
        SuiteMode? mode = null;
        IReadOnlyList<ConvShape> shapes = ShapeTable.All;
        IReadOnlyList<EngineKind> engines = EngineKinds.All;
        string output = DefaultOutputFolder;
        int launches = 1;
        double seconds = 3;
        bool avx512OffPass = true;
        int chunksPerThread = 0;
        for (int i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.", nameof(args));
            void SetMode(SuiteMode value) => mode = mode is null || mode == value
                ? value
                : throw new ArgumentException("Give only one of --full, --quick, --fma and --probe.", nameof(args));
            switch (args[i])
            {
                case "--full": SetMode(SuiteMode.Full); break;
                case "--quick": SetMode(SuiteMode.Quick); break;
                case "--fma": SetMode(SuiteMode.Fma); break;
                case "--probe": SetMode(SuiteMode.Probe); break;
                case "--contention": SetMode(SuiteMode.Contention); break;
                case "--memory": SetMode(SuiteMode.Memory); break;
                case "--seconds":
                    seconds = double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0
                        ? s
                        : throw new ArgumentException("--seconds needs a positive number.", nameof(args));
                    break;
                case "--shapes":
                    var names = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
                    foreach (string name in names) ShapeTable.Get(name);
                    shapes = ShapeTable.All.Where(s => names.Contains(s.Name)).ToArray();
                    break;
                case "--engines":
                    var chosen = EngineKinds.Parse(Value());
                    engines = EngineKinds.All.Where(chosen.Contains).ToArray();
                    break;
                case "--out": output = Value(); break;
                case "--no-avx512-off": avx512OffPass = false; break;
                case "--launches":
                    launches = int.TryParse(Value(), out int n) && n >= 1
                        ? n
                        : throw new ArgumentException("--launches needs a whole number of at least 1.", nameof(args));
                    break;
                case "--chunks":
                    chunksPerThread = int.TryParse(Value(), out int c) && c >= 1
                        ? c
                        : throw new ArgumentException("--chunks needs a whole number of at least 1.", nameof(args));
                    break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.", nameof(args));
            }
        }

        if (shapes.Count == 0 || engines.Count == 0)
            throw new ArgumentException("Select at least one shape and one engine.", nameof(args));
        return new SuiteOptions(mode ?? throw new ArgumentException("Give one of --full, --quick, --fma and --probe.", nameof(args)),
            shapes, engines, output, launches, seconds, avx512OffPass, chunksPerThread);
    }
}
