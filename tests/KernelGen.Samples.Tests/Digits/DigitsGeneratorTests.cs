using System.Buffers.Binary;
using System.Text;
using Digits;
using KernelGen.IO;

namespace KernelGen.Samples.Tests;

/// <summary>
/// The Digits sample's network, loaded from the weights PyTorch trained (samples/Digits/Model, written by
/// samples/Digits/training/train_digits.py): both paths against PyTorch's outputs for the fixed latents, the generated
/// kernels' shapes against the file's tensors, the input code, and every bad input and bad file.
/// </summary>
public sealed class DigitsGeneratorTests : IDisposable
{
    /// <summary>PyTorch computes in float; 1e-4 relative (to at least 1) leaves room for the folding's rounding and the summation orders.</summary>
    private const double PyTorchTolerance = 1e-4;

    private static readonly string ModelFolder = Path.Combine(AppContext.BaseDirectory, "Model");
    private static readonly DigitsGenerator Generator = DigitsGenerator.Load(DigitsGenerator.DefaultWeightsPath);

    private readonly string _folder = Directory.CreateTempSubdirectory("kernelgen-digits-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Both_paths_compute_PyTorchs_images_for_the_fixed_latents(bool useRuntime)
    {
        // Read with NpyFile here, not through the sample's PyTorchReference, so that this checks the network on its own.
        float[] latents = NpyFile.ReadSingle(Path.Combine(ModelFolder, "fixed_latents.npy"), out int[] latentShape);
        float[] digits = NpyFile.ReadSingle(Path.Combine(ModelFolder, "fixed_digits.npy"), out int[] digitShape);
        float[] expected = NpyFile.ReadSingle(Path.Combine(ModelFolder, "fixed_outputs.npy"), out int[] outputShape);
        int count = latentShape[0];
        Assert.Equal([count, 32], latentShape);
        Assert.Equal([count], digitShape);
        Assert.Equal([count, 1, 16, 16], outputShape);
        Assert.True(count >= 10, "every digit is among the fixed latents");
        Assert.Equal(Enumerable.Range(0, 10).Select(d => (float)d), digits.Distinct().Order());

        var image = new float[DigitsGenerator.ImageLength];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<float> latent = latents.AsSpan(i * 32, 32);
            if (useRuntime)
                Generator.RunRuntime(latent, (int)digits[i], image);
            else
                Generator.RunGenerated(latent, (int)digits[i], image);
            for (int j = 0; j < image.Length; j++)
            {
                float want = expected[i * 256 + j];
                double tolerance = PyTorchTolerance * Math.Max(1, Math.Abs(want));
                Assert.True(Math.Abs(image[j] - want) <= tolerance,
                    $"latent {i} (digit {digits[i]}), pixel {j}: {image[j]:R}, PyTorch {want:R}");
            }
        }
    }

    [Fact]
    public void The_images_are_pictures_not_a_constant()
    {
        // The trained network draws ink on a background: every image spans most of tanh's range, and the images of
        // different digits differ by far more than the tolerance.
        var reference = PyTorchReference.Load(ModelFolder);
        var images = reference.Latents.Select((latent, i) =>
        {
            var image = new float[DigitsGenerator.ImageLength];
            Generator.RunGenerated(latent, reference.Digits[i], image);
            return image;
        }).ToArray();
        Assert.All(images, image => Assert.True(image.Min() < -0.9f && image.Max() > 0.5f, $"range [{image.Min()}, {image.Max()}]"));
        Assert.True(images[0].Zip(images[1], (a, b) => Math.Abs(a - b)).Max() > 0.5f);
    }

    [Fact]
    public void The_grid_draws_the_digits_it_is_asked_for()
    {
        // A crude classifier without Python: the nearest of the ten mean training images (digit_means.npy, written by the
        // training script). It puts 90 % of the training images themselves in the right class; the trained network's
        // images of the sample's default grid must come close. An untrained network, wrong weights or a one-hot code in
        // the wrong place gives about 10 %.
        float[] means = NpyFile.ReadSingle(Path.Combine(ModelFolder, "digit_means.npy"), out int[] shape);
        Assert.Equal([10, 16, 16], shape);
        var grid = new DigitsGrid(Generator, DigitsCommand.DefaultColumns, DigitsCommand.DefaultSeed, 1);
        int right = 0;
        for (int i = 0; i < grid.Images.Count; i++)
        {
            float[] image = grid.Images[i];
            int nearest = Enumerable.Range(0, 10)
                .MinBy(d => Enumerable.Range(0, 256).Sum(p => Math.Pow(image[p] - means[d * 256 + p], 2)));
            right += nearest == i / grid.Columns ? 1 : 0;
        }

        Assert.True(right >= 80, $"{right} of {grid.Images.Count} images are nearest to their digit's mean image");
    }

    [Fact]
    public void The_sample_checks_against_PyTorch_with_the_same_result()
    {
        var reference = PyTorchReference.Load(ModelFolder);
        Assert.InRange(reference.LargestRelativeDifference(Generator, useRuntime: false), 0, PyTorchTolerance);
        Assert.InRange(reference.LargestRelativeDifference(Generator, useRuntime: true), 0, PyTorchTolerance);
    }

    [Fact]
    public void The_generated_kernels_shapes_are_the_trained_tensors_shapes()
    {
        using var file = SafeTensorsFile.Open(DigitsGenerator.DefaultWeightsPath);
        Assert.Equal(DigitsKernels.ProjectShape.WeightsLength, file.GetElementCount("layers.0.weight"));
        Assert.Equal(DigitsKernels.UpsampleTo8Shape.WeightsLength, file.GetElementCount("layers.3.weight"));
        Assert.Equal(DigitsKernels.ToImageShape.WeightsLength, file.GetElementCount("layers.6.weight"));
        Assert.Equal([42, 64, 4, 4], file.GetShape("layers.0.weight"));
        Assert.Equal([64, 32, 4, 4], file.GetShape("layers.3.weight"));
        Assert.Equal([32, 1, 4, 4], file.GetShape("layers.6.weight"));
        Assert.Equal((42, 64 * 4 * 4, 32 * 8 * 8, 256), (DigitsKernels.ProjectShape.InputLength, DigitsKernels.ProjectShape.OutputLength,
            DigitsKernels.UpsampleTo8Shape.OutputLength, DigitsKernels.ToImageShape.OutputLength));
        // Kept small: float16, and nothing but the generator (no discriminator, no optimiser state).
        Assert.All(file.Names, name => Assert.Equal(SafeTensorsDType.F16, file.GetDType(name)));
        Assert.Equal(12, file.Names.Count);
    }

    [Fact]
    public void The_input_is_the_latent_then_the_one_hot_digit()
    {
        float[] latent = Enumerable.Range(1, 32).Select(i => i / 10f).ToArray();
        var input = new float[42];
        input.AsSpan().Fill(float.NaN);
        DigitsGenerator.CreateInput(latent, 7, input);
        Assert.Equal(latent, input[..32]);
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 1, 0, 0], input[32..]);
    }

    [Fact]
    public void The_digit_chooses_the_image()
    {
        float[] latent = DigitsGrid.CreateLatents(1, 5)[0];
        var three = new float[256];
        var eight = new float[256];
        Generator.RunGenerated(latent, 3, three);
        Generator.RunGenerated(latent, 8, eight);
        Assert.NotEqual(three, eight);
        var again = new float[256];
        Generator.RunGenerated(latent, 3, again);
        Assert.Equal(three, again);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(10)]
    [InlineData(int.MinValue)]
    public void A_digit_outside_0_to_9_is_refused_before_anything_is_written(int digit)
    {
        var image = new float[256];
        image.AsSpan().Fill(42f);
        Assert.Equal("digit", Assert.Throws<ArgumentOutOfRangeException>(() => Generator.RunGenerated(new float[32], digit, image)).ParamName);
        Assert.Equal("digit", Assert.Throws<ArgumentOutOfRangeException>(() => Generator.RunRuntime(new float[32], digit, image)).ParamName);
        Assert.Equal("digit", Assert.Throws<ArgumentOutOfRangeException>(() => DigitsGenerator.CreateInput(new float[32], digit, new float[42])).ParamName);
        Assert.All(image, value => Assert.Equal(42f, value));
    }

    [Fact]
    public void Wrong_lengths_are_refused_naming_the_parameter()
    {
        var image = new float[256];
        image.AsSpan().Fill(42f);
        Assert.Equal("latent", Assert.Throws<ArgumentException>(() => Generator.RunGenerated(new float[31], 0, image)).ParamName);
        Assert.Equal("latent", Assert.Throws<ArgumentException>(() => Generator.RunRuntime(new float[33], 0, image)).ParamName);
        Assert.Equal("image", Assert.Throws<ArgumentException>(() => Generator.RunGenerated(new float[32], 0, new float[255])).ParamName);
        Assert.Equal("image", Assert.Throws<ArgumentException>(() => Generator.RunRuntime(new float[32], 0, new float[257])).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => DigitsGenerator.CreateInput(new float[32], 0, new float[41])).ParamName);
        Assert.All(image, value => Assert.Equal(42f, value));
    }

    [Fact]
    public void A_missing_file_is_a_FileNotFoundException()
    {
        Assert.Throws<FileNotFoundException>(() => DigitsGenerator.Load(Path.Combine(_folder, "none.safetensors")));
    }

    [Fact]
    public void A_file_without_a_tensor_of_the_network_is_refused_naming_the_file_and_the_tensor()
    {
        Dictionary<string, (int[] Shape, float[] Values)> tensors = ReadAll();
        tensors.Remove("layers.4.running_var");
        string path = Write("missing.safetensors", tensors);
        var e = Assert.Throws<InvalidDataException>(() => DigitsGenerator.Load(path));
        Assert.Contains("layers.4.running_var", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void A_tensor_of_another_shape_is_refused_naming_both_shapes()
    {
        Dictionary<string, (int[] Shape, float[] Values)> tensors = ReadAll();
        tensors["layers.3.weight"] = ([32, 64, 4, 4], tensors["layers.3.weight"].Values);
        string path = Write("transposed.safetensors", tensors);
        var e = Assert.Throws<InvalidDataException>(() => DigitsGenerator.Load(path));
        Assert.Contains("'layers.3.weight'", e.Message);
        Assert.Contains("[32, 64, 4, 4]", e.Message);
        Assert.Contains("[64, 32, 4, 4]", e.Message);
    }

    [Fact]
    public void A_bias_on_a_layer_without_one_is_refused()
    {
        Dictionary<string, (int[] Shape, float[] Values)> tensors = ReadAll();
        tensors["layers.0.bias"] = ([64], new float[64]);
        var e = Assert.Throws<InvalidDataException>(() => DigitsGenerator.Load(Write("bias.safetensors", tensors)));
        Assert.Contains("layers.0.bias", e.Message);
    }

    [Fact]
    public void The_same_weights_in_float32_give_the_same_network()
    {
        // The loader takes any float dtype: the F16 file's values written back as F32 compute the same images exactly.
        var loaded = DigitsGenerator.Load(Write("f32.safetensors", ReadAll()));
        float[] latent = DigitsGrid.CreateLatents(1, 9)[0];
        var expected = new float[256];
        var actual = new float[256];
        Generator.RunGenerated(latent, 4, expected);
        loaded.RunGenerated(latent, 4, actual);
        Assert.Equal(expected, actual);
    }

    private static Dictionary<string, (int[] Shape, float[] Values)> ReadAll()
    {
        using var file = SafeTensorsFile.Open(DigitsGenerator.DefaultWeightsPath);
        return file.Names.ToDictionary(name => name, name => (file.GetShape(name), file.ReadSingle(name)));
    }

    /// <summary>Writes an F32 safetensors file (the published format: header length, JSON header padded to 8, packed data).</summary>
    private string Write(string name, Dictionary<string, (int[] Shape, float[] Values)> tensors)
    {
        var header = new StringBuilder("{");
        long offset = 0;
        foreach (var (tensor, (shape, values)) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            header.Append(header.Length > 1 ? "," : "")
                .Append($"\"{tensor}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + values.Length * 4L}]}}");
            offset += values.Length * 4L;
        }

        header.Append('}');
        while (header.Length % 8 != 0)
            header.Append(' ');
        string path = Path.Combine(_folder, name);
        using var stream = File.Create(path);
        Span<byte> word = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(word, (ulong)header.Length);
        stream.Write(word);
        stream.Write(Encoding.ASCII.GetBytes(header.ToString()));
        foreach (var (_, (_, values)) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            foreach (float value in values)
            {
                BinaryPrimitives.WriteSingleLittleEndian(word, value);
                stream.Write(word[..4]);
            }
        }

        return path;
    }
}
