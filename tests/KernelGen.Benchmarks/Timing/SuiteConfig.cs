using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Environments;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Csv;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using Perfolizer.Horology;
using KernelGen.Benchmarks.Engines;

namespace KernelGen.Benchmarks.Timing;

/// <summary>The BenchmarkDotNet configuration of the full run.</summary>
public static class SuiteConfig
{
    /// <summary>
    /// How the job warms up, in words, for the report. Tiered compilation stays on (it is what users get), and the
    /// warm-up is long enough to pass tier 0: BenchmarkDotNet's pilot stage plus at least 10 warm-up iterations of
    /// 250 ms, against a tier-up that needs 30 calls and a 100 ms quiet period. DOTNET_TC_DelaySingleProcMultiplier=1
    /// removes the tenfold delay .NET adds when the process sees a single core (taskset -c 0), which kept a small kernel
    /// at tier 0 for the first seconds (measuring.md).
    /// </summary>
    public const string WarmupDescription =
        "BenchmarkDotNet, one process per case, tiered compilation on; pilot + at least 10 warm-up iterations of 250 ms " +
        "(tier-up needs 30 calls after a 100 ms delay), DOTNET_TC_DelaySingleProcMultiplier=1, then 15-40 measured iterations of 250 ms; median reported";

    /// <summary>The runtime switch that turns Vector512 off in a child process (its benchmark setup checks that it did).</summary>
    public const string Avx512OffVariable = "DOTNET_EnableAVX512";

    /// <summary>
    /// The configuration: one job, the suite's columns, microseconds, artifacts under <paramref name="artifactsFolder"/>.
    /// With <paramref name="avx512Off"/> the job's processes run with <c>DOTNET_EnableAVX512=0</c>: the code an AVX2-only
    /// machine runs, on this machine's cores. Each case's process writes its own FMA peak to
    /// <see cref="ProcessPeaksFolder"/> of <paramref name="artifactsFolder"/>.
    /// </summary>
    public static IConfig Create(string artifactsFolder, double peakGflopsPerCore, int launches, bool avx512Off = false)
    {
        var peaks = new EnvironmentVariable(ProcessPeaks.FolderVariable, ProcessPeaksFolder(artifactsFolder));
        Job job = Job.Default
            .WithLaunchCount(launches)
            .WithIterationTime(TimeInterval.FromMilliseconds(250))
            .WithMinWarmupCount(10)
            .WithMaxWarmupCount(40)
            .WithMinIterationCount(15)
            .WithMaxIterationCount(40)
            .WithEnvironmentVariables(avx512Off
                ? [new EnvironmentVariable("DOTNET_TC_DelaySingleProcMultiplier", "1"), new EnvironmentVariable(Avx512OffVariable, "0"), peaks]
                : [new EnvironmentVariable("DOTNET_TC_DelaySingleProcMultiplier", "1"), peaks])
            .WithId(avx512Off ? "KernelGen-AVX512-off" : "KernelGen");
        // BenchmarkDotNet rebuilds this project for its child processes: build them with or without the generated kernels,
        // as this process was built.
        job = job.WithArguments([new MsBuildArgument($"/p:BenchmarkGeneratedKernels={(EngineFactory.HasGeneratedKernels ? "true" : "false")}")]);

        return ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddColumn(
                StatisticColumn.Median,
                new GflopsColumn(),
                new PeakFractionColumn(peakGflopsPerCore),
                new SpeedupOverColumn("ORT", e => e.OrtCounterpart()),
                new SpeedupOverColumn("Torch", e => e.TorchCounterpart()))
            .AddLogger(ConsoleLogger.Default)
            .AddExporter(MarkdownExporter.GitHub, CsvExporter.Default)
            .WithSummaryStyle(SummaryStyle.Default.WithTimeUnit(TimeUnit.Microsecond))
            .WithArtifactsPath(artifactsFolder)
            // BenchmarkDotNet rebuilds this project (generator and generated kernels included) for its child processes: on a
            // machine of two cores with anything else running that takes longer than its default two minutes.
            .WithBuildTimeout(TimeSpan.FromMinutes(15))
            .WithOptions(ConfigOptions.DisableLogFile | ConfigOptions.JoinSummary);
    }

    /// <summary>Where the cases' processes of a run whose artifacts are in <paramref name="artifactsFolder"/> write their peaks.</summary>
    public static string ProcessPeaksFolder(string artifactsFolder) => Path.Combine(Path.GetFullPath(artifactsFolder), "process-peaks");
}
