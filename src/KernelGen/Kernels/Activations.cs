using System.Numerics;
using System.Runtime.CompilerServices;

namespace KernelGen.Kernels;

/// <summary>
/// The fused activations, applied in place to finished outputs, with PyTorch's results on special values: ReLU and leaky
/// ReLU keep NaN (and -0), sigmoid takes -Inf to 0 and +Inf to 1, tanh takes ±Inf to ±1.
/// </summary>
internal static class Activations
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Activate(float x, FusedActivation activation, float leakyReluSlope) => activation switch
    {
        FusedActivation.None => x,
        FusedActivation.Relu => Relu(x),
        FusedActivation.LeakyRelu => LeakyRelu(x, leakyReluSlope),
        FusedActivation.Sigmoid => Sigmoid(x),
        FusedActivation.Tanh => MathF.Tanh(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };

    /// <summary>
    /// <c>x &lt; 0 ? 0 : x</c>, as PyTorch computes it: NaN stays NaN and -0 stays -0. (x86's <c>maxps</c>, behind
    /// <c>Vector.Max</c> on .NET 8, returns its second operand when either is NaN, which would turn NaN into 0.)
    /// </summary>
    public static float Relu(float x) => x < 0f ? 0f : x;

    public static float LeakyRelu(float x, float slope) => x >= 0 ? x : x * slope;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Relu(Span<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i + Vector<float>.Count <= values.Length; i += Vector<float>.Count)
            {
                var slice = values.Slice(i, Vector<float>.Count);
                var v = new Vector<float>(slice);
                Vector.ConditionalSelect(Vector.LessThan(v, Vector<float>.Zero), Vector<float>.Zero, v).CopyTo(slice);
            }
        }

        for (; i < values.Length; i++)
            values[i] = Relu(values[i]);
    }
}
