using System.Runtime.CompilerServices;

namespace KernelGen.Benchmarks.Native;

/// <summary>
/// Makes TorchSharp loadable on Debian 12 and loads it once per process: patches the copy of <c>libLibTorchSharp.so</c>
/// under this program's own folder (<see cref="ElfVersionPatcher"/>), fixes malloc's thresholds (<see cref="GlibcMalloc"/>),
/// then touches libtorch. If anything fails, <see cref="UnavailableReason"/> says why and the suite runs without TorchSharp.
/// </summary>
public static class TorchSharpLoader
{
    private static readonly Lazy<string?> s_failure = new(TryLoad, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly List<string> s_log = [];

    /// <summary>Null when TorchSharp works in this process, else why it does not. The first call does the work.</summary>
    public static string? UnavailableReason => s_failure.Value;

    /// <summary>What loading did (patches, mallopt, versions), for the suite's log.</summary>
    public static IReadOnlyList<string> Log
    {
        get
        {
            _ = s_failure.Value;
            lock (s_log) return s_log.ToArray();
        }
    }

    /// <summary>
    /// Patches every <c>libLibTorchSharp.so</c> under <paramref name="folder"/> (never outside it). Returns one line per file.
    /// </summary>
    public static IReadOnlyList<string> PatchTorchSharpLibraries(string folder)
    {
        var lines = new List<string>();
        foreach (string file in Directory.EnumerateFiles(folder, "libLibTorchSharp.so", SearchOption.AllDirectories))
        {
            ElfPatchOutcome outcome = ElfVersionPatcher.MarkVersionRequirementWeak(file, ElfVersionPatcher.TorchSharpMissingVersion);
            lines.Add($"{Path.GetRelativePath(folder, file)}: {ElfVersionPatcher.TorchSharpMissingVersion} requirement {outcome switch
            {
                ElfPatchOutcome.Patched => "marked weak now",
                ElfPatchOutcome.AlreadyWeak => "already weak",
                _ => "absent",
            }}");
        }

        if (lines.Count == 0)
            lines.Add($"no libLibTorchSharp.so under {folder}");
        return lines;
    }

    private static string? TryLoad()
    {
        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess)
            return "the suite loads TorchSharp on 64-bit Linux only";
        try
        {
            AddLog(PatchTorchSharpLibraries(AppContext.BaseDirectory));
            AddLog([GlibcMalloc.FixThresholds()]);
            AddLog([TouchLibTorch()]);
            return null;
        }
        catch (Exception e)
        {
            // TypeInitializationException and friends hide the native loader's message in the innermost exception.
            Exception root = e;
            while (root.InnerException is { } inner) root = inner;
            return $"{root.GetType().Name}: {root.Message}";
        }
    }

    /// <summary>In its own method, so that no TorchSharp type is loaded before the patch above is on disk.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string TouchLibTorch()
    {
        using var probe = TorchSharp.torch.ones(2, 2);
        float sum = probe.sum().item<float>();
        if (sum != 4)
            throw new InvalidOperationException($"libtorch computed sum(ones(2, 2)) = {sum}.");
        return $"TorchSharp loaded: libtorch {TorchSharp.torch.__version__}, {TorchSharp.torch.get_num_threads()} threads by default";
    }

    private static void AddLog(IEnumerable<string> lines)
    {
        lock (s_log) s_log.AddRange(lines);
    }
}
