using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Upscale;

namespace KernelGen.Samples.Tests;

/// <summary>
/// The sample's upscaler (a depthwise stride-2 transposed convolution with bilinear weights, run by the KernelGen
/// runtime) against an independent textbook bilinear upsampling: equal inside, and darker by exactly the share of the
/// kernel that falls outside the image on the one-pixel output border.
/// </summary>
public sealed class UpscaleTests
{
    /// <summary>Float results are exact (multiples of 1/16); this only allows for a different summation order.</summary>
    private const double FloatTolerance = 1e-5;

    public static TheoryData<string> Images => new() { "random 29x23", "random 1x7", "structured 40x30", "structured 2x2" };

    [Fact]
    public void BilinearTaps_for_factor_two_are_the_FCN_kernel()
    {
        Assert.Equal([0.25f, 0.75f, 0.75f, 0.25f], BilinearUpscaler.BilinearTaps(2));
        Assert.Equal(4, BilinearUpscaler.KernelSize);
    }

    [Fact]
    public void BilinearTaps_follow_the_general_formula_for_other_factors()
    {
        // Odd factor: 2 * 3 - 1 = 5 taps centred at factor - 1 = 2.
        Assert.Equal([1f / 3, 2f / 3, 1f, 2f / 3, 1f / 3], BilinearUpscaler.BilinearTaps(3));
        // Factor 4: 8 taps centred at 3.5, 1 - |i - 3.5| / 4.
        Assert.Equal([0.125f, 0.375f, 0.625f, 0.875f, 0.875f, 0.625f, 0.375f, 0.125f], BilinearUpscaler.BilinearTaps(4));
        Assert.Equal([1f], BilinearUpscaler.BilinearTaps(1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void BilinearTaps_reject_a_factor_below_one(int factor)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => BilinearUpscaler.BilinearTaps(factor));
        Assert.Equal("factor", e.ParamName);
    }

    [Fact]
    public void Weights_are_the_outer_product_of_the_taps_for_every_channel()
    {
        float[] kernel =
        [
            0.0625f, 0.1875f, 0.1875f, 0.0625f,
            0.1875f, 0.5625f, 0.5625f, 0.1875f,
            0.1875f, 0.5625f, 0.5625f, 0.1875f,
            0.0625f, 0.1875f, 0.1875f, 0.0625f,
        ];
        float[] weights = BilinearUpscaler.CreateWeights(channels: 3);
        Assert.Equal(3 * 16, weights.Length);
        for (int c = 0; c < 3; c++)
            Assert.Equal(kernel, weights[(c * 16)..((c + 1) * 16)]);
        Assert.Throws<ArgumentOutOfRangeException>(() => BilinearUpscaler.CreateWeights(0));
    }

    [Fact]
    public void The_layer_is_depthwise_kernel_4_stride_2_padding_1()
    {
        var definition = BilinearUpscaler.CreateLayer(channels: 4, maxDegreeOfParallelism: 1).Definition;
        Assert.Equal((4, 4, 4), (definition.InChannels, definition.OutChannels, definition.Groups));
        Assert.Equal((4, 4), (definition.KernelSize.Height, definition.KernelSize.Width));
        Assert.Equal((2, 2), (definition.Stride.Height, definition.Stride.Width));
        Assert.Equal((1, 1, 1, 1), (definition.Padding.Top, definition.Padding.Left, definition.Padding.Bottom, definition.Padding.Right));
        Assert.Equal((34, 50), definition.GetOutputSize(17, 25));
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Inside_the_border_the_float_result_is_textbook_bilinear_upsampling(string name)
    {
        using var image = MakeImage(name);
        float[] planes = TextbookBilinear.Planes(image);
        float[] actual = BilinearUpscaler.UpscalePlanes(planes, channels: 4, image.Height, image.Width);
        double[] expected = TextbookBilinear.Upsample2x(planes, channels: 4, image.Height, image.Width);

        int outputHeight = 2 * image.Height, outputWidth = 2 * image.Width, checkedPixels = 0;
        Assert.Equal(expected.Length, actual.Length);
        for (int c = 0; c < 4; c++)
        {
            for (int y = 1; y < outputHeight - 1; y++)
            {
                for (int x = 1; x < outputWidth - 1; x++)
                {
                    int i = (c * outputHeight + y) * outputWidth + x;
                    if (Math.Abs(actual[i] - expected[i]) > FloatTolerance)
                        Assert.Fail($"{name}: channel {c}, output ({y}, {x}): {actual[i]}, textbook bilinear {expected[i]}.");
                    checkedPixels++;
                }
            }
        }

        Assert.Equal(4 * (outputHeight - 2) * (outputWidth - 2), checkedPixels);
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void On_the_border_the_result_is_bilinear_scaled_by_the_share_of_the_kernel_inside_the_image(string name)
    {
        // The transposed convolution reads zeros beyond the input, where bilinear upsampling clamps to the edge: an
        // output on the first or last row (column) misses the 0.25 tap of that axis and keeps 0.75 of the value.
        using var image = MakeImage(name);
        float[] planes = TextbookBilinear.Planes(image);
        float[] actual = BilinearUpscaler.UpscalePlanes(planes, channels: 4, image.Height, image.Width);
        double[] bilinear = TextbookBilinear.Upsample2x(planes, channels: 4, image.Height, image.Width);

        int outputHeight = 2 * image.Height, outputWidth = 2 * image.Width;
        for (int c = 0; c < 4; c++)
        {
            for (int y = 0; y < outputHeight; y++)
            {
                for (int x = 0; x < outputWidth; x++)
                {
                    double share = (y == 0 || y == outputHeight - 1 ? 0.75 : 1) * (x == 0 || x == outputWidth - 1 ? 0.75 : 1);
                    int i = (c * outputHeight + y) * outputWidth + x;
                    if (Math.Abs(actual[i] - share * bilinear[i]) > FloatTolerance)
                        Assert.Fail($"{name}: channel {c}, output ({y}, {x}): {actual[i]}, expected {share} x {bilinear[i]}.");
                }
            }
        }
    }

    [Fact]
    public void Float_planes_with_any_values_and_channel_count_match_textbook_bilinear_inside()
    {
        const int Channels = 3, Height = 13, Width = 21;
        var random = new Random(20240611);
        var planes = new float[Channels * Height * Width];
        for (int i = 0; i < planes.Length; i++)
            planes[i] = (float)(random.NextDouble() * 2 - 1);

        float[] actual = BilinearUpscaler.UpscalePlanes(planes, Channels, Height, Width);
        double[] expected = TextbookBilinear.Upsample2x(planes, Channels, Height, Width);
        for (int c = 0; c < Channels; c++)
        {
            for (int y = 1; y < 2 * Height - 1; y++)
            {
                for (int x = 1; x < 2 * Width - 1; x++)
                {
                    int i = (c * 2 * Height + y) * 2 * Width + x;
                    Assert.True(Math.Abs(actual[i] - expected[i]) <= FloatTolerance, $"channel {c}, ({y}, {x}): {actual[i]} vs {expected[i]}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Upscaled_image_is_twice_as_large_and_within_one_of_rounded_bilinear_inside(string name)
    {
        using var image = MakeImage(name);
        double[] bilinear = TextbookBilinear.Upsample2x(TextbookBilinear.Planes(image), channels: 4, image.Height, image.Width);

        using var upscaled = BilinearUpscaler.Upscale(image);

        Assert.Equal((2 * image.Width, 2 * image.Height), (upscaled.Width, upscaled.Height));
        int outputHeight = upscaled.Height, outputWidth = upscaled.Width;
        for (int y = 1; y < outputHeight - 1; y++)
        {
            for (int x = 1; x < outputWidth - 1; x++)
            {
                for (int c = 0; c < 4; c++)
                {
                    double expected = Math.Round(bilinear[(c * outputHeight + y) * outputWidth + x], MidpointRounding.AwayFromZero);
                    int actual = TextbookBilinear.Channel(upscaled[x, y], c);
                    if (Math.Abs(actual - expected) > 1)
                        Assert.Fail($"{name}: channel {c}, pixel ({y}, {x}): {actual}, rounded bilinear {expected}.");
                }
            }
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    [InlineData(17, 9)]
    public void A_flat_image_stays_flat_inside_and_its_border_keeps_three_quarters(int width, int height)
    {
        var colour = new Rgba32(200, 101, 37, 255);
        using var flat = new Image<Rgba32>(width, height, colour);

        using var upscaled = BilinearUpscaler.Upscale(flat);

        Assert.Equal((2 * width, 2 * height), (upscaled.Width, upscaled.Height));
        for (int y = 0; y < upscaled.Height; y++)
        {
            for (int x = 0; x < upscaled.Width; x++)
            {
                // Inside: the four weights of every output pixel sum to 1. On an edge they sum to 0.75, at a corner to
                // 0.75 x 0.75 = 0.5625 (e.g. 200 -> 150 and 112.5 -> 113, alpha 255 -> 191.25 -> 191 and 143.4 -> 143).
                bool rowEdge = y == 0 || y == upscaled.Height - 1, columnEdge = x == 0 || x == upscaled.Width - 1;
                float share = (rowEdge ? 0.75f : 1f) * (columnEdge ? 0.75f : 1f);
                var expected = new Rgba32(Scale(colour.R, share), Scale(colour.G, share), Scale(colour.B, share), Scale(colour.A, share));
                Assert.True(expected == upscaled[x, y], $"{width}x{height}, pixel ({y}, {x}): {upscaled[x, y]}, expected {expected}.");
            }
        }

        Assert.Equal(new Rgba32(113, 57, 21, 143), upscaled[0, 0]);  // golden corner: 0.5625 x (200, 101, 37, 255), rounded
        if (width > 1)
            Assert.Equal(new Rgba32(150, 76, 28, 191), upscaled[1, 0]);  // golden top edge: 0.75 x (200, 101, 37, 255), rounded
    }

    [Fact]
    public void Interior_of_a_flat_image_is_exactly_its_colour()
    {
        var colour = new Rgba32(7, 128, 254, 90);
        using var flat = new Image<Rgba32>(11, 6, colour);
        using var upscaled = BilinearUpscaler.Upscale(flat);
        for (int y = 1; y < upscaled.Height - 1; y++)
        {
            for (int x = 1; x < upscaled.Width - 1; x++)
                Assert.Equal(colour, upscaled[x, y]);
        }
    }

    [Fact]
    public void One_thread_and_all_threads_give_the_same_image_and_the_input_is_unchanged()
    {
        // Large enough (4 channels x 600 x 440 outputs x 4 taps) for the runtime to split the call across threads.
        using var image = RandomImage(300, 220, seed: 5);
        using var before = image.Clone();

        using var single = BilinearUpscaler.Upscale(image, maxDegreeOfParallelism: 1);
        using var parallel = BilinearUpscaler.Upscale(image, maxDegreeOfParallelism: Math.Max(2, Environment.ProcessorCount));

        Assert.Equal(Pixels(single), Pixels(parallel));
        Assert.Equal(Pixels(before), Pixels(image));
    }

    [Fact]
    public void Planes_round_trip_through_bytes_exactly()
    {
        using var image = RandomImage(9, 5, seed: 11);
        float[] planes = BilinearUpscaler.ToPlanes(image);
        Assert.Equal(TextbookBilinear.Planes(image), planes);
        using var back = BilinearUpscaler.FromPlanes(planes, image.Width, image.Height);
        Assert.Equal(Pixels(image), Pixels(back));
    }

    [Theory]
    [InlineData(-3f, 0)]
    [InlineData(0.49f, 0)]
    [InlineData(0.5f, 1)]
    [InlineData(112.5f, 113)]
    [InlineData(143.4375f, 143)]
    [InlineData(254.5f, 255)]
    [InlineData(300f, 255)]
    public void ToByte_clamps_and_rounds_halves_away_from_zero(float value, byte expected) =>
        Assert.Equal(expected, BilinearUpscaler.ToByte(value));

    [Fact]
    public void Bad_arguments_are_rejected_with_the_parameter_name()
    {
        Assert.Equal("image", Assert.Throws<ArgumentNullException>(() => BilinearUpscaler.Upscale(null!)).ParamName);
        Assert.Equal("image", Assert.Throws<ArgumentNullException>(() => BilinearUpscaler.ToPlanes(null!)).ParamName);
        using var image = new Image<Rgba32>(3, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => BilinearUpscaler.Upscale(image, maxDegreeOfParallelism: 0));

        Assert.Equal("planes", Assert.Throws<ArgumentException>(() => BilinearUpscaler.FromPlanes(new float[4 * 6 - 1], 3, 2)).ParamName);
        Assert.Equal("width", Assert.Throws<ArgumentOutOfRangeException>(() => BilinearUpscaler.FromPlanes([], 0, 2)).ParamName);

        var layer = BilinearUpscaler.CreateLayer(channels: 4, maxDegreeOfParallelism: 1);
        var output = new float[4 * 4 * 6];
        // Two samples' worth of input would be a batch to the runtime; the upscaler takes exactly one image.
        var e = Assert.Throws<ArgumentException>(() => BilinearUpscaler.UpscalePlanes(layer, new float[2 * 4 * 6], 2, 3, output));
        Assert.Equal("planes", e.ParamName);
        Assert.All(output, v => Assert.Equal(0f, v));
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => BilinearUpscaler.UpscalePlanes(layer, new float[4 * 6], 2, 3, new float[10])).ParamName);
    }

    private static byte Scale(byte value, float share) => BilinearUpscaler.ToByte(value * share);

    private static Image<Rgba32> MakeImage(string name)
    {
        string[] parts = name.Split(' ');
        string[] size = parts[1].Split('x');
        int width = int.Parse(size[0], System.Globalization.CultureInfo.InvariantCulture);
        int height = int.Parse(size[1], System.Globalization.CultureInfo.InvariantCulture);
        return parts[0] == "random" ? RandomImage(width, height, seed: width * 1000 + height) : TestImage.Create(width, height);
    }

    private static Image<Rgba32> RandomImage(int width, int height, int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[4 * width * height];
        random.NextBytes(bytes);
        return Image.LoadPixelData<Rgba32>(bytes, width, height);
    }

    private static Rgba32[] Pixels(Image<Rgba32> image)
    {
        var pixels = new Rgba32[image.Width * image.Height];
        image.CopyPixelDataTo(pixels);
        return pixels;
    }
}
