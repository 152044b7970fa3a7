using System.Runtime.CompilerServices;

namespace KernelGen.Geometry;

/// <summary>
/// The sizes derived from the last valid input size of a layer (output size, sample lengths), kept so that repeated calls
/// with the same input size (the common case) skip the geometry rules. Those rules are shared with the generator
/// (netstandard2.0) and so run as tier-0 code until tiered compilation recompiles them, during the first calls, where they
/// cost as much as a whole call of a small layer. A new input size allocates one small record, as its plan does; readers
/// on other threads see either the old or the new record, never a torn pair.
/// </summary>
/// <typeparam name="TInputSize">The input size (<see cref="int"/>, <see cref="Size2D"/>, <see cref="Size3D"/>).</typeparam>
/// <typeparam name="TSizes">What the layer derives from it.</typeparam>
internal struct LastInputSize<TInputSize, TSizes>
    where TInputSize : struct, IEquatable<TInputSize>
{
    private Known? _last;

    /// <summary>The sizes kept for <paramref name="inputSize"/>, if it is the last valid input size seen.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGet(TInputSize inputSize, out TSizes sizes)
    {
        if (Volatile.Read(ref _last) is { } last && last.InputSize.Equals(inputSize))
        {
            sizes = last.Sizes;
            return true;
        }
        sizes = default!;
        return false;
    }

    /// <summary>Keeps <paramref name="sizes"/>, computed for the valid <paramref name="inputSize"/>.</summary>
    public void Remember(TInputSize inputSize, TSizes sizes) => Volatile.Write(ref _last, new Known(inputSize, sizes));

    private sealed record Known(TInputSize InputSize, TSizes Sizes);
}
