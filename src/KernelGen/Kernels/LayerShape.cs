using System.Runtime.CompilerServices;

namespace KernelGen.Kernels;

/// <summary>The channel and kernel geometry the kernels read, flattened out of <see cref="ConvTranspose2D"/>.</summary>
internal readonly record struct LayerShape(
    int InChannels,
    int OutChannels,
    int Groups,
    int KernelHeight,
    int KernelWidth,
    FusedActivation Activation,
    float LeakyReluSlope)
{
    public int InPerGroup => InChannels / Groups;

    public int OutPerGroup => OutChannels / Groups;

    public int Taps => KernelHeight * KernelWidth;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LayerShape Of(ConvTranspose2D d) =>
        new(d.InChannels, d.OutChannels, d.Groups, d.KernelSize.Height, d.KernelSize.Width, d.Activation, d.LeakyReluSlope);
}
