using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Timing;

/// <summary>The suite's derived columns, computed in the host from each case's median (robust on a shared machine).</summary>
public abstract class SuiteColumn(string id, string name, string legend) : IColumn
{
    /// <inheritdoc/>
    public string Id => id;

    /// <inheritdoc/>
    public string ColumnName => name;

    /// <inheritdoc/>
    public string Legend => legend;

    /// <inheritdoc/>
    public bool AlwaysShow => true;

    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc/>
    public int PriorityInCategory => 0;

    /// <inheritdoc/>
    public bool IsNumeric => true;

    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        Compute(summary, benchmarkCase) is { } value && double.IsFinite(value)
            ? value.ToString(Format, CultureInfo.InvariantCulture)
            : "-";

    /// <summary>The number format of the column.</summary>
    protected virtual string Format => "0.00";

    /// <summary>The column's value for a case, or null when it has none (a failed case, a missing counterpart).</summary>
    protected abstract double? Compute(Summary summary, BenchmarkCase benchmarkCase);

    /// <summary>The shape and engine of a case.</summary>
    protected static (ConvShape Shape, EngineKind Engine) Identify(BenchmarkCase benchmarkCase) =>
        (ShapeTable.Get((string)benchmarkCase.Parameters[nameof(ConvTransposeBenchmarks.Shape)]),
         (EngineKind)benchmarkCase.Parameters[nameof(ConvTransposeBenchmarks.Engine)]);

    /// <summary>The median time of one call in nanoseconds, or null.</summary>
    protected static double? MedianNanoseconds(Summary summary, BenchmarkCase benchmarkCase) =>
        summary[benchmarkCase]?.ResultStatistics?.Median;

    /// <summary>The median time of another engine on the same shape in the same run, or null.</summary>
    protected static double? MedianOf(Summary summary, ConvShape shape, EngineKind engine) =>
        summary.BenchmarksCases
            .Where(c => Identify(c) == (shape, engine))
            .Select(c => MedianNanoseconds(summary, c))
            .FirstOrDefault();

    /// <inheritdoc/>
    public override string ToString() => ColumnName;
}

/// <summary>GFLOP/s of the median call, with the FLOP count.</summary>
public sealed class GflopsColumn() : SuiteColumn("KernelGen.Gflops", "GFLOP/s",
    "GFLOP/s of the median call; FLOPs = 2*N*Cin*H*W*(Cout/groups)*kH*kW")
{
    /// <inheritdoc/>
    protected override double? Compute(Summary summary, BenchmarkCase benchmarkCase) =>
        MedianNanoseconds(summary, benchmarkCase) is { } ns ? Identify(benchmarkCase).Shape.Flops / ns : null;
}

/// <summary>GFLOP/s as a percentage of the FMA peak of the cores the engine may use.</summary>
public sealed class PeakFractionColumn(double peakGflopsPerCore) : SuiteColumn("KernelGen.PercentOfPeak", "% peak",
    string.Create(CultureInfo.InvariantCulture,
        $"GFLOP/s as % of the measured float32 FMA peak ({peakGflopsPerCore:0.0} GFLOP/s per core) times the engine's threads"))
{
    /// <inheritdoc/>
    protected override string Format => "0.0";

    /// <inheritdoc/>
    protected override double? Compute(Summary summary, BenchmarkCase benchmarkCase)
    {
        var (shape, engine) = Identify(benchmarkCase);
        return MedianNanoseconds(summary, benchmarkCase) is { } ns && peakGflopsPerCore > 0
            ? 100 * (shape.Flops / ns) / (peakGflopsPerCore * engine.Threads())
            : null;
    }
}

/// <summary>
/// Another engine's median time on the same shape divided by this case's: above 1, this case is faster. Against ONNX
/// Runtime with the same thread count it is the ratio of the targets.
/// </summary>
public sealed class SpeedupOverColumn(string baselineName, Func<EngineKind, EngineKind> baseline) : SuiteColumn(
    "KernelGen.Over" + baselineName, baselineName + "/this",
    $"{baselineName} median time (same shape, same thread count) / this median time; > 1 means this engine is faster")
{
    /// <inheritdoc/>
    protected override double? Compute(Summary summary, BenchmarkCase benchmarkCase)
    {
        var (shape, engine) = Identify(benchmarkCase);
        return MedianNanoseconds(summary, benchmarkCase) is { } ns && MedianOf(summary, shape, baseline(engine)) is { } other
            ? other / ns
            : null;
    }
}
