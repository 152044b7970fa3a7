using System.Text.RegularExpressions;
using KernelGen.Samples.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KernelGen.Samples.Tests;

/// <summary>
/// What a user sees when a declaration is wrong: fresh projects outside the repository, each with bad declarations,
/// built with `dotnet build` against the packed package from a local feed and, separately, against the generator by
/// project reference; the test reads the <c>file(line,col): error KGnnnn</c> lines of the build output. Every KG
/// diagnostic must appear at the place the source marks (<c>/*KG0001*/</c> right before the token it points at), and no
/// other error or warning may (a compiler error about a missing implementation would be one more thing to decode).
/// Declarations that the compiler rejects whatever is generated come with the compiler's own error, which the markers
/// name too. Analyzer-reported KG errors appear only in a build without compiler errors, so those cases build alone.
/// </summary>
[Collection(ChildBuildCollection.Name)]
public sealed partial class DiagnosticBuildTests(PackedPackage package, ITestOutputHelper log) : IDisposable
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(10);

    private const string Parameters = "(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output)";

    private readonly TempFolder _temp = new("kernelgen-diagnostics-");

    public void Dispose() => _temp.Dispose();

    /// <summary>The projects: a name, the C# version (null: the SDK's default) and Program.cs with its markers.</summary>
    private static readonly Dictionary<string, (string? LangVersion, string Source)> Cases = new()
    {
        // Every diagnostic the analyzer reports, in one project: the generated code makes the rest compile.
        ["analyzer"] = (null, $$"""
            using KernelGen;

            public static partial class Bad
            {
                public static int Use()
                {
                    [/*KG0012*/GeneratedConvTranspose2D(1, 1, 2, 2, 3)]
                    static void Kernel{{Parameters}} { }
                    Kernel(default, default, default);
                    return StrideZeroShape.OutputLength; // the sizes class exists even for a wrong declaration
                }

                [GeneratedConvTranspose2D(1, 1, 2, 2, 3, /*KG0001*/Stride = 0)]
                public static partial void StrideZero{{Parameters}};

                [GeneratedConvTranspose2D(4, 6, 2, 2, 3, /*KG0001*/Groups = 4)]
                public static partial void BadGroups{{Parameters}};

                // 1-D declarations report in 1-D terms, at the argument at fault.
                [GeneratedConvTranspose1D(1, 1, 4, 3, /*KG0001*/Stride = 0)]
                public static partial void StrideZero1D{{Parameters}};

                [GeneratedConvTranspose1D(1, 1, /*KG0001*/0, 3)]
                public static partial void EmptyInput1D{{Parameters}};

                // 3-D declarations likewise, in 3-D terms.
                [GeneratedConvTranspose3D(1, 1, 2, 2, 2, 3, /*KG0001*/StrideDepth = 0)]
                public static partial void StrideZero3D{{Parameters}};

                // Attributes of two ranks on one method: one error, on the first.
                [/*KG0016*/GeneratedConvTranspose3D(1, 1, 2, 2, 2, 3)]
                [GeneratedConvTranspose2D(1, 1, 2, 2, 3)]
                public static partial void TwoRanks{{Parameters}};

                [GeneratedConvTranspose2D(1, 1, /*KG0002*/1, 2, 1, PaddingHeight = 1)]
                public static partial void CropsEverything{{Parameters}};

                [GeneratedConvTranspose2D(1, 1, 2, 2, 3)]
                public static partial void WrongSignature(ReadOnlySpan<float> input, /*KG0003*/float[] weights, Span<float> output);

                [GeneratedConvTranspose2D(1, 1, 2, 2, 3)]
                public static partial void Generic/*KG0006*/<T>{{Parameters}};

                [GeneratedConvTranspose2D(1, 1, 8, 8, /*KG0007*/65)]
                public static partial void KernelOverTheCap{{Parameters}};

                [/*KG0007*/GeneratedConvTranspose2D(65536, 65536, 8, 8, 3)]
                public static partial void WeightsOverInt32{{Parameters}};

                [/*KG0009*/GeneratedConvTranspose2D(4, 4, 8, 8, 3, Stride = 2, Padding = 1, OutputPadding = 1)]
                public static partial void KeepsItsLoops{{Parameters}};

                [GeneratedConvTranspose2D(1, 1, 2, 2, 3, /*KG0010*/UnrollBudget = -1)]
                public static partial void NegativeBudget{{Parameters}};

                [GeneratedConvTranspose2D(1, 1, 2, 2, 3)]
                public static partial void /*KG0011*/Twice{{Parameters}};

                [GeneratedConvTranspose2D(1, 1, 2, 2, 3)]
                public static partial void /*KG0011*/Twice(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

                [GeneratedConvTranspose2D(1, 1, 2, 2, 3)]
                public static partial void /*KG0013*/Named{{Parameters}};
                public const int NamedShape = 0;
            }
            """),
        ["KG0004"] = (null, $$"""
            using KernelGen;

            public static partial class Bad
            {
                [GeneratedConvTranspose2D(1, 1, 2, 2, 3)]
                public static void /*CS0501,KG0004*/NotPartial{{Parameters}};
            }
            """),
        ["KG0005"] = (null, $$"""
            using KernelGen;

            public static class /*CS0260,KG0005*/NotPartial
            {
                [GeneratedConvTranspose2D(1, 1, 2, 2, 3)]
                public static partial void Seed{{Parameters}};
            }
            """),
        ["KG0008"] = ("8.0", $$"""
            using System;
            using KernelGen;

            public static partial class Old
            {
                [/*KG0008*/GeneratedConvTranspose2D(1, 1, 2, 2, 3)]
                static partial void Classic{{Parameters}};
            }
            """),
        ["KG0014"] = (null, $$"""
            using KernelGen;

            file static partial class /*KG0014*/FileLocal
            {
                [GeneratedConvTranspose2D(1, 1, 2, 2, 3)]
                public static partial void /*CS8795*/Seed{{Parameters}};
            }
            """),
    };

    public static TheoryData<string, bool> Builds
    {
        get
        {
            var builds = new TheoryData<string, bool>();
            foreach (string name in Cases.Keys)
            {
                builds.Add(name, true);
                builds.Add(name, false);
            }

            return builds;
        }
    }

    [PlainPassTheory]
    [MemberData(nameof(Builds))]
    public void The_build_output_shows_each_KG_diagnostic_where_the_source_marks_it_and_nothing_else(string name, bool fromPackage)
    {
        var (langVersion, markedSource) = Cases[name];
        var (source, expected) = Markers(markedSource);
        string folder = _temp.Combine(name + (fromPackage ? "-package" : "-projectref"));
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), source);
        string project = Path.Combine(folder, "Consumer.csproj");
        File.WriteAllText(project, ProjectFile(fromPackage ? package.Version : null, langVersion));
        IReadOnlyDictionary<string, string?>? environment = null;
        if (fromPackage)
        {
            package.Pack();
            File.WriteAllText(Path.Combine(folder, "NuGet.config"), package.NuGetConfig);
            environment = package.ConsumerEnvironment;
        }

        ChildProcessResult build = ChildProcess.Dotnet(
            ["build", project, "-c", "Release", "--artifacts-path", _temp.Combine("artifacts-" + name), "--disable-build-servers",
             "-p:UseSharedCompilation=false", "-clp:NoSummary"],
            folder, BuildTimeout, environment);
        log.WriteLine($"{build.Command}: exit code {build.ExitCode} after {build.Elapsed.TotalSeconds:F1} s");

        var reported = Diagnostics(build.StandardOutput + build.StandardError).ToArray();
        string everything = string.Join("\n", reported.Select(d => d.Line));
        Assert.True(expected.SetEquals(reported.Select(d => d.Key)),
            $"expected at Program.cs:\n  {string.Join("\n  ", expected.Order())}\nreported:\n  {everything}\n\n{build}");
        bool anyError = reported.Any(d => d.Key.Contains(" error ", StringComparison.Ordinal));
        Assert.Equal(anyError, build.ExitCode != 0); // KG errors fail the build
    }

    /// <summary>A class library (no entry point to write) referencing the package <paramref name="packageVersion"/>, or the projects when null.</summary>
    private static string ProjectFile(string? packageVersion, string? langVersion)
    {
        bool fromPackage = packageVersion is not null;
        string reference = fromPackage
            ? $"""<PackageReference Include="KernelGen" Version="{packageVersion}" />"""
            : $"""
               <ProjectReference Include="{Repository.Combine("src", "KernelGen", "KernelGen.csproj")}" />
                   <ProjectReference Include="{Repository.Combine("generator", "KernelGen.Generator", "KernelGen.Generator.csproj")}" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
               """;
        string props = fromPackage ? "" : $"""<Import Project="{Repository.Combine("src", "KernelGen", "build", "net8.0", "KernelGen.props")}" />""";
        return $"""
            <Project Sdk="Microsoft.NET.Sdk">
              {props}
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                {(langVersion is null ? "<ImplicitUsings>enable</ImplicitUsings><Nullable>enable</Nullable>" : $"<LangVersion>{langVersion}</LangVersion>")}
              </PropertyGroup>
              <ItemGroup>
                {reference}
              </ItemGroup>
            </Project>
            """;
    }

    /// <summary>The source without its markers, and what each marker expects: "line,col error|warning ID" at Program.cs.</summary>
    private static (string Source, HashSet<string> Expected) Markers(string marked)
    {
        var expected = new HashSet<string>(StringComparer.Ordinal);
        var lines = marked.ReplaceLineEndings("\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            Match marker;
            while ((marker = Marker().Match(lines[i])).Success)
            {
                lines[i] = lines[i].Remove(marker.Index, marker.Length);
                foreach (string id in marker.Groups["ids"].Value.Split(','))
                {
                    string severity = id is "KG0009" or "KG0013" ? "warning" : "error";
                    expected.Add($"Program.cs({i + 1},{marker.Index + 1}): {severity} {id}");
                }
            }
        }

        return (string.Join("\n", lines), expected);
    }

    /// <summary>The distinct error and warning lines of a build's output (MSBuild may repeat them), keyed as the markers are.</summary>
    private static IEnumerable<(string Key, string Line)> Diagnostics(string output) =>
        output.ReplaceLineEndings("\n").Split('\n')
            .Select(line => (Line: line.Trim(), Match: BuildDiagnostic().Match(line)))
            .Where(d => d.Match.Success)
            .Select(d => ($"{Path.GetFileName(d.Match.Groups["file"].Value)}({d.Match.Groups["position"].Value}): {d.Match.Groups["severity"].Value} {d.Match.Groups["id"].Value}", d.Line))
            .DistinctBy(d => d.Item1);

    [GeneratedRegex(@"/\*(?<ids>[A-Z]{2}\d{4}(,[A-Z]{2}\d{4})*)\*/")]
    private static partial Regex Marker();

    [GeneratedRegex(@"^\s*(?<file>[^\s(][^(]*)\((?<position>\d+,\d+)\): (?<severity>error|warning) (?<id>[A-Z]+\d+):")]
    private static partial Regex BuildDiagnostic();
}
