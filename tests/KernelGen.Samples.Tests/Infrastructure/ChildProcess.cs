using System.Diagnostics;
using System.Text;

namespace KernelGen.Samples.Tests.Infrastructure;

/// <summary>The outcome of a child process: its exit code and everything it wrote.</summary>
public sealed record ChildProcessResult(string Command, int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed)
{
    /// <summary>Everything, for assertion messages.</summary>
    public override string ToString() =>
        $"{Command}\nexit code {ExitCode} after {Elapsed.TotalSeconds:F1} s\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}

/// <summary>
/// Runs a program (the .NET CLI, or a published binary) to completion with a timeout, in a clean environment: none of the
/// CI's SIMD switches (a child build must not run the compiler with intrinsics off), none of the MSBuild variables that
/// the test host inherits from the `dotnet test` that started it, and no build servers that would outlive the build.
/// </summary>
public static class ChildProcess
{
    /// <summary>The <c>dotnet</c> that runs these tests (the SDK's host, when started by `dotnet test`).</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>Runs <paramref name="fileName"/> and waits for it; kills it (and its children) when the timeout passes.</summary>
    /// <param name="fileName">The program.</param>
    /// <param name="arguments">Its arguments, each passed as one argument.</param>
    /// <param name="workingDirectory">Its working directory.</param>
    /// <param name="timeout">How long it may run.</param>
    /// <param name="environment">Variables to set (a <see langword="null"/> value removes one) after the clean-up.</param>
    public static ChildProcessResult Run(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);

        foreach (string name in start.Environment.Keys.ToArray())
        {
            bool simdSwitch = PlainPassFactAttribute.SimdSwitches.Contains(name, StringComparer.OrdinalIgnoreCase);
            bool msbuild = name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase);
            if (simdSwitch || msbuild)
                start.Environment.Remove(name);
        }

        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // Build servers (MSBuild nodes, the compiler server) would outlive the build holding our output pipes open.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                if (value is null)
                    start.Environment.Remove(name);
                else
                    start.Environment[name] = value;
            }
        }

        string command = $"{fileName} {string.Join(' ', start.ArgumentList)}";
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var stopwatch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(30));
            lock (stdout)
                lock (stderr)
                    throw new TimeoutException($"Killed after {timeout.TotalMinutes:F0} min: {command}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
        }

        process.WaitForExit(); // after the timed wait: lets the asynchronous readers reach the end of both streams
        lock (stdout)
            lock (stderr)
                return new ChildProcessResult(command, process.ExitCode, stdout.ToString(), stderr.ToString(), stopwatch.Elapsed);
    }

    /// <summary>Runs the .NET CLI (see <see cref="Run"/>).</summary>
    public static ChildProcessResult Dotnet(IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout,
        IReadOnlyDictionary<string, string?>? environment = null) =>
        Run(DotnetHost, arguments, workingDirectory, timeout, environment);
}
