using System.Runtime.CompilerServices;
namespace KernelGen;

/// <summary>
/// A <see cref="ConvTranspose1D"/> whose weights and bias are packed once into the layout its kernels read. Calls to
/// <see cref="Compute"/> allocate nothing once a given input length has been seen. Safe to call from several threads at once.
/// </summary>
public sealed class PreparedConvTranspose1D
{
    private readonly PreparedConvTranspose2D _plane;

    internal PreparedConvTranspose1D(ConvTranspose1D definition, PreparedConvTranspose2D plane)
    {
        Definition = definition;
        _plane = plane;
    }

    /// <summary>The convolution this was prepared from (geometry, layout, activation, thread cap).</summary>
    public ConvTranspose1D Definition { get; }

    /// <summary>The height-1 layer that runs the calls (tests reach its thread and chunking hooks through it).</summary>
    internal PreparedConvTranspose2D Plane => _plane;

    /// <summary>Computes the transposed convolution of <paramref name="input"/> into <paramref name="output"/> with the prepared weights.</summary>
    /// <param name="input">Zero or more samples of <c>inChannels * inputLength</c> elements, in the definition's layout (empty: a valid call that writes nothing).</param>
    /// <param name="inputLength">Input length, at least 1.</param>
    /// <param name="output">At least <c>batch * outChannels * outputLength</c> elements; the first that many are written.</param>
    /// <exception cref="ArgumentException">A size or span length is wrong, or the spans overlap; nothing has been written.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Compute(ReadOnlySpan<float> input, int inputLength, Span<float> output)
    {
        // Checked in 1-D terms first, so that a bad call's message speaks of lengths, not of a height-1 image.
        Definition.ValidateCall(input, inputLength, output);
        _plane.Compute(input, 1, inputLength, output);
    }
}
