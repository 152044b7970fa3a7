using KernelGen;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Upscale;

/// <summary>
/// Doubles an image's resolution with a transposed convolution whose weights are the bilinear kernel: kernel 4,
/// stride 2, padding 1, one group per channel (depthwise). This is the fixed initialisation that fully convolutional
/// networks (FCN, Long et al. 2015) give their learned 2x upsampling layers, run here with the KernelGen runtime.
/// </summary>
/// <remarks>
/// <para><b>Why it is bilinear upsampling.</b> A stride-2 transposed convolution pastes, for every input pixel
/// <c>m</c>, a copy of the kernel scaled by its value at full-output offset <c>2m</c>; padding 1 then crops one cell,
/// so output <c>o</c> receives input <c>m</c> through tap <c>o + 1 - 2m</c>. An even output <c>o = 2m</c> gets tap 1
/// (0.75) from input <c>m</c> and tap 3 (0.25) from input <c>m - 1</c>; an odd output <c>o = 2m + 1</c> gets tap 2
/// (0.75) from <c>m</c> and tap 0 (0.25) from <c>m + 1</c>. Textbook bilinear upsampling with half-pixel centres
/// (PyTorch's <c>align_corners=False</c>) samples output <c>o</c> at input position <c>(o + 0.5) / 2 - 0.5</c>, that
/// is <c>m - 0.25</c> or <c>m + 0.25</c>: the same two neighbours with the same weights 0.75 and 0.25. The 2-D kernel
/// is the outer product of the 1-D taps, so the same holds for rows and columns together.</para>
/// <para><b>The border.</b> The equality holds everywhere except the outermost ring of output pixels. There the second
/// neighbour would be input <c>-1</c> or <c>H</c>, which the transposed convolution treats as zero (it has no notion of
/// edge clamping), whereas bilinear upsampling clamps to the edge pixel. So the ring gets only 0.75 of the value along
/// each axis it touches: an edge pixel is 0.75 times the bilinear result and a corner 0.75 x 0.75 = 0.5625 times. The
/// ring comes out darker and, as alpha is treated like the colours, partly transparent.</para>
/// <para><b>Layout.</b> Images are converted to NCHW planes (one float plane per channel), not NHWC, though NHWC would
/// match ImageSharp's interleaved RGBA pixels. Converting bytes to floats is a pass over every pixel either way, and
/// splitting channels into planes during that pass costs nothing extra. The runtime computes a layer with few output
/// channels per group (here 1, depthwise) with its width-vectorised kernel, which reads NCHW; given NHWC it would
/// reorder the input into NCHW and the output back, two extra passes over the data.</para>
/// <para><b>Alpha.</b> Alpha is a fourth channel upsampled exactly like red, green and blue (straight, not
/// premultiplied, alpha: a layer of a network treats every channel alike). Where a fully transparent pixel with an
/// arbitrary colour meets an opaque one, its colour bleeds in; premultiply first if that matters.</para>
/// <para>Pixel values stay on the 0-255 scale as floats. The bilinear weights are multiples of 1/16 and a pixel is a
/// sum of at most four products of a byte and such a weight, so every result is exact in <see cref="float"/>, whatever
/// order the kernel sums in.</para>
/// </remarks>
public static class BilinearUpscaler
{
    /// <summary>The upsampling factor per axis.</summary>
    public const int Factor = 2;

    /// <summary>Kernel height and width: <c>2 * factor - factor % 2</c> = 4 for factor 2.</summary>
    public const int KernelSize = 2 * Factor - Factor % 2;

    /// <summary>The stride of the transposed convolution: the upsampling factor.</summary>
    public const int Stride = Factor;

    /// <summary>
    /// Cells cropped from each side: the full output of <c>(H - 1) * 2 + 4 = 2H + 2</c> rows is cut to exactly
    /// <c>2H</c>, one row from the top and one from the bottom, which centres the kernel on the half-pixel grid.
    /// </summary>
    public const int Padding = 1;

    /// <summary>The channels of an <see cref="Rgba32"/> image: red, green, blue, alpha, in that plane order.</summary>
    public const int RgbaChannels = 4;

    /// <summary>
    /// The 1-D bilinear taps for an integer upsampling factor, by the FCN formula: a kernel of
    /// <c>2 * factor - factor % 2</c> taps centred at <c>factor - 0.5</c> (even factor) or <c>factor - 1</c> (odd), and
    /// <c>f(i) = 1 - |i - center| / factor</c>, a triangle ("tent") that falls to zero one input pixel from its centre.
    /// For factor 2: center 1.5 and <c>f = [1 - 1.5/2, 1 - 0.5/2, 1 - 0.5/2, 1 - 1.5/2] = [0.25, 0.75, 0.75, 0.25]</c>.
    /// </summary>
    /// <param name="factor">The upsampling factor, at least 1.</param>
    /// <returns>The taps, <c>2 * factor - factor % 2</c> of them.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is below 1.</exception>
    public static float[] BilinearTaps(int factor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        int size = 2 * factor - factor % 2;
        double center = factor % 2 == 0 ? factor - 0.5 : factor - 1;
        var taps = new float[size];
        for (int i = 0; i < size; i++)
            taps[i] = (float)(1 - Math.Abs(i - center) / factor);
        return taps;
    }

    /// <summary>
    /// The weights of the depthwise layer, in the PyTorch layout <c>(Cin = channels, Cout / groups = 1, 4, 4)</c>: every
    /// channel gets the same 4x4 kernel <c>w[i, j] = f(i) * f(j)</c>, with <c>f</c> from <see cref="BilinearTaps"/>.
    /// </summary>
    /// <param name="channels">The number of channels (= groups), at least 1.</param>
    /// <returns><c>channels * 16</c> weights.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="channels"/> is below 1.</exception>
    public static float[] CreateWeights(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        float[] taps = BilinearTaps(Factor);
        var weights = new float[channels * KernelSize * KernelSize];
        for (int c = 0; c < channels; c++)
        {
            for (int i = 0; i < KernelSize; i++)
            {
                for (int j = 0; j < KernelSize; j++)
                    weights[(c * KernelSize + i) * KernelSize + j] = taps[i] * taps[j];
            }
        }

        return weights;
    }

    /// <summary>
    /// The layer: a depthwise <see cref="ConvTranspose2D"/> (kernel 4, stride 2, padding 1, groups = channels, NCHW)
    /// with the bilinear weights packed once. It is safe to share between threads and allocates nothing per call once
    /// it has seen an input size.
    /// </summary>
    /// <param name="channels">The number of channels, at least 1.</param>
    /// <param name="maxDegreeOfParallelism">The most threads one call may use, at least 1.</param>
    /// <returns>The prepared layer.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is below 1.</exception>
    public static PreparedConvTranspose2D CreateLayer(int channels, int maxDegreeOfParallelism)
    {
        var layer = new ConvTranspose2D(inChannels: channels, outChannels: channels, kernelSize: KernelSize,
            stride: Stride, padding: Padding, groups: channels)
        {
            Layout = TensorLayout.Nchw,
            MaxDegreeOfParallelism = maxDegreeOfParallelism,
        };
        return layer.Prepare(CreateWeights(channels));
    }

    /// <summary>
    /// Upsamples NCHW float planes (one sample) by 2 with a layer made by <see cref="CreateLayer"/>. Interior output
    /// pixels equal bilinear upsampling with half-pixel centres; the outermost ring is darker (see the class remarks).
    /// </summary>
    /// <param name="layer">The prepared layer; its channel count decides how <paramref name="planes"/> is split.</param>
    /// <param name="planes"><c>channels * height * width</c> values, channel by channel, row by row.</param>
    /// <param name="height">Input height, at least 1.</param>
    /// <param name="width">Input width, at least 1.</param>
    /// <param name="output">At least <c>channels * 2 * height * 2 * width</c> values.</param>
    /// <exception cref="ArgumentException">A size or length is wrong; nothing has been written.</exception>
    public static void UpscalePlanes(PreparedConvTranspose2D layer, ReadOnlySpan<float> planes, int height, int width, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(layer);
        // One sample only: the runtime would take a longer input as a batch, which here can only be a caller's mistake.
        int expected = layer.Definition.GetInputLength(batch: 1, height, width);
        if (planes.Length != expected)
        {
            throw new ArgumentException(
                $"planes has {planes.Length} values, but {layer.Definition.InChannels} channels of {height}x{width} need {expected}.",
                nameof(planes));
        }

        layer.Compute(planes, height, width, output);
    }

    /// <summary>Upsamples NCHW float planes (one sample) by 2; see <see cref="UpscalePlanes(PreparedConvTranspose2D, ReadOnlySpan{float}, int, int, Span{float})"/>.</summary>
    /// <param name="planes"><c>channels * height * width</c> values, channel by channel, row by row.</param>
    /// <param name="channels">The number of channels, at least 1.</param>
    /// <param name="height">Input height, at least 1.</param>
    /// <param name="width">Input width, at least 1.</param>
    /// <returns><c>channels</c> planes of <c>2 * height</c> by <c>2 * width</c>.</returns>
    /// <exception cref="ArgumentException">A size or length is wrong.</exception>
    public static float[] UpscalePlanes(ReadOnlySpan<float> planes, int channels, int height, int width)
    {
        var layer = CreateLayer(channels, Environment.ProcessorCount);
        var output = new float[layer.Definition.GetOutputLength(batch: 1, height, width)];
        UpscalePlanes(layer, planes, height, width, output);
        return output;
    }

    /// <summary>Splits an image into four float planes (R, G, B, A; NCHW with one sample), values 0 to 255.</summary>
    /// <param name="image">The image.</param>
    /// <returns><c>4 * height * width</c> values.</returns>
    public static float[] ToPlanes(Image<Rgba32> image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int pixels = checked(image.Width * image.Height);
        var rgba = new Rgba32[pixels];
        image.CopyPixelDataTo(rgba);
        var planes = new float[checked(RgbaChannels * pixels)];
        for (int p = 0; p < pixels; p++)
        {
            planes[p] = rgba[p].R;
            planes[pixels + p] = rgba[p].G;
            planes[2 * pixels + p] = rgba[p].B;
            planes[3 * pixels + p] = rgba[p].A;
        }

        return planes;
    }

    /// <summary>
    /// Joins four float planes (R, G, B, A) into an image, clamping each value to 0-255 and rounding it to the nearest
    /// byte (halves away from zero).
    /// </summary>
    /// <param name="planes"><c>4 * height * width</c> values.</param>
    /// <param name="width">Image width, at least 1.</param>
    /// <param name="height">Image height, at least 1.</param>
    /// <returns>A new image.</returns>
    /// <exception cref="ArgumentException">A size is below 1 or the length does not match.</exception>
    public static Image<Rgba32> FromPlanes(ReadOnlySpan<float> planes, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        int pixels = checked(width * height);
        if (planes.Length != checked(RgbaChannels * pixels))
        {
            throw new ArgumentException(
                $"planes has {planes.Length} values, but 4 channels of {width}x{height} need {RgbaChannels * pixels}.", nameof(planes));
        }

        var rgba = new Rgba32[pixels];
        for (int p = 0; p < pixels; p++)
        {
            rgba[p] = new Rgba32(ToByte(planes[p]), ToByte(planes[pixels + p]), ToByte(planes[2 * pixels + p]),
                ToByte(planes[3 * pixels + p]));
        }

        return Image.LoadPixelData<Rgba32>(rgba, width, height);
    }

    /// <summary>Clamps a value to 0-255 and rounds it to the nearest byte, halves away from zero.</summary>
    /// <param name="value">A pixel value on the 0-255 scale.</param>
    /// <returns>The byte.</returns>
    public static byte ToByte(float value) => (byte)MathF.Round(Math.Clamp(value, 0f, 255f), MidpointRounding.AwayFromZero);

    /// <summary>
    /// Doubles an image's width and height: interior pixels are bilinear upsampling with half-pixel centres; the
    /// outermost ring of pixels is darker and more transparent (0.75 of the bilinear value on edges, 0.5625 at corners),
    /// because the transposed convolution reads zeros beyond the input's border.
    /// </summary>
    /// <param name="image">The image; it is not changed.</param>
    /// <param name="maxDegreeOfParallelism">The most threads the convolution may use, at least 1 (default: every processor).</param>
    /// <returns>A new image of <c>2 * width</c> by <c>2 * height</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDegreeOfParallelism"/> is below 1.</exception>
    public static Image<Rgba32> Upscale(Image<Rgba32> image, int? maxDegreeOfParallelism = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        var layer = CreateLayer(RgbaChannels, maxDegreeOfParallelism ?? Environment.ProcessorCount);
        float[] planes = ToPlanes(image);
        var output = new float[layer.Definition.GetOutputLength(batch: 1, image.Height, image.Width)];
        UpscalePlanes(layer, planes, image.Height, image.Width, output);
        return FromPlanes(output, Factor * image.Width, Factor * image.Height);
    }
}
