using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.FirstCalls;

/// <summary>
/// One measurement in this (fresh) process: the kernel's calls from its very first one for a few seconds, the profile of
/// those calls, and a check of the output against the other engine (computed after the timed run, so that it cannot warm
/// anything up). Prints one <c>RESULT</c> line of <c>key=value</c> pairs, which <see cref="Driver"/> reads.
/// </summary>
internal static class ChildRun
{
    /// <summary>The prefix of the result line.</summary>
    public const string ResultPrefix = "RESULT ";

    public static int Run(string shapeName, string engine, double seconds, string? segmentsFile, TextWriter output)
    {
        ConvShape shape = ShapeTable.Get(shapeName);
        var data = ShapeData.For(shape);
        var measured = MeasuredCall.Create(data, engine);

        if (Environment.GetEnvironmentVariable("KERNELGEN_THRASH") is { } thrash)
        {
            var junk = new byte[64 << 20];
            for (int k = 0; k < 2000; k++) measured.Call();
            foreach (string step in new[] { "none", "thrash", "sleep", "thrash", "none" })
            {
                if (step == "thrash") { for (int j = 0; j < junk.Length; j += 64) junk[j]++; }
                if (step == "sleep") Thread.Sleep(20);
                var times = new double[4];
                for (int k = 0; k < 4; k++)
                {
                    long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                    measured.Call();
                    times[k] = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
                }
                output.WriteLine($"{step}: {string.Join(" ", times.Select(t => t.ToString("0.00", CultureInfo.InvariantCulture)))}");
            }
            return 0;
        }

        if (Environment.GetEnvironmentVariable("KERNELGEN_MARK_CALLS") is { } marked && int.TryParse(marked, out int marks))
        {
            for (int k = 1; k <= marks; k++)
            {
                output.WriteLine($"MARK before call {k}");
                measured.Call();
            }
            output.WriteLine("MARK after calls");
            return 0;
        }

        CallRecording recording = CallRecorder.Record(measured.Call, measured.RunHarnessPathOnly, seconds, minimumCalls: 200);
        var (overhead, overheadOneByOne) = CallRecorder.MeasureOverhead();
        if (Environment.GetEnvironmentVariable("KERNELGEN_PRINT_CALLS") is { } printed && int.TryParse(printed, out int shown))
        {
            for (int k = 1; k <= Math.Min(shown, CallRecorder.TimedOneByOne); k++)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"CALL {k} {recording.CallTicks![k] * 1e6 / recording.Frequency - overheadOneByOne:0.###}"));
        }
        FirstCallProfile profile;
        using (var segments = segmentsFile is null ? null : new StreamWriter(segmentsFile))
        {
            segments?.WriteLine("# first call of the segment, ms since call 1 began, us per call");
            profile = FirstCallProfile.Analyse(recording, overhead, segments, overheadOneByOne);
        }

        if (Environment.GetEnvironmentVariable("KERNELGEN_PRINT_SLOW") is { } slowText
            && double.TryParse(slowText, NumberStyles.Float, CultureInfo.InvariantCulture, out double factor))
            PrintSlowCalls(recording, profile, factor, overhead, overheadOneByOne, output);


        if (Environment.GetEnvironmentVariable("KERNELGEN_PRINT_PLACEMENT") is not null)
            PrintPlacement(recording, overhead, data.Input, measured.Output, output);

        var other = MeasuredCall.Create(data, engine == "generated" ? "runtime" : "generated");
        other.Call();
        double difference = 0, scale = 1;
        for (int i = 0; i < measured.Output.Length; i++)
        {
            difference = Math.Max(difference, Math.Abs(measured.Output[i] - other.Output[i]));
            scale = Math.Max(scale, Math.Abs(other.Output[i]));
        }

        bool agree = difference <= 1e-4 * scale;   // float sums in different orders; NaN fails
        string code = RuntimeFeature.IsDynamicCodeCompiled ? "JIT" : "NativeAOT";
        string simd = Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : Vector128.IsHardwareAccelerated ? "Vector128" : "scalar";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{ResultPrefix}shape={shape.Name} engine={engine} code={code} simd={simd} processors={Environment.ProcessorCount} " +
            $"call1={profile.FirstCallMicroseconds:0.###} calls2to10={profile.Calls2To10Microseconds:0.###} slowest2to10={profile.SlowestOfCalls2To10Microseconds:0.###} steady={profile.SteadyMicroseconds:0.####} " +
            $"steadyFrom={profile.SteadyFromCall} msBeforeSteady={profile.MillisecondsBeforeSteady:0.###} calls={profile.Calls} seconds={profile.Seconds:0.###} " +
            $"overhead={overhead:0.####} overheadOneByOne={overheadOneByOne:0.####} agree={agree} difference={difference:G3} " +
            $"inputAlign={Alignment(data.Input)} outputAlign={Alignment(measured.Output)}"));
        return agree ? 0 : 1;
    }

    /// <summary>The array's first element's address modulo 64 (a cache line): vector loads and stores of data that starts
    /// elsewhere than a line's start split lines, which costs 512-bit vectors most.</summary>
    private static long Alignment(float[] values) => Address(values) % 64;

    /// <summary>The array's first element's address (the arrays are large, so the GC does not move them).</summary>
    private static long Address(float[] values)
    {
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(values, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            return handle.AddrOfPinnedObject();
        }
        finally
        {
            handle.Free();
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "sched_getcpu")]
    private static extern int GetCurrentProcessor();

    /// <summary>
    /// KERNELGEN_PRINT_PLACEMENT=1: where this process ran and where its buffers lie, with its calls' spread ("PLACEMENT
    /// cpu=N input4k=A output4k=B min= p10= p50= calls="): the processor at the end of the run (Linux only, else -1), the input's
    /// and output's first element modulo 4 KiB (what 4K aliasing between their loads and stores depends on), and the
    /// percentiles of the calls with a point each. On the 2-vCPU Zen 5 the depthwise shape's runtime ran at 71-75 µs on one
    /// vCPU and 81-95 µs on the other at the same moment, in the same process with the same buffers, and which vCPU was the
    /// slow one changed within minutes: the process-to-process spread follows the processor, not the addresses.
    /// </summary>
    private static void PrintPlacement(CallRecording recording, double overhead, float[] input, float[] output, TextWriter writer)
    {
        var times = new List<double>();
        for (int i = CallRecorder.TimedOneByOne + 1; i < recording.Count; i++)
        {
            if (recording.Calls[i] - recording.Calls[i - 1] == 1)
                times.Add((recording.Ticks[i] - recording.Ticks[i - 1]) * 1e6 / recording.Frequency - overhead);
        }

        times.Sort();
        double Percentile(double q) => times.Count == 0 ? double.NaN : times[(int)(q * (times.Count - 1))];
        int processor = OperatingSystem.IsLinux() ? GetCurrentProcessor() : -1;
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"PLACEMENT cpu={processor} input4k={Address(input) % 4096} output4k={Address(output) % 4096} " +
            $"min={Percentile(0):0.0} p10={Percentile(0.1):0.0} p50={Percentile(0.5):0.0} calls={times.Count}"));
    }

    /// <summary>
    /// KERNELGEN_PRINT_SLOW=F: every call after the first with a time of its own (calls 2 to 16 timed one by one, then the
    /// calls with a point each) that took more than F times the steady state ("SLOW call ms-since-start us"; at most 40
    /// lines), then how many calls were checked and how many were slow ("SLOWCOUNT").
    /// </summary>
    private static void PrintSlowCalls(CallRecording recording, FirstCallProfile profile, double factor, double overhead, double overheadOneByOne,
        TextWriter output)
    {
        double limit = factor * profile.SteadyMicroseconds, toMicroseconds = 1e6 / recording.Frequency;
        int checkedCalls = 0, slow = 0, printed = 0;
        double slowest = 0;
        long slowestCall = 0;
        void Check(long call, long endTick, double microseconds)
        {
            checkedCalls++;
            if (microseconds > slowest) (slowest, slowestCall) = (microseconds, call);
            if (microseconds <= limit) return;
            slow++;
            if (printed++ < 40)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"SLOW {call} {(endTick - recording.Ticks[0]) * 1e3 / recording.Frequency:0.###} {microseconds:0.###}"));
        }

        for (int k = 2; k < recording.CallTicks!.Length; k++)
            Check(k, recording.Ticks[k], recording.CallTicks[k] * toMicroseconds - overheadOneByOne);
        for (int i = CallRecorder.TimedOneByOne + 1; i < recording.Count; i++)
        {
            if (recording.Calls[i] - recording.Calls[i - 1] != 1) continue;
            Check(recording.Calls[i], recording.Ticks[i], (recording.Ticks[i] - recording.Ticks[i - 1]) * toMicroseconds - overhead);
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"SLOWCOUNT checked={checkedCalls} slow={slow} limit={limit:0.###} slowest={slowest:0.###} at={slowestCall} steady={profile.SteadyMicroseconds:0.###}"));
    }
}
