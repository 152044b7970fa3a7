using System.Runtime.CompilerServices;
using KernelGen.Benchmarks.Generated;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.FirstCalls;

/// <summary>
/// One kernel call of one benchmark shape, bound to its data, as the measured loop calls it. The wrappers are compiled
/// fully optimised from their first call (<see cref="MethodImplOptions.AggressiveOptimization"/>), so that what a first
/// call costs is the kernel's own code and not this harness's.
/// </summary>
internal sealed class MeasuredCall
{
    /// <summary>The engines this harness measures.</summary>
    public static readonly string[] Engines = ["generated", "runtime", "runtime-mt"];

    private delegate void Kernel(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    private MeasuredCall(Action call, float[] output)
    {
        Call = call;
        Output = output;
    }

    /// <summary>One call of the kernel on the shape's input, writing <see cref="Output"/>.</summary>
    public Action Call { get; }

    /// <summary>What the last call wrote.</summary>
    public float[] Output { get; }

    /// <summary>
    /// The call of <paramref name="engine"/>: <c>generated</c> is the benchmark suite's generated method for the shape
    /// (<c>[GeneratedConvTranspose1D]</c>, <c>2D</c> or <c>3D</c> by its rank); <c>runtime</c> is the prepared layer's
    /// <c>Compute</c> of the shape's rank (<see cref="PreparedConvTranspose1D"/>, <see cref="PreparedConvTranspose2D"/>,
    /// <see cref="PreparedConvTranspose3D"/>) with the weights prepared beforehand and one thread (as the generated kernels
    /// run); <c>runtime-mt</c> the same with the default thread cap (every processor the process may use).
    /// </summary>
    public static MeasuredCall Create(ShapeData data, string engine)
    {
        var output = new float[data.Shape.OutputLength];
        return engine switch
        {
            "generated" => new MeasuredCall(Bind(GeneratedKernel(data.Shape.Name), data, output), output),
            "runtime" => new MeasuredCall(Prepared(data, threads: 1, output), output),
            "runtime-mt" => new MeasuredCall(Prepared(data, threads: null, output), output),
            _ => throw new ArgumentException($"Unknown engine '{engine}'; the engines are {string.Join(", ", Engines)}.", nameof(engine)),
        };
    }

    private static Kernel GeneratedKernel(string shape) => shape switch
    {
        "seed" => GeneratedKernels.Seed,
        "small_fixed" => GeneratedKernels.SmallFixed,
        "game_up" => GeneratedKernels.GameUp,
        "mono_up" => GeneratedKernels.MonoUp,
        "unet_up" => GeneratedKernels.UnetUp,
        "dcgan" => GeneratedKernels.Dcgan,
        "depthwise" => GeneratedKernels.Depthwise,
        "stride1" => GeneratedKernels.Stride1,
        "unet_up_nhwc" => GeneratedKernels.UnetUpNhwc,
        "vocoder_up" => GeneratedKernels.VocoderUp,
        "vocoder_up2" => GeneratedKernels.VocoderUp2,
        "volume_up" => GeneratedKernels.VolumeUp,
        "volume_k3" => GeneratedKernels.VolumeK3,
        _ => throw new ArgumentException($"No generated kernel is declared for '{shape}'.", nameof(shape)),
    };

    /// <summary>The runtime's prepared layer of the shape's rank (<see cref="RuntimeLayer"/>; its call is compiled fully optimised).</summary>
    private static Action Prepared(ShapeData data, int? threads, float[] output) =>
        RuntimeLayer.Bind(data, threads ?? Environment.ProcessorCount /* the property's default */, output).Call;

    private static Action Bind(Kernel kernel, ShapeData data, float[] output) =>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] () => kernel(data.Input, data.Weights, output);
}
