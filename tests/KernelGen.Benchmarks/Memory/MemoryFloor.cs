using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Memory;

/// <summary>
/// The least memory traffic any kernel of a shape must make: read every input element once and write every output element
/// once, nothing computed. Its time on this machine, with the buffers as warm as the engines' (the same sizes, reused every
/// call), is the floor a memory-bound layer cannot go below; a kernel near it is bound by memory, not by its arithmetic.
/// </summary>
/// <remarks>
/// The pass walks the output in vectors and reads the input in step (input vector <c>o·inVectors/outVectors</c> for output
/// vector <c>o</c>), so every input vector is read about once, interleaved with the stores as a kernel would. Each store
/// depends on a load, so the JIT cannot drop the loads; the weights are left out (they are read once per call too, but
/// for the memory-bound shapes they are a few hundred bytes). The widest accelerated vector is used: the floor of the
/// machine, not of one width.
/// </remarks>
public sealed class MemoryFloor
{
    private readonly float[] _input, _output;

    /// <summary>Buffers of <paramref name="shape"/>'s input and output sizes.</summary>
    public MemoryFloor(ConvShape shape)
    {
        _input = new float[shape.InputLength];
        _output = new float[shape.OutputLength];
        for (int i = 0; i < _input.Length; i++) _input[i] = i % 7;
    }

    /// <summary>Bytes read and written by one <see cref="Run"/>.</summary>
    public long Bytes => 4L * (_input.Length + _output.Length);

    /// <summary>The output of the last pass (for the test that checks every element was written from the input).</summary>
    public ReadOnlySpan<float> Output => _output;

    /// <summary>One pass: the input read once, the output written once.</summary>
    public void Run()
    {
        if (Vector512.IsHardwareAccelerated) Stream<Vector512<float>>(_input, _output, Vector512<float>.Count);
        else if (Vector256.IsHardwareAccelerated) Stream<Vector256<float>>(_input, _output, Vector256<float>.Count);
        else Stream<Vector128<float>>(_input, _output, Vector128<float>.Count);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Stream<TVector>(float[] input, float[] output, int lanes)
        where TVector : struct
    {
        int inVectors = input.Length / lanes, outVectors = output.Length / lanes;
        ref TVector source = ref Unsafe.As<float, TVector>(ref MemoryMarshal.GetArrayDataReference(input));
        ref TVector destination = ref Unsafe.As<float, TVector>(ref MemoryMarshal.GetArrayDataReference(output));
        if (inVectors == 0 || outVectors == 0)
        {
            Scalar(input, output, 0);
            return;
        }

        // Input vector floor(o·inVectors/outVectors), stepped without a division (one per vector would bound the loop by
        // the divider, not by memory).
        int i = 0;
        long carry = 0;
        for (int o = 0; o < outVectors; o++)
        {
            Unsafe.Add(ref destination, o) = Unsafe.Add(ref source, i);
            carry += inVectors;
            while (carry >= outVectors)
            {
                carry -= outVectors;
                i++;
            }
        }

        Scalar(input, output, outVectors * lanes);
    }

    private static void Scalar(float[] input, float[] output, int from)
    {
        for (int i = from; i < output.Length; i++) output[i] = input[(int)((long)i * input.Length / output.Length)];
    }
}
