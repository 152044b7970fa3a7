using BenchmarkDotNet.Attributes;
using KernelGen.Benchmarks.Correctness;
using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Timing;

/// <summary>
/// Every selected shape × every available engine, as BenchmarkDotNet parameters, so that one run (one summary) holds
/// them all and the ratio columns can compare engines measured in the same run. BenchmarkDotNet runs each case in a
/// process of its own.
/// </summary>
public class ConvTransposeBenchmarks
{
    private IConvolutionEngine? _engine;

    /// <summary>The shapes to run; set by <see cref="FullRun"/> in the host process before BenchmarkDotNet reads the parameters.</summary>
    public static IReadOnlyList<string> SelectedShapes { get; set; } = ShapeTable.All.Select(s => s.Name).ToArray();

    /// <summary>The engines to run (only those available in the host); set by <see cref="FullRun"/>.</summary>
    public static IReadOnlyList<EngineKind> SelectedEngines { get; set; } = EngineKinds.All;

    /// <summary>Parameter source of <see cref="Shape"/>.</summary>
    public static IEnumerable<string> Shapes() => SelectedShapes;

    /// <summary>Parameter source of <see cref="Engine"/>.</summary>
    public static IEnumerable<EngineKind> Engines() => SelectedEngines;

    /// <summary>The shape's name in <see cref="ShapeTable"/>.</summary>
    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "seed";

    /// <summary>The engine.</summary>
    [ParamsSource(nameof(Engines))]
    public EngineKind Engine { get; set; }

    /// <summary>
    /// Prepares the engine and checks, in this very process and on this very instance, that it computes the right
    /// output: run twice over an output pre-filled with NaN (so an unwritten or accumulated-into output fails), then
    /// compared with the reference. A mismatch throws, and BenchmarkDotNet reports the case as failed, untimed.
    /// </summary>
    [GlobalSetup]
    public void Setup()
    {
        // The AVX-512-off job must measure Vector256 code: a switch without effect would report AVX-512 figures as AVX2's.
        if (Environment.GetEnvironmentVariable(SuiteConfig.Avx512OffVariable) == "0" && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
            throw new InvalidOperationException($"{SuiteConfig.Avx512OffVariable}=0 did not turn Vector512 off in this process.");
        var data = ShapeData.For(ShapeTable.Get(Shape));
        _engine = EngineFactory.Create(Engine, data);
        _engine.Run();
        _engine.Run();
        new OutputCheck(data).Verify(Engine.ToString(), _engine.Output);
    }

    /// <summary>One call of the engine: the timed part.</summary>
    [Benchmark]
    public void ConvTranspose() => _engine!.Run();

    /// <summary>Releases native sessions and tensors, then measures this process's FMA peak (<see cref="ProcessPeaks"/>).</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _engine?.Dispose();
        ProcessPeaks.Record(Shape, Engine);
        _engine = null;
    }
}
