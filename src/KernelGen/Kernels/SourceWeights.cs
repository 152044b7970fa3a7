using System.Runtime.CompilerServices;

namespace KernelGen.Kernels;

/// <summary>
/// Weights to pack from: the caller's, in PyTorch's layout <c>(Cin, Cout/G, kH, kW)</c>, or the width kernel's packing
/// <c>(Cout, Cin/G, kH, kW)</c>, from which the layouts that only some input sizes read are packed when a plan first
/// needs them. Both keep the taps of one (input channel, output channel) pair contiguous.
/// </summary>
internal readonly ref struct SourceWeights
{
    private readonly ReadOnlySpan<float> _weights;
    private readonly LayerShape _layer;
    private readonly bool _byOutputChannel;

    private SourceWeights(ReadOnlySpan<float> weights, in LayerShape layer, bool byOutputChannel)
    {
        if (weights.Length != (long)layer.InChannels * layer.OutPerGroup * layer.Taps)
            throw new ArgumentException($"Weights of {weights.Length} elements do not match the layer.", nameof(weights));
        _weights = weights;
        _layer = layer;
        _byOutputChannel = byOutputChannel;
    }

    /// <summary>The caller's weights, <c>(Cin, Cout/G, kH, kW)</c>.</summary>
    public static SourceWeights PyTorch(in LayerShape layer, ReadOnlySpan<float> weights) => new(weights, layer, byOutputChannel: false);

    /// <summary>The width kernel's packing (<see cref="WidthVectorizedKernel.Pack"/>), <c>(Cout, Cin/G, kH, kW)</c>.</summary>
    public static SourceWeights WidthPacked(in LayerShape layer, ReadOnlySpan<float> packed) => new(packed, layer, byOutputChannel: true);

    /// <summary>The <c>kH * kW</c> taps from input channel <paramref name="ic"/> to output channel <paramref name="ocInGroup"/> of its group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<float> Taps(int ic, int ocInGroup)
    {
        int inPerGroup = _layer.InPerGroup, outPerGroup = _layer.OutPerGroup, taps = _layer.Taps;
        int start = _byOutputChannel
            ? ((ic / inPerGroup * outPerGroup + ocInGroup) * inPerGroup + ic % inPerGroup) * taps
            : (ic * outPerGroup + ocInGroup) * taps;
        return _weights.Slice(start, taps);
    }
}
