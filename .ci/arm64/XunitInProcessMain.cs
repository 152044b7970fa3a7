// An entry point for an xunit v2 test project that runs its own tests in-process, with no vstest and no `dotnet` host:
// the test project is published self-contained for another processor and run directly (e.g. under qemu-user).
// Injected without editing the project: `dotnet publish TESTPROJECT -r linux-arm64 --self-contained
// -p:GeneratedProgramFile=/path/to/XunitInProcessMain.cs` (Microsoft.NET.Test.Sdk compiles that file instead of its own
// empty Main). Arguments: substrings of "Namespace.Class.Method" to run only matching tests (any matches; none: all),
// --list (print the tests, run none), --verbose (a line per test), --serial (no parallel collections),
// --summary FILE (write the counts and the processor's features there, one "key=value" a line, for .ci/run to read).
// Ends with "<arch> <assembly>: N passed, M failed, K skipped"; exit code 0 only when nothing failed and something ran.
// Copied from the project's shared arm64 tool (../shared/tools/arm64) so that CI needs nothing outside the repository.
#nullable enable
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Arm64TestRunner;

internal static class XunitInProcessMain
{
    private static int Main(string[] args)
    {
        bool list = args.Contains("--list"), verbose = args.Contains("--verbose"), serial = args.Contains("--serial");
        int summaryAt = Array.IndexOf(args, "--summary");
        string? summaryFile = summaryAt >= 0 && summaryAt + 1 < args.Length ? args[summaryAt + 1] : null;
        string[] filters = [.. args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (summaryAt < 0 || i != summaryAt + 1))];
        Assembly assembly = typeof(XunitInProcessMain).Assembly;
        string name = assembly.GetName().Name ?? "tests";
        string arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        // The features that tell the emulated CPUs apart (qemu's default "max" has the ARMv8.2+ dot product, cortex-a72 not).
        string features = $"Vector128={System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated} "
            + $"Vector256={System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated} "
            + $"AdvSimd={System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported} "
            + $"AdvSimd.Arm64={System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported} "
            + $"Dp={System.Runtime.Intrinsics.Arm.Dp.IsSupported} Rdm={System.Runtime.Intrinsics.Arm.Rdm.IsSupported} "
            + $"Vector<float>.Count={System.Numerics.Vector<float>.Count}";
        Console.WriteLine($"{name}: {RuntimeInformation.FrameworkDescription} {RuntimeInformation.RuntimeIdentifier}, {features}");

        var diagnostics = new Sink(verbose);
        var options = new Options();
        if (serial)
            options.SetValue<bool?>("xunit.execution.DisableParallelization", true);
        using var framework = new XunitTestFramework(diagnostics);

        var clock = Stopwatch.StartNew();
        var discovery = new Sink(verbose);
        var cases = new List<ITestCase>();
        using (var discoverer = framework.GetDiscoverer(Reflector.Wrap(assembly)))
        {
            discovery.OnCase = cases.Add;
            discoverer.Find(false, discovery, options);
            discovery.Done.WaitOne();
        }
        var selected = cases.Where(c => filters.Length == 0 || filters.Any(f => FullName(c).Contains(f, StringComparison.Ordinal))).ToList();
        Console.WriteLine($"{name}: discovered {cases.Count} test cases in {clock.Elapsed.TotalSeconds:F1} s, running {selected.Count}");
        if (list)
        {
            foreach (var c in selected)
                Console.WriteLine("  " + c.DisplayName);
            return 0;
        }

        var execution = new Sink(verbose);
        using (var executor = framework.GetExecutor(assembly.GetName()))
        {
            executor.RunTests(selected, execution, options);
            execution.Done.WaitOne();
        }
        Console.WriteLine($"{name}: finished in {clock.Elapsed.TotalSeconds:F1} s");
        int failed = execution.Failed + execution.Errors;
        Console.WriteLine($"{arch} {name}: {execution.Passed} passed, {failed} failed, {execution.Skipped} skipped");
        if (summaryFile is not null)
        {
            File.WriteAllText(summaryFile, $"assembly={name}\narch={arch}\nfeatures={features}\nselected={selected.Count}\n"
                + $"passed={execution.Passed}\nfailed={failed}\nskipped={execution.Skipped}\nseconds={clock.Elapsed.TotalSeconds:F0}\n");
        }

        return failed == 0 && execution.Passed > 0 ? 0 : 1;
    }

    private static string FullName(ITestCase testCase) =>
        testCase.TestMethod.TestClass.Class.Name + "." + testCase.TestMethod.Method.Name + " " + testCase.DisplayName;

    private sealed class Options : ITestFrameworkDiscoveryOptions, ITestFrameworkExecutionOptions
    {
        private readonly Dictionary<string, object?> _values = [];

        public TValue GetValue<TValue>(string name) => _values.TryGetValue(name, out object? value) && value is TValue typed ? typed : default!;

        public void SetValue<TValue>(string name, TValue value) => _values[name] = value;
    }

    private sealed class Sink(bool verbose) : LongLivedMarshalByRefObject, IMessageSink
    {
        private readonly object _gate = new();
        public ManualResetEvent Done { get; } = new(false);
        public Action<ITestCase>? OnCase { get; set; }
        public int Passed { get; private set; }
        public int Failed { get; private set; }
        public int Skipped { get; private set; }
        public int Errors { get; private set; }

        public bool OnMessage(IMessageSinkMessage message)
        {
            lock (_gate)
            {
                switch (message)
                {
                    case ITestCaseDiscoveryMessage discovered:
                        OnCase?.Invoke(discovered.TestCase);
                        break;
                    case IDiscoveryCompleteMessage:
                        Done.Set();
                        break;
                    case ITestPassed passed:
                        Passed++;
                        if (verbose)
                            Console.WriteLine($"  PASS {passed.Test.DisplayName} ({passed.ExecutionTime:F2} s)");
                        break;
                    case ITestFailed failed:
                        Failed++;
                        Console.WriteLine($"  FAIL {failed.Test.DisplayName} ({failed.ExecutionTime:F2} s)");
                        PrintFailure(failed);
                        break;
                    case ITestSkipped skipped:
                        Skipped++;
                        if (verbose)
                            Console.WriteLine($"  SKIP {skipped.Test.DisplayName}: {skipped.Reason}");
                        break;
                    case ITestClassFinished classFinished:
                        Console.WriteLine($"  {classFinished.TestClass.Class.Name}: {classFinished.TestsRun} run, {classFinished.TestsFailed} failed, "
                            + $"{classFinished.TestsSkipped} skipped, {classFinished.ExecutionTime:F1} s");
                        break;
                    case IFailureInformation failure:
                        // Errors outside a test: catastrophic errors, fixture and cleanup failures.
                        Errors++;
                        Console.WriteLine($"  ERROR ({message.GetType().Name})");
                        PrintFailure(failure);
                        break;
                    case IDiagnosticMessage diagnostic when verbose:
                        Console.WriteLine($"  diagnostic: {diagnostic.Message}");
                        break;
                    case ITestAssemblyFinished:
                        Done.Set();
                        break;
                }
            }
            return true;
        }

        private static void PrintFailure(IFailureInformation failure)
        {
            for (int i = 0; i < failure.ExceptionTypes.Length; i++)
            {
                Console.WriteLine($"    {failure.ExceptionTypes[i]}: {failure.Messages[i]}");
                if (i < failure.StackTraces.Length && failure.StackTraces[i] is { } trace)
                    Console.WriteLine("    " + trace.Replace("\n", "\n    ", StringComparison.Ordinal));
            }
        }
    }
}
