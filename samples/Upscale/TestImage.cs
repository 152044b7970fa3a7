using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Upscale;

/// <summary>
/// A small deterministic image that shows what 2x bilinear upsampling does: smooth colour gradients (which it keeps
/// smooth), a black-and-white checkerboard and a translucent disc with hard edges (which it softens by half a pixel).
/// Computed with integer arithmetic only, so it is the same on every machine.
/// </summary>
public static class TestImage
{
    /// <summary>The default width of the generated image.</summary>
    public const int DefaultWidth = 128;

    /// <summary>The default height of the generated image.</summary>
    public const int DefaultHeight = 96;

    /// <summary>The side of one checkerboard square, in pixels.</summary>
    public const int CheckerSize = 8;

    /// <summary>The alpha of the disc: translucent, so that the alpha channel has an edge to upsample too.</summary>
    public const byte DiscAlpha = 160;

    /// <summary>Creates the test image.</summary>
    /// <param name="width">Width, at least 2.</param>
    /// <param name="height">Height, at least 2.</param>
    /// <returns>A new image: red grows left to right, green top to bottom, a checkerboard fills the top-right quarter and a
    /// translucent red disc sits in the lower left.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 2.</exception>
    public static Image<Rgba32> Create(int width = DefaultWidth, int height = DefaultHeight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 2);
        int discX = width / 3, discY = 2 * height / 3, discRadius = Math.Max(1, Math.Min(width, height) / 4);
        var pixels = new Rgba32[width * height];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                Rgba32 pixel;
                if (x >= width / 2 && y < height / 2)
                {
                    bool white = (x / CheckerSize + y / CheckerSize) % 2 == 0;
                    pixel = white ? new Rgba32(255, 255, 255, 255) : new Rgba32(0, 0, 0, 255);
                }
                else
                {
                    int red = 255 * x / (width - 1), green = 255 * y / (height - 1);
                    pixel = new Rgba32((byte)red, (byte)green, (byte)(255 - (red + green) / 2), 255);
                }

                int dx = x - discX, dy = y - discY;
                if (dx * dx + dy * dy <= discRadius * discRadius)
                    pixel = new Rgba32(230, 30, 60, DiscAlpha);
                pixels[y * width + x] = pixel;
            }
        }

        return Image.LoadPixelData<Rgba32>(pixels, width, height);
    }
}
