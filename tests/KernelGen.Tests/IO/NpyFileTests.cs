using System.Buffers.Binary;
using System.Text;
using CsCheck;
using KernelGen.IO;

namespace KernelGen.Tests.IO;

/// <summary>
/// <see cref="NpyFile"/> on the files numpy wrote (<c>Fixtures/io/*.npy</c>): every float type, byte order and format
/// version; Fortran order rejected; writing byte for byte what <c>numpy.save</c> writes; every malformed file and bad
/// argument; and a write/read round trip over random shapes and values.
/// </summary>
public sealed class NpyFileTests
{
    /// <summary>make_io_fixtures.py's <c>special</c> array (float64), as C# rounds it to float (to nearest, as numpy does).</summary>
    private static readonly float[] Special =
    [
        0f, -0f, 1f, -2.5f,
        65504f, (float)6e-8, (float)1e-40, (float)3.0e38,
        float.PositiveInfinity, float.NegativeInfinity, float.NaN, (float)(1.0 / 3.0),
    ];

    [Theory]
    [InlineData("special_f4.npy")]
    [InlineData("special_f8.npy")]
    [InlineData("special_f4_big_endian.npy")]
    [InlineData("special_f8_big_endian.npy")]
    [InlineData("special_f4_v2.npy")]
    [InlineData("special_f4_v3.npy")]
    public void ReadsNumpysFloat32AndFloat64InEitherByteOrderAndEveryVersion(string fileName)
    {
        float[] values = NpyFile.ReadSingle(IoFixtures.PathOf(fileName), out int[] shape);
        Assert.Equal([3, 4], shape);
        IoFixtures.AssertSameValues(Special, values, fileName);
        Assert.True(float.IsNegative(values[1])); // -0 kept
        Assert.True(float.IsSubnormal(values[6]));
    }

    [Fact]
    public void ReadsFloat16AsNumpyConvertsIt()
    {
        float[] values = NpyFile.ReadSingle(IoFixtures.PathOf("special_f2.npy"), out int[] shape);
        float[] expected = NpyFile.ReadSingle(IoFixtures.PathOf("special_f2_as_f4.npy"), out int[] expectedShape);
        Assert.Equal([3, 4], shape);
        Assert.Equal(expectedShape, shape);
        IoFixtures.AssertSameValues(expected, values, "special_f2");
        // Half's limits, as numpy rounded them: 65504 stays, 1e-40 and 3e38 go to 0 and infinity, 6e-8 to the smallest subnormal.
        Assert.Equal(65504f, values[4]);
        Assert.Equal((float)Half.Epsilon, values[5]);
        Assert.Equal(0f, values[6]);
        Assert.Equal(float.PositiveInfinity, values[7]);
    }

    [Fact]
    public void FortranOrderIsRejectedWithAClearMessage()
    {
        string path = IoFixtures.PathOf("special_f4_fortran.npy");
        var error = Assert.Throws<InvalidDataException>(() => NpyFile.ReadSingle(path, out _));
        Assert.Contains(path, error.Message);
        Assert.Contains("Fortran (column-major) order", error.Message);
        Assert.Contains("C (row-major)", error.Message);
    }

    [Fact]
    public void ReadsZeroDimensionalEmptyAndLongArrays()
    {
        Assert.Equal([3.25f], NpyFile.ReadSingle(IoFixtures.PathOf("scalar_f4.npy"), out int[] scalarShape));
        Assert.Empty(scalarShape);
        Assert.Empty(NpyFile.ReadSingle(IoFixtures.PathOf("empty_f4.npy"), out int[] emptyShape));
        Assert.Equal([0, 3], emptyShape);
        float[] values = NpyFile.ReadSingle(IoFixtures.PathOf("long_f4.npy"), out int[] longShape);
        Assert.Equal([130], longShape);
        Assert.Equal(Enumerable.Range(0, 130).Select(i => i / 7f), values);
    }

    [Theory]
    [InlineData("special_f4.npy")]
    [InlineData("scalar_f4.npy")]
    [InlineData("empty_f4.npy")]
    [InlineData("long_f4.npy")]
    [InlineData("conv2d_output.npy")]
    public void WritesByteForByteWhatNumpySaveWrote(string fileName)
    {
        byte[] numpys = File.ReadAllBytes(IoFixtures.PathOf(fileName));
        float[] values = NpyFile.ReadSingle(IoFixtures.PathOf(fileName), out int[] shape);
        using var temp = new TempFile(".npy");
        NpyFile.Write(temp.Path, values, shape);
        Assert.Equal(numpys, File.ReadAllBytes(temp.Path));

        using var stream = new MemoryStream();
        NpyFile.Write(stream, values, shape);
        Assert.Equal(numpys, stream.ToArray());
    }

    [Fact]
    public void AHeaderTooLongForVersion1IsWrittenAsVersion2AsNumpyDoes()
    {
        // 25,000 dimensions of 1 need a header longer than version 1.0's 65,535 bytes.
        int[] shape = Enumerable.Repeat(1, 25_000).ToArray();
        using var stream = new MemoryStream();
        NpyFile.Write(stream, [42f], shape);
        byte[] bytes = stream.ToArray();
        Assert.Equal(2, bytes[6]);
        Assert.Equal(0, (bytes.Length - 4) % 64); // the data starts at a multiple of 64
        stream.Position = 0;
        Assert.Equal([42f], NpyFile.ReadSingle(stream, out int[] readShape));
        Assert.Equal(shape, readShape);
    }

    [Fact]
    public void WriteRejectsBadArgumentsBeforeCreatingTheFile()
    {
        using var temp = new TempFile(".npy");
        AssertRejected(() => NpyFile.Write(temp.Path, new float[6], [2, 4]), "shape", "[2, 4]", "8 elements", "6 values");
        AssertRejected(() => NpyFile.Write(temp.Path, new float[6], [2, -3]), "shape", "shape[1] is -3", "0 or more");
        AssertRejected(() => NpyFile.Write(temp.Path, new float[1], [65536, 65536, 2]), "shape", "more than 2147483647 elements");
        AssertRejected(() => NpyFile.Write(temp.Path, new float[2], []), "shape", "1 elements", "2 values");
        Assert.Equal("shape", Assert.Throws<ArgumentNullException>(() => NpyFile.Write(temp.Path, new float[1], null!)).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentException>(() => NpyFile.Write("", new float[1], [1])).ParamName);
        Assert.Equal("stream", Assert.Throws<ArgumentNullException>(() => NpyFile.Write((Stream)null!, new float[1], [1])).ParamName);
        Assert.False(File.Exists(temp.Path));

        static void AssertRejected(Action write, string parameter, params string[] fragments)
        {
            var error = Assert.Throws<ArgumentException>(write);
            Assert.Equal(parameter, error.ParamName);
            foreach (string fragment in fragments)
                Assert.Contains(fragment, error.Message);
        }
    }

    public static TheoryData<string, string> MalformedHeaders => new()
    {
        // Header text (written as version 1.0 by Build) and what the message must say.
        { "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", "'<i4'" },
        { "{'descr': '<f16', 'fortran_order': False, 'shape': (2,), }", "'<f16'" },
        { "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", "structured" },
        { "{'descr': '<f4', 'shape': (2,), }", "lacks 'fortran_order'" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }", "'extra'" },
        { "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", "'descr' twice" },
        { "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", "not True or False" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }", "axis 1" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648,), }", "more than 2147483647" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536), }", "more elements than a float[] holds" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2,) } trailing", "after the dict's closing brace" },
        { "['descr', '<f4']", "'{' belongs" },
        { "{'descr: '<f4', 'fortran_order': False, 'shape': (2,), }", "belongs" },
    };

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public void MalformedHeadersAreRejectedNamingTheFileAndTheReason(string header, string expected)
    {
        using var temp = new TempFile(".npy", Build(1, header, new byte[8]));
        var error = Assert.Throws<InvalidDataException>(() => NpyFile.ReadSingle(temp.Path, out _));
        Assert.Contains(temp.Path, error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void NumpysOtherHeaderSpellingsAreRead()
    {
        // Double quotes, no spaces, no trailing comma, Python 2 longs, '|' and '=' (the reader's byte order), keys in any order.
        string[] headers =
        [
            "{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(2,)}",
            "{'shape': (2L,), 'fortran_order': False, 'descr': '|f4'}",
            "{'descr': '=f4', 'fortran_order': False, 'shape': ( 2 , ) , }",
            "{'descr': 'f4', 'fortran_order': False, 'shape': (2,), }",
        ];
        foreach (string header in headers)
        {
            using var stream = new MemoryStream(Build(1, header, [.. BitConverter.GetBytes(1.5f), .. BitConverter.GetBytes(-2f)]));
            Assert.Equal([1.5f, -2f], NpyFile.ReadSingle(stream, out int[] shape));
            Assert.Equal([2], shape);
        }

        // A 0-d array in "Fortran order" is the same single value.
        using var scalar = new MemoryStream(Build(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (), }", BitConverter.GetBytes(5f)));
        Assert.Equal([5f], NpyFile.ReadSingle(scalar, out _));
    }

    [Fact]
    public void BadMagicVersionsAndShortFilesAreRejected()
    {
        const string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
        AssertRejected(Encoding.ASCII.GetBytes("PK\x03\x04 this is a zip (an .npz), not an .npy"), "magic");
        AssertRejected(Build(4, header, new byte[8]), "version 4.0");
        byte[] minor = Build(1, header, new byte[8]);
        minor[7] = 1;
        AssertRejected(minor, "version 1.1");
        AssertRejected(Build(1, header, new byte[7]), "ends after 7 of the 8 data bytes");
        AssertRejected(Build(1, header, [])[..20], "ends inside the header");
        AssertRejected([0x93, (byte)'N', (byte)'U'], "ends inside the magic");
        AssertRejected(Build(3, header, new byte[8]).Select((b, i) => i == 14 ? (byte)0xC3 : b).ToArray(), "UTF-8");

        byte[] hugeHeader = Build(2, header, new byte[8]);
        BinaryPrimitives.WriteUInt32LittleEndian(hugeHeader.AsSpan(8), uint.MaxValue);
        AssertRejected(hugeHeader, "limit");

        static void AssertRejected(byte[] bytes, string expected)
        {
            using var temp = new TempFile(".npy", bytes);
            var error = Assert.Throws<InvalidDataException>(() => NpyFile.ReadSingle(temp.Path, out _));
            Assert.Contains(temp.Path, error.Message);
            Assert.Contains(expected, error.Message);
        }
    }

    [Fact]
    public void BytesAfterTheArrayAreIgnoredAsNumpyIgnoresThem()
    {
        // numpy.save twice into one file, numpy.load twice from it: each read leaves the stream after its own array.
        using var stream = new MemoryStream();
        NpyFile.Write(stream, [1f, 2f], [2]);
        NpyFile.Write(stream, [3f], [1, 1]);
        stream.Position = 0;
        Assert.Equal([1f, 2f], NpyFile.ReadSingle(stream, out _));
        Assert.Equal([3f], NpyFile.ReadSingle(stream, out int[] second));
        Assert.Equal([1, 1], second);
    }

    [Fact]
    public void ReadRejectsBadArguments()
    {
        Assert.Equal("path", Assert.Throws<ArgumentException>(() => NpyFile.ReadSingle("", out _)).ParamName);
        Assert.Equal("stream", Assert.Throws<ArgumentNullException>(() => NpyFile.ReadSingle((Stream)null!, out _)).ParamName);
        Assert.Throws<FileNotFoundException>(() => NpyFile.ReadSingle(IoFixtures.PathOf("no_such_file.npy"), out _));
    }

    [Fact]
    public void WriteThenReadReturnsEveryBitOfEveryShape()
    {
        var shapes = Gen.Int[0, 4].SelectMany(rank => Gen.Int[0, 5].Array[rank]);
        var value = Gen.Frequency((6, Gen.Float), (1, Gen.OneOfConst(float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, float.Epsilon,
            BitConverter.Int32BitsToSingle(unchecked((int)0xFFC12345)))));
        shapes.SelectMany(shape => value.Array[shape.Aggregate(1, (a, b) => a * b)].Select(data => (shape, data)))
            .Sample(c =>
            {
                using var stream = new MemoryStream();
                NpyFile.Write(stream, c.data, c.shape);
                Assert.Equal(0, (stream.Length - 4L * c.data.Length) % 64);
                stream.Position = 0;
                float[] read = NpyFile.ReadSingle(stream, out int[] readShape);
                Assert.Equal(c.shape, readShape);
                Assert.Equal(c.data.Select(BitConverter.SingleToInt32Bits), read.Select(BitConverter.SingleToInt32Bits));
                Assert.Equal(stream.Length, stream.Position);
            }, iter: 300);
    }

    /// <summary>A .npy file of version <paramref name="major"/>.0 with <paramref name="header"/> as it is (no padding).</summary>
    private static byte[] Build(int major, string header, byte[] data)
    {
        byte[] text = Encoding.UTF8.GetBytes(header + "\n");
        int prefix = major == 1 ? 10 : 12;
        var bytes = new byte[prefix + text.Length + data.Length];
        bytes[0] = 0x93;
        "NUMPY"u8.CopyTo(bytes.AsSpan(1));
        bytes[6] = (byte)major;
        if (major == 1)
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)text.Length);
        else
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)text.Length);
        text.CopyTo(bytes, prefix);
        data.CopyTo(bytes, prefix + text.Length);
        return bytes;
    }
}
