using KernelGen.Simd;

namespace KernelGen.Planning;

/// <summary>Everything about one input size that the kernels need: both axes' phase plans and the chosen vector width.</summary>
internal sealed class ExecutionPlan
{
    public ExecutionPlan(ConvTranspose2D definition, int inputHeight, int inputWidth)
    {
        Height = AxisPlan.Create(definition.HeightAxis, inputHeight);
        Width = AxisPlan.Create(definition.WidthAxis, inputWidth);
        int widestPhase = 0;
        foreach (var phase in Width.Phases)
            widestPhase = Math.Max(widestPhase, phase.InteriorEndQ - phase.InteriorFirstQ);
        WidthVectors = VectorWidths.For(widestPhase);
        // Multiply-adds per sample: every valid (output cell, tap) pair on both axes, times the channel products.
        MultiplyAddsPerSample = (long)Height.TotalTaps * Width.TotalTaps * definition.InChannels * (definition.OutChannels / definition.Groups);
    }

    public AxisPlan Height { get; }

    public AxisPlan Width { get; }

    public int InputHeight => Height.InputLength;

    public int InputWidth => Width.InputLength;

    public int OutputHeight => Height.OutputLength;

    public int OutputWidth => Width.OutputLength;

    /// <summary>The vector width for kernels vectorised along the output width: no wider than a phase row.</summary>
    public VectorWidth WidthVectors { get; }

    /// <summary>Multiply-adds actually performed per sample (zero taps skipped).</summary>
    public long MultiplyAddsPerSample { get; }
}
