using KernelGen.Simd;

namespace KernelGen.Planning;

/// <summary>
/// Everything about one input size that the kernels need: both axes' phase plans, the zero-bordered input buffer
/// they read (so that no tap needs a bounds check), and the vector width.
/// </summary>
internal sealed class ExecutionPlan
{
    /// <summary>Phase positions the width-vectorised kernel may compute past a phase's end to finish a register block (never stored).</summary>
    /// <remarks>A whole block of 4 x 16 lanes, plus one: paired stride-2 phases may start one position apart.</remarks>
    public const int WidthKernelOverrun = 4 * 16 + 1;

    /// <summary>Pixels the channel-vectorised kernel may compute past a phase's end to finish a register block (never stored).</summary>
    public const int ChannelKernelOverrun = 8;

    /// <summary>
    /// The most floats one sample's scratch may take, and the most any zero-bordered copy or packed weights may hold (2^30,
    /// 4 GiB): below it every index the kernels compute into them, register blocks and overruns included, is an int. A plan
    /// that would need more runs the exact scalar kernel instead (see <see cref="Exact"/>).
    /// </summary>
    public const long MaxScratchFloats = 1L << 30;

    /// <param name="definition">The layer.</param>
    /// <param name="inputHeight">Input height (validated).</param>
    /// <param name="inputWidth">Input width (validated).</param>
    /// <param name="paddedChannels">The channel kernel's padded output channels per group, or 0 when the layer has no
    /// channel kernel (its packed weights would not fit): plans that would choose it are then <see cref="Exact"/>.</param>
    public ExecutionPlan(ConvTranspose2D definition, int inputHeight, int inputWidth, int paddedChannels)
    {
        Height = AxisPlan.Create(definition.HeightAxis, inputHeight);
        Width = AxisPlan.Create(definition.WidthAxis, inputWidth);
        int widestPhase = 0;
        foreach (var phase in Width.Phases)
            widestPhase = Math.Max(widestPhase, phase.EndQ - phase.FirstQ);
        int inPerGroup = definition.InChannels / definition.Groups, outPerGroup = definition.OutChannels / definition.Groups;
        bool pairedWidth = definition.WidthAxis.Stride == 2 && Width.Phases.Length == 2;
        KernelStrategy strategy = RuntimeStrategy.Choose(inPerGroup, outPerGroup, widestPhase, definition.Layout == TensorLayout.Nhwc, pairedWidth);
        Strategy = strategy;
        // Multiply-adds per sample as the kernels run them: every phase tap of every output cell, edges included (the
        // zero border makes edge cells cost as much as interior ones), zero taps of the stride skipped. Saturating: it only
        // decides how a call is split.
        MultiplyAddsPerSample = SaturatingMultiply(SaturatingMultiply(CountPhaseTaps(Height), CountPhaseTaps(Width)),
            (long)definition.InChannels * outPerGroup);
        // The width kernel computes 4 vectors of phase positions per block: pick lanes so that a block does not overshoot a
        // phase row by much (the overshoot is computed and thrown away).
        WidthVectors = VectorWidths.For(widestPhase / 4);
        if (strategy == KernelStrategy.ChannelVectorized && paddedChannels == 0)
        {
            Exact = true;
            return;
        }

        if (strategy == KernelStrategy.WidthVectorized)
            PairedColumns = Kernels.WidthPairedKernel.ColumnPlan.TryCreate(Width);
        long paddedHeight = Height.PaddedInputLength(0);
        long paddedWidth = PairedColumns?.PaddedWidth
            ?? Width.PaddedInputLength(strategy == KernelStrategy.WidthVectorized ? WidthKernelOverrun : ChannelKernelOverrun);
        // The zero border lets no tap need a bounds check. AxisPlan keeps only taps that reach the input, so the border of
        // each axis is bounded by that axis's output, but the copy is a product of both axes and the channels: a layer whose
        // taps reach far past a long, thin input (a tall kernel over one input row, say) would copy mostly zeros. Such
        // plans, and any whose copy would not fit, run the exact scalar kernel, which reads no border: scratch memory then
        // stays within a few times the data, whatever the dilation, kernel and padding.
        long channelOutputRow = (long)definition.Groups * paddedChannels * OutputWidth;
        long inputSample = (long)definition.InChannels * InputHeight * InputWidth, outputSample = (long)definition.OutChannels * OutputHeight * OutputWidth;
        if (paddedHeight > MaxScratchFloats || paddedWidth > MaxScratchFloats
            || paddedHeight * paddedWidth > MaxScratchFloats / definition.InChannels
            || definition.InChannels * paddedHeight * paddedWidth > ScratchBudget(definition.InChannels, inputSample, outputSample)
            || (strategy == KernelStrategy.ChannelVectorized && channelOutputRow > MaxScratchFloats / OutputHeight))
        {
            Exact = true;
            return;
        }

        PaddedHeight = (int)paddedHeight;
        PaddedWidth = (int)paddedWidth;
        RowShift = -Height.LowestRead;
        ColumnShift = PairedColumns?.ColumnShift ?? -Width.LowestRead;
        if (strategy == KernelStrategy.WidthVectorized)
            Kernels.WidthVectorizedKernel.CheckReadsInsidePadding(this);
        else
            Kernels.ChannelVectorizedKernel.CheckReadsInsidePadding(this);
    }

    /// <summary>
    /// The most floats one sample's zero-bordered copy may take: 8 times the sample's input and output together, plus 4096 per
    /// input channel (a 64 x 64 plane of border, which covers the vector overrun of small and narrow inputs). Real layers stay
    /// far below it (a copy is the input plus a border of a few cells); past it, the copy would be mostly zeros.
    /// </summary>
    public static long ScratchBudget(int inChannels, long inputSample, long outputSample) => 8 * (inputSample + outputSample) + 4096L * inChannels;

    /// <summary>
    /// Whether only the exact scalar kernel (<see cref="Kernels.TapListKernel"/>) may run this plan: the SIMD kernels' copies
    /// would not fit (see <see cref="MaxScratchFloats"/>) or would dwarf the data (<see cref="ScratchBudget"/>), or the
    /// layer's channel-kernel weights could not be packed. The
    /// padded sizes and shifts are then 0.
    /// </summary>
    public bool Exact { get; }

    public KernelStrategy Strategy { get; }

    public AxisPlan Height { get; }

    public AxisPlan Width { get; }

    public int InputHeight => Height.InputLength;

    public int InputWidth => Width.InputLength;

    public int OutputHeight => Height.OutputLength;

    public int OutputWidth => Width.OutputLength;

    /// <summary>Rows of the zero-bordered input copy; input row <c>i</c> is padded row <c>i + RowShift</c>.</summary>
    public int PaddedHeight { get; }

    /// <summary>Columns of the zero-bordered input copy; input column <c>i</c> is padded column <c>i + ColumnShift</c>.</summary>
    public int PaddedWidth { get; }

    public int RowShift { get; }

    public int ColumnShift { get; }

    /// <summary>The vector width for the width-vectorised kernel: four vectors no wider than a phase row (but at least 128-bit).</summary>
    public VectorWidth WidthVectors { get; }

    /// <summary>The channel-vectorised kernel's tap offsets for this plan, built by it on first use (see <c>ChannelVectorizedKernel.TapTable</c>).</summary>
    public int[][]? ChannelTapTable { get; set; }

    /// <summary>For the width-vectorised kernel on a stride-2 width axis with both phases: its column plan (else null).</summary>
    public Kernels.WidthPairedKernel.ColumnPlan? PairedColumns { get; }

    /// <summary>How the channel kernel's fused pass last split this plan's output rows into chunks (see <c>PreparedConvTranspose2D</c>), built on first use.</summary>
    public ChannelChunking? ChannelChunking { get; set; }

    /// <summary>Multiply-adds per sample (zero taps skipped).</summary>
    public long MultiplyAddsPerSample { get; }

    public static long SaturatingMultiply(long a, long b) => b != 0 && a > long.MaxValue / b ? long.MaxValue : a * b;

    private static long CountPhaseTaps(AxisPlan axis)
    {
        long taps = 0;
        foreach (AxisPhase phase in axis.Phases)
            taps += (long)phase.KernelTaps.Length * (phase.EndQ - phase.FirstQ);
        return taps;
    }
}

/// <summary>
/// Output rows per chunk of the channel kernel's fused pass, and the most padded input rows any chunk reads (the size of
/// the per-thread buffer its input rows are copied into).
/// </summary>
internal sealed record ChannelChunking(int OutputRows, int MaxPaddedRows);
