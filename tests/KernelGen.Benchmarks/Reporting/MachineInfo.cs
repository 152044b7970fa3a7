using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace KernelGen.Benchmarks.Reporting;

/// <summary>A one-line description of the machine, for the logs and the report.</summary>
public static class MachineInfo
{
    /// <summary>CPU model with its vendor, family and model, logical cores, OS, runtime and the SIMD widths the JIT accelerates.</summary>
    /// <remarks>
    /// The family and model are what tell two CPUs sold under one name apart: this project's machines report "AMD EPYC"
    /// for a Zen 4 (family 25, double-pumped AVX-512) and a Zen 5 (family 26, full-width AVX-512) alike, and a figure means
    /// nothing without knowing which it was.
    /// </remarks>
    public static string Describe()
    {
        string simd = Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256"
            : Vector128.IsHardwareAccelerated ? "Vector128" : "no SIMD";
        return $"{ModelName()} ({Identity()}), {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, " +
               $"{RuntimeInformation.FrameworkDescription} {RuntimeInformation.ProcessArchitecture}, widest accelerated vector: {simd}";
    }

    /// <summary>
    /// The CPU's vendor, family and model as CPUID reports them on x86 ("AuthenticAMD family 25 model 17"), or the
    /// implementer and part /proc/cpuinfo reports on ARM64; "identity unknown" elsewhere.
    /// </summary>
    public static string Identity()
    {
        if (X86Base.IsSupported)
        {
            var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
            Span<byte> vendor = stackalloc byte[12];
            BitConverter.TryWriteBytes(vendor, ebx);
            BitConverter.TryWriteBytes(vendor[4..], edx);
            BitConverter.TryWriteBytes(vendor[8..], ecx);
            var (family, model) = FamilyAndModel(X86Base.CpuId(1, 0).Eax);
            return string.Create(CultureInfo.InvariantCulture, $"{System.Text.Encoding.ASCII.GetString(vendor)} family {family} model {model}");
        }

        string? implementer = CpuInfoField("CPU implementer"), part = CpuInfoField("CPU part");
        return implementer is not null && part is not null ? $"ARM implementer {implementer} part {part}" : "identity unknown";
    }

    /// <summary>
    /// Display family and model from CPUID leaf 1's EAX, as the vendors define them: the extended family is added when the
    /// base family is 15, and the extended model is the high nibble when the base family is 6 or 15.
    /// </summary>
    public static (int Family, int Model) FamilyAndModel(int eax)
    {
        int baseFamily = (eax >> 8) & 0xF, baseModel = (eax >> 4) & 0xF;
        int family = baseFamily == 0xF ? baseFamily + ((eax >> 20) & 0xFF) : baseFamily;
        int model = baseFamily is 0x6 or 0xF ? (((eax >> 16) & 0xF) << 4) | baseModel : baseModel;
        return (family, model);
    }

    private static string ModelName() => CpuInfoField("model name") ?? "unknown CPU";

    private static string? CpuInfoField(string name)
    {
        try
        {
            if (!File.Exists("/proc/cpuinfo")) return null;
            return File.ReadLines("/proc/cpuinfo")
                .FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal) && l.AsSpan(name.Length).TrimStart().StartsWith(":"))?
                .Split(':', 2)[1].Trim();
        }
        catch (IOException)
        {
            // Unknown: the description is informative only.
            return null;
        }
    }
}
