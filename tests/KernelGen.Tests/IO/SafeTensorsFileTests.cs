using System.Buffers.Binary;
using System.Text;
using KernelGen.IO;

namespace KernelGen.Tests.IO;

/// <summary>
/// <see cref="SafeTensorsFile"/> on the state dicts PyTorch's model wrote (<c>Fixtures/io/model_*.safetensors</c>) and on
/// files built here: names, dtypes, shapes, values, conversions, reading one tensor of a large file, and every rejection.
/// </summary>
public sealed class SafeTensorsFileTests
{
    /// <summary>The state dict of make_io_fixtures.py's Decoder: name and shape.</summary>
    private static readonly (string Name, int[] Shape)[] StateDict =
    [
        ("bn1.bias", [6]), ("bn1.num_batches_tracked", []), ("bn1.running_mean", [6]), ("bn1.running_var", [6]), ("bn1.weight", [6]),
        ("bn2.bias", [6]), ("bn2.num_batches_tracked", []), ("bn2.running_mean", [6]), ("bn2.running_var", [6]), ("bn2.weight", [6]),
        ("bn3.bias", [4]), ("bn3.num_batches_tracked", []), ("bn3.running_mean", [4]), ("bn3.running_var", [4]), ("bn3.weight", [4]),
        ("up1.bias", [6]), ("up1.weight", [4, 3, 3]),
        ("up2.weight", [4, 3, 3, 2]),
        ("up3.bias", [4]), ("up3.weight", [2, 4, 2, 3, 2]),
    ];

    [Theory]
    [InlineData("f32", SafeTensorsDType.F32)]
    [InlineData("f16", SafeTensorsDType.F16)]
    [InlineData("bf16", SafeTensorsDType.BF16)]
    [InlineData("f64", SafeTensorsDType.F64)]
    public void ReadsPyTorchsStateDictInEveryFloatType(string variant, SafeTensorsDType dtype)
    {
        using var file = SafeTensorsFile.Open(IoFixtures.PathOf($"model_{variant}.safetensors"));

        // In name order, although the reference writer puts the data (and the header) of larger types first.
        Assert.Equal(StateDict.Select(t => t.Name), file.Names);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Single(file.Metadata);

        var values = new List<float>();
        foreach (var (name, shape) in StateDict)
        {
            Assert.True(file.Contains(name));
            Assert.Equal(shape, file.GetShape(name));
            Assert.Equal(shape.Aggregate(1L, (a, b) => a * b), file.GetElementCount(name));
            Assert.Equal(name.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? SafeTensorsDType.I64 : dtype, file.GetDType(name));
            float[] tensor = file.ReadSingle(name);
            var again = new float[tensor.Length];
            file.ReadSingle(name, again);
            Assert.Equal(tensor, again);
            values.AddRange(tensor);
        }

        // PyTorch's own conversion of each stored tensor to float32, concatenated in name order.
        float[] expected = NpyFile.ReadSingle(IoFixtures.PathOf($"model_{variant}_values.npy"), out int[] expectedShape);
        Assert.Equal([expected.Length], expectedShape);
        IoFixtures.AssertSameValues(expected, values.ToArray(), $"model_{variant} values");
        Assert.Equal(7f, file.ReadSingle("bn2.num_batches_tracked").Single());
    }

    [Fact]
    public void TheLowPrecisionFilesHoldTheFloatModelRounded()
    {
        // Not a copy of one file read three times: the F16 and BF16 values are the F32 ones rounded to nearest even.
        using var f32 = SafeTensorsFile.Open(IoFixtures.PathOf("model_f32.safetensors"));
        using var f16 = SafeTensorsFile.Open(IoFixtures.PathOf("model_f16.safetensors"));
        using var bf16 = SafeTensorsFile.Open(IoFixtures.PathOf("model_bf16.safetensors"));
        float[] full = f32.ReadSingle("up2.weight");
        Assert.Equal(full.Select(v => (float)(Half)v), f16.ReadSingle("up2.weight"));
        Assert.Equal(full.Select(RoundToBFloat16), bf16.ReadSingle("up2.weight"));
        Assert.NotEqual(full, f16.ReadSingle("up2.weight"));
        Assert.NotEqual(full, bf16.ReadSingle("up2.weight"));
    }

    [Fact]
    public void ReadBatchNormTakesPyTorchsFourTensors()
    {
        using var file = SafeTensorsFile.Open(IoFixtures.PathOf("model_f32.safetensors"));
        BatchNormParameters bn = file.ReadBatchNorm("bn2", epsilon: 1e-3f);
        Assert.Equal(6, bn.Channels);
        Assert.Equal(1e-3f, bn.Epsilon);
        Assert.Equal(file.ReadSingle("bn2.weight"), bn.Gamma.ToArray());
        Assert.Equal(file.ReadSingle("bn2.bias"), bn.Beta.ToArray());
        Assert.Equal(file.ReadSingle("bn2.running_mean"), bn.RunningMean.ToArray());
        Assert.Equal(file.ReadSingle("bn2.running_var"), bn.RunningVariance.ToArray());
        var error = Assert.Throws<ArgumentException>(() => file.ReadBatchNorm("up1"));
        Assert.Contains("up1.running_mean", error.Message);
    }

    [Fact]
    public void ConvertsEveryKnownDType()
    {
        var cases = new (string DType, byte[] Bytes, float[] Expected)[]
        {
            ("BOOL", [0, 1, 2], [0, 1, 1]),
            ("U8", [0, 7, 255], [0, 7, 255]),
            ("I8", [0x80, 0xFF, 0x7F], [-128, -1, 127]),
            ("I16", Le<short>(-32768, -2, 32767), [-32768, -2, 32767]),
            ("U16", Le<ushort>(0, 65535, 3), [0, 65535, 3]),
            ("I32", Le(int.MinValue, -5, 16777217), [int.MinValue, -5, 16777216]),
            ("U32", Le(0u, uint.MaxValue, 9u), [0, 4294967296f, 9]),
            ("I64", Le(long.MinValue, -3L, 7L), [-9.223372E+18f, -3, 7]),
            ("U64", Le(0UL, ulong.MaxValue, 11UL), [0, 1.8446744E+19f, 11]),
            ("F16", Le((Half)1.5f, Half.NegativeInfinity, (Half)6.1035156e-05f), [1.5f, float.NegativeInfinity, 6.1035156e-05f]),
            ("BF16", Le<ushort>(0x3F80, 0xC0A0, 0x7F80), [1f, -5f, float.PositiveInfinity]),
            ("F32", Le(1.25f, -0f, float.Epsilon), [1.25f, -0f, float.Epsilon]),
            ("F64", Le(0.1, -1e300, 1e-50), [0.1f, float.NegativeInfinity, 0f]),
            // E5M2 is the upper byte of a half: 0x3C = 1, 0x7C = +inf, 0xC2 = -3 (exponent 1, mantissa 0.5).
            ("F8_E5M2", [0x3C, 0x7C, 0xC2], [1f, float.PositiveInfinity, -3f]),
            // E4M3 (bias 7, no infinities): 0x38 = 1, 0x7E = 448 (the largest), 0x01 = 2^-9 (smallest subnormal), 0xB8 = -1, 0x7F = NaN.
            ("F8_E4M3", [0x38, 0x7E, 0x01, 0xB8, 0x7F], [1f, 448f, 1f / 512, -1f, float.NaN]),
        };

        var header = new StringBuilder("{");
        var data = new List<byte>();
        foreach (var (dtype, bytes, expected) in cases)
        {
            header.Append($"\"t_{dtype}\":{{\"dtype\":\"{dtype}\",\"shape\":[{expected.Length}],\"data_offsets\":[{data.Count},{data.Count + bytes.Length}]}},");
            data.AddRange(bytes);
        }
        header.Length--; // the last comma
        header.Append('}');
        using var temp = new TempFile(".safetensors", IoFixtures.SafeTensors(header.ToString(), data.ToArray()));
        using var file = SafeTensorsFile.Open(temp.Path);

        Assert.Equal(Enum.GetValues<SafeTensorsDType>().Length, cases.Length);
        foreach (var (dtype, _, expected) in cases)
        {
            Assert.Equal(dtype.Replace("_", "", StringComparison.Ordinal), file.GetDType($"t_{dtype}").ToString(), ignoreCase: true);
            IoFixtures.AssertSameValues(expected, file.ReadSingle($"t_{dtype}"), dtype);
        }
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void Float8E4M3CoversEveryByteAsTheFormatDefinesIt()
    {
        for (int bits = 0; bits < 256; bits++)
        {
            int sign = bits >> 7, exponent = (bits >> 3) & 15, mantissa = bits & 7;
            double expected = exponent == 15 && mantissa == 7 ? double.NaN
                : exponent == 0 ? mantissa / 8.0 * Math.Pow(2, -6)
                : (1 + mantissa / 8.0) * Math.Pow(2, exponent - 7);
            float actual = SafeTensorsFile.Float8E4M3ToSingle((byte)bits);
            if (double.IsNaN(expected))
                Assert.True(float.IsNaN(actual), $"0x{bits:X2}");
            else
                Assert.Equal(sign == 1 ? -expected : expected, actual);
        }
    }

    [Fact]
    public void ScalarsEmptyTensorsAndEmptyFilesAreValid()
    {
        string header = "{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},\"e\":{\"dtype\":\"F16\",\"shape\":[3,0],\"data_offsets\":[4,4]}}";
        using var temp = new TempFile(".safetensors", IoFixtures.SafeTensors(header, BitConverter.GetBytes(2.5f)));
        using var file = SafeTensorsFile.Open(temp.Path);
        Assert.Equal(["e", "s"], file.Names);
        Assert.Empty(file.GetShape("s"));
        Assert.Equal([2.5f], file.ReadSingle("s"));
        Assert.Equal([3, 0], file.GetShape("e"));
        Assert.Empty(file.ReadSingle("e"));

        // Padded with spaces to 8 bytes, as the reference writer pads; no tensors at all.
        using var empty = new TempFile(".safetensors", IoFixtures.SafeTensors("{}      ", []));
        using var none = SafeTensorsFile.Open(empty.Path);
        Assert.Empty(none.Names);
    }

    [Fact]
    public void OneSmallTensorOfAOneGigabyteFileIsReadWithoutReadingTheRest()
    {
        // A sparse 1 GiB tensor before a 4-float one: opening and reading the small one must not touch (or allocate) the gigabyte.
        const long big = 1L << 30;
        string header = $"{{\"big\":{{\"dtype\":\"U8\",\"shape\":[{big}],\"data_offsets\":[0,{big}]}},\"small\":{{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[{big},{big + 16}]}}}}";
        byte[] prefix = IoFixtures.SafeTensors(header, []);
        using var temp = new TempFile(".safetensors");
        using (var stream = new FileStream(temp.Path, FileMode.CreateNew))
        {
            stream.Write(prefix);
            stream.SetLength(prefix.Length + big + 16);
            stream.Position = prefix.Length + big;
            foreach (float v in new[] { 1f, 2f, 3f, 4f })
                stream.Write(BitConverter.GetBytes(v));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        using (var file = SafeTensorsFile.Open(temp.Path))
        {
            Assert.Equal([1f, 2f, 3f, 4f], file.ReadSingle("small"));
            Assert.Equal(big, file.GetElementCount("big"));
        }
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
    }

    [Fact]
    public void ReadingIntoASpanAllocatesNothing()
    {
        using var file = SafeTensorsFile.Open(IoFixtures.PathOf("model_bf16.safetensors"));
        var destination = new float[file.GetElementCount("up3.weight")];
        file.ReadSingle("up3.weight", destination);
        file.ReadSingle("bn1.running_var", destination.AsSpan(0, 6));
        Assert.Equal(0, Allocations.FewestBytes(() =>
        {
            file.ReadSingle("up3.weight", destination);
            file.ReadSingle("bn1.running_var", destination.AsSpan(0, 6));
        }));
    }

    [Fact]
    public void ReadsFromSeveralThreadsAtOnceGiveTheSameValues()
    {
        // Positioned reads share no file position: concurrent reads of different tensors cannot mix their bytes.
        using var file = SafeTensorsFile.Open(IoFixtures.PathOf("model_f16.safetensors"));
        var expected = StateDict.ToDictionary(t => t.Name, t => file.ReadSingle(t.Name));
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            string name = StateDict[i % StateDict.Length].Name;
            Assert.Equal(expected[name], file.ReadSingle(name));
        });
    }

    [Fact]
    public void BadArgumentsAreArgumentExceptions()
    {
        using var file = SafeTensorsFile.Open(IoFixtures.PathOf("model_f32.safetensors"));
        var missing = Assert.Throws<ArgumentException>(() => file.ReadSingle("up4.weight"));
        Assert.Equal("name", missing.ParamName);
        Assert.Contains("up4.weight", missing.Message);
        Assert.Contains("model_f32.safetensors", missing.Message);
        Assert.Throws<ArgumentException>(() => file.GetShape("nope"));
        Assert.Throws<ArgumentException>(() => file.GetDType("nope"));
        Assert.Throws<ArgumentNullException>(() => file.ReadSingle(null!));
        Assert.False(file.Contains("nope"));

        var destination = Enumerable.Repeat(-7f, 5).ToArray();
        var wrongLength = Assert.Throws<ArgumentException>(() => file.ReadSingle("bn1.bias", destination));
        Assert.Equal("destination", wrongLength.ParamName);
        Assert.Contains("6", wrongLength.Message);
        Assert.All(destination, v => Assert.Equal(-7f, v));

        Assert.Throws<ArgumentException>(() => SafeTensorsFile.Open(""));
        Assert.Throws<ArgumentNullException>(() => SafeTensorsFile.Open(null!));
        Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open(IoFixtures.PathOf("no_such_file.safetensors")));
    }

    [Fact]
    public void ADisposedFileRefusesReads()
    {
        var file = SafeTensorsFile.Open(IoFixtures.PathOf("model_f32.safetensors"));
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.ReadSingle("bn1.bias"));
        Assert.Throws<ObjectDisposedException>(() => file.GetShape("bn1.bias"));
        file.Dispose(); // twice is fine
    }

    public static TheoryData<string, string, int, string> MalformedHeaders => new()
    {
        // Case name, header, data bytes, what the message must name (besides the file).
        { "bad JSON", "{\"a\":{\"dtype\":\"F32\",", 0, "not valid JSON" },
        { "not an object", "[1, 2]", 0, "not an object" },
        { "entry not an object", "{\"a\":[1]}", 0, "'a'" },
        { "unknown dtype", "{\"a\":{\"dtype\":\"F12\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype \"F12\"" },
        { "no dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype" },
        { "no shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "shape" },
        { "no offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "data_offsets" },
        { "three offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4, "data_offsets" },
        { "negative dimension", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,4]}}", 4, "shape[1] is -1" },
        { "fractional dimension", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "shape[0] is 1.5" },
        { "dimension past Int32", "{\"a\":{\"dtype\":\"U8\",\"shape\":[2147483648],\"data_offsets\":[0,4]}}", 4, "shape[0] is 2147483648" },
        { "dimension past Int64", "{\"a\":{\"dtype\":\"U8\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4, "shape[0] is 99999999999999999999" },
        { "overflowing shape", "{\"a\":{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", 8, "more elements" },
        { "shape/byte mismatch", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 12, "16 bytes" },
        { "dtype/byte mismatch", "{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,12]}}", 12, "6 bytes" },
        { "negative offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4, "begin is -4" },
        { "reversed offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4, "reversed" },
        { "offsets past the data", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "outside the data" },
        { "overlapping tensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap" },
        { "same bytes twice", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "overlap" },
        { "gap between tensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "belong to no tensor" },
        { "bytes after the tensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "belong to no tensor" },
        { "duplicate names", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "twice" },
        { "metadata not strings", "{\"__metadata__\":{\"epoch\":3},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "epoch" },
    };

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public void MalformedFilesAreRejectedNamingTheFileAndTheTensor(string @case, string header, int dataLength, string expected)
    {
        using var temp = new TempFile(".safetensors", IoFixtures.SafeTensors(header, new byte[dataLength]));
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(temp.Path));
        Assert.Contains(temp.Path, error.Message);
        Assert.Contains(expected, error.Message);
        if (@case is not ("bad JSON" or "not an object" or "metadata not strings" or "bytes after the tensors"))
            Assert.Matches("tensor '[ab]'", error.Message);
    }

    [Fact]
    public void AHeaderLengthPastTheFileOrAFileTooShortIsRejected()
    {
        byte[] valid = IoFixtures.SafeTensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);

        byte[] pastTheEnd = (byte[])valid.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(pastTheEnd, (ulong)(valid.Length - 8 + 1));
        AssertRejected(pastTheEnd, "past the end of the file");

        byte[] huge = (byte[])valid.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue);
        AssertRejected(huge, "past the end of the file");

        AssertRejected([1, 0, 0], "fewer than the 8");
        AssertRejected(IoFixtures.SafeTensors("", []), "header length is 0");

        // A header that swallows the data: the JSON then ends in NUL bytes.
        byte[] swallowed = (byte[])valid.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(swallowed, (ulong)(valid.Length - 8));
        AssertRejected(swallowed, "not valid JSON");

        AssertRejected(IoFixtures.SafeTensors([0x7B, 0xFF, 0x7D], []), "not valid JSON"); // "{\xFF}": not UTF-8

        static void AssertRejected(byte[] bytes, string expected)
        {
            using var temp = new TempFile(".safetensors", bytes);
            var error = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(temp.Path));
            Assert.Contains(temp.Path, error.Message);
            Assert.Contains(expected, error.Message);
        }
    }

    [Fact]
    public void AFileCutShortAfterOpeningIsReportedWhenRead()
    {
        using var temp = new TempFile(".safetensors",
            IoFixtures.SafeTensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[16]));
        using var file = SafeTensorsFile.Open(temp.Path);
        using (var stream = new FileStream(temp.Path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            stream.SetLength(stream.Length - 4);
        var error = Assert.Throws<InvalidDataException>(() => file.ReadSingle("a"));
        Assert.Contains("tensor 'a'", error.Message);
        Assert.Contains("cut short", error.Message);
    }

    private static float RoundToBFloat16(float value)
    {
        // Round to nearest even on the upper 16 bits, as PyTorch converts (the values here are finite).
        uint bits = (uint)BitConverter.SingleToInt32Bits(value);
        bits += 0x7FFF + ((bits >> 16) & 1);
        return BitConverter.Int32BitsToSingle((int)(bits & 0xFFFF0000));
    }

    private static byte[] Le<T>(params T[] values) where T : unmanaged
    {
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        Assert.True(BitConverter.IsLittleEndian); // the expected files are little-endian; so is every machine the tests run on
        return bytes;
    }
}
