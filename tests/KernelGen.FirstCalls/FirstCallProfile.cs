namespace KernelGen.FirstCalls;

/// <summary>
/// How the calls of one fresh process went, in microseconds per call with the measuring overhead taken off.
/// </summary>
/// <param name="FirstCallMicroseconds">Call 1: compiling the kernel (JIT) plus running it once.</param>
/// <param name="Calls2To10Microseconds">The mean of calls 2 to 10.</param>
/// <param name="SlowestOfCalls2To10Microseconds">The slowest of calls 2 to 10.</param>
/// <param name="SteadyMicroseconds">
/// The steady state: the median time per call over the last third of the run (segments of at least
/// <see cref="SegmentMicroseconds"/>).
/// </param>
/// <param name="SteadyFromCall">
/// The first call from which the run is within <see cref="Tolerance"/> of the steady state: the first such segment of
/// the first <see cref="Window"/> segments whose median is. 1 when even call 1 is; 0 when the run never got there (it
/// was too short).
/// </param>
/// <param name="MillisecondsBeforeSteady">The time from the start of call 1 to the start of call <see cref="SteadyFromCall"/>.</param>
/// <param name="Calls">Calls made in the run.</param>
/// <param name="Seconds">The length of the run.</param>
internal sealed record FirstCallProfile(
    double FirstCallMicroseconds, double Calls2To10Microseconds, double SlowestOfCalls2To10Microseconds, double SteadyMicroseconds, long SteadyFromCall,
    double MillisecondsBeforeSteady, long Calls, double Seconds)
{
    /// <summary>How much slower than the steady state a call may be and still count as steady (10 %).</summary>
    public const double Tolerance = 1.10;

    /// <summary>
    /// The shortest stretch of calls judged together. A single call of a small kernel (10 ns) is below the clock's noise;
    /// a stretch of 50 µs is not, and it is still short against the 100 ms that tiered compilation waits before it
    /// recompiles.
    /// </summary>
    public const double SegmentMicroseconds = 50;

    /// <summary>Segments whose median decides whether a stretch is steady: a few slow segments (the process descheduled on a
    /// busy machine) are noise, a slow stretch (unoptimised code) is not.</summary>
    public const int Window = 9;

    /// <summary>
    /// The profile of a recording; <paramref name="overheadMicroseconds"/> is taken off every call timed back to back,
    /// <paramref name="oneByOneOverheadMicroseconds"/> off every call timed on its own (calls 1 to 10 come from those,
    /// when the recording has them).
    /// </summary>
    public static FirstCallProfile Analyse(CallRecording recording, double overheadMicroseconds, TextWriter? segments = null,
        double oneByOneOverheadMicroseconds = 0)
    {
        long[] calls = recording.Calls, ticks = recording.Ticks;
        int last = recording.Count - 1;
        if (last < 10 || calls[10] != 10)
            throw new ArgumentException("A recording needs at least 10 calls, each with its own point.", nameof(recording));
        double Microseconds(int from, int to) =>
            ((double)(ticks[to] - ticks[from]) * 1e6 / recording.Frequency - overheadMicroseconds * (calls[to] - calls[from])) / (calls[to] - calls[from]);

        double OneByOne(int call) => recording.CallTicks![call] * 1e6 / recording.Frequency - oneByOneOverheadMicroseconds;
        bool oneByOne = recording.CallTicks is { Length: > 10 };
        double first = oneByOne ? OneByOne(1) : Microseconds(0, 1);
        double next = oneByOne ? Enumerable.Range(2, 9).Average(OneByOne) : Microseconds(1, 10);
        double slowest = Enumerable.Range(2, 9).Max(call => oneByOne ? OneByOne(call) : Microseconds(call - 1, call));

        // The segments, from call 2 on: each at least SegmentMicroseconds long, as the tail's mean call time estimates it.
        long tailTick = ticks[0] + (ticks[last] - ticks[0]) * 2 / 3;
        int tail = Array.FindIndex(ticks, 1, last, t => t >= tailTick);
        if (tail < 1 || tail >= last) tail = Math.Max(1, last - 1);
        double tailMean = Math.Max(Microseconds(tail, last), 1e-6);
        long segmentCalls = Math.Max(1, (long)Math.Ceiling(SegmentMicroseconds / tailMean));
        var starts = new List<int>();
        var perCall = new List<double>();
        for (int a = 1; a < last;)
        {
            int b = a + 1;
            while (b < last && calls[b] - calls[a] < segmentCalls) b++;
            starts.Add(a);
            perCall.Add(Microseconds(a, b));
            a = b;
        }

        if (segments is not null)
        {
            for (int i = 0; i < starts.Count; i++)
                segments.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{calls[starts[i]] + 1} {(ticks[starts[i]] - ticks[0]) * 1e3 / recording.Frequency:0.###} {perCall[i]:0.####}"));
        }

        var steadySegments = perCall.Where((_, i) => ticks[starts[i]] >= tailTick).ToList();
        double steady = Statistics.Median(steadySegments.Count > 0 ? steadySegments : perCall);

        // The first stretch of Window segments whose median is within the tolerance, from its first segment that is: from
        // there on the kernel runs at its steady speed (a later slow spell is the machine, not the code; the median ignores
        // a few slow segments inside the stretch).
        int firstSteady = -1;
        for (int i = 0; i + Window <= perCall.Count && firstSteady < 0; i++)
        {
            if (Statistics.Median(perCall.GetRange(i, Window)) <= steady * Tolerance)
                firstSteady = perCall.FindIndex(i, Window, time => time <= steady * Tolerance);
        }

        (long steadyFrom, int steadyPoint) = firstSteady switch
        {
            < 0 => (0L, last),
            0 => first <= steady * Tolerance ? (1L, 0) : (2L, 1),
            _ => (calls[starts[firstSteady]] + 1, starts[firstSteady]),
        };

        return new FirstCallProfile(first, next, slowest, steady, steadyFrom, (double)(ticks[steadyPoint] - ticks[0]) * 1e3 / recording.Frequency,
            recording.TotalCalls, recording.Seconds);
    }
}
