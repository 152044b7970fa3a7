namespace KernelGen.IO;

/// <summary>
/// The element type of a tensor in a <c>.safetensors</c> file, as its header names it (<c>"F32"</c>, <c>"BF16"</c>, ...).
/// <see cref="SafeTensorsFile.ReadSingle(string)"/> converts every one of them to <see cref="float"/>.
/// </summary>
public enum SafeTensorsDType
{
    /// <summary><c>"BOOL"</c>: one byte, 0 is false and anything else true (read as 0 or 1).</summary>
    Bool,

    /// <summary><c>"U8"</c>: unsigned 8-bit integer.</summary>
    U8,

    /// <summary><c>"I8"</c>: signed 8-bit integer.</summary>
    I8,

    /// <summary><c>"F8_E5M2"</c>: 8-bit float with 5 exponent and 2 mantissa bits (infinities and NaN as in IEEE half).</summary>
    F8E5M2,

    /// <summary><c>"F8_E4M3"</c>: 8-bit float with 4 exponent and 3 mantissa bits, no infinities (PyTorch's <c>float8_e4m3fn</c>).</summary>
    F8E4M3,

    /// <summary><c>"I16"</c>: signed 16-bit integer.</summary>
    I16,

    /// <summary><c>"U16"</c>: unsigned 16-bit integer.</summary>
    U16,

    /// <summary><c>"F16"</c>: IEEE 754 half precision (converted exactly).</summary>
    F16,

    /// <summary><c>"BF16"</c>: bfloat16, the upper 16 bits of a float (converted exactly).</summary>
    BF16,

    /// <summary><c>"I32"</c>: signed 32-bit integer (rounded to the nearest float beyond 2^24).</summary>
    I32,

    /// <summary><c>"U32"</c>: unsigned 32-bit integer (rounded to the nearest float beyond 2^24).</summary>
    U32,

    /// <summary><c>"F32"</c>: IEEE 754 single precision.</summary>
    F32,

    /// <summary><c>"F64"</c>: IEEE 754 double precision (rounded to the nearest float).</summary>
    F64,

    /// <summary><c>"I64"</c>: signed 64-bit integer (rounded to the nearest float beyond 2^24), e.g. PyTorch's <c>num_batches_tracked</c>.</summary>
    I64,

    /// <summary><c>"U64"</c>: unsigned 64-bit integer (rounded to the nearest float beyond 2^24).</summary>
    U64,
}
