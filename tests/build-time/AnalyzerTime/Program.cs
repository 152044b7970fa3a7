// Times the ILLink analyzers on sets of C# files, in process: each variant's files are parsed and compiled against the
// net10.0 reference assemblies and KernelGen.dll, and the analyzers of ILLink.RoslynAnalyzer.dll (the trim, AOT and
// single-file analysers, with the options IsAotCompatible sets) run on the compilation with concurrency off; each
// analyzer's execution time is the compiler's own measure (the one -p:ReportAnalyzer=true reports). Variants are
// alternated round by round (A B, B A, ...), and each round builds a fresh compilation, so nothing is cached across rounds.
//
//   dotnet run -c Release --project tests/build-time/AnalyzerTime -- --variant name=dir [--variant name=dir ...]
//       [--repeat 5] [--library src/KernelGen/bin/Release/net10.0/KernelGen.dll] [--analyzer path/ILLink.RoslynAnalyzer.dll]
//
// Each dir holds .cs files (for example the .g.cs files a generator wrote with EmitCompilerGeneratedFiles, and the
// declarations they complete). Prints one line per variant and round: the trim analyzer's time (DynamicallyAccessedMembersAnalyzer),
// the other ILLink analyzers' total, the wall time of the analysis, and the CPU time the process spent in it (the analysis
// runs on one thread; on a machine shared with other work the CPU time varies far less than the wall times).
using System.Collections.Immutable;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

var variants = new List<(string Name, string Dir)>();
int repeat = 5;
string root = FindRoot();
string library = Path.Combine(root, "src/KernelGen/bin/Release/net10.0/KernelGen.dll");
string? analyzerPath = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--variant":
            string v = args[++i];
            int eq = v.IndexOf('=');
            variants.Add((v[..eq], Path.GetFullPath(v[(eq + 1)..])));
            break;
        case "--repeat": repeat = int.Parse(args[++i]); break;
        case "--library": library = Path.GetFullPath(args[++i]); break;
        case "--analyzer": analyzerPath = Path.GetFullPath(args[++i]); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

if (variants.Count == 0) { Console.Error.WriteLine("give at least one --variant name=dir"); return 2; }
analyzerPath ??= FindIllinkAnalyzer();
Console.WriteLine($"# analyzer {analyzerPath}");
Console.WriteLine($"# cpu {CpuName()}, {Environment.ProcessorCount} logical processors");

var references = new List<MetadataReference>();
string refDir = FindReferencePack();
foreach (string dll in Directory.GetFiles(refDir, "*.dll")) references.Add(MetadataReference.CreateFromFile(dll));
references.Add(MetadataReference.CreateFromFile(library));

var analyzerReference = new AnalyzerFileReference(analyzerPath, new Loader());
var analyzers = analyzerReference.GetAnalyzers(LanguageNames.CSharp);
var options = new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty, new OptionsProvider(new Dictionary<string, string>
{
    // What IsAotCompatible=true passes to the analysers (Microsoft.NET.ILLink.Analyzers.props' CompilerVisibleProperty).
    ["build_property.EnableTrimAnalyzer"] = "true",
    ["build_property.EnableAotAnalyzer"] = "true",
    ["build_property.EnableSingleFileAnalyzer"] = "true",
    ["build_property.IsAotCompatible"] = "true",
}));

var parse = new CSharpParseOptions(LanguageVersion.Latest);
const string GlobalUsings = "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; global using System.Threading; global using System.Threading.Tasks;";

foreach (var (name, dir) in variants)
{
    var files = Directory.GetFiles(dir, "*.cs", SearchOption.AllDirectories);
    long bytes = files.Sum(f => new FileInfo(f).Length);
    Console.WriteLine($"# {name}: {files.Length} files, {bytes} bytes");
}

Console.WriteLine("variant\tround\ttrim_s\tother_illink_s\twall_s\tcpu_s");
for (int r = 0; r < repeat; r++)
{
    var order = r % 2 == 0 ? variants : Enumerable.Reverse(variants).ToList();
    foreach (var (name, dir) in order)
    {
        var trees = Directory.GetFiles(dir, "*.cs", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), parse, path: f))
            .Append(CSharpSyntaxTree.ParseText(GlobalUsings, parse, path: "GlobalUsings.cs"))
            .ToList();
        var compilation = CSharpCompilation.Create("Measured", trees, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release,
                nullableContextOptions: NullableContextOptions.Enable));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0)
        {
            foreach (var e in errors.Take(10)) Console.Error.WriteLine(e);
            return 1;
        }

        var withAnalyzers = compilation.WithAnalyzers(analyzers, new CompilationWithAnalyzersOptions(options, null,
            concurrentAnalysis: false, logAnalyzerExecutionTime: true, reportSuppressedDiagnostics: false));
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync();
        double wall = clock.Elapsed.TotalSeconds;
        process.Refresh();
        double cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        double trim = 0, other = 0;
        foreach (var analyzer in analyzers)
        {
            var info = await withAnalyzers.GetAnalyzerTelemetryInfoAsync(analyzer, CancellationToken.None);
            if (analyzer.GetType().Name == "DynamicallyAccessedMembersAnalyzer") trim += info.ExecutionTime.TotalSeconds;
            else other += info.ExecutionTime.TotalSeconds;
        }

        foreach (var d in diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).Take(5)) Console.Error.WriteLine($"# {name}: {d}");
        Console.WriteLine($"{name}\t{r}\t{trim:F2}\t{other:F2}\t{wall:F2}\t{cpu:F2}");
    }
}

return 0;

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KernelGen.sln"))) dir = dir.Parent;
    return dir?.FullName ?? Directory.GetCurrentDirectory();
}

static string FindIllinkAnalyzer()
{
    string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget/packages");
    var candidates = Directory.GetDirectories(Path.Combine(packages, "microsoft.net.illink.tasks"))
        .Select(d => Path.Combine(d, "analyzers/dotnet/cs/ILLink.RoslynAnalyzer.dll")).Where(File.Exists)
        .OrderByDescending(p => Version.TryParse(Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(p))))), out var ver) ? ver : new Version(0, 0))
        .ToList();
    return candidates.Count > 0 ? candidates[0] : throw new FileNotFoundException("no ILLink.RoslynAnalyzer.dll in the NuGet cache: build any project with IsAotCompatible first");
}

static string FindReferencePack()
{
    string dotnet = Path.GetDirectoryName(Path.GetDirectoryName(RuntimeEnvironment.GetRuntimeDirectory().TrimEnd('/')))!;
    dotnet = Path.GetDirectoryName(dotnet)!; // .../dotnet/shared/Microsoft.NETCore.App/x -> .../dotnet
    var packs = Directory.GetDirectories(Path.Combine(dotnet, "packs/Microsoft.NETCore.App.Ref")).OrderByDescending(d => d, StringComparer.Ordinal);
    foreach (string pack in packs)
    {
        string refs = Path.Combine(pack, "ref/net10.0");
        if (Directory.Exists(refs)) return refs;
    }

    throw new DirectoryNotFoundException("no net10.0 reference pack");
}

static string CpuName()
{
    // The model name alone can be as vague as "AMD EPYC": the family and model numbers name the generation.
    string? name = null, family = null, model = null;
    try
    {
        foreach (string line in File.ReadLines("/proc/cpuinfo"))
        {
            string value = line[(line.IndexOf(':') + 1)..].Trim();
            if (name is null && line.StartsWith("model name", StringComparison.Ordinal)) name = value;
            else if (family is null && line.StartsWith("cpu family", StringComparison.Ordinal)) family = value;
            else if (model is null && line.StartsWith("model\t", StringComparison.Ordinal)) model = value;
            if (name is not null && family is not null && model is not null) break;
        }
    }
    catch (IOException) { }
    return name is null ? RuntimeInformation.ProcessArchitecture.ToString() : $"{name} (family {family}, model {model})";
}

sealed class Loader : IAnalyzerAssemblyLoader
{
    public void AddDependencyLocation(string fullPath) { }
    public Assembly LoadFromPath(string fullPath) => Assembly.LoadFrom(fullPath);
}

sealed class OptionsProvider(Dictionary<string, string> values) : AnalyzerConfigOptionsProvider
{
    private readonly Options global = new(values);
    private static readonly Options Empty = new(new Dictionary<string, string>());
    public override AnalyzerConfigOptions GlobalOptions => global;
    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Empty;
    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Empty;

    private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
    }
}
