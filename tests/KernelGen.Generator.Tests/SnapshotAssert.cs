using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace KernelGen.Generator.Tests;

/// <summary>
/// Verify-style snapshots without Verify: the expected text is <c>Snapshots/{Test}.verified.cs</c> beside this file (read from
/// the source tree, so the committed file is what is compared). On a mismatch the actual text is written to
/// <c>{Test}.received.cs</c> beside it (git-ignored) and the test fails with the command to diff them. Setting
/// <c>KERNELGEN_ACCEPT_SNAPSHOTS=1</c> accepts: the received text overwrites the verified file.
/// </summary>
internal static partial class SnapshotAssert
{
    public const string AcceptVariable = "KERNELGEN_ACCEPT_SNAPSHOTS";

    /// <summary>The directory of this source file (the test project's folder in the source tree).</summary>
    public static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    public static void Matches(string actual, [CallerMemberName] string test = "")
    {
        string text = Normalize(actual);
        string directory = Path.Combine(SourceDirectory(), "Snapshots");
        string verified = Path.Combine(directory, test + ".verified.cs");
        string received = Path.Combine(directory, test + ".received.cs");
        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(verified, text);
            File.Delete(received);
            return;
        }

        string? expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n") : null;
        if (expected == text)
        {
            File.Delete(received);
            return;
        }

        File.WriteAllText(received, text);
        if (expected is null)
            Assert.Fail($"No snapshot {verified}. Review {received} and rename it, or rerun with {AcceptVariable}=1.");

        var expectedLines = expected.Split('\n');
        var actualLines = text.Split('\n');
        int line = 0;
        while (line < expectedLines.Length && line < actualLines.Length && expectedLines[line] == actualLines[line]) line++;
        Assert.Fail($"Snapshot {test} differs from line {line + 1}:\n  verified: {Line(expectedLines, line)}\n  received: {Line(actualLines, line)}\n"
            + $"Compare with: diff \"{verified}\" \"{received}\"; accept with {AcceptVariable}=1.");
    }

    /// <summary>The generator's version is not part of what a snapshot pins down.</summary>
    public static string Normalize(string text) =>
        VersionPattern().Replace(text.Replace("\r\n", "\n"), "GeneratedCode(\"KernelGen.Generator\", \"%VERSION%\")");

    private static string Line(string[] lines, int index) => index < lines.Length ? lines[index] : "(end of file)";

    [GeneratedRegex("GeneratedCode\\(\"KernelGen\\.Generator\", \"[^\"]*\"\\)")]
    private static partial Regex VersionPattern();
}
