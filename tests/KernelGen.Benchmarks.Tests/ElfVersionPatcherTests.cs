using System.Buffers.Binary;
using System.Text;
using KernelGen.Benchmarks.Native;

namespace KernelGen.Benchmarks.Tests;

/// <summary>The ELF patch changes exactly the one flag it should, once, and refuses what is not ELF64.</summary>
public sealed class ElfVersionPatcherTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("kernelgen-elf-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void MarksTheVersionWeakOnceAndTouchesNothingElse()
    {
        string file = Path.Combine(_folder, "libtest.so");
        byte[] original = SyntheticLibrary();
        File.WriteAllBytes(file, original);
        var time = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(file, time);

        Assert.Equal(false, ElfVersionPatcher.IsVersionRequirementWeak(file, "GLIBCXX_3.4.32"));
        Assert.Equal(ElfPatchOutcome.Patched, ElfVersionPatcher.MarkVersionRequirementWeak(file, "GLIBCXX_3.4.32"));
        byte[] patched = File.ReadAllBytes(file);

        int[] changed = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToArray();
        int flags = VernauxOffset(2) + 4;   // vna_flags of GLIBCXX_3.4.32, the third Vernaux
        Assert.Equal([flags], changed);
        Assert.Equal(0x2, BinaryPrimitives.ReadUInt16LittleEndian(patched.AsSpan(flags)));
        Assert.Equal(true, ElfVersionPatcher.IsVersionRequirementWeak(file, "GLIBCXX_3.4.32"));
        Assert.Equal(false, ElfVersionPatcher.IsVersionRequirementWeak(file, "GLIBCXX_3.4.30"));
        // Same time as before: MSBuild's incremental copy must see an unchanged file and leave the patch alone.
        Assert.Equal(time, File.GetLastWriteTimeUtc(file));

        Assert.Equal(ElfPatchOutcome.AlreadyWeak, ElfVersionPatcher.MarkVersionRequirementWeak(file, "GLIBCXX_3.4.32"));
        Assert.Equal(patched, File.ReadAllBytes(file));
        Assert.Empty(Directory.GetFiles(_folder, "*.patching-*"));
    }

    [Fact]
    public void LeavesAFileWithoutTheRequirementAlone()
    {
        string file = Path.Combine(_folder, "libother.so");
        byte[] original = SyntheticLibrary();
        File.WriteAllBytes(file, original);
        Assert.Null(ElfVersionPatcher.IsVersionRequirementWeak(file, "GLIBCXX_3.4.33"));
        // A prefix of a present name is not the name.
        Assert.Equal(ElfPatchOutcome.NotRequired, ElfVersionPatcher.MarkVersionRequirementWeak(file, "GLIBCXX_3.4.3"));
        Assert.Equal(original, File.ReadAllBytes(file));
    }

    [Fact]
    public void RejectsFilesThatAreNotElf64LittleEndian()
    {
        string text = Path.Combine(_folder, "not-elf.so");
        File.WriteAllText(text, new string('x', 100));
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.MarkVersionRequirementWeak(text, "GLIBCXX_3.4.32"));

        byte[] elf32 = SyntheticLibrary();
        elf32[4] = 1;   // ELFCLASS32
        string file = Path.Combine(_folder, "elf32.so");
        File.WriteAllBytes(file, elf32);
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.MarkVersionRequirementWeak(file, "GLIBCXX_3.4.32"));

        byte[] truncated = SyntheticLibrary()[..200];
        File.WriteAllBytes(file, truncated);
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.MarkVersionRequirementWeak(file, "GLIBCXX_3.4.32"));
    }

    [Fact]
    public void PatchesOnlyUnderTheGivenFolder()
    {
        string inside = Path.Combine(_folder, "runtimes", "linux-x64", "native");
        Directory.CreateDirectory(inside);
        File.WriteAllBytes(Path.Combine(inside, "libLibTorchSharp.so"), SyntheticLibrary());
        File.WriteAllBytes(Path.Combine(_folder, "libUnrelated.so"), SyntheticLibrary());

        var log = TorchSharpLoader.PatchTorchSharpLibraries(_folder);

        Assert.Equal($"{Path.Combine("runtimes", "linux-x64", "native", "libLibTorchSharp.so")}: GLIBCXX_3.4.32 requirement marked weak now", Assert.Single(log));
        Assert.Equal(true, ElfVersionPatcher.IsVersionRequirementWeak(Path.Combine(inside, "libLibTorchSharp.so"), "GLIBCXX_3.4.32"));
        Assert.Equal(false, ElfVersionPatcher.IsVersionRequirementWeak(Path.Combine(_folder, "libUnrelated.so"), "GLIBCXX_3.4.32"));
    }

    // A synthetic ELF64 shared object with just the parts the patcher reads: the header, three section headers (null,
    // .dynstr, .gnu.version_r) and two Verneed records: libc.so.6 (GLIBC_2.2.5) and libstdc++.so.6 (GLIBCXX_3.4.30,
    // GLIBCXX_3.4.32).
    private const int StringsOffset = 0x100, VersionsOffset = 0x200, SectionsOffset = 0x300;

    // Layout of .gnu.version_r: [Verneed libc][Vernaux GLIBC_2.2.5][Verneed libstdc++][Vernaux 3.4.30][Vernaux 3.4.32].
    private static int VernauxOffset(int index) => VersionsOffset + index switch { 0 => 16, 1 => 48, _ => 64 };

    private static byte[] SyntheticLibrary()
    {
        var image = new byte[SectionsOffset + 3 * 64];
        "\u007fELF"u8.CopyTo(image);   // (not \x7f: C# would read the E as a fourth hex digit)
        image[4] = 2;   // ELFCLASS64
        image[5] = 1;   // ELFDATA2LSB
        image[6] = 1;   // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(0x10), 3);   // ET_DYN
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(0x28), SectionsOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(0x3A), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(0x3C), 3);

        var names = new Dictionary<string, int>();
        int cursor = 1;   // a string table starts with "\0"
        foreach (string name in new[] { "libc.so.6", "GLIBC_2.2.5", "libstdc++.so.6", "GLIBCXX_3.4.30", "GLIBCXX_3.4.32" })
        {
            names[name] = cursor;
            Encoding.ASCII.GetBytes(name).CopyTo(image, StringsOffset + cursor);
            cursor += name.Length + 1;
        }

        // Offsets in these records are relative to the record that holds them, as in real files.
        WriteVerneed(image, VersionsOffset, count: 1, file: names["libc.so.6"], aux: 16, next: 32);
        WriteVernaux(image, VernauxOffset(0), names["GLIBC_2.2.5"], next: 0);
        WriteVerneed(image, VersionsOffset + 32, count: 2, file: names["libstdc++.so.6"], aux: 16, next: 0);
        WriteVernaux(image, VernauxOffset(1), names["GLIBCXX_3.4.30"], next: 16);
        WriteVernaux(image, VernauxOffset(2), names["GLIBCXX_3.4.32"], next: 0);

        WriteSection(image, 1, type: 3, offset: StringsOffset, size: cursor, link: 0, info: 0);                 // SHT_STRTAB
        WriteSection(image, 2, type: 0x6ffffffe, offset: VersionsOffset, size: 80, link: 1, info: 2);           // SHT_GNU_verneed
        return image;
    }

    private static void WriteVerneed(byte[] image, int at, int count, int file, int aux, int next)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(at), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(at + 2), (ushort)count);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(at + 4), (uint)file);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(at + 8), (uint)aux);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(at + 12), (uint)next);
    }

    private static void WriteVernaux(byte[] image, int at, int name, int next)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(at), 0x12345678);   // vna_hash: not read
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(at + 4), 0);        // vna_flags
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(at + 6), 2);        // vna_other
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(at + 8), (uint)name);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(at + 12), (uint)next);
    }

    private static void WriteSection(byte[] image, int index, uint type, long offset, long size, uint link, uint info)
    {
        int at = SectionsOffset + index * 64;
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(at + 4), type);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(at + 0x18), (ulong)offset);
        BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(at + 0x20), (ulong)size);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(at + 0x28), link);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(at + 0x2C), info);
    }
}
