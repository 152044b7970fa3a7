using System.Numerics;

namespace KernelGen.Kernels;

/// <summary>The fused activations, applied in place to finished outputs.</summary>
internal static class Activations
{
    public static void Apply(Span<float> values, FusedActivation activation, float leakyReluSlope)
    {
        switch (activation)
        {
            case FusedActivation.None:
                return;
            case FusedActivation.Relu:
                Relu(values);
                return;
            case FusedActivation.LeakyRelu:
                for (int i = 0; i < values.Length; i++)
                    values[i] = LeakyRelu(values[i], leakyReluSlope);
                return;
            case FusedActivation.Sigmoid:
                for (int i = 0; i < values.Length; i++)
                    values[i] = Sigmoid(values[i]);
                return;
            case FusedActivation.Tanh:
                for (int i = 0; i < values.Length; i++)
                    values[i] = MathF.Tanh(values[i]);
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        }
    }

    /// <summary>The activation of one value (for kernels that finish one output cell at a time).</summary>
    public static float Activate(float x, FusedActivation activation, float leakyReluSlope) => activation switch
    {
        FusedActivation.None => x,
        FusedActivation.Relu => MathF.Max(x, 0f),
        FusedActivation.LeakyRelu => LeakyRelu(x, leakyReluSlope),
        FusedActivation.Sigmoid => Sigmoid(x),
        FusedActivation.Tanh => MathF.Tanh(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };

    public static float LeakyRelu(float x, float slope) => x >= 0 ? x : x * slope;

    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    private static void Relu(Span<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i + Vector<float>.Count <= values.Length; i += Vector<float>.Count)
            {
                var slice = values.Slice(i, Vector<float>.Count);
                Vector.Max(new Vector<float>(slice), Vector<float>.Zero).CopyTo(slice);
            }
        }

        for (; i < values.Length; i++)
            values[i] = MathF.Max(values[i], 0f);
    }
}
