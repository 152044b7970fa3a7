using KernelGen.Kernels;
using KernelGen.Simd;

namespace KernelGen.Planning;

/// <summary>
/// What <see cref="PlanBuilder.ForLayer"/> decided for a layer whatever its input size: which kernels may run at some
/// size, and so which packed weight layouts may be read. Built once per prepared layer; immutable.
/// </summary>
internal sealed class LayerPlan
{
    /// <param name="channelVectors">The channel kernel's vector width (meaningful when <paramref name="paddedChannels"/> is above 0).</param>
    /// <param name="paddedChannels">The channel kernel's output channels per group rounded up to whole vectors, or 0 when
    /// the layer never runs the channel kernel.</param>
    /// <param name="widthPacking">Whether the width kernel's packing is kept: the width kernel may run, or the exact kernel
    /// has no channel packing to read.</param>
    /// <param name="blockPacking">Whether the width kernel may compute blocks of output channels (its blocked packing).</param>
    public LayerPlan(ConvTranspose2D definition, PlanOptions options, VectorWidth channelVectors, int paddedChannels, bool widthPacking, bool blockPacking)
    {
        Definition = definition;
        Options = options;
        Layer = LayerShape.Of(definition);
        if (paddedChannels < 0 || paddedChannels > 0 && (paddedChannels < Layer.OutPerGroup || paddedChannels % (int)channelVectors != 0))
            throw new ArgumentOutOfRangeException(nameof(paddedChannels), paddedChannels, "Padded channels must be 0 or whole vectors covering the output channels of a group.");
        if (paddedChannels > 0 && (long)Layer.Groups * Layer.Taps * Layer.InPerGroup * paddedChannels > ExecutionPlan.MaxScratchFloats)
            throw new ArgumentOutOfRangeException(nameof(paddedChannels), paddedChannels, "The channel kernel's packed weights would not fit.");
        if (!widthPacking && paddedChannels == 0)
            throw new ArgumentException("The exact kernel needs one packing of the weights.", nameof(widthPacking));
        if (blockPacking && (!widthPacking || Layer.OutPerGroup < KernelShapes.PairedBlockChannels || definition.WidthAxis.Stride != 2))
            throw new ArgumentException("Blocks of channels are packed only for width-kernel layers with a width stride of 2 and whole blocks.", nameof(blockPacking));
        ChannelVectors = channelVectors;
        PaddedChannels = paddedChannels;
        WidthPacking = widthPacking;
        BlockPacking = blockPacking;
    }

    public ConvTranspose2D Definition { get; }

    public PlanOptions Options { get; }

    public LayerShape Layer { get; }

    public bool ChannelsLast => Definition.Layout == TensorLayout.Nhwc;

    /// <summary>Whether the channel kernel may run at some input size (its packing is then made).</summary>
    public bool HasChannelKernel => PaddedChannels > 0;

    /// <inheritdoc cref="LayerPlan(ConvTranspose2D, PlanOptions, VectorWidth, int, bool, bool)" path="/param[@name='channelVectors']"/>
    public VectorWidth ChannelVectors { get; }

    /// <inheritdoc cref="LayerPlan(ConvTranspose2D, PlanOptions, VectorWidth, int, bool, bool)" path="/param[@name='paddedChannels']"/>
    public int PaddedChannels { get; }

    /// <inheritdoc cref="LayerPlan(ConvTranspose2D, PlanOptions, VectorWidth, int, bool, bool)" path="/param[@name='widthPacking']"/>
    public bool WidthPacking { get; }

    /// <inheritdoc cref="LayerPlan(ConvTranspose2D, PlanOptions, VectorWidth, int, bool, bool)" path="/param[@name='blockPacking']"/>
    public bool BlockPacking { get; }
}
