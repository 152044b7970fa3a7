using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KernelGen.CompilerServices;

// What a generated method calls when the generator delegates its layer to the library's kernel (the project property
// KernelGenDelegation; docs/build-time.md has why and the measurements). One instance per generated layer, in a static
// readonly field of the generated code, built from the layer's constants.
//
// Design, and why:
// - Per calling thread, the prepared kernel and a copy of the weights and bias it was packed from. Each call compares the
//   caller's weights and bias with the copy bit for bit (bytes, so that NaN payloads and -0 count as the values they are)
//   and packs again, in place, only when they differ: no result depends on an earlier call, as the generated contract says.
// - Per thread rather than one shared copy: a shared snapshot swapped lock-free (as ConvTranspose2D.Compute swaps its
//   scratch) would have two threads calling with different weights repack and allocate on every call; per thread, each
//   thread's own weights stay packed, and a change of weights repacks in place without allocating. The cost is memory: the
//   copy and the packed weights, about twice the weights' size, per thread that calls the layer.
// - No fingerprint before the full comparison: a fingerprint of the caller's weights needs the same read pass over them as
//   the comparison (which reads the copy too, at memory speed: 0.1 to 0.6 ms on the DCGAN layers of 1 to 8 MB), and a
//   sampled one could only shorten the call whose weights changed, which then repacks at many times that cost. The common
//   call, unchanged weights, must read them all whatever is compared first.
// - One thread per call (the definition's MaxDegreeOfParallelism must be 1), as the unrolled kernels it stands for.

/// <summary>
/// A generated <c>[GeneratedConvTranspose2D]</c> method's layer, computed by the library's kernel for its exact shape. For
/// generated code only: the KernelGen generator emits one per delegating layer, in a <c>static readonly</c> field.
/// </summary>
/// <remarks>
/// Each call checks its spans as the unrolled generated method does (the same <see cref="ArgumentException"/>s, naming the
/// method's own parameters), then, per calling thread, packs the weights and bias again only when they differ bit for bit
/// from those of the thread's last call. A thread's first call allocates the prepared kernel and its copy of the weights
/// and bias; later calls allocate nothing, changed weights included (they are packed in place).
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class DelegatedConvTranspose2D
{
    private readonly int _inputHeight, _inputWidth;
    private readonly GeneratedCallRules _rules;
    private readonly ThreadLocal<PerThread<PreparedConvTranspose2D>> _perThread;

    /// <summary>The layer of one generated method.</summary>
    /// <param name="definition">The layer's geometry, layout and activation, with <see cref="ConvTranspose2D.MaxDegreeOfParallelism"/> 1.</param>
    /// <param name="inputHeight">The declared input height.</param>
    /// <param name="inputWidth">The declared input width.</param>
    /// <param name="inputName">The generated method's input parameter, as the exceptions name it.</param>
    /// <param name="weightsName">Its weights parameter.</param>
    /// <param name="biasName">Its bias parameter, or null when the method takes no bias.</param>
    /// <param name="outputName">Its output parameter.</param>
    /// <exception cref="ArgumentException">The definition runs on more than one thread, or an input size breaks a rule.</exception>
    public DelegatedConvTranspose2D(ConvTranspose2D definition, int inputHeight, int inputWidth, string inputName, string weightsName, string? biasName,
        string outputName)
    {
        ArgumentNullException.ThrowIfNull(definition);
        GeneratedCallRules.RequireOneThread(definition.MaxDegreeOfParallelism, nameof(definition));
        var (outputHeight, outputWidth) = definition.GetOutputSize(inputHeight, inputWidth);
        int inputLength = definition.GetInputLength(1, inputHeight, inputWidth), outputLength = definition.GetOutputLength(1, inputHeight, inputWidth);
        var k = definition.KernelSize;
        _rules = new GeneratedCallRules(inputName, weightsName, biasName, outputName,
            inputLength, Invariant($"inChannels * inputHeight * inputWidth = {definition.InChannels} * {inputHeight} * {inputWidth}"),
            definition.WeightsLength, Invariant($"inChannels * (outChannels / groups) * kernelHeight * kernelWidth = {definition.InChannels} * {definition.OutChannels / definition.Groups} * {k.Height} * {k.Width}"),
            definition.OutChannels, outputLength, "batch * outChannels * outputHeight * outputWidth",
            Invariant($" * {definition.OutChannels} * {outputHeight} * {outputWidth}"));
        (_inputHeight, _inputWidth) = (inputHeight, inputWidth);
        int biasLength = biasName is null ? 0 : definition.OutChannels;
        _perThread = new(() => new PerThread<PreparedConvTranspose2D>(new PreparedConvTranspose2D(definition), definition.WeightsLength, biasLength));
    }

    /// <summary>Computes the layer, as the generated method promises.</summary>
    /// <param name="input">Whole samples of the declared size.</param>
    /// <param name="weights">The weights, <c>(Cin, Cout/groups, kH, kW)</c>.</param>
    /// <param name="bias">The bias (empty when the method takes none).</param>
    /// <param name="output">At least the batch's output; the first that many elements are written.</param>
    /// <exception cref="ArgumentException">A span's length is wrong, or spans overlap; nothing has been written.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Compute(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output)
    {
        if (_rules.Check(input, weights, bias, output) == 0) return;
        _perThread.Value!.PackedFor(weights, bias, static (prepared, w, b) => prepared.Pack(w, b)).Compute(input, _inputHeight, _inputWidth, output);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// A generated <c>[GeneratedConvTranspose1D]</c> method's layer, computed by the library's kernel for its exact shape: as
/// <see cref="DelegatedConvTranspose2D"/>, in 1-D terms. For generated code only.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class DelegatedConvTranspose1D
{
    private readonly int _inputLength;
    private readonly GeneratedCallRules _rules;
    private readonly ThreadLocal<PerThread<PreparedConvTranspose2D>> _perThread;

    /// <summary>The layer of one generated method.</summary>
    /// <param name="definition">The layer's geometry, layout and activation, with <see cref="ConvTranspose1D.MaxDegreeOfParallelism"/> 1.</param>
    /// <param name="inputLength">The declared input length.</param>
    /// <param name="inputName">The generated method's input parameter, as the exceptions name it.</param>
    /// <param name="weightsName">Its weights parameter.</param>
    /// <param name="biasName">Its bias parameter, or null when the method takes no bias.</param>
    /// <param name="outputName">Its output parameter.</param>
    /// <exception cref="ArgumentException">The definition runs on more than one thread, or the input length breaks a rule.</exception>
    public DelegatedConvTranspose1D(ConvTranspose1D definition, int inputLength, string inputName, string weightsName, string? biasName, string outputName)
    {
        ArgumentNullException.ThrowIfNull(definition);
        GeneratedCallRules.RequireOneThread(definition.MaxDegreeOfParallelism, nameof(definition));
        int outputSize = definition.GetOutputSize(inputLength);
        int inputElements = definition.GetInputLength(1, inputLength), outputElements = definition.GetOutputLength(1, inputLength);
        _rules = new GeneratedCallRules(inputName, weightsName, biasName, outputName,
            inputElements, Invariant($"inChannels * inputLength = {definition.InChannels} * {inputLength}"),
            definition.WeightsLength, Invariant($"inChannels * (outChannels / groups) * kernelSize = {definition.InChannels} * {definition.OutChannels / definition.Groups} * {definition.KernelSize}"),
            definition.OutChannels, outputElements, "batch * outChannels * outputLength", Invariant($" * {definition.OutChannels} * {outputSize}"));
        _inputLength = inputLength;
        int biasLength = biasName is null ? 0 : definition.OutChannels;
        // The height-1 2-D layer that ConvTranspose1D runs on (its Prepare packs the same): the same kernels, bit for bit.
        var plane = definition.Plane;
        _perThread = new(() => new PerThread<PreparedConvTranspose2D>(new PreparedConvTranspose2D(plane), definition.WeightsLength, biasLength));
    }

    /// <summary>Computes the layer, as the generated method promises.</summary>
    /// <param name="input">Whole samples of the declared size.</param>
    /// <param name="weights">The weights, <c>(Cin, Cout/groups, k)</c>.</param>
    /// <param name="bias">The bias (empty when the method takes none).</param>
    /// <param name="output">At least the batch's output; the first that many elements are written.</param>
    /// <exception cref="ArgumentException">A span's length is wrong, or spans overlap; nothing has been written.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Compute(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output)
    {
        if (_rules.Check(input, weights, bias, output) == 0) return;
        _perThread.Value!.PackedFor(weights, bias, static (prepared, w, b) => prepared.Pack(w, b)).Compute(input, 1, _inputLength, output);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// A generated <c>[GeneratedConvTranspose3D]</c> method's layer, computed by the library's kernel for its exact shape: as
/// <see cref="DelegatedConvTranspose2D"/>, in 3-D terms. For generated code only.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class DelegatedConvTranspose3D
{
    private readonly int _inputDepth, _inputHeight, _inputWidth;
    private readonly GeneratedCallRules _rules;
    private readonly ThreadLocal<PerThread<PreparedConvTranspose3D>> _perThread;

    /// <summary>The layer of one generated method.</summary>
    /// <param name="definition">The layer's geometry, layout and activation, with <see cref="ConvTranspose3D.MaxDegreeOfParallelism"/> 1.</param>
    /// <param name="inputDepth">The declared input depth.</param>
    /// <param name="inputHeight">The declared input height.</param>
    /// <param name="inputWidth">The declared input width.</param>
    /// <param name="inputName">The generated method's input parameter, as the exceptions name it.</param>
    /// <param name="weightsName">Its weights parameter.</param>
    /// <param name="biasName">Its bias parameter, or null when the method takes no bias.</param>
    /// <param name="outputName">Its output parameter.</param>
    /// <exception cref="ArgumentException">The definition runs on more than one thread, or an input size breaks a rule.</exception>
    public DelegatedConvTranspose3D(ConvTranspose3D definition, int inputDepth, int inputHeight, int inputWidth, string inputName, string weightsName,
        string? biasName, string outputName)
    {
        ArgumentNullException.ThrowIfNull(definition);
        GeneratedCallRules.RequireOneThread(definition.MaxDegreeOfParallelism, nameof(definition));
        var (outputDepth, outputHeight, outputWidth) = definition.GetOutputSize(inputDepth, inputHeight, inputWidth);
        int inputLength = definition.GetInputLength(1, inputDepth, inputHeight, inputWidth);
        int outputLength = definition.GetOutputLength(1, inputDepth, inputHeight, inputWidth);
        var k = definition.KernelSize;
        _rules = new GeneratedCallRules(inputName, weightsName, biasName, outputName,
            inputLength, Invariant($"inChannels * inputDepth * inputHeight * inputWidth = {definition.InChannels} * {inputDepth} * {inputHeight} * {inputWidth}"),
            definition.WeightsLength, Invariant($"inChannels * (outChannels / groups) * kernelDepth * kernelHeight * kernelWidth = {definition.InChannels} * {definition.OutChannels / definition.Groups} * {k.Depth} * {k.Height} * {k.Width}"),
            definition.OutChannels, outputLength, "batch * outChannels * outputDepth * outputHeight * outputWidth",
            Invariant($" * {definition.OutChannels} * {outputDepth} * {outputHeight} * {outputWidth}"));
        (_inputDepth, _inputHeight, _inputWidth) = (inputDepth, inputHeight, inputWidth);
        int biasLength = biasName is null ? 0 : definition.OutChannels;
        _perThread = new(() => new PerThread<PreparedConvTranspose3D>(new PreparedConvTranspose3D(definition), definition.WeightsLength, biasLength));
    }

    /// <summary>Computes the layer, as the generated method promises.</summary>
    /// <param name="input">Whole samples of the declared size.</param>
    /// <param name="weights">The weights, <c>(Cin, Cout/groups, kD, kH, kW)</c>.</param>
    /// <param name="bias">The bias (empty when the method takes none).</param>
    /// <param name="output">At least the batch's output; the first that many elements are written.</param>
    /// <exception cref="ArgumentException">A span's length is wrong, or spans overlap; nothing has been written.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Compute(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output)
    {
        if (_rules.Check(input, weights, bias, output) == 0) return;
        _perThread.Value!.PackedFor(weights, bias, static (prepared, w, b) => prepared.Pack(w, b)).Compute(input, _inputDepth, _inputHeight, _inputWidth, output);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Packs <paramref name="prepared"/> with the given weights and bias.</summary>
internal delegate void Packer<in TPrepared>(TPrepared prepared, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias);

/// <summary>One calling thread's prepared kernel and the weights and bias it was packed from.</summary>
internal sealed class PerThread<TPrepared>(TPrepared prepared, int weightsLength, int biasLength) where TPrepared : class
{
    private readonly float[] _weights = new float[weightsLength], _bias = new float[biasLength];
    private bool _packed;

    /// <summary>
    /// The kernel, packed from exactly these weights and bias: compared with the copy bit for bit (one vectorised pass over
    /// each; bytes, so that NaN and -0 compare as what they are), packed again in place only when they differ.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TPrepared PackedFor(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Packer<TPrepared> pack)
    {
        if (!_packed
            || !MemoryMarshal.AsBytes(weights).SequenceEqual(MemoryMarshal.AsBytes(_weights.AsSpan()))
            || !MemoryMarshal.AsBytes(bias).SequenceEqual(MemoryMarshal.AsBytes(_bias.AsSpan())))
        {
            // Cleared first: a pack that failed half way must not leave the old copy claiming the kernel.
            _packed = false;
            pack(prepared, weights, bias);
            weights.CopyTo(_weights);
            bias.CopyTo(_bias);
            _packed = true;
        }

        return prepared;
    }
}

/// <summary>
/// The span checks of a generated method, in its order and with its messages (those of the generated throw helpers, in
/// <c>KernelEmitter.WriteThrowHelpers</c>): input, weights, bias, output length, then the three overlaps.
/// </summary>
internal sealed class GeneratedCallRules(string inputName, string weightsName, string? biasName, string outputName,
    int inputLength, string inputFormula, int weightsLength, string weightsFormula, int outChannels, int outputLength, string outputFormula,
    string outputFactors)
{
    public static void RequireOneThread(int maxDegreeOfParallelism, string parameter)
    {
        if (maxDegreeOfParallelism != 1)
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{parameter}.MaxDegreeOfParallelism is {maxDegreeOfParallelism}, but it must be 1: a generated kernel runs on its calling thread."),
                parameter);
    }

    /// <summary>Checks a call; returns its batch (0: nothing to write).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Check(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output)
    {
        if (input.Length % inputLength != 0) ThrowInputLength(input.Length);
        if (weights.Length != weightsLength) ThrowWeightsLength(weights.Length);
        if (biasName is not null ? bias.Length != outChannels : !bias.IsEmpty) ThrowBiasLength(bias.Length);
        int batch = input.Length / inputLength;
        if (output.Length < (long)batch * outputLength) ThrowOutputLength(output.Length, batch);
        var written = output[..(batch * outputLength)];
        if (input.Overlaps(written)) ThrowOverlap(inputName);
        if (weights.Overlaps(written)) ThrowOverlap(weightsName);
        if (bias.Overlaps(written)) ThrowOverlap(biasName ?? "bias");
        return batch;
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    [DoesNotReturn]
    private void ThrowInputLength(int length) => throw new ArgumentException(
        inputName + " has " + Text(length) + " elements, but it must hold a whole number of samples of " + inputFormula + " = " + Text(inputLength) + " elements.",
        inputName);

    [DoesNotReturn]
    private void ThrowWeightsLength(int length) => throw new ArgumentException(
        weightsName + " has " + Text(length) + " elements, but it must have exactly " + weightsFormula + " = " + Text(weightsLength) + ".", weightsName);

    [DoesNotReturn]
    private void ThrowBiasLength(int length) => throw new ArgumentException(biasName is null
        ? "bias has " + Text(length) + " elements, but this layer takes no bias: it must be empty."
        : biasName + " has " + Text(length) + " elements, but it must have exactly outChannels = " + Text(outChannels) + ".", biasName ?? "bias");

    [DoesNotReturn]
    private void ThrowOutputLength(int length, int batch) => throw new ArgumentException(
        outputName + " has " + Text(length) + " elements, but it must have at least " + outputFormula + " = " + Text(batch) + outputFactors + " = "
        + Text((long)batch * outputLength) + ".", outputName);

    [DoesNotReturn]
    private void ThrowOverlap(string name) => throw new ArgumentException(name + " overlaps " + outputName + "; they must be separate memory.", outputName);
}
