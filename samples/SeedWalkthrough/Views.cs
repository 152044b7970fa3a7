using System.Globalization;
using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace SeedWalkthrough;

/// <summary>
/// Spectre.Console views of a <see cref="ScatterWalkthrough"/>. Each input cell has a colour and a letter (a, b, c, ...):
/// the colour is lost when the output is not a terminal (CI logs), so every view also says it with the letter or with
/// parentheses, never with colour alone.
/// </summary>
internal static class Views
{
    /// <summary>The lecture pastes the first copy in red and the second in green; the others get their own colours.</summary>
    private static readonly string[] Colours = ["red", "green", "dodgerblue1", "orange1", "magenta", "cyan"];

    public static string Colour(int source) => Colours[source % Colours.Length];

    public static string Letter(int source) => ((char)('a' + source % 26)).ToString();

    /// <summary>"a" in its colour.</summary>
    public static string LetterMarkup(int source) => $"[{Colour(source)}]{Letter(source)}[/]";

    public static string Number(float value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>"a = x[0,0] = 2", coloured.</summary>
    public static string Describe(Placement placement) =>
        $"[bold {Colour(placement.Source)}]{Letter(placement.Source)} = x[[{placement.InputRow},{placement.InputColumn}]] = {Number(placement.Value)}[/]";

    /// <summary>The input, each cell labelled with its letter and, if <paramref name="highlight"/> is given, that cell bold.</summary>
    public static Table InputTable(ScatterWalkthrough walk, int? highlight = null)
    {
        var table = NewTable("input x").HideHeaders();
        for (int x = 0; x < walk.InputWidth; x++)
            table.AddColumn(new TableColumn(string.Empty).Centered());
        foreach (var row in walk.Placements.GroupBy(p => p.InputRow))
        {
            table.AddRow(row.Select(p =>
            {
                string style = p.Source == highlight ? $"bold underline {Colour(p.Source)}" : highlight is null ? Colour(p.Source) : $"dim {Colour(p.Source)}";
                return (IRenderable)new Markup($"[{style}]{Letter(p.Source)}: {Number(p.Value)}[/]");
            }));
        }

        return table;
    }

    /// <summary>The filter, or (with <paramref name="placement"/>) the filter scaled by that input cell's value, in its colour.</summary>
    public static Table FilterTable(ScatterWalkthrough walk, Placement? placement = null)
    {
        string title = placement is null ? "filter f" : $"{Letter(placement.Source)} * f = {Number(placement.Value)} * f";
        var table = NewTable(title).HideHeaders();
        for (int x = 0; x < walk.KernelWidth; x++)
            table.AddColumn(new TableColumn(string.Empty).RightAligned());
        for (int y = 0; y < walk.KernelHeight; y++)
        {
            var cells = new List<IRenderable>();
            for (int x = 0; x < walk.KernelWidth; x++)
            {
                float weight = walk.Filter[y, x];
                cells.Add(placement is null
                    ? new Markup(Number(weight))
                    : new Markup($"[{Colour(placement.Source)}]{Number(placement.Value * weight)}[/]"));
            }

            table.AddRow(cells);
        }

        return table;
    }

    /// <summary>The legend of <see cref="CanvasTable"/>, for a line of its own: a table caption wraps at the table's width.</summary>
    public const string CanvasLegend = "[grey](...) = in the padding, cropped away;  * = added by the output padding[/]";

    /// <summary>
    /// The whole canvas after the first <paramref name="pastedCopies"/> copies: every product pasted so far, the
    /// latest copy's in bold, the earlier ones dimmed, and the cells in the padding in parentheses.
    /// </summary>
    public static Table CanvasTable(ScatterWalkthrough walk, int pastedCopies)
    {
        var table = NewTable($"canvas after {pastedCopies} of {walk.Placements.Count} copies");
        table.AddColumn(new TableColumn(string.Empty));
        for (int x = 0; x < walk.CanvasWidth; x++)
            table.AddColumn(new TableColumn(new Markup($"{x}\n{AxisTag(walk, x, walk.CanvasWidth)}")).Centered());
        for (int y = 0; y < walk.CanvasHeight; y++)
        {
            var cells = new List<IRenderable> { new Markup($"{y} {AxisTag(walk, y, walk.CanvasHeight)}") };
            for (int x = 0; x < walk.CanvasWidth; x++)
            {
                var terms = walk.TermsAt(y, x).Where(t => t.Source < pastedCopies).ToList();
                string sum = terms.Count == 0
                    ? "[grey].[/]"
                    : JoinTerms(terms, t => t.Source == pastedCopies - 1 ? $"bold {Colour(t.Source)}" : $"dim {Colour(t.Source)}");
                cells.Add(new Markup(walk.IsCropped(y, x) ? $"[grey]([/]{sum}[grey])[/]" : sum));
            }

            table.AddRow(cells);
        }

        return table;
    }

    /// <summary>The cells that survive the crop, each as the sum of the products pasted on it: "4+6 = 10".</summary>
    public static Table SumsTable(ScatterWalkthrough walk)
    {
        var table = NewTable("overlapping copies add up");
        AddOutputColumns(table, walk.OutputWidth);
        for (int y = 0; y < walk.OutputHeight; y++)
        {
            var cells = new List<IRenderable> { new Markup($"out {y}") };
            for (int x = 0; x < walk.OutputWidth; x++)
            {
                var terms = walk.TermsAt(y + walk.Padding, x + walk.Padding);
                string text = JoinTerms(terms, t => Colour(t.Source));
                if (terms.Count > 1)
                    text += $" = [bold]{Number(terms.Sum(t => t.Value))}[/]";
                cells.Add(new Markup(text));
            }

            table.AddRow(cells);
        }

        return table;
    }

    /// <summary>
    /// The output grid; with <paramref name="walk"/>, each value is followed by the letters of the input cells whose copies
    /// reached it, and takes their colour when there is only one.
    /// </summary>
    public static Table OutputTable(string title, float[,] output, ScatterWalkthrough? walk = null)
    {
        var table = NewTable(title);
        AddOutputColumns(table, output.GetLength(1));
        for (int y = 0; y < output.GetLength(0); y++)
        {
            var cells = new List<IRenderable> { new Markup($"out {y}") };
            for (int x = 0; x < output.GetLength(1); x++)
            {
                string value = Number(output[y, x]);
                if (walk is null)
                {
                    cells.Add(new Markup($"[bold]{value}[/]"));
                    continue;
                }

                var sources = walk.TermsAt(y + walk.Padding, x + walk.Padding).Select(t => t.Source).Distinct().ToList();
                string valueStyle = sources.Count == 1 ? $"bold {Colour(sources[0])}" : "bold";
                cells.Add(new Markup($"[{valueStyle}]{value}[/] {string.Concat(sources.Select(LetterMarkup))}"));
            }

            table.AddRow(cells);
        }

        return table;
    }

    /// <summary>Why a canvas row or column is kept or cropped: "out 0", "crop", or "crop, out pad" for the output padding.</summary>
    private static string AxisTag(ScatterWalkthrough walk, int index, int canvasLength)
    {
        bool outputPadding = index >= canvasLength - walk.OutputPadding;
        bool cropped = index < walk.Padding || index >= canvasLength - walk.Padding;
        if (!cropped)
            return $"out {index - walk.Padding}" + (outputPadding ? "*" : string.Empty);
        return outputPadding ? "[grey]crop*[/]" : "[grey]crop[/]";
    }

    private static void AddOutputColumns(Table table, int width)
    {
        table.AddColumn(new TableColumn(string.Empty));
        for (int x = 0; x < width; x++)
            table.AddColumn(new TableColumn($"out {x}").Centered());
    }

    /// <summary>"2+0+3+2", each product in the style <paramref name="styleOf"/> gives it.</summary>
    private static string JoinTerms(IReadOnlyList<Term> terms, Func<Term, string> styleOf)
    {
        var text = new StringBuilder();
        for (int i = 0; i < terms.Count; i++)
        {
            float value = terms[i].Value;
            if (i > 0)
                text.Append(value < 0 ? "-" : "+");
            string shown = i > 0 && value < 0 ? Number(-value) : Number(value);
            text.Append(CultureInfo.InvariantCulture, $"[{styleOf(terms[i])}]{shown}[/]");
        }

        return text.ToString();
    }

    private static Table NewTable(string title) =>
        new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title));
}
