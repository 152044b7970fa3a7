using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace KernelGen.FirstCalls;

/// <summary>
/// The clock after every call of a run: point <c>k</c> says that <see cref="Calls"/>[k] calls had returned at timestamp
/// <see cref="Ticks"/>[k] (point 0 is the start, before call 1). The first calls have a point each (1024 of them when
/// calls take under a microsecond, else <see cref="CallRecorder.IndividualCalls"/>); later ones one per 64 or 4096 calls,
/// so that a run of a 10 ns kernel for seconds fits in memory. <see cref="CallTicks"/>, when given, holds the first calls
/// timed one by one (<see cref="CallRecorder.TimedOneByOne"/>): element <c>k</c> is call <c>k</c>'s own ticks (element 0 unused).
/// </summary>
internal sealed record CallRecording(long[] Calls, long[] Ticks, int Count, long Frequency, long[]? CallTicks = null)
{
    /// <summary>Calls made.</summary>
    public long TotalCalls => Calls[Count - 1];

    /// <summary>Seconds from the start of call 1 to the end of the last call.</summary>
    public double Seconds => (double)(Ticks[Count - 1] - Ticks[0]) / Frequency;
}

/// <summary>Calls a kernel again and again for a while and records when each call returned.</summary>
internal static class CallRecorder
{
    /// <summary>Calls with a point each (at least the first 10 must be, for the per-call figures).</summary>
    public const int IndividualCalls = 1 << 16;

    /// <summary>
    /// Calls with a point each when calls are short (under a microsecond from call 2 on): storing a point costs such a call
    /// a nanosecond more, which must not last long enough to look like a slow start.
    /// </summary>
    public const int IndividualShortCalls = 1 << 10;

    private const int Capacity = 1 << 22;

    /// <summary>
    /// The first calls, each timed on its own: the clock is read right before and right after the call, and before that
    /// the harness runs its own way to the call untimed (<see cref="MeasuredCall.RunHarnessPathOnly"/>: the delegate, the
    /// bound lambda up to the kernel's call, this loop). Call 1's compiling leaves that code as cold as the kernel's (its
    /// pages were last run before the compiler's milliseconds): timed with the call, call 2 of the generated seed kernel
    /// took 0.16-0.42 µs against 0.03 from call 3, which was this harness's cost, not the kernel's.
    /// </summary>
    public const int TimedOneByOne = 16;

    /// <summary>
    /// Calls <paramref name="call"/> until <paramref name="seconds"/> have passed and at least <paramref name="minimumCalls"/>
    /// calls were made: the first <see cref="TimedOneByOne"/> timed one by one, after <paramref name="harnessPathOnly"/>
    /// (the harness's own way to the call, without the kernel); then back to back, the clock read after every call, also
    /// where no point is kept, so that every call carries the same measuring overhead (<see cref="MeasureOverhead"/>
    /// measures both). Compiled fully optimised from its first call, so that the loop itself never runs as tier-0 code.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static CallRecording Record(Action call, Action harnessPathOnly, double seconds, long minimumCalls)
    {
        var calls = new long[Capacity];
        var ticks = new long[Capacity];
        var callTicks = new long[TimedOneByOne + 1];
        // Touch every page now: the first write to a fresh page faults, and faults in the loop would make the calls with a
        // point each look slower than the later ones.
        calls.AsSpan().Fill(-1);
        ticks.AsSpan().Fill(-1);
        long start = Stopwatch.GetTimestamp();
        long deadline = start + (long)(seconds * Stopwatch.Frequency);
        calls[0] = 0;
        ticks[0] = start;
        int count = 1;
        for (; count <= TimedOneByOne; count++)
        {
            harnessPathOnly();
            long before = Stopwatch.GetTimestamp();
            call();
            long after = Stopwatch.GetTimestamp();
            callTicks[count] = after - before;
            calls[count] = count;
            ticks[count] = after;
        }

        long made = TimedOneByOne, mask = 0;
        // KERNELGEN_PRINT_SLOW (ChildRun): a point for every call while there is room, to find every slow call.
        bool everyCall = Environment.GetEnvironmentVariable("KERNELGEN_PRINT_SLOW") is not null;
        while (true)
        {
            call();
            long now = Stopwatch.GetTimestamp();
            made++;
            if ((made & mask) != 0) continue;
            calls[count] = made;
            ticks[count] = now;
            count++;
            if (everyCall)
            {
                if (count == Capacity || (now >= deadline && made >= minimumCalls)) break;
                continue;
            }

            if (made == IndividualCalls || (made == IndividualShortCalls && (now - ticks[TimedOneByOne + 1]) < (IndividualShortCalls - TimedOneByOne - 1) * Stopwatch.Frequency / 1_000_000))
                mask = 63;
            if (count == Capacity / 2) mask = 4095;
            if (count == Capacity || (now >= deadline && made >= minimumCalls)) break;
        }

        return new CallRecording(calls, ticks, count, Stopwatch.Frequency, callTicks);
    }

    /// <summary>
    /// Microseconds per call that the harness adds to a call: back to back (the loop and the clock), and timed one by one
    /// (the clock): the steady state of an empty call, and the median of its calls timed one by one.
    /// </summary>
    public static (double BackToBack, double OneByOne) MeasureOverhead()
    {
        Action nothing = [MethodImpl(MethodImplOptions.AggressiveOptimization)] static () => { };
        var recording = Record(nothing, nothing, 0.2, 0);
        double oneByOne = Statistics.Median(recording.CallTicks!.Skip(2).Select(t => t * 1e6 / recording.Frequency));
        return (FirstCallProfile.Analyse(recording, overheadMicroseconds: 0).SteadyMicroseconds, oneByOne);
    }
}
