namespace KernelGen.Benchmarks.Shapes;

/// <summary>The layers of issues 5 and 12, the single definition every engine, check and report reads.</summary>
public static class ShapeTable
{
    /// <summary>Every shape, in the issue's order.</summary>
    public static IReadOnlyList<ConvShape> All { get; } =
    [
        //        name             Cin  Cout   H    W   k  s  p  op  groups
        new("seed",                1,    1,   2,   2,  3, 2, 1, 1,  1),
        new("small_fixed",         4,    4,   8,   8,  3, 2, 1, 1,  1),
        new("game_up",            16,    8,  64,  64,  3, 2, 1, 1,  1),
        new("mono_up",             1,    1, 256, 256,  4, 2, 1, 0,  1),
        new("unet_up",           128,   64,  32,  32,  2, 2, 0, 0,  1),
        new("dcgan",             128,   64,  16,  16,  4, 2, 1, 0,  1),
        new("depthwise",          32,   32,  64,  64,  4, 2, 1, 0, 32),
        new("stride1",            32,   32,  32,  32,  3, 1, 1, 0,  1),
        new("unet_up_nhwc",      128,   64,  32,  32,  2, 2, 0, 0,  1, TensorLayout.Nhwc),
        // Issue 12. 1-D: a HiFi-GAN first up-sampling layer and a later, longer one. Name, Cin, Cout, L, k, s, p, op, groups.
        ConvShape.OneD("vocoder_up",  512, 256,  32, 16, 8, 4, 0, 1),
        ConvShape.OneD("vocoder_up2", 128,  64, 2048, 4, 2, 1, 0, 1),
        // 3-D: a volumetric U-Net decoder step and a k3 layer. Name, Cin, Cout, D, H, W, k, s, p, op, groups.
        ConvShape.ThreeD("volume_up", 64, 32, 16, 16, 16, 2, 2, 0, 0, 1),
        ConvShape.ThreeD("volume_k3", 32, 16,  8,  8,  8, 3, 2, 1, 1, 1),
    ];

    /// <summary>The shape with this name.</summary>
    /// <exception cref="ArgumentException">No shape has that name.</exception>
    public static ConvShape Get(string name) =>
        All.FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"No benchmark shape is named '{name}'; the shapes are {string.Join(", ", All.Select(s => s.Name))}.", nameof(name));
}
