using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("KernelGen.Tests")]
// The contention benchmark compares chunkings (PreparedConvTranspose2D.ChunksPerThread).
[assembly: InternalsVisibleTo("KernelGen.Benchmarks")]

// Kernels stackalloc small staging buffers that they always write before reading: zeroing them is wasted time.
[module: SkipLocalsInit]
