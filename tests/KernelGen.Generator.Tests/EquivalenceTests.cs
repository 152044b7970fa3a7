using System.Reflection;
using System.Runtime.Intrinsics;
using CsCheck;
using KernelGen.Tests;

namespace KernelGen.Generator.Tests;

public delegate void Kernel3(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);

public delegate void Kernel4(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output);

public delegate void Path3(ref float x, ref float w, ref float y);

public delegate void Path4(ref float x, ref float w, ref float b, ref float y);

/// <summary>
/// Generated kernels, compiled and run: every shape is declared in one source, compiled in memory with the generator, loaded
/// into a collectible context and compared, through the public method and through each of its vector paths that this machine
/// accelerates, with the runtime library and the naive double-accumulating reference. Tolerance: 1e-5 per accumulated
/// product plus 4e-5 (float accumulation in different orders against double).
/// </summary>
public class EquivalenceTests
{
    /// <summary>The shapes every run covers (the random ones come on top).</summary>
    public static readonly KernelCase[] EdgeCases =
    [
        KernelCase.Square(1, 1, 2, 2, 3, stride: 2, padding: 1, outputPadding: 1),                     // the course example
        KernelCase.Square(3, 5, 4, 7, 1),                                                                // k = 1
        KernelCase.Square(1, 1, 1, 1, 1),                                                                // the smallest layer
        KernelCase.Square(2, 3, 3, 4, 2, stride: 3),                                                     // stride above the kernel: bias-only outputs
        KernelCase.Square(2, 2, 3, 5, 1, stride: 3, bias: true),                                         // phases with no tap at all
        KernelCase.Square(2, 2, 4, 5, 3, stride: 2, outputPadding: 1, dilation: 2),                      // dilation
        KernelCase.Square(4, 6, 5, 6, 3, stride: 2, padding: 1, groups: 2, bias: true),                  // groups
        KernelCase.Square(4, 4, 6, 9, 4, stride: 2, padding: 1, groups: 4),                              // depthwise
        KernelCase.Square(8, 8, 5, 5, 3, stride: 1, padding: 1, groups: 8, channelsLast: true),          // depthwise NHWC
        KernelCase.Square(3, 16, 1, 1, 4),                                                               // 1x1 input, many channels: channel vectors in NCHW
        KernelCase.Square(5, 7, 1, 1, 3, stride: 2, bias: true),                                         // 1x1 input, few channels
        KernelCase.Square(2, 3, 5, 7, 3, stride: 2, padding: 1, outputPadding: 1),                       // odd sizes
        KernelCase.Square(2, 3, 4, 4, 2, stride: 2, batch: 2, bias: true),                               // batch 2
        KernelCase.Square(2, 2, 3, 9, 3, stride: 2, bias: true, activation: FusedActivation.Relu),
        KernelCase.Square(2, 2, 3, 9, 3, stride: 2, bias: true, activation: FusedActivation.LeakyRelu, slope: 0.2f),
        KernelCase.Square(2, 2, 3, 9, 3, stride: 2, bias: true, activation: FusedActivation.Sigmoid),
        KernelCase.Square(2, 2, 3, 9, 3, stride: 2, bias: true, activation: FusedActivation.Tanh),
        KernelCase.Square(1, 1, 2, 20, 3, bias: true, activation: FusedActivation.Sigmoid),              // one channel: vector activation alone in its block
        KernelCase.Square(1, 8, 2, 2, 2, stride: 2, channelsLast: true, bias: true, activation: FusedActivation.Tanh),
        KernelCase.Square(3, 12, 4, 5, 3, stride: 2, padding: 1, channelsLast: true, bias: true, activation: FusedActivation.LeakyRelu, slope: -0.5f),
        KernelCase.Square(2, 2, 1, 20, 3, stride: 1, channelsLast: true),                                // NHWC, few channels: width vectors with gathers
        KernelCase.Square(1, 2, 2, 37, 3, stride: 1, padding: 1),                                        // rows wide enough for Vector512
        // Vector256 blocks that go input offset by input offset (unstaged, few channels, rows of 2+ vectors):
        KernelCase.Square(3, 8, 3, 21, 3, stride: 2, padding: 1, outputPadding: 1, bias: true),          // 3 x 2 blocks, a channel tail, edges, a lone last column
        KernelCase.Square(2, 2, 3, 26, 4, stride: 2, padding: 1, groups: 2, activation: FusedActivation.Relu), // one-channel groups: 1 x 3 blocks, edges
        KernelCase.Square(2, 20, 3, 3, 2, stride: 2, channelsLast: true, bias: true),                    // 20 channels: 16 + 4 lanes
        KernelCase.Square(16, 8, 8, 8, 4, stride: 2, padding: 1, bias: true, activation: FusedActivation.Relu), // DCGAN-like: over the default budget
        KernelCase.Square(16, 8, 8, 8, 2, stride: 2, channelsLast: true),                                // U-Net-like, NHWC
        KernelCase.Square(3, 4, 6, 10, 3, stride: 2, padding: 1, outputPadding: 1, budget: 40),          // spatial loops kept
        KernelCase.Square(6, 9, 5, 7, 3, stride: 2, groups: 3, bias: true, budget: 20, channelsLast: true), // channel loops kept
        KernelCase.Square(5, 3, 4, 12, 3, stride: 1, padding: 2, batch: 2, budget: 1),                   // every loop kept
        // Channel vectors with packed weights (PlannerTests.EquivalenceCasesReachEveryChannelWeightPath checks what each reaches):
        KernelCase.Square(128, 32, 5, 6, 3, stride: 1, padding: 1, channelsLast: true, bias: true, activation: FusedActivation.LeakyRelu, slope: 0.1f), // chunks in a loop
        KernelCase.Square(131, 20, 4, 7, 3, stride: 1, padding: 1, channelsLast: true, activation: FusedActivation.Sigmoid),            // a remainder chunk
        KernelCase.Square(48, 32, 5, 7, 4, stride: 2, padding: 1, groups: 2, channelsLast: true, bias: true),                          // packed per group
        KernelCase.Square(32, 48, 9, 11, 2, stride: 2, channelsLast: true, batch: 2),                                                  // U-Net-like: pair + single vector, 8 + 3 pixels
        // Vector256 blocks of 6 pixels: a short remainder joins the last block and the two are split (6 + 1 as 4 + 3, 6 + 6 + 3 as 6 + 5 + 4).
        KernelCase.Square(16, 16, 3, 9, 3, stride: 1, padding: 1, channelsLast: true, bias: true),
        KernelCase.Square(16, 19, 2, 15, 2, stride: 2, channelsLast: true, activation: FusedActivation.Relu),
        KernelCase.Square(8, 16, 12, 3, 3, stride: 2, padding: 1, outputPadding: 1, bias: true, activation: FusedActivation.Relu),     // NCHW channel vectors, packed
        KernelCase.Square(200, 16, 8, 3, 3, stride: 1, padding: 1, bias: true, activation: FusedActivation.Tanh),                      // NCHW, chunked, scattered stores
        KernelCase.Square(4, 16, 4, 5, 2, stride: 2, channelsLast: true, bias: true, budget: 100_000),                                 // packed and unrolled completely
        KernelCase.Square(4, 16, 5, 9, 2, stride: 2, channelsLast: true, budget: 6_000),                                                // packed, input channels unrolled in spatial loops
        // Width kernel (NCHW): stride-2 column pairs interleaved, edge vectors shifting zeros in, the last vector moved back.
        KernelCase.Square(2, 3, 3, 16, 4, stride: 2, padding: 1, bias: true, activation: FusedActivation.LeakyRelu, slope: 0.2f), // one 16-pair vector, both edges shifted
        KernelCase.Square(1, 2, 2, 19, 3, stride: 2, padding: 1),                                        // odd output width: a lone last column
        KernelCase.Square(2, 2, 3, 21, 4, stride: 2, padding: 2, bias: true, activation: FusedActivation.Sigmoid), // pairs 20: a moved-back vector
        KernelCase.Square(1, 2, 2, 20, 5, stride: 3, padding: 2),                                        // stride 3: phases alone, lanes 3 apart
        KernelCase.Square(3, 2, 3, 40, 4, stride: 2, padding: 1, budget: 60),                            // spatial loops: a loop over clean vectors, edge rows guarded
        KernelCase.Square(2, 26, 2, 17, 3, stride: 1, padding: 1, bias: true),                           // 26 channels: register blocks with a tail
        // Many channels (32+ input, 8+ output per group): the Vector256 path stages the input row by row and computes blocks of two vectors.
        KernelCase.Square(32, 10, 3, 17, 4, stride: 2, padding: 1, bias: true, activation: FusedActivation.LeakyRelu, slope: 0.2f), // pairs: edges shifted, a lone last column, a 1-channel tail
        KernelCase.Square(64, 16, 3, 18, 3, stride: 1, padding: 1, groups: 2, batch: 2, bias: true),     // stride 1, groups, a moved-back vector
        KernelCase.Square(32, 8, 2, 20, 5, stride: 3, padding: 2, activation: FusedActivation.Relu),   // stride 3: phases alone, lanes 3 apart
        KernelCase.Square(32, 9, 5, 17, 3, stride: 2, padding: 1, budget: 60),                           // rows in a loop, edge rows guarded
        KernelCase.Square(32, 8, 1, 17, 3, stride: 2, padding: 1, budget: 100_000),                      // input channels unrolled: the staged buffer read directly, zero columns at both ends
        // Rows of 32+ positions: the Vector512 path stages too, blocks of 6 channels x 2 vectors x 2 phases (12 x 2 unpaired).
        KernelCase.Square(32, 14, 3, 35, 4, stride: 2, padding: 1, bias: true, activation: FusedActivation.LeakyRelu, slope: 0.2f), // pairs: edges from the zero columns, a moved-back vector, a lone last column, a 2-channel tail
        KernelCase.Square(40, 16, 2, 33, 2, stride: 2, batch: 2),                                        // U-Net-like k2 s2: odd width, a 4-channel tail
        KernelCase.Square(32, 20, 3, 37, 3, stride: 1, padding: 1, bias: true),                          // stride 1: 12 x 2 blocks, an 8-channel tail, a moved-back vector
        KernelCase.Square(32, 8, 3, 34, 3, stride: 2, padding: 1, budget: 60),                           // rows in a loop, edge rows guarded
        KernelCase.Square(32, 8, 3, 34, 2, stride: 2, bias: true, budget: 60),                           // k2 s2, rows in a loop: both row phases in one loop over the input rows
        KernelCase.Square(32, 16, 3, 32, 2, stride: 2, bias: true, batch: 2),                            // k2 s2, 32 columns: the Vector512 path streams its staged rows (the last copies itself)
        // The staged Vector256 path reads its weights packed by register block; blocks of fewer than 24 multiply-adds per input
        // channel (k2 s2) reduce two input channels per iteration: 16 column pairs (one block of two vectors per row) stream the
        // staged rows, each unrolled iteration copying two channels' rows; packed per group with a tail; an odd group (not unrolled).
        KernelCase.Square(32, 16, 3, 16, 2, stride: 2, bias: true, activation: FusedActivation.Relu),
        KernelCase.Square(64, 20, 3, 20, 2, stride: 2, groups: 2, batch: 2),
        KernelCase.Square(33, 8, 2, 20, 2, stride: 2, bias: true),
        // Rows of 16 to 31 column pairs: the staged Vector512 path computes blocks of 6 channels x 1 vector x 2 output rows x 2 phases.
        KernelCase.Square(32, 14, 5, 16, 4, stride: 2, padding: 1, bias: true, activation: FusedActivation.Relu, batch: 2), // odd rows per phase: a lone last row; edge pairs skip taps per row; a 2-channel tail
        KernelCase.Square(32, 8, 2, 20, 3, stride: 2, padding: 1, budget: 100_000),                      // rows unrolled (every pair literal), a moved-back vector
        KernelCase.Square(32, 9, 6, 16, 3, stride: 2, padding: 1, outputPadding: 1, bias: true),         // kernel 3: phases of 1 and 2 row taps, a 3-channel tail
        new(2, 1, 2, 1, 5, 16, (3, 2), (2, 3), (2, 0, 2, 0), (1, 2), (1, 1), true, true, FusedActivation.LeakyRelu, 0.2f, 0, 626696), // NHWC, one input channel: plain loads, a last vector past the input
        new(1, 2, 3, 1, 5, 6, (3, 2), (1, 2), (1, 0, 1, 0), (0, 1), (2, 1), false, true, FusedActivation.None, 0.01f, 0, 7),  // per-axis values
        new(2, 4, 8, 2, 3, 5, (2, 4), (2, 3), (0, 2, 0, 2), (1, 2), (1, 1), true, false, FusedActivation.Tanh, 0.01f, 30, 8), // per-axis, NHWC, loops
        // ONNX's asymmetric pads, auto_pad and output_shape, PyTorch's output_size, parameters bound by name.
        new(1, 2, 3, 1, 6, 9, (3, 3), (2, 2), (1, 0, 2, 1), (1, 0), (1, 1), false, true, FusedActivation.None, 0.01f, 0, 9, WeightsFirst: true),
        new(1, 3, 8, 1, 5, 19, (4, 4), (2, 2), (0, 2, 1, 1), (0, 1), (1, 1), true, false, FusedActivation.Relu, 0.01f, 0, 10, DeclarationForm.OutputSize),
        KernelCase.Onnx(1, 2, 3, 3, (3, 3), (2, 2), OnnxAutoPad.SameUpper),                                // odd total padding: the odd cell at the end
        KernelCase.Onnx(1, 2, 3, 3, (3, 3), (2, 2), OnnxAutoPad.SameLower, bias: true),                    // ... at the beginning
        KernelCase.Onnx(1, 2, 3, 3, (3, 3), (3, 2), OnnxAutoPad.NotSet, outputShape: (10, 8)),             // ONNX's test_convtranspose_output_shape: larger than 9 x 7
        KernelCase.Onnx(2, 2, 4, 6, (4, 3), (2, 2), OnnxAutoPad.Valid),
        KernelCase.Onnx(2, 3, 4, 5, (4, 4), (2, 2), OnnxAutoPad.SameUpper, outputShape: (7, 9)),
        // [GeneratedConvTranspose1D]: the course example's second row, a vocoder-like x8 layer, and the other declaration forms.
        KernelCase.Square(1, 1, 1, 4, 3, stride: 2, padding: 1, outputPadding: 1).As1D(),
        new KernelCase(1, 8, 4, 1, 1, 9, (1, 16), (1, 8), (0, 4, 0, 4), (0, 0), (1, 1), false, true, FusedActivation.LeakyRelu, 0.1f, 0, 11).As1D(),
        new KernelCase(2, 4, 12, 2, 1, 7, (1, 4), (1, 2), (0, 1, 0, 2), (0, 1), (1, 2), true, true, FusedActivation.Tanh, 0.01f, 0, 12).As1D(),
        new KernelCase(1, 3, 5, 1, 1, 6, (1, 3), (1, 2), (0, 1, 0, 1), (0, 1), (1, 1), false, false, FusedActivation.None, 0.01f, 0, 13, DeclarationForm.OutputSize).As1D(),
        KernelCase.Onnx(1, 2, 1, 5, (1, 3), (1, 2), OnnxAutoPad.SameUpper).As1D(),
        // NCL weights past StrategyChooser.MaxWidthKernelWeights (256 x 128 x 16 floats): the channel-vector kernel in NCHW.
        // They take tap vectors (KernelBodyWriter.Taps.cs): vectors along the 16 taps, both ends of each row cropped lane by lane.
        new KernelCase(1, 256, 128, 1, 1, 5, (1, 16), (1, 8), (0, 4, 0, 4), (0, 0), (1, 1), false, true, FusedActivation.None, 0.01f, 0, 14).As1D(),
        // Tap vectors with groups, 67 channels per group (a last tile of one), kernel 8 (no 512-bit path), asymmetric padding,
        // output padding (outputs that only the bias reaches) and ReLU after the last tile.
        new KernelCase(1, 512, 134, 2, 1, 11, (1, 8), (1, 4), (0, 3, 0, 1), (0, 2), (1, 1), false, true, FusedActivation.Relu, 0.01f, 0, 15).As1D(),
        // Tap vectors of kernel 48 (three per row; the scalar path in passes of 6), a batch of two, no padding, sigmoid, no bias.
        new KernelCase(2, 300, 20, 1, 1, 3, (1, 48), (1, 16), (0, 0, 0, 0), (0, 0), (1, 1), false, false, FusedActivation.Sigmoid, 0.01f, 0, 16).As1D(),
        // More tap-vector geometries (vocoder-like strides of 8 and 16): groups of 81 output channels (a last tile of one on 2-channel tiles), padding
        // 5 and output padding 3 (windows cropped at both ends lane by lane), an odd output length (59), no bias, leaky ReLU.
        new KernelCase(1, 256, 162, 2, 1, 7, (1, 16), (1, 8), (0, 5, 0, 3), (0, 3), (1, 1), false, false, FusedActivation.LeakyRelu, 0.2f, 0, 17).As1D(),
        // Kernel = stride = 8 (windows that do not overlap); three positions, eight blocks of 64 input channels, bias and tanh.
        new KernelCase(1, 512, 72, 1, 1, 3, (1, 8), (1, 8), (0, 0, 0, 0), (0, 0), (1, 1), false, true, FusedActivation.Tanh, 0.01f, 0, 18).As1D(),
        // Kernel 24, stride 8 (three vectors per row, no 512-bit path), padding 8 (position 0 adds only its last two vectors), length 4,
        // a batch of two, ReLU.
        new KernelCase(2, 128, 96, 1, 1, 4, (1, 24), (1, 8), (0, 8, 0, 8), (0, 0), (1, 1), false, true, FusedActivation.Relu, 0.01f, 0, 19).As1D(),
        // Stride 16, kernel 32, 16 input channels (one block), under an attribute budget of 10 000 statements.
        new KernelCase(1, 16, 520, 1, 1, 2, (1, 32), (1, 16), (0, 8, 0, 8), (0, 0), (1, 1), false, true, FusedActivation.None, 0.01f, 10_000, 20).As1D(),
        // Kernel 48 in passes (the Vector256 tile holds 2 of its 6 vectors: 3 passes) with position tiles that copy their weights
        // for the later ones (9 positions in tiles of 6; 4 blocks of 64 input channels), padding 8 at both ends, bias.
        new KernelCase(1, 256, 64, 1, 1, 9, (1, 48), (1, 16), (0, 8, 0, 8), (0, 0), (1, 1), false, true, FusedActivation.None, 0.01f, 0, 22).As1D(),
        // 1-D width kernels with many channels (32+ input, 8+ output per group): the Vector512 path computes blocks of three
        // vectors sharing each broadcast weight. Pairs (stride 2) in blocks of 4 channels (10 = 4 + 4 + a 2-channel tail), both
        // edges shifted, a loop over clean blocks, a remainder of fewer than three vectors and a moved-back last vector; bias, leaky ReLU.
        new KernelCase(1, 32, 10, 1, 1, 101, (1, 4), (1, 2), (0, 1, 0, 1), (0, 0), (1, 1), false, true, FusedActivation.LeakyRelu, 0.2f, 0, 23).As1D(),
        // Stride 3 (phases alone, blocks of 8 channels), groups of 32 -> 8, output padding, a batch of two.
        new KernelCase(2, 64, 16, 2, 1, 70, (1, 5), (1, 3), (0, 2, 0, 2), (0, 1), (1, 1), false, false, FusedActivation.None, 0.01f, 0, 24).As1D(),
        // Kernel 3, stride 2, padding 1: an odd output length (a lone last column after the pairs), 40 input channels, tanh.
        new KernelCase(1, 40, 8, 1, 1, 50, (1, 3), (1, 2), (0, 1, 0, 1), (0, 0), (1, 1), false, true, FusedActivation.Tanh, 0.01f, 0, 25).As1D(),
        // Long 1-D rows (two tiles of about 256 positions or more, 32+ input channels): the Vector256 path walks the staged row in
        // tiles outside its blocks of output channels, then the rest of the run; staged rows of 1024+ floats are padded to an odd
        // number of cache lines. Pairs, 8 = 3 + 3 + 2 channels (the tail's 3 vectors: tiles of 240), 4 tiles and a rest of 140
        // with a moved-back vector, rows of 1104 floats; bias, ReLU, a batch of two.
        new KernelCase(2, 32, 8, 1, 1, 1100, (1, 4), (1, 2), (0, 1, 0, 1), (0, 0), (1, 1), false, true, FusedActivation.Relu, 0.01f, 0, 30).As1D(),
        // Stride 3 (phases alone, each in its own tiles), 10 = 6 + 4 output channels, output padding.
        new KernelCase(1, 32, 10, 1, 1, 700, (1, 5), (1, 3), (0, 2, 0, 2), (0, 1), (1, 1), false, false, FusedActivation.None, 0.01f, 0, 31).As1D(),
        // Kernel 3, stride 2, padding 1: a lone last column after the tiled pairs, 16 = 5 x 3 + 1 channels, rows of 1520 floats, tanh.
        new KernelCase(1, 32, 16, 1, 1, 1500, (1, 3), (1, 2), (0, 1, 0, 1), (0, 0), (1, 1), false, true, FusedActivation.Tanh, 0.01f, 0, 32).As1D(),
        // Tap vectors on vocoder-like geometries (kernel 2 x stride, the output exactly stride x the input long, one or two
        // Vector512 of positions): vocoder_up's geometry with 256 -> 128 channels, 32 positions, bias.
        new KernelCase(1, 256, 128, 1, 1, 32, (1, 16), (1, 8), (0, 4, 0, 4), (0, 0), (1, 1), false, true, FusedActivation.None, 0.01f, 0, 26).As1D(),
        // ... 16 positions, groups of 81 output channels, padding 5 and output padding 2 (the output phases take their tap rows
        // at different positions), a batch of two, no bias, leaky ReLU.
        new KernelCase(2, 256, 162, 2, 1, 16, (1, 16), (1, 8), (0, 5, 0, 5), (0, 2), (1, 1), false, false, FusedActivation.LeakyRelu, 0.2f, 0, 27).As1D(),
        // ... asymmetric padding 6 and 2, 32 positions, bias, ReLU.
        new KernelCase(1, 256, 128, 1, 1, 32, (1, 16), (1, 8), (0, 6, 0, 2), (0, 0), (1, 1), false, true, FusedActivation.Relu, 0.01f, 0, 29).As1D(),
        // ... stride 16, kernel 32 (two vectors of taps), 16 positions, bias, tanh.
        new KernelCase(1, 16, 520, 1, 1, 16, (1, 32), (1, 16), (0, 8, 0, 8), (0, 0), (1, 1), false, true, FusedActivation.Tanh, 0.01f, 0, 28).As1D(),
        // NLC with case 14's geometry: channel vectors (tap vectors are NCL only).
        new KernelCase(1, 256, 128, 1, 1, 5, (1, 16), (1, 8), (0, 4, 0, 4), (0, 0), (1, 1), true, true, FusedActivation.None, 0.01f, 0, 21).As1D(),
    ];

    [Fact]
    public void GeneratedKernelsMatchTheRuntimeAndTheNaiveReference() =>
        KernelCase.Generator.Array[32].Sample(random => CompileAndCompare([.. EdgeCases, .. random]), iter: 1, threads: 1);

    /// <summary>
    /// Generates, compiles and runs <paramref name="cases"/>, comparing them as the class summary says; <paramref name="rewriteGenerated"/>,
    /// when given, changes each generated source before it is compiled (see <see cref="PortableFallbackTests"/>).
    /// </summary>
    internal static void CompileAndCompare(KernelCase[] cases, Func<string, string>? rewriteGenerated = null)
    {
        // A project budget below the default keeps the one compilation small; the shapes that must unroll completely do so within it.
        var result = GeneratorHarness.CompileAndLoad(KernelCase.Source("Equivalence", cases), projectBudget: 300, rewriteGenerated, assembly =>
        {
            var kernels = assembly.GetType("Equivalence.Kernels", throwOnError: true)!;
            for (int i = 0; i < cases.Length; i++)
                CheckCase(kernels, "K" + i, cases[i]);
        });
        Assert.Equal(cases.Length, result.GeneratedTrees.Length);
    }

    private static void CheckCase(Type kernels, string name, KernelCase c)
    {
        var naive = c.Naive();
        var runtime = c.Runtime();
        AssertClose(c, name + " (runtime vs naive)", runtime, naive);

        var method = kernels.GetMethod(name, BindingFlags.Public | BindingFlags.Static)!;
        var output = Sentinels(c.Batch * c.OutputLength + 3);
        // (weights, input, ...) declarations are bound by name: the call passes the weights first.
        var (first, second) = c.WeightsFirst ? (c.Weights(), c.Input()) : (c.Input(), c.Weights());
        if (c.HasBias) method.CreateDelegate<Kernel4>()(first, second, c.Bias(), output);
        else method.CreateDelegate<Kernel3>()(first, second, output);
        AssertClose(c, name, output.AsSpan(0, naive.Length), naive);
        AssertClose(c, name + " (generated vs runtime)", output.AsSpan(0, naive.Length), runtime);
        Assert.All(output[naive.Length..], v => Assert.Equal(Sentinel, v));

        // Each path the machine accelerates, called directly one sample at a time, so every width is checked in every run.
        var paths = kernels.Assembly.GetType("KernelGen.Generated.Equivalence_Kernels_" + name, throwOnError: true)!;
        foreach (var (pathName, accelerated) in Paths)
        {
            var path = paths.GetMethod(pathName, BindingFlags.NonPublic | BindingFlags.Static);
            if (path is null || !accelerated) continue;
            var input = c.Input();
            var weights = c.Weights();
            var bias = c.Bias();
            var pathOutput = Sentinels(c.Batch * c.OutputLength);
            for (int n = 0; n < c.Batch; n++)
            {
                if (c.HasBias)
                    path.CreateDelegate<Path4>()(ref input[n * c.InputLength], ref weights[0], ref bias[0], ref pathOutput[n * c.OutputLength]);
                else
                    path.CreateDelegate<Path3>()(ref input[n * c.InputLength], ref weights[0], ref pathOutput[n * c.OutputLength]);
            }

            AssertClose(c, name + "." + pathName, pathOutput, naive);
        }

        CheckSpecialValues(kernels, name, c);
    }

    /// <summary>
    /// NaN and infinities give the naive reference's result (which is PyTorch's: see the runtime's SpecialValueTests):
    /// in the input and bias on every path, called directly; in the weights too through the public method, which then runs
    /// the scalar path (the vector paths' edge vectors multiply weights by zeros shifted in, and 0 x Inf is NaN), so the
    /// scalar path must be exact on its own; a tap-vectorised kernel multiplies no such zeros and runs its vector path.
    /// </summary>
    private static void CheckSpecialValues(Type kernels, string name, KernelCase c)
    {
        var random = new Random(c.Seed);
        float[] input = c.Input(), weights = c.Weights(), bias = c.Bias();
        SpecialValues.Sprinkle(input, 1 + random.Next(3), random);
        SpecialValues.Sprinkle(bias, random.Next(2), random);
        float[] specialWeights = (float[])weights.Clone();
        SpecialValues.Sprinkle(specialWeights, 1 + random.Next(2), random);
        var paths = kernels.Assembly.GetType("KernelGen.Generated.Equivalence_Kernels_" + name, throwOnError: true)!;
        foreach (var (w, what) in new[] { (weights, "special input and bias"), (specialWeights, "special weights, input and bias") })
        {
            var expected = NaiveReference.ConvTranspose2D(input, c.Batch, c.InChannels, c.InputHeight, c.InputWidth, w, c.HasBias ? bias : null,
                c.OutChannels, c.Kernel, c.Stride, c.Padding, c.OutputPadding, c.Dilation, c.Groups,
                c.ChannelsLast, c.Activation, c.Slope);
            var output = Sentinels(expected.Length);
            var method = kernels.GetMethod(name, BindingFlags.Public | BindingFlags.Static)!;
            var (first, second) = c.WeightsFirst ? (w, input) : (input, w);
            if (c.HasBias) method.CreateDelegate<Kernel4>()(first, second, bias, output);
            else method.CreateDelegate<Kernel3>()(first, second, output);
            SpecialValues.AssertSame(expected, output, c.Tolerance, $"{name} ({what}) {c}");

            foreach (var (pathName, accelerated) in Paths)
            {
                var path = paths.GetMethod(pathName, BindingFlags.NonPublic | BindingFlags.Static);
                if (path is null || !accelerated || (w == specialWeights && pathName != "ScalarPath")) continue;
                var pathOutput = Sentinels(expected.Length);
                for (int n = 0; n < c.Batch; n++)
                {
                    if (c.HasBias)
                        path.CreateDelegate<Path4>()(ref input[n * c.InputLength], ref w[0], ref bias[0], ref pathOutput[n * c.OutputLength]);
                    else
                        path.CreateDelegate<Path3>()(ref input[n * c.InputLength], ref w[0], ref pathOutput[n * c.OutputLength]);
                }

                SpecialValues.AssertSame(expected, pathOutput, c.Tolerance, $"{name}.{pathName} ({what}) {c}");
            }
        }
    }

    private static readonly (string Name, bool Accelerated)[] Paths =
    [
        ("Vector512Path", Vector512.IsHardwareAccelerated),
        ("Vector256Path", Vector256.IsHardwareAccelerated),
        ("Vector128Path", Vector128.IsHardwareAccelerated),
        ("ScalarPath", true),
    ];

    private const float Sentinel = 12345f;

    private static float[] Sentinels(int length) => Enumerable.Repeat(Sentinel, length).ToArray();

    private static void AssertClose(KernelCase c, string what, ReadOnlySpan<float> actual, float[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(actual[i] - expected[i]) <= c.Tolerance))
                Assert.Fail($"{what}: output[{i}] = {actual[i]}, expected {expected[i]} (tolerance {c.Tolerance}) for {c}");
        }
    }
}
