namespace SeedWalkthrough;

/// <summary>One product pasted onto the canvas: the value of input cell <see cref="Source"/> times one filter weight.</summary>
/// <param name="Source">Index of the input cell that pasted it (row-major: 0 is the top-left cell).</param>
/// <param name="Value">Input value times filter weight.</param>
internal readonly record struct Term(int Source, float Value);

/// <summary>Where one input cell pasted its scaled copy of the filter.</summary>
/// <param name="Source">Index of the input cell (row-major).</param>
/// <param name="InputRow">Row of the input cell.</param>
/// <param name="InputColumn">Column of the input cell.</param>
/// <param name="Value">The input value the filter is scaled by.</param>
/// <param name="Top">Canvas row of the copy's top-left corner: <c>InputRow * stride</c>.</param>
/// <param name="Left">Canvas column of the copy's top-left corner: <c>InputColumn * stride</c>.</param>
internal sealed record Placement(int Source, int InputRow, int InputColumn, float Value, int Top, int Left);

/// <summary>
/// A one-channel transposed convolution computed the way the lecture draws it: each input cell, in row-major order,
/// pastes a copy of the filter scaled by its value onto an output canvas with its corner at
/// <c>(row * stride, column * stride)</c>; where copies overlap their values add up; finally <c>padding</c> cells are
/// cropped from every side. The canvas is the full result plus <c>outputPadding</c> extra rows and columns at the
/// bottom and right, so the crop reproduces PyTorch's output size.
/// </summary>
/// <remarks>
/// This is the literal, slow scatter form on purpose: it keeps every product separately so that each step can be
/// shown. The library computes the same numbers by gathering per output cell instead (see the README).
/// </remarks>
internal sealed class ScatterWalkthrough
{
    private readonly List<Term>[,] _canvas;

    public ScatterWalkthrough(float[,] input, float[,] filter, int stride, int padding, int outputPadding)
    {
        Input = input;
        Filter = filter;
        Stride = stride;
        Padding = padding;
        OutputPadding = outputPadding;

        // Full result of the scatter: the last copy starts at (in - 1) * stride and is kernel cells long.
        FullHeight = (InputHeight - 1) * stride + KernelHeight;
        FullWidth = (InputWidth - 1) * stride + KernelWidth;
        CanvasHeight = FullHeight + outputPadding;
        CanvasWidth = FullWidth + outputPadding;

        _canvas = new List<Term>[CanvasHeight, CanvasWidth];
        for (int y = 0; y < CanvasHeight; y++)
            for (int x = 0; x < CanvasWidth; x++)
                _canvas[y, x] = [];

        var placements = new List<Placement>();
        for (int row = 0; row < InputHeight; row++)
        {
            for (int column = 0; column < InputWidth; column++)
            {
                var placement = new Placement(placements.Count, row, column, input[row, column], row * stride, column * stride);
                placements.Add(placement);
                for (int kernelRow = 0; kernelRow < KernelHeight; kernelRow++)
                    for (int kernelColumn = 0; kernelColumn < KernelWidth; kernelColumn++)
                        _canvas[placement.Top + kernelRow, placement.Left + kernelColumn]
                            .Add(new Term(placement.Source, placement.Value * filter[kernelRow, kernelColumn]));
            }
        }

        Placements = placements;
    }

    public float[,] Input { get; }

    public float[,] Filter { get; }

    public int Stride { get; }

    public int Padding { get; }

    public int OutputPadding { get; }

    public int InputHeight => Input.GetLength(0);

    public int InputWidth => Input.GetLength(1);

    public int KernelHeight => Filter.GetLength(0);

    public int KernelWidth => Filter.GetLength(1);

    /// <summary>Rows of the uncropped scatter result.</summary>
    public int FullHeight { get; }

    /// <summary>Columns of the uncropped scatter result.</summary>
    public int FullWidth { get; }

    /// <summary>Rows of the canvas: the full result plus the output padding.</summary>
    public int CanvasHeight { get; }

    /// <summary>Columns of the canvas: the full result plus the output padding.</summary>
    public int CanvasWidth { get; }

    public int OutputHeight => CanvasHeight - 2 * Padding;

    public int OutputWidth => CanvasWidth - 2 * Padding;

    /// <summary>One placement per input cell, in the order they are pasted (row-major).</summary>
    public IReadOnlyList<Placement> Placements { get; }

    /// <summary>The products on one canvas cell, in the order they were pasted.</summary>
    public IReadOnlyList<Term> TermsAt(int canvasRow, int canvasColumn) => _canvas[canvasRow, canvasColumn];

    /// <summary>Whether a canvas cell lies in the padding, which is cropped away.</summary>
    public bool IsCropped(int canvasRow, int canvasColumn) =>
        canvasRow < Padding || canvasRow >= CanvasHeight - Padding || canvasColumn < Padding || canvasColumn >= CanvasWidth - Padding;

    /// <summary>Whether a canvas row was added by the output padding (beyond the full result).</summary>
    public bool IsOutputPaddingRow(int canvasRow) => canvasRow >= FullHeight;

    /// <summary>Whether a canvas column was added by the output padding (beyond the full result).</summary>
    public bool IsOutputPaddingColumn(int canvasColumn) => canvasColumn >= FullWidth;

    /// <summary>The result: the sum of every product on each canvas cell that survives the crop.</summary>
    public float[,] Output()
    {
        var output = new float[OutputHeight, OutputWidth];
        for (int y = 0; y < OutputHeight; y++)
        {
            for (int x = 0; x < OutputWidth; x++)
            {
                float sum = 0;
                foreach (var term in _canvas[y + Padding, x + Padding])
                    sum += term.Value;
                output[y, x] = sum;
            }
        }

        return output;
    }
}
