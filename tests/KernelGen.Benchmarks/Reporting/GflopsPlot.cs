using System.Globalization;
using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Shapes;
using ScottPlot;

namespace KernelGen.Benchmarks.Reporting;

/// <summary>
/// The plot of docs/benchmarks.md: GFLOP/s per shape (groups along x) and engine (bars in a group), on a log scale
/// because the shapes span three orders of magnitude (seed's 72 flops to unet_up's 67 million).
/// </summary>
public static class GflopsPlot
{
    private const double FloorGflops = 0.01;

    private static readonly string[] Palette =
    [
        "#9e9e9e", // naive
        "#1565c0", // KernelGen 1T
        "#64b5f6", // KernelGen all
        "#2e7d32", // generated
        "#e65100", // ORT 1T
        "#ffb74d", // ORT all
        "#6a1b9a", // Torch 1T
        "#ce93d8", // Torch all
    ];

    /// <summary>Draws the measurements and saves them as a PNG of the given size.</summary>
    public static void Save(IReadOnlyList<Measurement> measurements, string path, double peakGflopsPerCore, int width = 1400, int height = 650)
    {
        var shapes = measurements.Select(m => m.Shape).Distinct().OrderBy(s => ShapeTable.All.ToList().FindIndex(t => t.Name == s.Name)).ToArray();
        var engines = measurements.Select(m => m.Engine).Distinct().Order().ToArray();
        var plot = new Plot();
        double groupWidth = 0.8, barWidth = groupWidth / Math.Max(1, engines.Length);

        for (int e = 0; e < engines.Length; e++)
        {
            var color = Color.FromHex(Palette[(int)engines[e] % Palette.Length]);
            var bars = new List<Bar>();
            for (int s = 0; s < shapes.Length; s++)
            {
                var measurement = measurements.FirstOrDefault(m => m.Shape.Name == shapes[s].Name && m.Engine == engines[e]);
                if (measurement is null)
                    continue;
                bars.Add(new Bar
                {
                    Position = s - groupWidth / 2 + barWidth * (e + 0.5),
                    ValueBase = Math.Log10(FloorGflops),
                    Value = Math.Log10(Math.Max(FloorGflops, measurement.Gflops)),
                    Size = barWidth * 0.9,
                    FillColor = color,
                    LineWidth = 0,
                });
            }

            plot.Add.Bars(bars);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = engines[e].Label(), FillColor = color });
        }

        if (peakGflopsPerCore > 0)
        {
            var peak = plot.Add.HorizontalLine(Math.Log10(peakGflopsPerCore), 1.5f, Colors.Black, LinePattern.Dashed);
            peak.LegendText = string.Create(CultureInfo.InvariantCulture, $"FMA peak, one core ({peakGflopsPerCore:0} GFLOP/s)");
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, shapes.Length).Select(i => (double)i).ToArray(), shapes.Select(s => s.Name).ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            LabelFormatter = y => Math.Pow(10, y).ToString("G4", CultureInfo.InvariantCulture),
        };
        plot.Axes.Left.Label.Text = "GFLOP/s (log scale, higher is better)";
        plot.Title("ConvTranspose2D, float32, batch 1: GFLOP/s per shape and engine");
        plot.Axes.SetLimitsX(-0.6, shapes.Length - 0.4);
        double top = measurements.Select(m => m.Gflops).Append(peakGflopsPerCore).Max();
        plot.Axes.SetLimitsY(Math.Log10(FloorGflops) - 0.05, Math.Log10(Math.Max(top, 1)) + 0.3);
        // DejaVu Sans ships with Debian; ScottPlot falls back to its default font where it is missing.
        plot.Font.Set("DejaVu Sans");
        plot.Legend.FontName = "DejaVu Sans";
        plot.ShowLegend(Edge.Right);
        plot.SavePng(path, width, height);
    }
}
