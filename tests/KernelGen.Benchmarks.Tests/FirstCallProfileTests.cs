extern alias FirstCalls;

using FirstCalls::KernelGen.FirstCalls;

namespace KernelGen.Benchmarks.Tests;

/// <summary>
/// The analysis behind docs/first-calls.md, on recordings made up call by call (a clock in nanoseconds): what a first call
/// costs, from which call on a kernel runs at its steady speed, and how long it took to get there, also when the machine
/// interrupts the run now and then. Then the harness's child mode, run in this process on the smallest shape.
/// </summary>
public sealed class FirstCallProfileTests
{
    [Fact]
    public void A_kernel_compiled_optimised_is_steady_from_call_2()
    {
        // Call 1 compiles (5 ms); every later call takes 100 µs.
        var profile = Analyse(Calls(2000, call => call == 1 ? 5_000_000 : 100_000));
        Assert.Equal(5000, profile.FirstCallMicroseconds, 3);
        Assert.Equal(100, profile.Calls2To10Microseconds, 3);
        Assert.Equal(100, profile.SteadyMicroseconds, 3);
        Assert.Equal(2, profile.SteadyFromCall);
        Assert.Equal(5, profile.MillisecondsBeforeSteady, 3);
        Assert.Equal(2000, profile.Calls);
    }

    [Fact]
    public void A_tier0_stretch_ends_where_the_calls_reach_the_steady_speed_despite_interruptions()
    {
        // Tier-0 code for calls 2 to 500 (300 µs), then 100 µs; every 50th call is interrupted for a millisecond, before
        // and after the switch: neither the steady speed nor the switch may move.
        var profile = Analyse(Calls(3000, call => (call == 1 ? 5_000_000 : call <= 500 ? 300_000 : 100_000) + (call % 50 == 0 ? 1_000_000 : 0)));
        Assert.Equal(100, profile.SteadyMicroseconds, 3);
        Assert.Equal(501, profile.SteadyFromCall);
        Assert.Equal(5 + 499 * 0.3 + 10 * 1.0, profile.MillisecondsBeforeSteady, 3);   // calls 50, 100, ..., 500 were interrupted
    }

    [Fact]
    public void Small_calls_are_judged_in_stretches_and_the_measuring_overhead_is_taken_off()
    {
        // A 40 ns call (10 of them the clock's): 400 ns until call 100 000, then 40 ns; judged in stretches of 50 µs.
        var profile = Analyse(Calls(400_000, call => call <= 100_000 ? 400 : 40), overheadMicroseconds: 0.010);
        Assert.Equal(0.030, profile.SteadyMicroseconds, 6);
        Assert.Equal(0.390, profile.Calls2To10Microseconds, 6);
        Assert.InRange(profile.SteadyFromCall, 100_001, 100_001 + 1667);   // within one stretch (50 µs / 0.03 µs) of the switch
    }

    [Fact]
    public void The_child_mode_measures_a_generated_kernel_and_checks_it_against_the_runtime()
    {
        var output = new StringWriter();
        Assert.Equal(0, ChildRun.Run("seed", "generated", seconds: 0.05, segmentsFile: null, output));
        string line = output.ToString().Trim();
        Assert.StartsWith(ChildRun.ResultPrefix + "shape=seed engine=generated code=JIT ", line);
        Assert.Contains(" agree=True ", line);
    }

    private static FirstCallProfile Analyse(CallRecording recording, double overheadMicroseconds = 0) =>
        FirstCallProfile.Analyse(recording, overheadMicroseconds);

    /// <summary>A recording with a point after every call, call <c>k</c> (from 1) taking <paramref name="nanoseconds"/>(k).</summary>
    private static CallRecording Calls(int count, Func<long, long> nanoseconds)
    {
        var calls = new long[count + 1];
        var ticks = new long[count + 1];
        for (int k = 1; k <= count; k++)
        {
            calls[k] = k;
            ticks[k] = ticks[k - 1] + nanoseconds(k);
        }

        return new CallRecording(calls, ticks, count + 1, Frequency: 1_000_000_000);
    }
}
