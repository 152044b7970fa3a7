using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Engines;

/// <summary>
/// The transposed convolution as a textbook writes it, in float: clear the output, then let every input cell add its
/// weighted kernel onto the output at <c>i * stride + k - padding</c>. No SIMD, no packing, one thread.
/// </summary>
public sealed class NaiveEngine : IConvolutionEngine
{
    private readonly ShapeData _data;
    private readonly float[] _output;

    /// <summary>Prepares the loop for a shape (it only needs an output buffer).</summary>
    public NaiveEngine(ShapeData data)
    {
        _data = data;
        _output = new float[data.Shape.OutputLength];
        // NaN until the first run: an engine that leaves an output unwritten cannot pass the check by accident.
        _output.AsSpan().Fill(float.NaN);
    }

    /// <inheritdoc/>
    public EngineKind Kind => EngineKind.Naive;

    /// <inheritdoc/>
    public ConvShape Shape => _data.Shape;

    /// <inheritdoc/>
    public string Note => "";

    /// <inheritdoc/>
    public ReadOnlySpan<float> Output => _output;

    /// <inheritdoc/>
    public void Run() => Scatter(_data.Shape, _data.Input, _data.Weights, _output);

    /// <summary>The loop itself, over any buffers of the shape's sizes, for every rank (the unit axes of lower ranks have one tap).</summary>
    public static void Scatter(ConvShape shape, ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output)
    {
        output[..shape.OutputLength].Clear();
        for (int n = 0; n < ConvShape.Batch; n++)
        for (int ic = 0; ic < shape.InChannels; ic++)
        {
            int group = ic / shape.InPerGroup;
            for (int iz = 0; iz < shape.InputDepth; iz++)
            for (int iy = 0; iy < shape.InputHeight; iy++)
            for (int ix = 0; ix < shape.InputWidth; ix++)
            {
                float value = input[shape.InputIndex(n, ic, iz, iy, ix)];
                for (int outInGroup = 0; outInGroup < shape.OutPerGroup; outInGroup++)
                {
                    int oc = group * shape.OutPerGroup + outInGroup;
                    for (int kz = 0; kz < shape.KernelDepth; kz++)
                    {
                        int oz = iz * shape.StrideDepth + kz - shape.PaddingDepth;
                        if ((uint)oz >= (uint)shape.OutputDepth) continue;
                        for (int ky = 0; ky < shape.KernelHeight; ky++)
                        {
                            int oy = iy * shape.StrideHeight + ky - shape.PaddingHeight;
                            if ((uint)oy >= (uint)shape.OutputHeight) continue;
                            for (int kx = 0; kx < shape.Kernel; kx++)
                            {
                                int ox = ix * shape.Stride + kx - shape.Padding;
                                if ((uint)ox >= (uint)shape.OutputWidth) continue;
                                output[shape.OutputIndex(n, oc, oz, oy, ox)] += value * weights[shape.WeightIndex(ic, outInGroup, kz, ky, kx)];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }
}
