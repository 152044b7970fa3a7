using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Digits;

/// <summary>
/// A grid of generated digits: one row per digit 0-9, <see cref="Columns"/> images per row, each drawn from its own latent
/// vector. Turns the images into a grey PNG (each pixel <see cref="Scale"/> x <see cref="Scale"/> pixels, the images
/// framed by <see cref="Scale"/>-pixel grey lines) and into an ASCII preview.
/// </summary>
public sealed class DigitsGrid
{
    /// <summary>The grey of the lines between the images (the images' background is black, their ink white).</summary>
    public const byte LineGrey = 96;

    /// <summary>The characters of the ASCII preview, from background to ink.</summary>
    public const string AsciiRamp = " .:-=+*#%@";

    private readonly float[][] _images;

    /// <summary>Draws the grid's latent vectors from <paramref name="seed"/> (row by row) and computes its images.</summary>
    /// <param name="generator">The network.</param>
    /// <param name="columns">Images per digit, at least 1.</param>
    /// <param name="seed">The seed of the latent vectors.</param>
    /// <param name="scale">The size of an image pixel in the PNG, at least 1.</param>
    /// <param name="useRuntime">Compute with the runtime path instead of the generated kernels.</param>
    public DigitsGrid(DigitsGenerator generator, int columns, int seed, int scale, bool useRuntime = false)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        Columns = columns;
        Scale = scale;
        (Width, Height) = GetPixelSize(columns, scale);
        float[][] latents = CreateLatents(columns, seed);
        _images = new float[latents.Length][];
        for (int i = 0; i < latents.Length; i++)
        {
            _images[i] = new float[DigitsGenerator.ImageLength];
            if (useRuntime)
                generator.RunRuntime(latents[i], DigitOf(i), _images[i]);
            else
                generator.RunGenerated(latents[i], DigitOf(i), _images[i]);
        }
    }

    /// <summary>Images per digit (per row).</summary>
    public int Columns { get; }

    /// <summary>The size of an image pixel in the PNG.</summary>
    public int Scale { get; }

    /// <summary>The PNG's width in pixels.</summary>
    public int Width { get; }

    /// <summary>The PNG's height in pixels.</summary>
    public int Height { get; }

    /// <summary>The grid's images, row by row: image <c>digit * Columns + column</c>, each <see cref="DigitsGenerator.ImageLength"/> values.</summary>
    public IReadOnlyList<float[]> Images => _images;

    /// <summary>
    /// The PNG's size for a grid: each image is 16 x <paramref name="scale"/> pixels square, with a line of
    /// <paramref name="scale"/> pixels around and between the images.
    /// </summary>
    /// <param name="columns">Images per digit, at least 1.</param>
    /// <param name="scale">The size of an image pixel, at least 1.</param>
    public static (int Width, int Height) GetPixelSize(int columns, int scale)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        int cell = checked(DigitsGenerator.ImageSize * scale + scale);
        return (checked(columns * cell + scale), checked(DigitsGenerator.DigitCount * cell + scale));
    }

    /// <summary>The latent vectors of a grid: <c>10 * columns</c> vectors of N(0, 1) numbers drawn from <paramref name="seed"/>, row by row.</summary>
    public static float[][] CreateLatents(int columns, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        var random = new GaussianSource(seed);
        var latents = new float[checked(DigitsGenerator.DigitCount * columns)][];
        for (int i = 0; i < latents.Length; i++)
            latents[i] = random.NextArray(DigitsGenerator.LatentLength, 0, 1);
        return latents;
    }

    /// <summary>
    /// Maps one tanh output in [-1, 1] to a grey byte: -1 → 0, 1 → 255, linearly, rounded to the nearest
    /// (<c>round((v + 1) * 127.5)</c>); values outside the range (and NaN, as 0) are clamped.
    /// </summary>
    public static byte ToByte(float value)
    {
        float scaled = MathF.Round((value + 1f) * 127.5f, MidpointRounding.AwayFromZero);
        return scaled >= 255f ? (byte)255 : scaled > 0f ? (byte)scaled : (byte)0;
    }

    /// <summary>The PNG's pixels, row by row from the top, one grey byte each (<see cref="Width"/> x <see cref="Height"/>).</summary>
    public byte[] ToGreyBytes()
    {
        var pixels = new byte[checked(Width * Height)];
        pixels.AsSpan().Fill(LineGrey);
        int cell = DigitsGenerator.ImageSize * Scale + Scale;
        for (int i = 0; i < _images.Length; i++)
        {
            int left = Scale + i % Columns * cell, top = Scale + DigitOf(i) * cell;
            for (int y = 0; y < DigitsGenerator.ImageSize * Scale; y++)
            {
                Span<byte> row = pixels.AsSpan((top + y) * Width + left, DigitsGenerator.ImageSize * Scale);
                for (int x = 0; x < row.Length; x++)
                    row[x] = ToByte(_images[i][y / Scale * DigitsGenerator.ImageSize + x / Scale]);
            }
        }

        return pixels;
    }

    /// <summary>Writes the grid as an 8-bit grey PNG, creating its folder if needed.</summary>
    /// <param name="path">The file to create or overwrite.</param>
    public void SavePng(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
            Directory.CreateDirectory(folder);
        using var image = Image.LoadPixelData<L8>(ToGreyBytes(), Width, Height);
        image.SaveAsPng(path);
    }

    /// <summary>
    /// The first image of every row (the digits 0 to 9) as text, five digits side by side: one character per pixel across
    /// and per two pixels down (a terminal's characters are about twice as tall as wide), the mean of the two pixels
    /// shown by the <see cref="AsciiRamp"/> character of its tenth of [-1, 1] (a blank for the background).
    /// </summary>
    public string ToAscii()
    {
        const int perLine = 5, size = DigitsGenerator.ImageSize;
        var text = new StringBuilder();
        for (int first = 0; first < DigitsGenerator.DigitCount; first += perLine)
        {
            for (int y = 0; y < size; y += 2)
            {
                for (int digit = first; digit < first + perLine; digit++)
                {
                    float[] image = _images[digit * Columns];
                    text.Append(digit == first ? "" : "  ");
                    for (int x = 0; x < size; x++)
                    {
                        // The mean of the two rows, from [-1, 1] to a ramp index.
                        float value = (image[y * size + x] + image[(y + 1) * size + x]) / 2;
                        // Each character covers an equal tenth of [-1, 1], rounded down, so that the background's
                        // near -1 values stay blank.
                        float clamped = float.IsNaN(value) ? -1f : Math.Clamp(value, -1f, 1f);
                        int level = Math.Min((int)((clamped + 1f) / 2f * AsciiRamp.Length), AsciiRamp.Length - 1);
                        text.Append(AsciiRamp[level]);
                    }
                }

                text.AppendLine();
            }

            if (first + perLine < DigitsGenerator.DigitCount)
                text.AppendLine();
        }

        return text.ToString();
    }

    private int DigitOf(int index) => index / Columns;
}
