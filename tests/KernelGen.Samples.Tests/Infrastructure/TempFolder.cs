namespace KernelGen.Samples.Tests.Infrastructure;

/// <summary>A new folder under the system's temporary folder (outside the repository), deleted with everything in it on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix) => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>A path inside the folder.</summary>
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process killed on a timeout may still hold a file for a moment; the folder is in the temp folder anyway.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>Where the repository is, found from the test assembly's folder.</summary>
public static class Repository
{
    /// <summary>The repository root, as the build recorded it (see the test project's <c>AssemblyMetadata</c>).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>A path inside the repository.</summary>
    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>True when <paramref name="path"/> is the repository or inside it.</summary>
    public static bool Contains(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        return full.StartsWith(Root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private static string FindRoot()
    {
        string? root = typeof(Repository).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), inherit: false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>()
            .SingleOrDefault(attribute => attribute.Key == "KernelGen.RepositoryRoot")?.Value;
        if (root is null || !File.Exists(Path.Combine(root, "KernelGen.sln")))
            throw new InvalidOperationException($"The test assembly does not record the repository root, or {root} holds no KernelGen.sln.");
        return Path.GetFullPath(root);
    }
}
