using KernelGen.Kernels;
using KernelGen.Simd;

namespace KernelGen.Planning;

/// <summary>
/// The one place where the runtime chooses how a layer runs. <see cref="ForLayer"/> decides, from the channel geometry and
/// the layout alone, which kernels may run at some input size (and so which packed weight layouts the layer needs);
/// <see cref="ForInput"/> decides everything for one input size: the kernel family, its vector width, the paired and
/// blocked forms of the width kernel, the zero border, whether the input is padded by a pass or by the kernel, and how the
/// output is written. The kernels only read the resulting <see cref="ExecutionPlan"/>.
/// </summary>
/// <remarks>
/// The rule refines <see cref="StrategyChooser"/> (which sees only the channels, as a generated kernel must): with 4 to 7
/// output channels per group both kernels are candidates, and the width kernel wins when a phase row is long enough to
/// fill its register block of 4 vectors, or when its blocked stride-2 form can run (NCHW, width stride 2). For NCHW layers
/// with a stride-2 width axis and up to <see cref="MaxChannelsForBlockedWidthPairs"/> output channels per group, the width
/// kernel computing blocks of output channels together beats the channel kernel, which needs NCHW/NHWC relayouts and has
/// few channel lanes to fill, once the phase rows are long enough.
/// </remarks>
internal static class PlanBuilder
{
    /// <summary>With fewer output channels per group than this, a channel vector (4 lanes at least) would be mostly empty.</summary>
    public const int MinChannelsForChannelVectorsOnNarrowRows = 4;

    /// <summary>Phase rows shorter than this leave most of the width kernel's 4 x 4-lane block idle.</summary>
    public const int MinPhaseRowForWidthVectors = 16;

    /// <summary>
    /// Output channels per group up to which the blocked paired width kernel runs NCHW stride-2 layers instead of the
    /// channel kernel (measured on game_up, 16 to 8 channels at 64 x 64: about 1.8x faster than the channel kernel; also
    /// faster at 12 and 16 channels per group).
    /// </summary>
    public const int MaxChannelsForBlockedWidthPairs = 16;

    /// <summary>The decisions for <paramref name="definition"/> that hold at every input size.</summary>
    public static LayerPlan ForLayer(ConvTranspose2D definition, PlanOptions options)
    {
        var layer = LayerShape.Of(definition);
        bool channelsLast = definition.Layout == TensorLayout.Nhwc;
        int widthStride = definition.WidthAxis.Stride;
        VectorWidth channelVectors = VectorWidth.Scalar;
        int paddedChannels = 0;
        if (MayUseChannelKernel(layer.OutPerGroup))
        {
            VectorWidth vectors = options.VectorsFor(layer.OutPerGroup);
            int padded = KernelShapes.PaddedChannels(layer.OutPerGroup, vectors);
            // Padding to whole vectors may take the packed weights past what one buffer holds (only for layers of
            // billions of weights): then the layer runs without its channel kernel (its plans that would choose it are Exact).
            if ((long)layer.Groups * layer.Taps * layer.InPerGroup * padded <= ExecutionPlan.MaxScratchFloats)
                (channelVectors, paddedChannels) = (vectors, padded);
        }

        // The exact kernel reads the channel kernel's packing when there is one, else the width kernel's.
        bool widthPacking = MayUseWidthKernel(layer.InPerGroup, layer.OutPerGroup, channelsLast, widthStride) || paddedChannels == 0;
        bool blockPacking = widthPacking && MayBlockWidthPairs(layer.OutPerGroup, widthStride);
        return new LayerPlan(definition, options, channelVectors, paddedChannels, widthPacking, blockPacking);
    }

    /// <summary>The whole decision for one input size (validated by the caller).</summary>
    public static ExecutionPlan ForInput(LayerPlan layerPlan, int inputHeight, int inputWidth)
    {
        ConvTranspose2D definition = layerPlan.Definition;
        LayerShape layer = layerPlan.Layer;
        var height = AxisPlan.Create(definition.HeightAxis, inputHeight);
        var width = AxisPlan.Create(definition.WidthAxis, inputWidth);
        int widestPhase = 0;
        foreach (var phase in width.Phases)
            widestPhase = Math.Max(widestPhase, phase.EndQ - phase.FirstQ);
        bool pairedWidth = PairedColumnPlan.Pairs(width);
        KernelStrategy strategy = ChooseStrategy(layer.InPerGroup, layer.OutPerGroup, widestPhase, layerPlan.ChannelsLast, pairedWidth);
        // Multiply-adds per sample as the kernels run them: every phase tap of every output cell, edges included (the
        // zero border makes edge cells cost as much as interior ones), zero taps of the stride skipped. Saturating: it only
        // decides how a call is split.
        long multiplyAdds = ExecutionPlan.SaturatingMultiply(ExecutionPlan.SaturatingMultiply(CountPhaseTaps(height), CountPhaseTaps(width)),
            (long)layer.InChannels * layer.OutPerGroup);
        if (strategy == KernelStrategy.ChannelVectorized && !layerPlan.HasChannelKernel)
            return new ExecutionPlan(layerPlan, height, width, strategy, multiplyAdds);

        bool widthKernel = strategy == KernelStrategy.WidthVectorized;
        // The width kernel computes 4 vectors of phase positions per block: pick lanes so that a block does not overshoot a
        // phase row by much (the overshoot is computed and thrown away).
        VectorWidth widthVectors = layerPlan.Options.VectorsFor(widestPhase / KernelShapes.WidthBlockVectors);
        PairedColumnPlan? paired = widthKernel ? PairedColumnPlan.TryCreate(width) : null;
        long paddedHeight = height.PaddedInputLength(0);
        long paddedWidth = paired?.PaddedWidth
            ?? width.PaddedInputLength(widthKernel ? ExecutionPlan.WidthKernelOverrun : ExecutionPlan.ChannelKernelOverrun);
        // The zero border lets no tap need a bounds check. AxisPlan keeps only taps that reach the input, so the border of
        // each axis is bounded by that axis's output, but the copy is a product of both axes and the channels: a layer whose
        // taps reach far past a long, thin input (a tall kernel over one input row, say) would copy mostly zeros. Such
        // plans, and any whose copy would not fit, run the exact scalar kernel, which reads no border: scratch memory then
        // stays within a few times the data, whatever the dilation, kernel and padding.
        long channelOutputRow = (long)layer.Groups * layerPlan.PaddedChannels * width.OutputLength;
        long inputSample = (long)layer.InChannels * inputHeight * inputWidth;
        long outputSample = (long)layer.OutChannels * height.OutputLength * width.OutputLength;
        if (paddedHeight > ExecutionPlan.MaxScratchFloats || paddedWidth > ExecutionPlan.MaxScratchFloats
            || paddedHeight * paddedWidth > ExecutionPlan.MaxScratchFloats / layer.InChannels
            || layer.InChannels * paddedHeight * paddedWidth > ExecutionPlan.ScratchBudget(layer.InChannels, inputSample, outputSample)
            || (!widthKernel && channelOutputRow > ExecutionPlan.MaxScratchFloats / height.OutputLength))
            return new ExecutionPlan(layerPlan, height, width, strategy, multiplyAdds);

        // NCHW paired rows pad their own input, a window of rows at a time, when one output row's input rows fit the window:
        // no separate pass over the input, and the padded rows are still in the cache when read.
        bool padsItself = paired is not null && !layerPlan.ChannelsLast
            && (long)layer.InPerGroup * ExecutionPlan.RowsPerOutputRow(height) * paddedWidth <= KernelShapes.PairedWindowFloats;
        bool blocksChannels = paired is not null && layerPlan.BlockPacking;
        return new ExecutionPlan(layerPlan, height, width, strategy, multiplyAdds, widthVectors, paired, exact: false,
            (int)paddedHeight, (int)paddedWidth, -height.LowestRead, paired?.ColumnShift ?? -width.LowestRead, padsItself, blocksChannels);
    }

    /// <summary>
    /// Whether the depth slices of an NCDHW 3-D layer of these channels per group run as NHWC
    /// images (the input transposed once, each output slice transposed into its channel planes) rather than NCHW ones: when
    /// the layer takes the channel kernel by its channels, which reads and writes NHWC, so that NCHW slices would be
    /// relayouted in and out inside every slice's call (measured on volume_up's slices, 64 -> 32 at 16 x 16: 1434 against
    /// 1251 µs for the 32 slices).
    /// </summary>
    public static bool PrefersChannelsLastSlices(int inChannelsPerGroup, int outChannelsPerGroup) =>
        StrategyChooser.Choose(inChannelsPerGroup, outChannelsPerGroup) == KernelStrategy.ChannelVectorized;

    /// <summary>Whether the channel kernel may run for this layer at some input size (so its packed weights are needed).</summary>
    private static bool MayUseChannelKernel(int outChannelsPerGroup) => outChannelsPerGroup >= MinChannelsForChannelVectorsOnNarrowRows;

    /// <summary>Whether the width kernel may run for this layer at some input size.</summary>
    private static bool MayUseWidthKernel(int inChannelsPerGroup, int outChannelsPerGroup, bool channelsLast, int widthStride) =>
        StrategyChooser.Choose(inChannelsPerGroup, outChannelsPerGroup) == KernelStrategy.WidthVectorized
        || PrefersBlockedWidthPairs(outChannelsPerGroup, channelsLast, widthStride);

    /// <summary>Whether the width kernel, when it runs, may compute blocks of output channels together (so their packed weights are needed).</summary>
    private static bool MayBlockWidthPairs(int outChannelsPerGroup, int widthStride) =>
        widthStride == 2 && outChannelsPerGroup >= KernelShapes.PairedBlockChannels;

    /// <param name="inChannelsPerGroup">Input channels per group.</param>
    /// <param name="outChannelsPerGroup">Output channels per group.</param>
    /// <param name="widestPhaseRow">The longest run of one width phase.</param>
    /// <param name="channelsLast">The layout is NHWC.</param>
    /// <param name="pairedWidth">The width axis has stride 2 and both phases (the paired width kernel's case).</param>
    private static KernelStrategy ChooseStrategy(int inChannelsPerGroup, int outChannelsPerGroup, int widestPhaseRow, bool channelsLast, bool pairedWidth)
    {
        KernelStrategy byChannels = StrategyChooser.Choose(inChannelsPerGroup, outChannelsPerGroup);
        // Narrow rows: the channel kernel, unless the blocked paired width kernel can take the layer (NCHW, width stride 2),
        // which stages a short row in one vector and measured faster (small_fixed, 4 -> 4 at 8 x 8: 0.9 against 1.2 µs).
        if (byChannels == KernelStrategy.WidthVectorized && MayUseChannelKernel(outChannelsPerGroup) && widestPhaseRow < MinPhaseRowForWidthVectors
            && !(pairedWidth && PrefersBlockedWidthPairs(outChannelsPerGroup, channelsLast, 2)))
            return KernelStrategy.ChannelVectorized;
        if (byChannels == KernelStrategy.ChannelVectorized && pairedWidth && widestPhaseRow >= MinPhaseRowForWidthVectors
            && PrefersBlockedWidthPairs(outChannelsPerGroup, channelsLast, 2))
            return KernelStrategy.WidthVectorized;
        return byChannels;
    }

    private static bool PrefersBlockedWidthPairs(int outChannelsPerGroup, bool channelsLast, int widthStride) =>
        !channelsLast && MayBlockWidthPairs(outChannelsPerGroup, widthStride) && outChannelsPerGroup <= MaxChannelsForBlockedWidthPairs;

    private static long CountPhaseTaps(AxisPlan axis)
    {
        long taps = 0;
        foreach (AxisPhase phase in axis.Phases)
            taps += (long)phase.KernelTaps.Length * (phase.EndQ - phase.FirstQ);
        return taps;
    }
}
