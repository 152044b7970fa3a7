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
    /// <param name="source">The padded HWC rows, starting with row <paramref name="sourceFirstRow"/> (a small per-thread
    /// buffer holding just the rows being copied, or a whole sample's scratch when 0).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PaddedHwcToOutput(ReadOnlySpan<float> source, Span<float> destination, in LayerShape layer,
        int paddedChannels, int height, int width, bool channelsLast, int rowStart, int rowEnd, int sourceFirstRow)
    {
        int outPerGroup = layer.OutPerGroup, sourceStride = layer.Groups * paddedChannels, channels = layer.OutChannels;
        if (!channelsLast)
        {
            // The rows' pixels are consecutive in the source and in each output plane: one transposition per group
            // of pixels x channels covers them all, as long runs along every plane.
            int pixels = (rowEnd - rowStart) * width;
            ReadOnlySpan<float> rows = source.Slice((rowStart - sourceFirstRow) * width * sourceStride, pixels * sourceStride);
            for (int g = 0; g < layer.Groups; g++)
                Transpose.Run(rows[(g * paddedChannels)..], sourceStride,
                    destination[((g * outPerGroup * height + rowStart) * width)..], height * width, pixels, outPerGroup);
            if (layer.Activation != FusedActivation.None)
                for (int oc = 0; oc < channels; oc++)
                    Activations.Apply(destination.Slice((oc * height + rowStart) * width, pixels), layer.Activation, layer.LeakyReluSlope);
            return;
        }

        for (int y = rowStart; y < rowEnd; y++)
        {
            ReadOnlySpan<float> srcRow = source.Slice((y - sourceFirstRow) * width * sourceStride, width * sourceStride);
            for (int g = 0; g < layer.Groups; g++)
            {
                for (int x = 0; x < width; x++)
                    srcRow.Slice(x * sourceStride + g * paddedChannels, outPerGroup)
                        .CopyTo(destination.Slice((y * width + x) * channels + g * outPerGroup, outPerGroup));
            }

            Activations.Apply(destination.Slice(y * width * channels, width * channels), layer.Activation, layer.LeakyReluSlope);
        }
    }
}
