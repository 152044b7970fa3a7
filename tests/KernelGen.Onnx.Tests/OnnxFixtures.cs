using KernelGen.IO;

namespace KernelGen.Onnx.Tests;

/// <summary>
/// Runs a fixture model the way an importer would: every ConvTranspose node on the KernelGen runtime, then its followers
/// (batch norm, activation) by their ONNX definitions written out here, and compares with PyTorch's / the ONNX rule's output.
/// </summary>
internal static class OnnxFixtures
{
    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", file);

    public static (float[] Data, int[] Shape) Npy(string file)
    {
        var data = NpyFile.ReadSingle(PathOf(file), out int[] shape);
        return (data, shape);
    }

    /// <summary>Runs the graph's ConvTranspose chains from the model's input and returns the model's output.</summary>
    public static (float[] Data, int[] Shape) Run(OnnxModel model, float[] input, int[] inputShape, bool prepared = false)
    {
        var values = new Dictionary<string, (float[] Data, int[] Shape)>(StringComparer.Ordinal) { [model.InputNames[0]] = (input, inputShape) };
        foreach (var node in model.ConvTransposeNodes)
        {
            var (x, shape) = values[node.InputName];
            int[] inputSize = shape[2..];
            int batch = shape[0];
            var output = new float[node.GetOutputLength(batch, inputSize)];
            if (prepared)
            {
                switch (node.Prepare())
                {
                    case PreparedConvTranspose1D p: p.Compute(x, inputSize[0], output); break;
                    case PreparedConvTranspose2D p: p.Compute(x, inputSize[0], inputSize[1], output); break;
                    case PreparedConvTranspose3D p: p.Compute(x, inputSize[0], inputSize[1], inputSize[2], output); break;
                    default: throw new InvalidOperationException("Prepare returned an unknown type.");
                }
            }
            else
            {
                node.Compute(x, inputSize, output);
            }

            int[] outShape = [batch, node.OutChannels, .. node.GetOutputSize(inputSize)];
            values[node.OutputName] = (output, outShape);
            foreach (var follower in node.Followers)
            {
                var applied = Apply(follower, output, outShape);
                values[follower.OutputName] = (applied, outShape);
                output = applied;
            }
        }

        return values[model.OutputNames[0]];
    }

    public static float[] Apply(OnnxFollower follower, float[] x, int[] shape)
    {
        var y = new float[x.Length];
        int channels = shape[1], spatial = shape[2..].Aggregate(1, (a, b) => a * b);
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            if (follower.BatchNorm is { } bn)
            {
                int c = i / spatial % channels;
                v = (v - bn.RunningMean[c]) / Math.Sqrt(bn.RunningVariance[c] + (double)bn.Epsilon) * bn.Gamma[c] + bn.Beta[c];
            }
            else
            {
                v = follower.Activation switch
                {
                    FusedActivation.Relu => Math.Max(v, 0),
                    FusedActivation.LeakyRelu => v >= 0 ? v : follower.LeakyReluAlpha * v,
                    FusedActivation.Sigmoid => 1 / (1 + Math.Exp(-v)),
                    FusedActivation.Tanh => Math.Tanh(v),
                    _ => throw new InvalidOperationException($"No activation for {follower}."),
                };
            }

            y[i] = (float)v;
        }

        return y;
    }

    /// <summary>1e-4 relative (to the value, or to 1 for values below 1 in magnitude).</summary>
    public static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = 1e-4 * Math.Max(1, Math.Abs(expected[i]));
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (tolerance {tolerance}).");
        }
    }
}
