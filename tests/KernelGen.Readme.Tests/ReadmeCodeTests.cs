using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using KernelGen.Generator.Tests;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace KernelGen.Readme.Tests;

/// <summary>
/// Every <c>```csharp</c> block of README.md is a whole program or a whole set of declarations: each is compiled with the
/// KernelGen generator running (as in a user's project, with the SDK's implicit usings), must give no error and no
/// warning, and, when it has top-level statements, is run. So the README cannot show code that does not work.
/// </summary>
public partial class ReadmeCodeTests
{
    /// <summary>What the SDK's implicit usings give a console project.</summary>
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    /// <summary>The generator tests' references (the framework and KernelGen) and KernelGen.Onnx, the second package.</summary>
    private static readonly System.Collections.Immutable.ImmutableArray<MetadataReference> References =
        GeneratorHarness.References.Add(MetadataReference.CreateFromFile(typeof(KernelGen.Onnx.OnnxModel).Assembly.Location));

    public static TheoryData<int, string> Blocks()
    {
        var data = new TheoryData<int, string>();
        var blocks = ReadBlocks();
        for (int i = 0; i < blocks.Count; i++)
            data.Add(i, blocks[i].Heading);
        return data;
    }

    [Fact]
    public void TheReadmeHasCSharpBlocks() => Assert.True(ReadBlocks().Count >= 3, "README.md should show its API in ```csharp blocks");

    [Theory]
    [MemberData(nameof(Blocks))]
    public void BlockCompilesWithoutDiagnosticsAndRuns(int index, string heading)
    {
        var block = ReadBlocks()[index];
        var options = GeneratorHarness.ParseOptions(LanguageVersion.Latest);
        var tree = CSharpSyntaxTree.ParseText(block.Code, options, path: $"README.md block {index + 1} (under '{heading}')");
        bool isProgram = tree.GetCompilationUnitRoot().Members.OfType<GlobalStatementSyntax>().Any();
        var compilation = CSharpCompilation.Create(
            $"ReadmeBlock{index}",
            [tree, CSharpSyntaxTree.ParseText(ImplicitUsings, options)],
            References,
            new CSharpCompilationOptions(isProgram ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: false));

        GeneratorHarness.CreateDriver(version: LanguageVersion.Latest)
            .RunGeneratorsAndUpdateCompilation(compilation, out var withGenerated, out var generatorDiagnostics);
        Assert.Empty(generatorDiagnostics);

        using var image = new MemoryStream();
        var emit = withGenerated.Emit(image);
        var problems = emit.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Id != "CS8019").ToList();
        Assert.True(problems.Count == 0, $"Block {index + 1} under '{heading}':\n{string.Join("\n", problems)}\n\n{block.Code}");
        Assert.True(emit.Success);

        if (isProgram)
            Run(image.ToArray());
    }

    private static void Run(byte[] assemblyImage)
    {
        var context = new AssemblyLoadContext("ReadmeBlock", isCollectible: true);
        var savedOut = Console.Out;
        try
        {
            // KernelGen itself resolves from the test's own context (the default one) through the dependency fallback.
            Assembly assembly = context.LoadFromStream(new MemoryStream(assemblyImage));
            MethodInfo entryPoint = assembly.EntryPoint!;
            Console.SetOut(TextWriter.Null);
            entryPoint.Invoke(null, entryPoint.GetParameters().Length == 0 ? null : [Array.Empty<string>()]);
        }
        finally
        {
            Console.SetOut(savedOut);
            context.Unload();
        }
    }

    private sealed record Block(string Heading, string Code);

    private static List<Block> ReadBlocks()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var blocks = new List<Block>();
        string heading = "(top)";
        var lines = readme.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.StartsWith('#'))
                heading = line.TrimStart('#', ' ');
            if (line.Trim() != "```csharp")
                continue;
            var code = new List<string>();
            for (i++; i < lines.Length && lines[i].TrimEnd('\r').Trim() != "```"; i++)
                code.Add(lines[i].TrimEnd('\r'));
            blocks.Add(new Block(heading, string.Join('\n', code)));
        }

        return blocks;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KernelGen.sln")) && File.Exists(Path.Combine(dir.FullName, "README.md")))
                return dir.FullName;
        }

        // The test binaries may live under an artifacts path outside the repository: fall back to the source location.
        return Path.GetFullPath(Path.Combine(SourceDirectory(), "..", ".."));
    }

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
