// Replays the course example of a transposed convolution the way the lecture draws it, computed from the data below,
// then computes the same with the KernelGen library and checks that both agree. Exit code 0 when they do, 1 when not.
// Prints only (no prompt), so it runs the same in a terminal and in a CI log.
using System.Runtime.Intrinsics;
using KernelGen;
using SeedWalkthrough;
using Spectre.Console;

// Colours and bold in a terminal; plain text when the output goes to a file or a pipe (a CI log), which the
// views are written to survive (letters and parentheses carry what the colours show).
if (Console.IsOutputRedirected)
    AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });

float[,] input = { { 2, 1 }, { 3, 2 } };
float[,] filter = { { 1, 2, 1 }, { 2, 0, 1 }, { 0, 2, 1 } };
const int Stride = 2, Padding = 1, OutputPadding = 1;

// The grid the lecture arrives at. Only a check: everything shown is computed from the input and the filter.
float[,] lectureAnswer = { { 0, 4, 0, 1 }, { 10, 7, 6, 3 }, { 0, 7, 0, 2 }, { 6, 3, 4, 2 } };

var walk = new ScatterWalkthrough(input, filter, Stride, Padding, OutputPadding);

AnsiConsole.Write(new Rule("[bold]A transposed convolution, step by step[/]"));
AnsiConsole.MarkupLine($"Input {walk.InputHeight}x{walk.InputWidth}, filter {walk.KernelHeight}x{walk.KernelWidth}, "
    + $"stride {Stride}, padding {Padding}, output padding {OutputPadding}.");
AnsiConsole.Write(new Columns(Views.InputTable(walk), Views.FilterTable(walk)).Collapse());
AnsiConsole.MarkupLine(
    "A normal convolution places the filter on the input. A transposed convolution places it on the [bold]output[/]: "
    + $"every input cell pastes a copy of the filter scaled by its value, moved by the stride ({Stride}) per input step.");
AnsiConsole.MarkupLine(
    $"The copies cover ({walk.InputHeight} - 1) * {Stride} + {walk.KernelHeight} = {walk.FullHeight} rows and "
    + $"{walk.FullWidth} columns; output padding {OutputPadding} adds {OutputPadding} at the bottom and right "
    + $"({walk.CanvasHeight}x{walk.CanvasWidth} canvas); padding {Padding} crops {Padding} from every side, "
    + $"leaving {walk.OutputHeight}x{walk.OutputWidth}.");
AnsiConsole.WriteLine();

foreach (var placement in walk.Placements)
{
    AnsiConsole.Write(new Rule($"Step {placement.Source + 1} of {walk.Placements.Count}: {Views.Describe(placement)}").LeftJustified());
    AnsiConsole.MarkupLine(
        $"Multiply every filter weight by {Views.Number(placement.Value)} and paste the copy with its top-left corner at canvas "
        + $"({placement.InputRow} * {Stride}, {placement.InputColumn} * {Stride}) = ({placement.Top}, {placement.Left}).");
    AnsiConsole.Write(new Columns(Views.InputTable(walk, highlight: placement.Source), Views.FilterTable(walk, placement)).Collapse());
    AnsiConsole.Write(Views.CanvasTable(walk, pastedCopies: placement.Source + 1));
    AnsiConsole.MarkupLine(Views.CanvasLegend);

    int kept = 0, cropped = 0, overlapping = 0;
    for (int y = placement.Top; y < placement.Top + walk.KernelHeight; y++)
    {
        for (int x = placement.Left; x < placement.Left + walk.KernelWidth; x++)
        {
            if (walk.IsCropped(y, x))
            {
                cropped++;
                continue;
            }

            kept++;
            if (walk.TermsAt(y, x).Any(t => t.Source < placement.Source))
                overlapping++;
        }
    }

    AnsiConsole.MarkupLine($"{kept} of the copy's {walk.KernelHeight * walk.KernelWidth} values land in the output and {cropped} in the padding"
        + (overlapping > 0 ? $"; {overlapping} land on cells an earlier copy already wrote, so they [bold]add[/] to it." : "."));
    AnsiConsole.WriteLine();
}

AnsiConsole.Write(new Rule("[bold]Add up where the copies overlap[/]").LeftJustified());
AnsiConsole.Write(Views.SumsTable(walk));
float[,] walkthroughResult = walk.Output();
AnsiConsole.Write(Views.OutputTable($"the {walk.OutputHeight}x{walk.OutputWidth} output", walkthroughResult, walk));
AnsiConsole.MarkupLine("Each value is followed by the input cells whose copies reached it:");
AnsiConsole.MarkupLine(string.Join(", ", walk.Placements.Select(Views.Describe)) + ".");
AnsiConsole.WriteLine();

AnsiConsole.Write(new Rule("[bold]The same with the KernelGen library[/]").LeftJustified());
var conv = new ConvTranspose2D(inChannels: 1, outChannels: 1, kernelSize: (walk.KernelHeight, walk.KernelWidth),
    stride: Stride, padding: Padding, outputPadding: OutputPadding);
(int outputHeight, int outputWidth) = conv.GetOutputSize(walk.InputHeight, walk.InputWidth);
Code(
    $"var conv = new ConvTranspose2D(inChannels: 1, outChannels: 1, kernelSize: {walk.KernelHeight},",
    $"    stride: {Stride}, padding: {Padding}, outputPadding: {OutputPadding});",
    $"var (h, w) = conv.GetOutputSize(inputHeight: {walk.InputHeight}, inputWidth: {walk.InputWidth}); // ({outputHeight}, {outputWidth})",
    $"conv.Compute(input, inputHeight: {walk.InputHeight}, inputWidth: {walk.InputWidth}, weights,",
    "    bias: ReadOnlySpan<float>.Empty, output);");
AnsiConsole.MarkupLine("Per axis, the output size is");
AnsiConsole.MarkupLine("(in - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1");
AnsiConsole.MarkupLine(
    $"= ({walk.InputHeight} - 1) * {Stride} - 2 * {Padding} + 1 * ({walk.KernelHeight} - 1) + {OutputPadding} + 1 = {outputHeight}");

float[] flatInput = Flatten(input), flatFilter = Flatten(filter);
var computed = new float[outputHeight * outputWidth];
conv.Compute(flatInput, walk.InputHeight, walk.InputWidth, flatFilter, bias: ReadOnlySpan<float>.Empty, computed);
var libraryResult = Unflatten(computed, outputHeight, outputWidth);
AnsiConsole.Write(Views.OutputTable("ConvTranspose2D.Compute", libraryResult));

// The prepared form packs the weights once; it must give the very same numbers.
var preparedOutput = new float[outputHeight * outputWidth];
conv.Prepare(flatFilter).Compute(flatInput, walk.InputHeight, walk.InputWidth, preparedOutput);
var preparedResult = Unflatten(preparedOutput, outputHeight, outputWidth);

AnsiConsole.MarkupLine($"[grey](this machine accelerates Vector512: {YesNo(Vector512.IsHardwareAccelerated)}, "
    + $"Vector256: {YesNo(Vector256.IsHardwareAccelerated)}, Vector128: {YesNo(Vector128.IsHardwareAccelerated)})[/]");
AnsiConsole.WriteLine();

bool allMatch = true;
allMatch &= Check("walkthrough = ConvTranspose2D.Compute", walkthroughResult, libraryResult);
allMatch &= Check("walkthrough = PreparedConvTranspose2D.Compute", walkthroughResult, preparedResult);
allMatch &= Check("walkthrough = the lecture's answer", walkthroughResult, lectureAnswer);
AnsiConsole.MarkupLine(allMatch
    ? "[bold green]The walkthrough matches the library (and the lecture's answer).[/]"
    : "[bold red]MISMATCH: see the FAIL lines above.[/]");
return allMatch ? 0 : 1;

static bool Check(string what, float[,] expected, float[,] actual)
{
    string? difference = FirstDifference(expected, actual);
    AnsiConsole.MarkupLine(difference is null
        ? $"[green]PASS[/] {Markup.Escape(what)}: all {expected.Length} cells equal"
        : $"[red]FAIL[/] {Markup.Escape(what)}: {Markup.Escape(difference)}");
    return difference is null;
}

static string? FirstDifference(float[,] expected, float[,] actual)
{
    if (expected.GetLength(0) != actual.GetLength(0) || expected.GetLength(1) != actual.GetLength(1))
        return $"size {expected.GetLength(0)}x{expected.GetLength(1)} vs {actual.GetLength(0)}x{actual.GetLength(1)}";
    for (int y = 0; y < expected.GetLength(0); y++)
    {
        for (int x = 0; x < expected.GetLength(1); x++)
        {
            // Small whole numbers are exact in float whatever the order of the additions, so equality is the right test.
            if (expected[y, x] != actual[y, x])
                return $"out ({y}, {x}) is {Views.Number(expected[y, x])} vs {Views.Number(actual[y, x])}";
        }
    }

    return null;
}

static void Code(params string[] lines)
{
    foreach (string line in lines)
        AnsiConsole.MarkupLine($"[aqua]{Markup.Escape(line)}[/]");
}

static float[] Flatten(float[,] grid) => grid.Cast<float>().ToArray();

static float[,] Unflatten(float[] values, int height, int width)
{
    var grid = new float[height, width];
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            grid[y, x] = values[y * width + x];
    return grid;
}

static string YesNo(bool value) => value ? "yes" : "no";
