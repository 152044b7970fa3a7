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
        var attribute = typeof(GeneratedKernels).GetMethod(method, BindingFlags.Public | BindingFlags.Static)?
            .GetCustomAttribute<GeneratedConvTranspose2DAttribute>()
            ?? throw new InvalidOperationException($"{nameof(GeneratedKernels)}.{method} has no [GeneratedConvTranspose2D].");
        var declared = new ConvShape(shape.Name, attribute.InChannels, attribute.OutChannels, attribute.InputHeight, attribute.InputWidth,
            attribute.KernelSize, attribute.Stride, attribute.Padding, attribute.OutputPadding, attribute.Groups, attribute.Layout);
        bool squareAndPlain = attribute.KernelHeight == attribute.KernelWidth && attribute.StrideHeight == attribute.StrideWidth
            && attribute.PaddingHeight == attribute.PaddingWidth && attribute.OutputPaddingHeight == attribute.OutputPaddingWidth
            && attribute.Dilation == 1 && attribute.DilationHeight == 1 && attribute.DilationWidth == 1
            && attribute.Activation == FusedActivation.None;
        if (declared != shape || !squareAndPlain)
            throw new InvalidOperationException(
                $"{nameof(GeneratedKernels)}.{method} declares {declared.Describe()}, but the shape table says {shape.Name} is {shape.Describe()}.");
    }
}
