namespace KernelGen.Planning;

/// <summary>
/// One axis's valid taps listed per output cell, with the input offset already scaled by the layout's stride: the exact
/// kernel's inner loops then read two flat arrays per tap, where looking each cell's phase, phase position and run of taps
/// up (<see cref="AxisPlan.ValidTaps"/>) cost more than the multiply-adds of a call as small as the course example. Built
/// only for small calls (see <see cref="ExecutionPlan.SmallCallRowTaps"/>), so its size, at most a few entries per output
/// cell, never matters.
/// </summary>
internal sealed class CellTaps
{
    private CellTaps(int[] start, int[] inputOffset, int[] kernelOffset)
    {
        Start = start;
        InputOffset = inputOffset;
        KernelOffset = kernelOffset;
    }

    /// <summary>Output cell <c>o</c>'s taps are entries <c>[Start[o], Start[o + 1])</c>, in the order of <see cref="AxisPlan.ValidTaps"/>.</summary>
    public int[] Start { get; }

    /// <summary>Per entry, the input cell read, times the axis's input stride.</summary>
    public int[] InputOffset { get; }

    /// <summary>Per entry, the kernel tap index, times the axis's kernel stride.</summary>
    public int[] KernelOffset { get; }

    /// <summary>The valid taps of <paramref name="axis"/>'s outputs, or null when they number more than <paramref name="maxEntries"/>.</summary>
    /// <param name="axis">The axis plan.</param>
    /// <param name="inputStride">Elements between consecutive input cells of the axis.</param>
    /// <param name="kernelStride">Weight taps between consecutive kernel taps of the axis (the kernel width for rows, 1 for columns).</param>
    /// <param name="maxEntries">The most entries worth building.</param>
    public static CellTaps? TryCreate(AxisPlan axis, long inputStride, int kernelStride, int maxEntries)
    {
        long entries = 0;
        for (int o = 0; o < axis.OutputLength; o++)
        {
            (_, _, int first, int end) = axis.ValidTaps(o);
            entries += end - first;
        }

        // Offsets must stay ints: the exact kernel adds them to a sample's channel offset.
        if (entries > maxEntries || inputStride * axis.InputLength > int.MaxValue)
            return null;
        var start = new int[axis.OutputLength + 1];
        var inputOffset = new int[entries];
        var kernelOffset = new int[entries];
        int entry = 0;
        for (int o = 0; o < axis.OutputLength; o++)
        {
            start[o] = entry;
            (AxisPhase phase, int q, int first, int end) = axis.ValidTaps(o);
            for (int t = first; t < end; t++, entry++)
            {
                inputOffset[entry] = (int)((q - phase.TapOffsets[t]) * inputStride);
                kernelOffset[entry] = phase.KernelTaps[t] * kernelStride;
            }
        }

        start[axis.OutputLength] = entry;
        return new CellTaps(start, inputOffset, kernelOffset);
    }
}
