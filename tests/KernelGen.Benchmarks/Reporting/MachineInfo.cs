using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace KernelGen.Benchmarks.Reporting;

/// <summary>A one-line description of the machine, for the logs and the report.</summary>
public static class MachineInfo
{
    /// <summary>CPU model, logical cores, OS, runtime and the SIMD widths the JIT accelerates.</summary>
    public static string Describe()
    {
        string cpu = "unknown CPU";
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?
                    .Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException)
        {
            // Keep "unknown CPU": the description is informative only.
        }

        string simd = Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256"
            : Vector128.IsHardwareAccelerated ? "Vector128" : "no SIMD";
        return $"{cpu}, {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, " +
               $"{RuntimeInformation.FrameworkDescription} {RuntimeInformation.ProcessArchitecture}, widest accelerated vector: {simd}";
    }
}
