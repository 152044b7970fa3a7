using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace KernelGen.Samples.Tests;

/// <summary>
/// 2x bilinear upsampling as the textbooks define it (and PyTorch's <c>interpolate(mode="bilinear",
/// align_corners=False)</c> computes it), written independently of the sample and of any convolution: output pixel
/// <c>(y, x)</c> samples the input at <c>((y + 0.5) / 2 - 0.5, (x + 0.5) / 2 - 0.5)</c>, interpolating its four
/// neighbours linearly along each axis; neighbours outside the image are clamped to the edge. Accumulates in double.
/// </summary>
internal static class TextbookBilinear
{
    /// <summary>Upsamples NCHW planes (one sample) by 2.</summary>
    /// <returns><paramref name="channels"/> planes of <c>2 * height</c> by <c>2 * width</c>.</returns>
    public static double[] Upsample2x(ReadOnlySpan<float> planes, int channels, int height, int width)
    {
        int outputHeight = 2 * height, outputWidth = 2 * width;
        var result = new double[channels * outputHeight * outputWidth];
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<float> plane = planes.Slice(c * height * width, height * width);
            for (int y = 0; y < outputHeight; y++)
            {
                var (top, bottom, down) = Neighbours(y, height);
                for (int x = 0; x < outputWidth; x++)
                {
                    var (left, right, across) = Neighbours(x, width);
                    double upper = (1 - across) * plane[top * width + left] + across * plane[top * width + right];
                    double lower = (1 - across) * plane[bottom * width + left] + across * plane[bottom * width + right];
                    result[(c * outputHeight + y) * outputWidth + x] = (1 - down) * upper + down * lower;
                }
            }
        }

        return result;
    }

    /// <summary>The two input neighbours of an output index along one axis and the weight of the second one.</summary>
    private static (int Low, int High, double Fraction) Neighbours(int outputIndex, int inputSize)
    {
        double source = (outputIndex + 0.5) / 2 - 0.5;
        int low = (int)Math.Floor(source);
        double fraction = source - low;
        return (Math.Clamp(low, 0, inputSize - 1), Math.Clamp(low + 1, 0, inputSize - 1), fraction);
    }

    /// <summary>The RGBA planes of an image, read pixel by pixel (not through the sample's conversion).</summary>
    public static float[] Planes(Image<Rgba32> image)
    {
        int pixels = image.Width * image.Height;
        var planes = new float[4 * pixels];
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                Rgba32 pixel = image[x, y];
                int p = y * image.Width + x;
                planes[p] = pixel.R;
                planes[pixels + p] = pixel.G;
                planes[2 * pixels + p] = pixel.B;
                planes[3 * pixels + p] = pixel.A;
            }
        }

        return planes;
    }

    /// <summary>The value of channel <paramref name="channel"/> (0 R, 1 G, 2 B, 3 A) of a pixel.</summary>
    public static byte Channel(Rgba32 pixel, int channel) => channel switch
    {
        0 => pixel.R,
        1 => pixel.G,
        2 => pixel.B,
        _ => pixel.A,
    };
}
