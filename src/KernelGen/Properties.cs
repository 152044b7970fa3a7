using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("KernelGen.Tests")]
