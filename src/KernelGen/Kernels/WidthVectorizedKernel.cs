using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Planning;
using KernelGen.Simd;

namespace KernelGen.Kernels;

/// <summary>
/// The kernel for few output channels per group (see <see cref="KernelStrategy.WidthVectorized"/>): NCHW, one output
/// row of one output channel at a time, each width phase a unit-stride correlation whose lanes are consecutive
/// phase positions, so that the input loads are contiguous and the weights are broadcast.
/// </summary>
internal static class WidthVectorizedKernel
{
    /// <summary>Vectors of outputs accumulated in registers at once.</summary>
    private const int Unroll = 4;

    /// <summary>Packs PyTorch weights <c>(Cin, Cout/G, kH, kW)</c> into <c>(Cout, Cin/G, kH, kW)</c>, so one output channel's weights are contiguous.</summary>
    public static void Pack(ReadOnlySpan<float> weights, Span<float> packed, int inChannels, int outChannels, int groups, int taps)
    {
        int inPerGroup = inChannels / groups, outPerGroup = outChannels / groups;
        for (int ic = 0; ic < inChannels; ic++)
        {
            int group = ic / inPerGroup, icInGroup = ic - group * inPerGroup;
            for (int ocInGroup = 0; ocInGroup < outPerGroup; ocInGroup++)
            {
                int oc = group * outPerGroup + ocInGroup;
                weights.Slice((ic * outPerGroup + ocInGroup) * taps, taps)
                    .CopyTo(packed.Slice((oc * inPerGroup + icInGroup) * taps, taps));
            }
        }
    }

    /// <summary>Computes output rows <c>[rowStart, rowEnd)</c> of one sample, a row being (output channel, output y).</summary>
    /// <param name="input">One sample, NCHW.</param>
    /// <param name="output">One sample, NCHW.</param>
    /// <param name="packed">Weights packed by <see cref="Pack"/>.</param>
    /// <param name="bias">One value per output channel (zeros when the layer has none).</param>
    public static void Run(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> input, Span<float> output,
        ReadOnlySpan<float> packed, ReadOnlySpan<float> bias, int rowStart, int rowEnd, bool applyActivation)
    {
        switch (plan.WidthVectors)
        {
            case VectorWidth.V512: Run<Simd512, Vector512<float>>(layer, plan, input, output, packed, bias, rowStart, rowEnd, applyActivation); break;
            case VectorWidth.V256: Run<Simd256, Vector256<float>>(layer, plan, input, output, packed, bias, rowStart, rowEnd, applyActivation); break;
            case VectorWidth.V128: Run<Simd128, Vector128<float>>(layer, plan, input, output, packed, bias, rowStart, rowEnd, applyActivation); break;
            default: Run<SimdScalar, float>(layer, plan, input, output, packed, bias, rowStart, rowEnd, applyActivation); break;
        }
    }

    private static void Run<TSimd, TVec>(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> input, Span<float> output,
        ReadOnlySpan<float> packed, ReadOnlySpan<float> bias, int rowStart, int rowEnd, bool applyActivation)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count;
        int inH = plan.InputHeight, inW = plan.InputWidth, outH = plan.OutputHeight, outW = plan.OutputWidth;
        int inPerGroup = layer.InPerGroup, outPerGroup = layer.OutPerGroup, kernelH = layer.KernelHeight, kernelW = layer.KernelWidth;
        AxisPlan rows = plan.Height, cols = plan.Width;
        int[] rowTapStart = rows.OutputTapStart, rowTapKernel = rows.TapKernelIndex, rowTapInput = rows.TapInputIndex;
        Span<float> scatter = stackalloc float[Unroll * 16];
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float w = ref MemoryMarshal.GetReference(packed);

        for (int row = rowStart; row < rowEnd; row++)
        {
            int oc = row / outH, oy = row - oc * outH;
            int group = oc / outPerGroup;
            int firstInput = group * inPerGroup;
            Span<float> outRow = output.Slice(row * outW, outW);
            ref float y = ref MemoryMarshal.GetReference(outRow);
            float b = bias[oc];
            int hFirst = rowTapStart[oy], hEnd = rowTapStart[oy + 1];

            foreach (AxisPhase phase in cols.Phases)
            {
                int[] taps = phase.KernelTaps, offsets = phase.TapOffsets;
                int tapCount = taps.Length, stride = phase.Stride;
                int q = phase.InteriorFirstQ, qEnd = phase.InteriorEndQ;

                // Interior: every tap of every lane reads a real input cell, so no checks inside.
                for (; q + Unroll * lanes <= qEnd; q += Unroll * lanes)
                {
                    TVec a0 = TSimd.Broadcast(b), a1 = a0, a2 = a0, a3 = a0;
                    for (int icInGroup = 0; icInGroup < inPerGroup; icInGroup++)
                    {
                        int inPlane = (firstInput + icInGroup) * inH;
                        int weightRows = (oc * inPerGroup + icInGroup) * kernelH;
                        for (int k = hFirst; k < hEnd; k++)
                        {
                            ref float xRow = ref Unsafe.Add(ref x, (inPlane + rowTapInput[k]) * inW + q);
                            ref float wRow = ref Unsafe.Add(ref w, (weightRows + rowTapKernel[k]) * kernelW);
                            for (int t = 0; t < tapCount; t++)
                            {
                                TVec wv = TSimd.Broadcast(Unsafe.Add(ref wRow, taps[t]));
                                ref float xs = ref Unsafe.Subtract(ref xRow, offsets[t]);
                                a0 = TSimd.MultiplyAdd(TSimd.Load(ref xs), wv, a0);
                                a1 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Add(ref xs, lanes)), wv, a1);
                                a2 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Add(ref xs, 2 * lanes)), wv, a2);
                                a3 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Add(ref xs, 3 * lanes)), wv, a3);
                            }
                        }
                    }

                    int o = phase.OutputOf(q);
                    if (stride == 1)
                    {
                        TSimd.Store(ref Unsafe.Add(ref y, o), a0);
                        TSimd.Store(ref Unsafe.Add(ref y, o + lanes), a1);
                        TSimd.Store(ref Unsafe.Add(ref y, o + 2 * lanes), a2);
                        TSimd.Store(ref Unsafe.Add(ref y, o + 3 * lanes), a3);
                    }
                    else
                    {
                        ref float s = ref MemoryMarshal.GetReference(scatter);
                        TSimd.Store(ref s, a0);
                        TSimd.Store(ref Unsafe.Add(ref s, lanes), a1);
                        TSimd.Store(ref Unsafe.Add(ref s, 2 * lanes), a2);
                        TSimd.Store(ref Unsafe.Add(ref s, 3 * lanes), a3);
                        for (int lane = 0; lane < Unroll * lanes; lane++)
                            Unsafe.Add(ref y, o + lane * stride) = Unsafe.Add(ref s, lane);
                    }
                }

                // Interior cells left over: one vector at a time.
                for (; q + lanes <= qEnd; q += lanes)
                {
                    TVec a0 = TSimd.Broadcast(b);
                    for (int icInGroup = 0; icInGroup < inPerGroup; icInGroup++)
                    {
                        int inPlane = (firstInput + icInGroup) * inH;
                        int weightRows = (oc * inPerGroup + icInGroup) * kernelH;
                        for (int k = hFirst; k < hEnd; k++)
                        {
                            ref float xRow = ref Unsafe.Add(ref x, (inPlane + rowTapInput[k]) * inW + q);
                            ref float wRow = ref Unsafe.Add(ref w, (weightRows + rowTapKernel[k]) * kernelW);
                            for (int t = 0; t < tapCount; t++)
                                a0 = TSimd.MultiplyAdd(TSimd.Load(ref Unsafe.Subtract(ref xRow, offsets[t])),
                                    TSimd.Broadcast(Unsafe.Add(ref wRow, taps[t])), a0);
                        }
                    }

                    int o = phase.OutputOf(q);
                    if (stride == 1)
                    {
                        TSimd.Store(ref Unsafe.Add(ref y, o), a0);
                    }
                    else
                    {
                        ref float s = ref MemoryMarshal.GetReference(scatter);
                        TSimd.Store(ref s, a0);
                        for (int lane = 0; lane < lanes; lane++)
                            Unsafe.Add(ref y, o + lane * stride) = Unsafe.Add(ref s, lane);
                    }
                }

                // The rest of the interior, and both edges, where some taps fall off the input: one cell at a time.
                for (; q < qEnd; q++)
                    outRow[phase.OutputOf(q)] = Cell(layer, plan, input, packed, b, oc, oy, phase.OutputOf(q));
                for (int qe = phase.FirstQ; qe < phase.InteriorFirstQ; qe++)
                    outRow[phase.OutputOf(qe)] = Cell(layer, plan, input, packed, b, oc, oy, phase.OutputOf(qe));
                for (int qe = Math.Max(phase.InteriorEndQ, phase.InteriorFirstQ); qe < phase.EndQ; qe++)
                    outRow[phase.OutputOf(qe)] = Cell(layer, plan, input, packed, b, oc, oy, phase.OutputOf(qe));
            }

            if (applyActivation)
                Activations.Apply(outRow, layer.Activation, layer.LeakyReluSlope);
        }
    }

    /// <summary>One output cell from the per-cell tap lists (bounds-checked; used on edges and remainders).</summary>
    private static float Cell(in LayerShape layer, ExecutionPlan plan, ReadOnlySpan<float> input, ReadOnlySpan<float> packed,
        float bias, int oc, int oy, int ox)
    {
        AxisPlan rows = plan.Height, cols = plan.Width;
        int inH = plan.InputHeight, inW = plan.InputWidth;
        int firstInput = oc / layer.OutPerGroup * layer.InPerGroup;
        int wFirst = cols.OutputTapStart[ox], wEnd = cols.OutputTapStart[ox + 1];
        float sum = bias;
        for (int icInGroup = 0; icInGroup < layer.InPerGroup; icInGroup++)
        {
            int inPlane = (firstInput + icInGroup) * inH;
            int weightRows = (oc * layer.InPerGroup + icInGroup) * layer.KernelHeight;
            for (int k = rows.OutputTapStart[oy]; k < rows.OutputTapStart[oy + 1]; k++)
            {
                int xRow = (inPlane + rows.TapInputIndex[k]) * inW;
                int wRow = (weightRows + rows.TapKernelIndex[k]) * layer.KernelWidth;
                for (int m = wFirst; m < wEnd; m++)
                    sum += input[xRow + cols.TapInputIndex[m]] * packed[wRow + cols.TapKernelIndex[m]];
            }
        }

        return sum;
    }
}
