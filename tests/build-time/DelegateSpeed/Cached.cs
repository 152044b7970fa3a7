using KernelGen;
namespace DelegateSpeed;
/// What a library entry point for generated code would do: a layer whose weights are checked against the last packed copy on every call
/// (one compare pass), packed again only when they differ. Per thread, so no locking and no allocation after the first call.
public sealed class CachedLayer(Func<ConvTranspose2D> create)
{
    [ThreadStatic] private static Dictionary<CachedLayer, State>? t_states;
    private sealed class State { public ConvTranspose2D Conv = null!; public PreparedConvTranspose2D? Prepared; public float[] W = []; public float[] B = []; }
    public void Compute(ReadOnlySpan<float> input, int h, int w, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output)
    {
        var states = t_states ??= new();
        if (!states.TryGetValue(this, out var s)) states[this] = s = new State { Conv = create() };
        if (s.Prepared is null || !System.Runtime.InteropServices.MemoryMarshal.AsBytes(weights).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(s.W.AsSpan())) || !System.Runtime.InteropServices.MemoryMarshal.AsBytes(bias).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(s.B.AsSpan())))
        {
            s.Prepared = s.Conv.Prepare(weights, bias);
            s.W = weights.ToArray(); s.B = bias.ToArray();
        }
        s.Prepared.Compute(input, h, w, output);
    }
}
