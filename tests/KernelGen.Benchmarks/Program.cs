// KernelGen benchmark suite (issue 5): KernelGen's runtime and generated kernels against a naive loop, ONNX Runtime and
// TorchSharp, on the shapes of Shapes/ShapeTable.cs.
//
// The full suite, one command, from the repository root (about 45 minutes: 104 cases of about 18 s, each in a process of
// its own, then the 39 KernelGen cases again with AVX-512 off where the machine has it; run it on a quiet machine, the
// figures of a busy one mean nothing):
//
//     dotnet run -c Release --project tests/KernelGen.Benchmarks -- --full
//
// It measures the FMA peak, checks every engine's output against a double-accumulated reference (nothing wrong is ever
// timed), runs BenchmarkDotNet over every shape x engine, and writes benchmarks.md (the content of docs/benchmarks.md)
// and benchmarks.png into artifacts/benchmarks (or --out DIR). Other modes:
//
//     dotnet run -c Release --project tests/KernelGen.Benchmarks -- --quick      every shape x engine run and checked, untimed
//     dotnet run -c Release --project tests/KernelGen.Benchmarks -- --fma        the FMA peak per core only
//     ... --full --shapes seed,dcgan --engines KernelGen1T,Ort1T                 a subset
//     ... --probe --shapes dcgan --engines Generated1T,Ort1T                     quick in-process timing while developing
//     ... --contention [--shapes dcgan] [--seconds 3] [--chunks 4]              all cores vs one thread, quiet and with busy cores
//     ... --memory [--shapes mono_up,depthwise]                                  KernelGen 1T / generated 1T against the memory floor
//
// The generated-kernel engine is built in whenever generator/KernelGen.Generator exists (-p:BenchmarkGeneratedKernels=false
// leaves it out; see the project file). TorchSharp is made loadable on Debian 12 at start-up (Native/ElfVersionPatcher.cs); if it still cannot load, the
// suite says why and runs the other engines.
using KernelGen.Benchmarks;
using KernelGen.Benchmarks.Peak;

SuiteOptions options;
try
{
    options = SuiteOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message.Replace(" (Parameter 'args')", "", StringComparison.Ordinal));
    Console.Error.WriteLine(SuiteOptions.Usage);
    return 2;
}

switch (options.Mode)
{
    case SuiteMode.Quick:
        return QuickRun.Run(options.Shapes, options.Engines, Console.Out).AllPassed ? 0 : 1;
    case SuiteMode.Probe:
        return ProbeRun.Run(options.Shapes, options.Engines, options.ProbeSeconds, Console.Out);
    case SuiteMode.Memory:
        return KernelGen.Benchmarks.Memory.MemoryRun.Run(options.Shapes, options.ProbeSeconds, Console.Out);
    case SuiteMode.Contention:
        return KernelGen.Benchmarks.Contention.ContentionRun.Run(options.Shapes, options.ProbeSeconds, Console.Out,
            options.ChunksPerThread > 0 ? options.ChunksPerThread : KernelGen.PreparedConvTranspose2D.DefaultChunksPerThread);
    case SuiteMode.Fma:
        var (correct, detail) = QuickRun.CheckFmaLoops();
        Console.WriteLine($"FMA-peak loops: {detail}");
        FullRun.MeasurePeak(Console.Out);
        return correct ? 0 : 1;
    default:
        return FullRun.Run(options, Console.Out);
}
