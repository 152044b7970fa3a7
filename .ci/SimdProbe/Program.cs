// One line for .ci/run to match, e.g. "Vector512=False Vector256=True Vector128=True".
using System.Runtime.Intrinsics;

Console.WriteLine($"Vector512={Vector512.IsHardwareAccelerated} Vector256={Vector256.IsHardwareAccelerated} Vector128={Vector128.IsHardwareAccelerated}");
