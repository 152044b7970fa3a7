using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("KernelGen.Tests")]

// Kernels stackalloc small staging buffers that they always write before reading: zeroing them is wasted time.
[module: SkipLocalsInit]
