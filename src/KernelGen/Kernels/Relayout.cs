namespace KernelGen.Kernels;

/// <summary>Copies between channel-first and channel-last layouts, row by row so that the work can be split across threads.</summary>
internal static class Relayout
{
    /// <summary>Rows <c>[rowStart, rowEnd)</c> of a CHW plane set into HWC.</summary>
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
    /// Rows of the channel kernel's padded HWC scratch (<c>groups * paddedChannels</c> per pixel) into the user's output,
    /// CHW or compact HWC, dropping the padding lanes.
    /// </summary>
    public static void PaddedHwcToOutput(ReadOnlySpan<float> source, Span<float> destination, in LayerShape layer,
        int paddedChannels, int height, int width, bool channelsLast, int rowStart, int rowEnd)
    {
        int outPerGroup = layer.OutPerGroup, sourceStride = layer.Groups * paddedChannels, channels = layer.OutChannels;
        for (int y = rowStart; y < rowEnd; y++)
        {
            ReadOnlySpan<float> srcRow = source.Slice(y * width * sourceStride, width * sourceStride);
            for (int g = 0; g < layer.Groups; g++)
            {
                if (channelsLast)
                {
                    for (int x = 0; x < width; x++)
                        srcRow.Slice(x * sourceStride + g * paddedChannels, outPerGroup)
                            .CopyTo(destination.Slice((y * width + x) * channels + g * outPerGroup, outPerGroup));
                }
                else
                {
                    // Pixels x channels of this group's lanes, into one row of each output channel's plane.
                    Transpose.Run(srcRow[(g * paddedChannels)..], sourceStride,
                        destination[((g * outPerGroup * height + y) * width)..], height * width, width, outPerGroup);
                }
            }

            if (channelsLast)
                Activations.Apply(destination.Slice(y * width * channels, width * channels), layer.Activation, layer.LeakyReluSlope);
            else
                for (int oc = 0; oc < channels; oc++)
                    Activations.Apply(destination.Slice((oc * height + y) * width, width), layer.Activation, layer.LeakyReluSlope);
        }
    }
}
