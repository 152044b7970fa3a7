using System.Runtime.InteropServices;
using KernelGen;

namespace Dcgan;

/// <summary>
/// Build-time stand-in for a library entry point: the layer's prepared runtime kernel, per thread, packed again only when
/// the weights or bias differ bit for bit from the last call's (one compare pass per call).
/// </summary>
internal sealed class LibraryLayer(int inChannels, int outChannels, int inputSize, int stride, int padding, FusedActivation activation)
{
    [ThreadStatic] private static Dictionary<LibraryLayer, State>? t_states;

    private sealed class State(ConvTranspose2D definition)
    {
        public ConvTranspose2D Definition { get; } = definition;
        public PreparedConvTranspose2D? Prepared { get; set; }
        public float[] Weights { get; set; } = [];
        public float[] Bias { get; set; } = [];
    }

    public void Compute(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output)
    {
        var states = t_states ??= [];
        if (!states.TryGetValue(this, out var state))
        {
            state = new State(new ConvTranspose2D(inChannels, outChannels, 4, stride, padding)
            {
                Layout = DcganKernels.ActivationLayout,
                Activation = activation,
                MaxDegreeOfParallelism = 1,
            });
            states[this] = state;
        }

        if (state.Prepared is null
            || !MemoryMarshal.AsBytes(weights).SequenceEqual(MemoryMarshal.AsBytes(state.Weights.AsSpan()))
            || !MemoryMarshal.AsBytes(bias).SequenceEqual(MemoryMarshal.AsBytes(state.Bias.AsSpan())))
        {
            state.Prepared = state.Definition.Prepare(weights, bias);
            state.Weights = weights.ToArray();
            state.Bias = bias.ToArray();
        }

        state.Prepared.Compute(input, inputSize, inputSize, output);
    }
}
