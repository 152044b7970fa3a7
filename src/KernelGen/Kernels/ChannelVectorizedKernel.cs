using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Planning;
using KernelGen.Simd;

namespace KernelGen.Kernels;

/// <summary>
/// The kernel for many output channels per group (see <see cref="KernelStrategy.ChannelVectorized"/>): NHWC, each output
/// pixel a dot product over (taps of its phase) x (input channels of its group), vectorised along output channels and
/// register-blocked over four pixels of a phase row and two channel vectors.
/// </summary>
internal static class ChannelVectorizedKernel
{
    /// <summary>Pixels of one phase row computed together: each weight vector load feeds this many FMAs.</summary>
    private const int Pixels = 4;

    /// <summary>Output channels per group, rounded up to whole vectors of <paramref name="width"/> (the packed and scratch stride).</summary>
    public static int PaddedChannels(int outPerGroup, VectorWidth width) => (outPerGroup + (int)width - 1) / (int)width * (int)width;

    /// <summary>
    /// Packs PyTorch weights <c>(Cin, Cout/G, kH, kW)</c> into <c>(G, kH, kW, Cin/G, paddedCout)</c>: for each tap the weights of one
    /// input channel to every output channel of the group are contiguous, zero-padded to whole vectors.
    /// </summary>
    public static void Pack(in LayerShape layer, int paddedChannels, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        Span<float> packed, Span<float> packedBias)
    {
        packed.Clear();
        packedBias.Clear();
        int inPerGroup = layer.InPerGroup, outPerGroup = layer.OutPerGroup, taps = layer.Taps;
        for (int ic = 0; ic < layer.InChannels; ic++)
        {
            int group = ic / inPerGroup, icInGroup = ic - group * inPerGroup;
            for (int ocInGroup = 0; ocInGroup < outPerGroup; ocInGroup++)
            {
                for (int tap = 0; tap < taps; tap++)
                {
                    float value = weights[(ic * outPerGroup + ocInGroup) * taps + tap];
                    packed[((group * taps + tap) * inPerGroup + icInGroup) * paddedChannels + ocInGroup] = value;
                }
            }
        }

        if (!bias.IsEmpty)
        {
            for (int oc = 0; oc < layer.OutChannels; oc++)
            {
                int group = oc / outPerGroup;
                packedBias[group * paddedChannels + oc - group * outPerGroup] = bias[oc];
            }
        }
    }

    /// <summary>Computes output rows <c>[rowStart, rowEnd)</c> (output y) of one sample.</summary>
    /// <param name="input">One sample, NHWC with <c>Cin</c> channels.</param>
    /// <param name="output">One sample, NHWC with <c>G * paddedChannels</c> channels (padding lanes receive garbage-free zeros plus bias padding).</param>
    public static void Run(VectorWidth width, in LayerShape layer, int paddedChannels, ExecutionPlan plan,
        ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<float> packed, ReadOnlySpan<float> packedBias,
        int rowStart, int rowEnd, bool applyActivation)
    {
        switch (width)
        {
            case VectorWidth.V512: Run<Simd512, Vector512<float>>(layer, paddedChannels, plan, input, output, packed, packedBias, rowStart, rowEnd, applyActivation); break;
            case VectorWidth.V256: Run<Simd256, Vector256<float>>(layer, paddedChannels, plan, input, output, packed, packedBias, rowStart, rowEnd, applyActivation); break;
            case VectorWidth.V128: Run<Simd128, Vector128<float>>(layer, paddedChannels, plan, input, output, packed, packedBias, rowStart, rowEnd, applyActivation); break;
            default: Run<SimdScalar, float>(layer, paddedChannels, plan, input, output, packed, packedBias, rowStart, rowEnd, applyActivation); break;
        }
    }

    private static void Run<TSimd, TVec>(in LayerShape layer, int paddedChannels, ExecutionPlan plan,
        ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<float> packed, ReadOnlySpan<float> packedBias,
        int rowStart, int rowEnd, bool applyActivation)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        int lanes = TSimd.Count;
        int inW = plan.InputWidth, outW = plan.OutputWidth;
        int inChannels = layer.InChannels, inPerGroup = layer.InPerGroup, kernelW = layer.KernelWidth, taps = layer.Taps;
        int outStride = layer.Groups * paddedChannels;
        AxisPlan rows = plan.Height, cols = plan.Width;
        int[] rowTapStart = rows.OutputTapStart, rowTapKernel = rows.TapKernelIndex, rowTapInput = rows.TapInputIndex;
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float w = ref MemoryMarshal.GetReference(packed);
        ref float bias = ref MemoryMarshal.GetReference(packedBias);
        ref float y = ref MemoryMarshal.GetReference(output);

        for (int oy = rowStart; oy < rowEnd; oy++)
        {
            int hFirst = rowTapStart[oy], hEnd = rowTapStart[oy + 1];
            for (int group = 0; group < layer.Groups; group++)
            {
                int groupInput = group * inPerGroup;
                int groupOutput = group * paddedChannels;
                int groupWeights = group * taps;
                foreach (AxisPhase phase in cols.Phases)
                {
                    int[] phaseTaps = phase.KernelTaps, offsets = phase.TapOffsets;
                    int tapCount = phaseTaps.Length;
                    int q = phase.InteriorFirstQ, qEnd = phase.InteriorEndQ;
                    for (; q + Pixels <= qEnd; q += Pixels)
                    {
                        int c = 0;
                        for (; c + 2 * lanes <= paddedChannels; c += 2 * lanes)
                        {
                            TVec b0 = TSimd.Load(ref Unsafe.Add(ref bias, groupOutput + c));
                            TVec b1 = TSimd.Load(ref Unsafe.Add(ref bias, groupOutput + c + lanes));
                            TVec p00 = b0, p01 = b1, p10 = b0, p11 = b1, p20 = b0, p21 = b1, p30 = b0, p31 = b1;
                            for (int k = hFirst; k < hEnd; k++)
                            {
                                int inRow = rowTapInput[k] * inW;
                                int tapRow = groupWeights + rowTapKernel[k] * kernelW;
                                for (int t = 0; t < tapCount; t++)
                                {
                                    ref float xp = ref Unsafe.Add(ref x, (inRow + q - offsets[t]) * inChannels + groupInput);
                                    ref float wp = ref Unsafe.Add(ref w, (tapRow + phaseTaps[t]) * inPerGroup * paddedChannels + c);
                                    for (int ic = 0; ic < inPerGroup; ic++)
                                    {
                                        TVec w0 = TSimd.Load(ref wp);
                                        TVec w1 = TSimd.Load(ref Unsafe.Add(ref wp, lanes));
                                        TVec xv = TSimd.Broadcast(Unsafe.Add(ref xp, ic));
                                        p00 = TSimd.MultiplyAdd(xv, w0, p00);
                                        p01 = TSimd.MultiplyAdd(xv, w1, p01);
                                        xv = TSimd.Broadcast(Unsafe.Add(ref xp, inChannels + ic));
                                        p10 = TSimd.MultiplyAdd(xv, w0, p10);
                                        p11 = TSimd.MultiplyAdd(xv, w1, p11);
                                        xv = TSimd.Broadcast(Unsafe.Add(ref xp, 2 * inChannels + ic));
                                        p20 = TSimd.MultiplyAdd(xv, w0, p20);
                                        p21 = TSimd.MultiplyAdd(xv, w1, p21);
                                        xv = TSimd.Broadcast(Unsafe.Add(ref xp, 3 * inChannels + ic));
                                        p30 = TSimd.MultiplyAdd(xv, w0, p30);
                                        p31 = TSimd.MultiplyAdd(xv, w1, p31);
                                        wp = ref Unsafe.Add(ref wp, paddedChannels);
                                    }
                                }
                            }

                            ref float y0 = ref Unsafe.Add(ref y, (oy * outW + phase.OutputOf(q)) * outStride + groupOutput + c);
                            int pixelStride = phase.Stride * outStride;
                            TSimd.Store(ref y0, p00);
                            TSimd.Store(ref Unsafe.Add(ref y0, lanes), p01);
                            TSimd.Store(ref Unsafe.Add(ref y0, pixelStride), p10);
                            TSimd.Store(ref Unsafe.Add(ref y0, pixelStride + lanes), p11);
                            TSimd.Store(ref Unsafe.Add(ref y0, 2 * pixelStride), p20);
                            TSimd.Store(ref Unsafe.Add(ref y0, 2 * pixelStride + lanes), p21);
                            TSimd.Store(ref Unsafe.Add(ref y0, 3 * pixelStride), p30);
                            TSimd.Store(ref Unsafe.Add(ref y0, 3 * pixelStride + lanes), p31);
                        }

                        // An odd last channel vector: the same pixels, one vector.
                        for (; c < paddedChannels; c += lanes)
                        {
                            for (int p = 0; p < Pixels; p++)
                                Pixel<TSimd, TVec>(layer, paddedChannels, plan, input, packed, packedBias, output, group, c, oy, phase.OutputOf(q + p));
                        }
                    }

                    for (; q < qEnd; q++)
                        AllChannels<TSimd, TVec>(layer, paddedChannels, plan, input, packed, packedBias, output, group, oy, phase.OutputOf(q));
                    for (int qe = phase.FirstQ; qe < phase.InteriorFirstQ; qe++)
                        AllChannels<TSimd, TVec>(layer, paddedChannels, plan, input, packed, packedBias, output, group, oy, phase.OutputOf(qe));
                    for (int qe = Math.Max(phase.InteriorEndQ, phase.InteriorFirstQ); qe < phase.EndQ; qe++)
                        AllChannels<TSimd, TVec>(layer, paddedChannels, plan, input, packed, packedBias, output, group, oy, phase.OutputOf(qe));
                }
            }

            if (applyActivation)
                Activations.Apply(output.Slice(oy * outW * outStride, outW * outStride), layer.Activation, layer.LeakyReluSlope);
        }
    }

    private static void AllChannels<TSimd, TVec>(in LayerShape layer, int paddedChannels, ExecutionPlan plan,
        ReadOnlySpan<float> input, ReadOnlySpan<float> packed, ReadOnlySpan<float> packedBias, Span<float> output,
        int group, int oy, int ox)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        for (int c = 0; c < paddedChannels; c += TSimd.Count)
            Pixel<TSimd, TVec>(layer, paddedChannels, plan, input, packed, packedBias, output, group, c, oy, ox);
    }

    /// <summary>One vector of output channels of one pixel, from the per-cell tap lists (any pixel, edges included).</summary>
    private static void Pixel<TSimd, TVec>(in LayerShape layer, int paddedChannels, ExecutionPlan plan,
        ReadOnlySpan<float> input, ReadOnlySpan<float> packed, ReadOnlySpan<float> packedBias, Span<float> output,
        int group, int c, int oy, int ox)
        where TSimd : struct, ISimd<TVec>
        where TVec : struct
    {
        AxisPlan rows = plan.Height, cols = plan.Width;
        int inW = plan.InputWidth, inChannels = layer.InChannels, inPerGroup = layer.InPerGroup;
        int outStride = layer.Groups * paddedChannels;
        int groupOutput = group * paddedChannels;
        // The spans were validated by the caller; slicing here re-checks every index range this cell touches.
        TVec acc = TSimd.Load(ref MemoryMarshal.GetReference(packedBias.Slice(groupOutput + c, TSimd.Count)));
        for (int k = rows.OutputTapStart[oy]; k < rows.OutputTapStart[oy + 1]; k++)
        {
            int inRow = rows.TapInputIndex[k] * inW;
            int tapRow = group * layer.Taps + rows.TapKernelIndex[k] * layer.KernelWidth;
            for (int m = cols.OutputTapStart[ox]; m < cols.OutputTapStart[ox + 1]; m++)
            {
                var xs = input.Slice((inRow + cols.TapInputIndex[m]) * inChannels + group * inPerGroup, inPerGroup);
                var ws = packed.Slice((tapRow + cols.TapKernelIndex[m]) * inPerGroup * paddedChannels + c,
                    (inPerGroup - 1) * paddedChannels + TSimd.Count);
                ref float wp = ref MemoryMarshal.GetReference(ws);
                for (int ic = 0; ic < inPerGroup; ic++)
                    acc = TSimd.MultiplyAdd(TSimd.Broadcast(xs[ic]), TSimd.Load(ref Unsafe.Add(ref wp, ic * paddedChannels)), acc);
            }
        }

        TSimd.Store(ref MemoryMarshal.GetReference(output.Slice((oy * plan.OutputWidth + ox) * outStride + groupOutput + c, TSimd.Count)), acc);
    }
}
