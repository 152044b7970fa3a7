using System.Reflection;
using KernelGen.Benchmarks.Engines;
using KernelGen.Benchmarks.Shapes;

namespace KernelGen.Benchmarks.Generated;

/// <summary>The kernel the source generator emitted for the shape, called directly (one thread: generated kernels do not split work).</summary>
internal sealed class GeneratedEngine : IConvolutionEngine
{
    private delegate void Kernel(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

    private static readonly Dictionary<string, (Kernel Kernel, string Method)> s_kernels = new()
    {
        ["seed"] = (GeneratedKernels.Seed, nameof(GeneratedKernels.Seed)),
        ["small_fixed"] = (GeneratedKernels.SmallFixed, nameof(GeneratedKernels.SmallFixed)),
        ["game_up"] = (GeneratedKernels.GameUp, nameof(GeneratedKernels.GameUp)),
        ["mono_up"] = (GeneratedKernels.MonoUp, nameof(GeneratedKernels.MonoUp)),
        ["unet_up"] = (GeneratedKernels.UnetUp, nameof(GeneratedKernels.UnetUp)),
        ["dcgan"] = (GeneratedKernels.Dcgan, nameof(GeneratedKernels.Dcgan)),
        ["depthwise"] = (GeneratedKernels.Depthwise, nameof(GeneratedKernels.Depthwise)),
        ["stride1"] = (GeneratedKernels.Stride1, nameof(GeneratedKernels.Stride1)),
        ["unet_up_nhwc"] = (GeneratedKernels.UnetUpNhwc, nameof(GeneratedKernels.UnetUpNhwc)),
        ["vocoder_up"] = (GeneratedKernels.VocoderUp, nameof(GeneratedKernels.VocoderUp)),
        ["vocoder_up2"] = (GeneratedKernels.VocoderUp2, nameof(GeneratedKernels.VocoderUp2)),
        ["volume_up"] = (GeneratedKernels.VolumeUp, nameof(GeneratedKernels.VolumeUp)),
        ["volume_k3"] = (GeneratedKernels.VolumeK3, nameof(GeneratedKernels.VolumeK3)),
    };

    private readonly ShapeData _data;
    private readonly Kernel _kernel;
    private readonly float[] _output;

    public GeneratedEngine(ShapeData data)
    {
        _data = data;
        if (!s_kernels.TryGetValue(data.Shape.Name, out var entry))
            throw new InvalidOperationException($"No generated kernel is declared for {data.Shape.Name}; add one to {nameof(GeneratedKernels)}.");
        CheckDeclarationMatches(data.Shape, entry.Method);
        _kernel = entry.Kernel;
        _output = new float[data.Shape.OutputLength];
        _output.AsSpan().Fill(float.NaN);
    }

    public EngineKind Kind => EngineKind.Generated1T;

    public ConvShape Shape => _data.Shape;

    public string Note => "";

    public ReadOnlySpan<float> Output => _output;

    // A delegate call costs about a nanosecond, far below the smallest kernel's time; it keeps one engine for all shapes.
    public void Run() => _kernel(_data.Input, _data.Weights, _output);

    public void Dispose()
    {
    }

    /// <summary>Throws unless the method's attribute declares exactly the table's shape.</summary>
    internal static void CheckDeclarationMatches(ConvShape shape, string method)
    {
        var declaration = typeof(GeneratedKernels).GetMethod(method, BindingFlags.Public | BindingFlags.Static)
            ?? throw new InvalidOperationException($"{nameof(GeneratedKernels)} has no method {method}.");
        (ConvShape declared, bool plain) = (declaration.GetCustomAttribute<GeneratedConvTranspose2DAttribute>(),
                declaration.GetCustomAttribute<GeneratedConvTranspose1DAttribute>(),
                declaration.GetCustomAttribute<GeneratedConvTranspose3DAttribute>()) switch
        {
            ({ } a, null, null) => (new ConvShape(shape.Name, a.InChannels, a.OutChannels, a.InputHeight, a.InputWidth,
                    a.KernelSize, a.Stride, a.Padding, a.OutputPadding, a.Groups, a.Layout),
                a.KernelHeight == a.KernelWidth && a.StrideHeight == a.StrideWidth
                && a.PaddingHeight == a.PaddingWidth && a.OutputPaddingHeight == a.OutputPaddingWidth
                && a.Dilation == 1 && a.DilationHeight == 1 && a.DilationWidth == 1
                && a.Activation == FusedActivation.None),
            (null, { } a, null) => (ConvShape.OneD(shape.Name, a.InChannels, a.OutChannels, a.InputLength, a.KernelSize, a.Stride, a.Padding,
                    a.OutputPadding, a.Groups, a.Layout),
                a.PaddingBegin == a.Padding && a.PaddingEnd == a.Padding && a.Dilation == 1 && a.OutputLength == 0
                && a.AutoPad == OnnxAutoPad.NotSet && a.Activation == FusedActivation.None),
            (null, null, { } a) => (ConvShape.ThreeD(shape.Name, a.InChannels, a.OutChannels, a.InputDepth, a.InputHeight, a.InputWidth,
                    a.KernelSize, a.Stride, a.Padding, a.OutputPadding, a.Groups, a.Layout),
                a.KernelDepth == a.KernelSize && a.KernelHeight == a.KernelSize && a.KernelWidth == a.KernelSize
                && a.StrideDepth == a.Stride && a.StrideHeight == a.Stride && a.StrideWidth == a.Stride
                && a.PaddingFront == a.Padding && a.PaddingBack == a.Padding && a.PaddingTop == a.Padding
                && a.PaddingBottom == a.Padding && a.PaddingLeft == a.Padding && a.PaddingRight == a.Padding
                && a.OutputPaddingDepth == a.OutputPadding && a.OutputPaddingHeight == a.OutputPadding && a.OutputPaddingWidth == a.OutputPadding
                && a.Dilation == 1 && a.DilationDepth == 1 && a.DilationHeight == 1 && a.DilationWidth == 1
                && a.OutputDepth == 0 && a.AutoPad == OnnxAutoPad.NotSet && a.Activation == FusedActivation.None),
            _ => throw new InvalidOperationException($"{nameof(GeneratedKernels)}.{method} has no single [GeneratedConvTranspose1D], [GeneratedConvTranspose2D] or [GeneratedConvTranspose3D]."),
        };
        if (declared != shape || !plain)
            throw new InvalidOperationException(
                $"{nameof(GeneratedKernels)}.{method} declares {declared.Describe()}, but the shape table says {shape.Name} is {shape.Describe()}.");
    }
}
