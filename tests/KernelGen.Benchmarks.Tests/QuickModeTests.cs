using System.Runtime.InteropServices;
using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Native;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Tests;

/// <summary>
/// The suite's quick mode, in this process: every shape × every engine prepared, run twice and checked against the
/// reference. If an engine, the model writer, the TorchSharp patch or a shape definition rots, this fails.
/// </summary>
public sealed class QuickModeTests
{
    private static readonly EngineKind[] AlwaysAvailable =
        [EngineKind.Naive, EngineKind.KernelGen1T, EngineKind.KernelGenAllCores, EngineKind.Ort1T, EngineKind.OrtAllCores];

    [Fact]
    public void EveryShapeAndEngineRunsAndMatchesTheReference()
    {
        var log = new StringWriter();
        QuickReport report = QuickRun.Run(ShapeTable.All, EngineKinds.All, log);

        Assert.True(report.AllPassed, string.Join(Environment.NewLine, report.Failures) + Environment.NewLine + log);
        Assert.Equal(ShapeTable.All.Count * EngineKinds.All.Count, report.Checks.Count);
        foreach (ConvShape shape in ShapeTable.All)
        foreach (EngineKind engine in EngineKinds.All)
        {
            EngineCheck check = Assert.Single(report.Checks, c => c.Shape == shape && c.Engine == engine);
            if (AlwaysAvailable.Contains(engine))
                Assert.Equal(CheckOutcome.Passed, check.Outcome);
            else if (check.Outcome == CheckOutcome.Unavailable)
                Assert.False(string.IsNullOrWhiteSpace(check.Detail), $"{engine} was skipped without a reason.");
        }

        // Skipped engines are said so, with the reason, in the log the user reads.
        foreach (EngineCheck skipped in report.Checks.Where(c => c.Outcome == CheckOutcome.Unavailable))
            Assert.Contains(skipped.Detail, log.ToString());
        Assert.Contains("0 failed", log.ToString());
    }

    [Fact]
    public void TorchSharpLoadsOnLinuxX64AfterThePatch()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return;

        Assert.Null(TorchSharpLoader.UnavailableReason);
        string library = Assert.Single(Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories));
        // Either the package's build needs GLIBCXX_3.4.32 and the requirement is now weak, or it never needed it.
        Assert.NotEqual(false, ElfVersionPatcher.IsVersionRequirementWeak(library, ElfVersionPatcher.TorchSharpMissingVersion));
        Assert.Contains(TorchSharpLoader.Log, line => line.StartsWith("TorchSharp loaded", StringComparison.Ordinal));
    }

    [Fact]
    public void GeneratedDeclarationsThatDriftFromTheTableAreRejected()
    {
        // The generated engine exists only in builds with the generator, so it is reached by reflection.
        Type? engine = typeof(EngineFactory).Assembly.GetType("KernelGen.Benchmarks.Generated.GeneratedEngine");
        Assert.Equal(EngineFactory.HasGeneratedKernels, engine is not null);
        if (engine is null)
            return;
        var check = engine.GetMethod("CheckDeclarationMatches", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!;
        ConvShape dcgan = ShapeTable.Get("dcgan");
        check.Invoke(null, [dcgan, "Dcgan"]);
        var drift = Assert.Throws<System.Reflection.TargetInvocationException>(() => check.Invoke(null, [dcgan with { Padding = 0 }, "Dcgan"]));
        Assert.IsType<InvalidOperationException>(drift.InnerException);
        Assert.Throws<System.Reflection.TargetInvocationException>(() => check.Invoke(null, [ShapeTable.Get("unet_up"), "UnetUpNhwc"]));
    }

    [Fact]
    public void GeneratedEngineIsAvailableExactlyWhenBuiltWithTheGenerator()
    {
        string? reason = EngineFactory.UnavailableReason(EngineKind.Generated1T);
        if (EngineFactory.HasGeneratedKernels)
        {
            Assert.Null(reason);
        }
        else
        {
            Assert.Contains("BenchmarkGeneratedKernels", reason);
            var unavailable = Assert.Throws<EngineUnavailableException>(() => EngineFactory.Create(EngineKind.Generated1T, ShapeData.For(ShapeTable.Get("seed"))));
            Assert.Equal(EngineKind.Generated1T, unavailable.Kind);
        }
    }
}
