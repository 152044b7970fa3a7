using System.Buffers.Binary;
using System.Text;

namespace KernelGen.Benchmarks.Native;

/// <summary>What <see cref="ElfVersionPatcher.MarkVersionRequirementWeak"/> did to a file.</summary>
public enum ElfPatchOutcome
{
    /// <summary>The requirement was strong and is now weak; the file was rewritten.</summary>
    Patched,

    /// <summary>The requirement was already weak (an earlier run patched it); the file is untouched.</summary>
    AlreadyWeak,

    /// <summary>The file does not require that version; it is untouched.</summary>
    NotRequired,
}

/// <summary>
/// Marks one symbol-version requirement of an ELF64 little-endian shared library as weak, so that glibc's loader accepts
/// a libstdc++ that lacks the version.
/// </summary>
/// <remarks>
/// <para>Why: TorchSharp 0.107's <c>libLibTorchSharp.so</c> requires <c>GLIBCXX_3.4.32</c> (GCC 13), and Debian 12's libstdc++
/// stops at 3.4.30. The only symbol under that version is <c>std::ios_base_library_init</c>, a marker GCC 13's
/// <c>&lt;iostream&gt;</c> references and nothing calls, so with the requirement weak the library loads and works (see
/// /work/shared/reference/measuring.md).</para>
/// <para>How: the requirements live in the <c>.gnu.version_r</c> section (type <c>SHT_GNU_verneed</c>): a chain of
/// <c>Elf64_Verneed</c> records, one per needed library, each with a chain of <c>Elf64_Vernaux</c> records, one per version.
/// Setting <c>VER_FLG_WEAK</c> in the <c>vna_flags</c> of the matching <c>Vernaux</c> is the whole change: two bytes.</para>
/// <para>The file is read whole, patched in memory and written to a new file that replaces the old one, so a copy that
/// shares its inode with the NuGet cache (a hard link) is never modified in place.</para>
/// </remarks>
public static class ElfVersionPatcher
{
    /// <summary>The version TorchSharp 0.107 requires and Debian 12 lacks.</summary>
    public const string TorchSharpMissingVersion = "GLIBCXX_3.4.32";

    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;
    private const int VerneedSize = 16;
    private const int VernauxSize = 16;

    /// <summary>Makes <paramref name="file"/>'s requirement of <paramref name="version"/> weak. Idempotent.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed ELF64 little-endian object.</exception>
    public static ElfPatchOutcome MarkVersionRequirementWeak(string file, string version)
    {
        byte[] image = File.ReadAllBytes(file);
        int? flagsOffset = FindVernauxFlagsOffset(image, version);
        if (flagsOffset is not { } offset)
            return ElfPatchOutcome.NotRequired;
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(offset));
        if ((flags & VerFlagWeak) != 0)
            return ElfPatchOutcome.AlreadyWeak;

        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(offset), (ushort)(flags | VerFlagWeak));
        string temporary = file + ".patching-" + Environment.ProcessId;
        File.WriteAllBytes(temporary, image);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temporary, File.GetUnixFileMode(file));
        // Same size and same time as the package's file: MSBuild's incremental copy (SkipUnchangedFiles) then leaves the
        // patched copy alone instead of rewriting it in place, which would truncate a library a running process has mapped
        // (BenchmarkDotNet rebuilds this project while the host process runs).
        File.SetLastWriteTimeUtc(temporary, File.GetLastWriteTimeUtc(file));
        File.Move(temporary, file, overwrite: true);
        return ElfPatchOutcome.Patched;
    }

    /// <summary>Whether the requirement of <paramref name="version"/> is present and weak; null when there is none.</summary>
    public static bool? IsVersionRequirementWeak(string file, string version)
    {
        byte[] image = File.ReadAllBytes(file);
        return FindVernauxFlagsOffset(image, version) is { } offset
            ? (BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(offset)) & VerFlagWeak) != 0
            : null;
    }

    /// <summary>The file offset of <c>vna_flags</c> in the <c>Vernaux</c> naming <paramref name="version"/>, or null.</summary>
    internal static int? FindVernauxFlagsOffset(ReadOnlySpan<byte> image, string version)
    {
        // Elf64_Ehdr: e_ident[16] ("\x7fELF", class 2 = 64-bit, data 1 = little-endian), then e_shoff at 0x28,
        // e_shentsize at 0x3A and e_shnum at 0x3C.
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
            throw new InvalidDataException("Not an ELF file.");
        if (image[4] != 2 || image[5] != 1)
            throw new InvalidDataException("Not a 64-bit little-endian ELF file.");
        ulong sectionTable = Read64(image, 0x28);
        int sectionSize = Read16(image, 0x3A), sections = Read16(image, 0x3C);
        if (sectionSize < 64 || sectionTable + (ulong)sectionSize * (ulong)sections > (ulong)image.Length)
            throw new InvalidDataException("The section header table lies outside the file.");

        byte[] wanted = Encoding.ASCII.GetBytes(version);
        for (int s = 0; s < sections; s++)
        {
            // Elf64_Shdr: sh_name(4) sh_type(4) sh_flags(8) sh_addr(8) sh_offset(8) sh_size(8) sh_link(4) sh_info(4) ...
            int header = checked((int)sectionTable + s * sectionSize);
            if (Read32(image, header + 4) != ShtGnuVerneed)
                continue;
            int verneed = CheckedOffset(Read64(image, header + 0x18), image);
            uint stringSection = Read32(image, header + 0x28), entries = Read32(image, header + 0x2C);
            if (stringSection >= (uint)sections)
                throw new InvalidDataException("The version section links to a string table that does not exist.");
            int strings = CheckedOffset(Read64(image, checked((int)sectionTable + (int)stringSection * sectionSize) + 0x18), image);

            // Elf64_Verneed: vn_version(2) vn_cnt(2) vn_file(4) vn_aux(4) vn_next(4).
            for (uint e = 0; e < entries; e++)
            {
                int count = Read16(image, verneed + 2);
                int aux = checked(verneed + (int)Read32(image, verneed + 8));
                // Elf64_Vernaux: vna_hash(4) vna_flags(2) vna_other(2) vna_name(4) vna_next(4).
                for (int a = 0; a < count; a++)
                {
                    CheckedOffset((ulong)aux + VernauxSize - 1, image);
                    int name = checked(strings + (int)Read32(image, aux + 8));
                    if (NameEquals(image, name, wanted))
                        return aux + 4;
                    aux = checked(aux + (int)Read32(image, aux + 12));
                }

                uint next = Read32(image, verneed + 12);
                if (next == 0) break;
                verneed = CheckedOffset((ulong)verneed + next, image);
                CheckedOffset((ulong)verneed + VerneedSize - 1, image);
            }
        }

        return null;
    }

    private static bool NameEquals(ReadOnlySpan<byte> image, int offset, ReadOnlySpan<byte> wanted) =>
        offset >= 0 && offset + wanted.Length < image.Length
        && image.Slice(offset, wanted.Length).SequenceEqual(wanted) && image[offset + wanted.Length] == 0;

    private static int CheckedOffset(ulong offset, ReadOnlySpan<byte> image) =>
        offset < (ulong)image.Length ? (int)offset : throw new InvalidDataException($"Offset {offset} lies outside the file.");

    private static ushort Read16(ReadOnlySpan<byte> image, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(image[offset..]);

    private static uint Read32(ReadOnlySpan<byte> image, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(image[offset..]);

    private static ulong Read64(ReadOnlySpan<byte> image, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(image[offset..]);
}
