using KernelGen;

namespace Dcgan;

/// <summary>Turns the network's output into pixels.</summary>
public static class DcganImage
{
    private const int Pixels = DcganNetwork.ImageSize * DcganNetwork.ImageSize;

    /// <summary>
    /// Maps one tanh output in [-1, 1] to a byte: -1 → 0, 1 → 255, linearly, rounded to the nearest
    /// (<c>round((v + 1) * 127.5)</c>); values outside the range (and NaN, as 0) are clamped.
    /// </summary>
    public static byte ToByte(float value)
    {
        float scaled = MathF.Round((value + 1f) * 127.5f, MidpointRounding.AwayFromZero);
        return scaled >= 255f ? (byte)255 : scaled > 0f ? (byte)scaled : (byte)0;
    }

    /// <summary>
    /// The network's output in pixel order, as an image file stores it: row by row from the top, the red, green and blue
    /// of each pixel together (element <c>(y * 64 + x) * 3 + c</c>), whatever <see cref="DcganKernels.ActivationLayout"/> is.
    /// </summary>
    /// <param name="image">The network's output, <see cref="DcganNetwork.ImageLength"/> values.</param>
    public static float[] ToInterleavedRgb(ReadOnlySpan<float> image)
    {
        if (image.Length != DcganNetwork.ImageLength)
            throw new ArgumentException($"The image has {image.Length} values, but it must have {DcganNetwork.ImageLength}.", nameof(image));
        bool channelsLast = DcganKernels.ActivationLayout == TensorLayout.Nhwc;
        var interleaved = new float[image.Length];
        for (int pixel = 0; pixel < Pixels; pixel++)
        {
            for (int c = 0; c < DcganNetwork.ImageChannels; c++)
            {
                int index = pixel * DcganNetwork.ImageChannels + c;
                interleaved[index] = image[channelsLast ? index : c * Pixels + pixel];
            }
        }

        return interleaved;
    }

    /// <summary>The image's bytes for a PNG: <see cref="ToInterleavedRgb"/>, each value mapped by <see cref="ToByte"/>.</summary>
    /// <param name="image">The network's output, <see cref="DcganNetwork.ImageLength"/> values.</param>
    public static byte[] ToRgbBytes(ReadOnlySpan<float> image) => Array.ConvertAll(ToInterleavedRgb(image), ToByte);
}
