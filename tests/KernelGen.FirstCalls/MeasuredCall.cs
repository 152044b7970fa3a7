using System.Runtime.CompilerServices;
using KernelGen.Benchmarks.Generated;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.FirstCalls;

/// <summary>
/// One kernel call of one benchmark shape, bound to its data, as the measured loop calls it. The wrappers are compiled
/// fully optimised from their first call (<see cref="MethodImplOptions.AggressiveOptimization"/>), and
/// <see cref="RunHarnessPathOnly"/> runs a wrapper without its kernel, so that what a first call costs is the kernel's own
/// code and not this harness's.
/// </summary>
internal sealed class MeasuredCall
{
    /// <summary>Read by every wrapper before it calls its kernel: set, the wrapper returns there.</summary>
    private sealed class Gate
    {
        public bool SkipKernel;
    }

    private readonly Gate _gate;

    /// <summary>The engines this harness measures.</summary>
    public static readonly string[] Engines = ["generated", "runtime", "runtime-mt"];

    private delegate void Kernel(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    private MeasuredCall(Gate gate, Action call, float[] output)
    {
        _gate = gate;
        Call = call;
        Output = output;
    }

    /// <summary>One call of the kernel on the shape's input, writing <see cref="Output"/>.</summary>
    public Action Call { get; }

    /// <summary>
    /// Runs <see cref="Call"/>'s delegate and wrapper up to the kernel's call, and not the kernel: the harness's own way to
    /// the kernel, which <see cref="CallRecorder.Record"/> runs untimed before each call it times one by one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void RunHarnessPathOnly()
    {
        _gate.SkipKernel = true;
        Call();
        _gate.SkipKernel = false;
    }

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
        var gate = new Gate();
        return engine switch
        {
            "generated" => new MeasuredCall(gate, Bind(gate, GeneratedKernel(data.Shape.Name), data, output), output),
            "runtime" => new MeasuredCall(gate, Prepared(gate, data, threads: 1, output), output),
            "runtime-mt" => new MeasuredCall(gate, Prepared(gate, data, threads: null, output), output),
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

    /// <summary>
    /// The runtime's prepared layer of the shape's rank, as <see cref="RuntimeLayer"/> builds it for the benchmarks; its
    /// <c>Compute</c> is called from this harness's own wrapper (the one with the gate), compiled fully optimised.
    /// </summary>
    private static Action Prepared(Gate gate, ShapeData data, int? threads, float[] output)
    {
        object prepared = RuntimeLayer.Bind(data, threads ?? Environment.ProcessorCount /* the property's default */, output).Prepared;
        float[] input = data.Input;
        ConvShape s = data.Shape;
        int depth = s.InputDepth, height = s.InputHeight, width = s.InputWidth;
        return prepared switch
        {
            PreparedConvTranspose1D oneD => [MethodImpl(MethodImplOptions.AggressiveOptimization)] () =>
            {
                if (gate.SkipKernel) return;
                oneD.Compute(input, width, output);
            },
            PreparedConvTranspose3D threeD => [MethodImpl(MethodImplOptions.AggressiveOptimization)] () =>
            {
                if (gate.SkipKernel) return;
                threeD.Compute(input, depth, height, width, output);
            },
            PreparedConvTranspose2D twoD => [MethodImpl(MethodImplOptions.AggressiveOptimization)] () =>
            {
                if (gate.SkipKernel) return;
                twoD.Compute(input, height, width, output);
            },
            _ => throw new InvalidOperationException($"RuntimeLayer built a {prepared.GetType().Name}."),
        };
    }

    private static Action Bind(Gate gate, Kernel kernel, ShapeData data, float[] output) =>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] () =>
        {
            if (gate.SkipKernel) return;
            kernel(data.Input, data.Weights, output);
        };
}
