using System.Buffers.Binary;
using System.Text.Json;

namespace KernelGen.Import;

/// <summary>Writes float32 tensors in the safetensors format (an 8-byte little-endian header length, a JSON header padded
/// with spaces to a multiple of 8 bytes, then the tensors' bytes back to back), as <c>safetensors.torch.save_file</c> does.</summary>
internal static class SafeTensorsWriter
{
    public static void Write(string path, IReadOnlyList<(string Name, int[] Shape, float[] Data)> tensors)
    {
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            long offset = 0;
            foreach (var (name, shape, data) in tensors)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int d in shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += 4L * data.Length;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        while (header.Length % 8 != 0) header.WriteByte((byte)' ');
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        file.Write(length);
        header.Position = 0;
        header.CopyTo(file);
        var buffer = new byte[4096];
        foreach (var (_, _, data) in tensors)
        {
            for (int i = 0; i < data.Length; i += buffer.Length / 4)
            {
                int count = Math.Min(buffer.Length / 4, data.Length - i);
                for (int j = 0; j < count; j++) BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 * j), data[i + j]);
                file.Write(buffer, 0, 4 * count);
            }
        }
    }
}
