using System.Buffers.Binary;
using System.Text;

namespace KernelGen.Tests.IO;

/// <summary>
/// The files written by <c>Fixtures/io/make_io_fixtures.py</c> (PyTorch and numpy), temporary files for the tests that
/// build bad files from bytes, and the comparisons the IO tests share.
/// </summary>
internal static class IoFixtures
{
    public static string PathOf(string fileName) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "io", fileName);

    /// <summary>A safetensors file: the 8-byte little-endian header length, the header, the data.</summary>
    public static byte[] SafeTensors(string header, byte[] data) => SafeTensors(Encoding.UTF8.GetBytes(header), data);

    public static byte[] SafeTensors(byte[] header, byte[] data)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    /// <summary>Bit for bit, except that any NaN equals any NaN.</summary>
    public static void AssertSameValues(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            bool same = float.IsNaN(expected[i])
                ? float.IsNaN(actual[i])
                : BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]);
            if (!same)
                Assert.Fail($"{what}[{i}] is {actual[i]:R}, expected {expected[i]:R}");
        }
    }

    /// <summary><c>|actual - expected| &lt;= relative * max(1, |expected|)</c> for every element.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(actual[i] - (double)expected[i]) <= relative * Math.Max(1, Math.Abs(expected[i]))))
                Assert.Fail($"{what}[{i}] is {actual[i]:R}, expected {expected[i]:R} (relative tolerance {relative})");
        }
    }
}

/// <summary>A file in the temporary folder, deleted on dispose.</summary>
internal sealed class TempFile : IDisposable
{
    public TempFile(string extension) =>
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"kernelgen-io-{Guid.NewGuid():N}{extension}");

    public TempFile(string extension, byte[] contents) : this(extension) => File.WriteAllBytes(Path, contents);

    public string Path { get; }

    public void Dispose() => File.Delete(Path);
}

/// <summary>
/// Transposed convolution of any rank as its definition writes it, accumulated in double: the reference for the 1-D and
/// 3-D folding tests (KernelGen computes 2-D only). Layouts: input <c>(N, Cin, spatial...)</c>, weights
/// <c>(Cin, Cout / groups, kernel...)</c>, output <c>(N, Cout, spatial...)</c>; symmetric padding as PyTorch's.
/// </summary>
internal static class NaiveConvTranspose
{
    public static int[] OutputSize(int[] inputSize, int[] kernel, int[] stride, int[] padding, int[] outputPadding, int[] dilation) =>
        inputSize.Select((n, d) => (n - 1) * stride[d] - 2 * padding[d] + dilation[d] * (kernel[d] - 1) + outputPadding[d] + 1).ToArray();

    public static double[] Compute(ReadOnlySpan<float> input, int batch, int inChannels, int[] inputSize, ReadOnlySpan<float> weights,
        ReadOnlySpan<float> bias, int outChannels, int[] kernel, int[] stride, int[] padding, int[] outputPadding, int[] dilation, int groups)
    {
        int[] outputSize = OutputSize(inputSize, kernel, stride, padding, outputPadding, dilation);
        int rank = inputSize.Length;
        int inPlane = Product(inputSize), outPlane = Product(outputSize), kernelCount = Product(kernel);
        int inPerGroup = inChannels / groups, outPerGroup = outChannels / groups;
        Assert.Equal(batch * inChannels * inPlane, input.Length);
        Assert.Equal(inChannels * outPerGroup * kernelCount, weights.Length);

        var output = new double[batch * outChannels * outPlane];
        var inIndex = new int[rank];
        var kIndex = new int[rank];
        for (int n = 0; n < batch; n++)
        for (int oc = 0; oc < outChannels; oc++)
        {
            int o0 = (n * outChannels + oc) * outPlane;
            for (int p = 0; p < outPlane; p++)
                output[o0 + p] = bias.IsEmpty ? 0 : bias[oc];
        }

        for (int n = 0; n < batch; n++)
        for (int ic = 0; ic < inChannels; ic++)
        for (int i = 0; i < inPlane; i++)
        {
            Unflatten(i, inputSize, inIndex);
            double x = input[(n * inChannels + ic) * inPlane + i];
            int group = ic / inPerGroup;
            for (int j = 0; j < outPerGroup; j++)
            {
                int oc = group * outPerGroup + j;
                for (int k = 0; k < kernelCount; k++)
                {
                    Unflatten(k, kernel, kIndex);
                    int flat = 0;
                    bool inside = true;
                    for (int d = 0; d < rank && inside; d++)
                    {
                        int position = inIndex[d] * stride[d] - padding[d] + kIndex[d] * dilation[d];
                        inside = position >= 0 && position < outputSize[d];
                        flat = flat * outputSize[d] + position;
                    }
                    if (inside)
                        output[(n * outChannels + oc) * outPlane + flat] += x * weights[(ic * outPerGroup + j) * kernelCount + k];
                }
            }
        }
        return output;
    }

    public static int Product(int[] sizes) => sizes.Aggregate(1, (a, b) => a * b);

    private static void Unflatten(int index, int[] sizes, int[] result)
    {
        for (int d = sizes.Length - 1; d >= 0; d--)
        {
            result[d] = index % sizes[d];
            index /= sizes[d];
        }
    }
}
