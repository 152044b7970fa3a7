using System.Runtime.CompilerServices;

namespace KernelGen.Benchmarks.Shapes;

/// <summary>
/// The runtime's prepared layer of a benchmark shape, of the shape's rank (<see cref="PreparedConvTranspose1D"/>,
/// <see cref="PreparedConvTranspose2D"/> or <see cref="PreparedConvTranspose3D"/>), bound to the shape's input: one place
/// that the benchmark engines, the contention mode and the first-calls harness (which links this file) all build it from.
/// </summary>
public static class RuntimeLayer
{
    /// <summary>
    /// Packs the shape's weights for <paramref name="threads"/> threads at most; returns the prepared layer and a call of its
    /// <c>Compute</c> on the shape's input into <paramref name="output"/>, compiled fully optimised from its first call (so
    /// that a first call measures the library's code, not this wrapper's tier-0 code).
    /// </summary>
    public static (object Prepared, Action Call) Bind(ShapeData data, int threads, float[] output)
    {
        ConvShape s = data.Shape;
        float[] input = data.Input;
        switch (s.Rank)
        {
            case 1:
                var oneD = new ConvTranspose1D(s.InChannels, s.OutChannels, s.Kernel, s.Stride, s.Padding, s.OutputPadding, dilation: 1, groups: s.Groups)
                {
                    Layout = s.Layout,
                    MaxDegreeOfParallelism = threads,
                }.Prepare(data.Weights);
                int length = s.InputWidth;
                return (oneD, [MethodImpl(MethodImplOptions.AggressiveOptimization)] () => oneD.Compute(input, length, output));
            case 3:
                var threeD = new ConvTranspose3D(s.InChannels, s.OutChannels, s.Kernel, s.Stride, s.Padding, s.OutputPadding, dilation: 1, groups: s.Groups)
                {
                    Layout = s.Layout,
                    MaxDegreeOfParallelism = threads,
                }.Prepare(data.Weights);
                int depth = s.InputDepth, height3 = s.InputHeight, width3 = s.InputWidth;
                return (threeD, [MethodImpl(MethodImplOptions.AggressiveOptimization)] () => threeD.Compute(input, depth, height3, width3, output));
            default:
                var twoD = new ConvTranspose2D(s.InChannels, s.OutChannels, s.Kernel, s.Stride, s.Padding, s.OutputPadding, dilation: 1, groups: s.Groups)
                {
                    Layout = s.Layout,
                    MaxDegreeOfParallelism = threads,
                }.Prepare(data.Weights);
                int height = s.InputHeight, width = s.InputWidth;
                return (twoD, [MethodImpl(MethodImplOptions.AggressiveOptimization)] () => twoD.Compute(input, height, width, output));
        }
    }
}
