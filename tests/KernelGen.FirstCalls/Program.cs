// The first calls of KernelGen's kernels, each measured in a fresh process with the runtime's default settings
// (docs/first-calls.md), and their steady state under the JIT and under NativeAOT (docs/nativeaot.md).
//
// One measurement (what the driver starts in each child process):
//
//     KernelGen.FirstCalls child --shape dcgan --engine generated [--seconds 3]
//
// The tables: every shape x engine of every variant (a build of this project, JIT or NativeAOT) in fresh processes, on all
// processors and under `taskset -c 0`, interleaved over rounds; medians:
//
//     dotnet build tests/KernelGen.FirstCalls -c Release
//     tests/KernelGen.FirstCalls/bin/Release/net10.0/KernelGen.FirstCalls drive --rounds 5 \
//         --variant jit=tests/KernelGen.FirstCalls/bin/Release/net10.0/KernelGen.FirstCalls [--variant label[:engine,...]=path ...] \
//         [--env label:DOTNET_EnableAVX512=0 ...] \
//         [--shapes seed,small_fixed,game_up,unet_up,dcgan] [--engines generated,runtime] [--affinity all,0] [--seconds 3] [--one-processor-seconds 6]
//
// Diagnostics of one child (environment variables): KERNELGEN_PRINT_CALLS=12 prints calls 1 to 12 one by one ("CALL k us");
// KERNELGEN_PRINT_PLACEMENT=1 prints the processor the run ended on, the buffers' addresses modulo 4 KiB and the calls' percentiles;
// KERNELGEN_MARK_CALLS=n makes only n calls, untimed (with DOTNET_JitStdOutFile and DOTNET_JitDisasmSummary=1, the methods
// compiled by n calls: compare n=1 with n=2); KERNELGEN_THRASH=1 times 4 calls after 2000, after touching 64 MB and after a
// 20 ms sleep (what a cold cache costs a call).
//
// tests/KernelGen.FirstCalls/run.sh builds the JIT variant and the three NativeAOT variants (default instruction set,
// x86-64-v3, native) and drives them.
using System.Globalization;
using KernelGen.Benchmarks.Shapes;
using KernelGen.FirstCalls;

const string Usage = """
    Usage: KernelGen.FirstCalls child --shape NAME --engine (generated|runtime|runtime-mt) [--seconds S] [--segments FILE]
           KernelGen.FirstCalls drive [--variant LABEL[:ENGINE,...]=PATH ...] [--env LABEL:DOTNET_NAME=VALUE ...]
                                      [--shapes a,b] [--engines a,b] [--affinity all,0]
                                      [--rounds N] [--seconds S] [--one-processor-seconds S]
    """;

try
{
    if (args.Length == 0) throw new ArgumentException("Give a mode: child or drive.");
    var options = new Dictionary<string, List<string>>();
    for (int i = 1; i < args.Length; i += 2)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            throw new ArgumentException($"'{args[i]}' is not an option with a value.");
        if (!options.TryGetValue(args[i], out var values)) options[args[i]] = values = [];
        values.Add(args[i + 1]);
    }

    string One(string name, string fallback) => options.TryGetValue(name, out var v) ? v[^1] : fallback;
    double Seconds(string name, string fallback) =>
        double.TryParse(One(name, fallback), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0
            ? s : throw new ArgumentException($"{name} needs a positive number.");
    string[] List(string name, string fallback) => One(name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    switch (args[0])
    {
        case "child":
            return ChildRun.Run(One("--shape", ""), One("--engine", ""), Seconds("--seconds", "3"), options.TryGetValue("--segments", out var file) ? file[^1] : null, Console.Out);
        case "drive":
            string[] shapes = List("--shapes", "seed,small_fixed,game_up,unet_up,dcgan");
            foreach (string shape in shapes) ShapeTable.Get(shape);
            string[] engines = List("--engines", "generated,runtime");
            var environments = (options.TryGetValue("--env", out var pairs) ? pairs : []).Select(ParseEnvironment).ToList();
            var variants = (options.TryGetValue("--variant", out var given) ? given : [$"this={Environment.ProcessPath}"])
                .Select(text => ParseVariant(text, engines, environments)).ToList();
            foreach (var (label, _, _) in environments)
            {
                if (!variants.Any(v => v.Label == label)) throw new ArgumentException($"--env {label}:...: no variant is labelled {label}.");
            }

            int rounds = int.TryParse(One("--rounds", "5"), out int r) && r > 0 ? r : throw new ArgumentException("--rounds needs a positive whole number.");
            return Driver.Run(variants, shapes, List("--affinity", "all,0"), rounds, Seconds("--seconds", "3"), Seconds("--one-processor-seconds", "6"), Console.Out);
        default:
            throw new ArgumentException($"Unknown mode '{args[0]}'.");
    }
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}

static (string Label, string Name, string Value) ParseEnvironment(string text)
{
    string[] parts = text.Split(':', 2);
    string[] pair = parts.Length == 2 ? parts[1].Split('=', 2) : [];
    if (parts.Length != 2 || pair.Length != 2 || !pair[0].StartsWith("DOTNET_", StringComparison.Ordinal))
        throw new ArgumentException($"--env {text}: give LABEL:DOTNET_NAME=VALUE.");
    return (parts[0], pair[0], pair[1]);
}

static Variant ParseVariant(string text, string[] engines, List<(string Label, string Name, string Value)> environments)
{
    string[] parts = text.Split('=', 2);
    if (parts.Length != 2 || parts[0].Length == 0 || !File.Exists(parts[1]))
        throw new ArgumentException($"--variant {text}: give LABEL[:ENGINE,...]=PATH with an existing binary.");
    string[] head = parts[0].Split(':', 2);
    string[] own = head.Length == 2 ? head[1].Split(',', StringSplitOptions.RemoveEmptyEntries) : engines;
    foreach (string engine in own)
    {
        if (!MeasuredCall.Engines.Contains(engine)) throw new ArgumentException($"Unknown engine '{engine}'.");
    }

    return new Variant(head[0], Path.GetFullPath(parts[1]), own,
        environments.Where(e => e.Label == head[0]).ToDictionary(e => e.Name, e => e.Value));
}
