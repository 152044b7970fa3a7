using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Dcgan;

/// <summary>
/// A minimal PNG encoder for 8-bit RGB images (PNG specification, ISO/IEC 15948): the signature, an IHDR chunk, one
/// IDAT chunk holding the zlib-compressed scanlines (each with filter type 0, "None"), and IEND; every chunk ends with the
/// CRC-32 of its type and data.
/// </summary>
/// <remarks>
/// The sample writes its PNG with this instead of an imaging library so that it publishes with NativeAOT without a
/// single trimming or AOT warning: SixLabors.ImageSharp 2.1.13 reports IL2075 (reflection over EXIF tag fields) and
/// IL3050 (<c>Enum.GetValues(Type)</c>) when compiled ahead of time. Everything here is AOT-safe: spans,
/// <see cref="ZLibStream"/> and a table-driven CRC-32. The tests read the files back with ImageSharp, an independent decoder.
/// </remarks>
public static class PngWriter
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The CRC-32 table of PNG (and zlib, gzip, Ethernet): polynomial 0xEDB88320, reflected.</summary>
    private static readonly uint[] CrcTable = CreateCrcTable();

    /// <summary>Writes an 8-bit RGB image as a PNG file, creating its folder if needed.</summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="width">Pixels per row, at least 1.</param>
    /// <param name="height">Rows, at least 1.</param>
    /// <param name="rgb">The pixels, row by row from the top, 3 bytes (red, green, blue) each: <c>width * height * 3</c> bytes.</param>
    public static void Write(string path, int width, int height, ReadOnlySpan<byte> rgb)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
            Directory.CreateDirectory(folder);
        using var file = File.Create(path);
        Write(file, width, height, rgb);
    }

    /// <summary>Writes an 8-bit RGB image as PNG to a stream (see <see cref="Write(string, int, int, ReadOnlySpan{byte})"/>).</summary>
    public static void Write(Stream destination, int width, int height, ReadOnlySpan<byte> rgb)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        int rowBytes = checked(width * 3);
        if (rgb.Length != checked(rowBytes * height))
            throw new ArgumentException($"The pixels are {rgb.Length} bytes, but a {width}x{height} RGB image has {rowBytes * height}.", nameof(rgb));

        destination.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], (uint)height);
        header[8] = 8;   // bits per sample
        header[9] = 2;   // colour type 2: RGB triples
        header[10] = 0;  // compression method 0: zlib deflate (the only one defined)
        header[11] = 0;  // filter method 0: adaptive filtering with the five basic filter types
        header[12] = 0;  // no interlacing
        WriteChunk(destination, "IHDR", header);

        // Every scanline starts with its filter type; 0 ("None") stores the bytes as they are. Filters only help the
        // compression, and this sample's images are small.
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (int y = 0; y < height; y++)
            {
                zlib.WriteByte(0);
                zlib.Write(rgb.Slice(y * rowBytes, rowBytes));
            }
        }

        WriteChunk(destination, "IDAT", compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(destination, "IEND", []);
    }

    /// <summary>The CRC-32 of PNG over <paramref name="data"/>, continuing from <paramref name="crc"/> (start with 0).</summary>
    public static uint Crc32(ReadOnlySpan<byte> data, uint crc = 0)
    {
        uint c = ~crc;
        foreach (byte b in data)
            c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return ~c;
    }

    // A chunk: data length (big-endian), 4-letter type, data, CRC-32 of type and data.
    private static void WriteChunk(Stream destination, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        destination.Write(word);

        Span<byte> typeBytes = stackalloc byte[4];
        Encoding.ASCII.GetBytes(type, typeBytes);
        destination.Write(typeBytes);
        destination.Write(data);

        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(data, Crc32(typeBytes)));
        destination.Write(word);
    }

    private static uint[] CreateCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }

        return table;
    }
}
