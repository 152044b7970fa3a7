using System.Runtime.CompilerServices;
namespace KernelGen.Kernels;

/// <summary>Copies between channel-first and channel-last layouts, row by row so that the work can be split across threads.</summary>
internal static class Relayout
{
    /// <summary>Rows <c>[rowStart, rowEnd)</c> of a CHW plane set into HWC.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ChwToHwc(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width,
        int rowStart, int rowEnd)
    {
        for (int y = rowStart; y < rowEnd; y++)
        {
            Span<float> destRow = destination.Slice(y * width * channels, width * channels);
            Transpose.Run(source[(y * width)..], height * width, destRow, channels, channels, width);
        }
    }

    /// <summary>
    /// Rows <c>[rowStart, rowEnd)</c> of the channel kernel's padded HWC output (<c>groups * paddedChannels</c> per pixel)
    /// into the user's output, CHW or compact HWC, dropping the padding lanes and applying the activation.
    /// </summary>
    /// <remarks>
    /// Run after each chunk of the fused pass, on its own: run instead between the register blocks of the next chunk (to
    /// overlap its shuffles and stores with their multiply-adds), it was measured 4-9 % slower on dcgan and unet_up with
    /// AVX-512 off, its traffic evicting what the blocks read (docs/benchmarks.md, issue 14's section).
    /// </remarks>
    /// <param name="source">The padded HWC rows, starting with row <paramref name="sourceFirstRow"/> (a small per-thread
    /// buffer holding just the rows being copied, or a whole sample's scratch when 0).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PaddedHwcToOutput(ReadOnlySpan<float> source, Span<float> destination, in LayerShape layer,
        int paddedChannels, int height, int width, bool channelsLast, int rowStart, int rowEnd, int sourceFirstRow) =>
        // The rows' pixels are consecutive in the source and in each output plane.
        PaddedHwcPixelsToOutput(source, destination, layer, paddedChannels, height * width, channelsLast,
            rowStart * width, (rowEnd - rowStart) * width, sourceFirstRow * width);

    /// <summary>
    /// Pixels <c>[firstPixel, firstPixel + pixels)</c> (row-major over the output plane of <paramref name="planePixels"/>) of the
    /// channel kernel's padded HWC output into the user's output, CHW or compact HWC, dropping the padding lanes and applying
    /// the activation: whole rows, or a run of columns of one row when a layer of few rows is split by columns.
    /// </summary>
    /// <param name="source">The padded HWC pixels, starting with pixel <paramref name="sourceFirstPixel"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PaddedHwcPixelsToOutput(ReadOnlySpan<float> source, Span<float> destination, in LayerShape layer,
        int paddedChannels, int planePixels, bool channelsLast, int firstPixel, int pixels, int sourceFirstPixel)
    {
        int outPerGroup = layer.OutPerGroup, sourceStride = layer.Groups * paddedChannels, channels = layer.OutChannels;
        ReadOnlySpan<float> run = source.Slice((firstPixel - sourceFirstPixel) * sourceStride, pixels * sourceStride);
        if (!channelsLast)
        {
            // One transposition per group of pixels x channels covers them all, as long runs along every plane.
            for (int g = 0; g < layer.Groups; g++)
                Transpose.Run(run[(g * paddedChannels)..], sourceStride,
                    destination[(g * outPerGroup * planePixels + firstPixel)..], planePixels, pixels, outPerGroup);
            if (layer.Activation != FusedActivation.None)
                for (int oc = 0; oc < channels; oc++)
                    Activations.Apply(destination.Slice(oc * planePixels + firstPixel, pixels), layer.Activation, layer.LeakyReluSlope);
            return;
        }

        for (int g = 0; g < layer.Groups; g++)
        {
            for (int x = 0; x < pixels; x++)
                FloatSpans.Copy(run.Slice(x * sourceStride + g * paddedChannels, outPerGroup),
                    destination.Slice((firstPixel + x) * channels + g * outPerGroup, outPerGroup));
        }

        Activations.Apply(destination.Slice(firstPixel * channels, pixels * channels), layer.Activation, layer.LeakyReluSlope);
    }
}
