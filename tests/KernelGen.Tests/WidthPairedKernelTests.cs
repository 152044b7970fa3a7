using CsCheck;
using KernelGen.Kernels;
using KernelGen.Planning;

namespace KernelGen.Tests;

/// <summary>
/// The width kernel's stride-2 path (<see cref="WidthPairedKernel"/>): both width phases interleaved in registers, taps
/// flattened into straight-line code for 1, 2 and 4 taps per phase (looped otherwise), odd taps that read an even tap's
/// column loaded once (<see cref="ColumnSharing"/>), weights in registers for one input channel per
/// group, blocks of 4 vectors then single vectors then one last overlapping or staged vector, and the input padded
/// by the kernel itself a window of rows at a time (NCHW) or by the separate pass (NHWC, or rows too wide for the window).
/// Each named case asserts which of these paths it takes, then matches the naive reference at every vector width and
/// gives the same results on two threads as on one.
/// </summary>
[Collection(ProcessWideSettingsCollection.Name)]
public class WidthPairedKernelTests
{
    /// <summary>The branches of <see cref="WidthPairedKernel"/> a case takes (at the hardware's widest vectors).</summary>
    internal sealed record PairedPath(ColumnSharing Sharing, bool AllPhasesFlat, bool OneInputChannel, bool PadsItself);

    /// <summary>The paired path of a case, or null when its call does not reach <see cref="WidthPairedKernel"/>.</summary>
    internal static PairedPath? PathOf(ConvCase c)
    {
        var definition = c.Create();
        var plan = Plans.Of(definition, c.InputHeight, c.InputWidth);
        if (plan.Strategy != KernelStrategy.WidthVectorized || plan.PairedColumns is not { } columns) return null;
        var layer = LayerShape.Of(definition);
        bool allFlat = plan.Height.Phases.All(phase =>
            IsFlat(phase.KernelTaps.Length * columns.EvenShifts.Length) && IsFlat(phase.KernelTaps.Length * columns.OddShifts.Length));
        return new PairedPath(columns.Sharing, allFlat, layer.InPerGroup == 1, plan.PadsItself);

        static bool IsFlat(int taps) => taps is 1 or 2 or 4;
    }

    private static ConvCase Make(int inChannels, int outChannels, int inputHeight, int inputWidth, int kernel, int padding,
        int outputPadding = 0, int groups = 1, (int H, int W)? stride = null, bool channelsLast = false,
        FusedActivation activation = FusedActivation.None, int batch = 1) =>
        new(batch, inChannels, outChannels, groups, inputHeight, inputWidth, (kernel, kernel), stride ?? (2, 2),
            (padding, padding, padding, padding), (outputPadding, outputPadding), (1, 1), channelsLast, HasBias: true,
            activation, Seed: inputWidth * 31 + kernel * 7 + padding);

    /// <summary>Named cases: each one's expected path, then the case.</summary>
    private static readonly Dictionary<string, (PairedPath Path, ConvCase Case)> Cases = new()
    {
        // Kernel 4, odd padding (mono_up, depthwise, DCGAN): 2 x 2 taps per phase, the second odd tap reads the first even tap's column.
        ["k4-p1"] = (new(ColumnSharing.SecondOddIsFirstEven, true, true, true), Make(1, 1, 9, 77, kernel: 4, padding: 1)),
        ["k4-p1-depthwise"] = (new(ColumnSharing.SecondOddIsFirstEven, true, true, true),
            Make(6, 6, 7, 64, kernel: 4, padding: 1, groups: 6, activation: FusedActivation.Relu)),
        // Two input channels per group: weights are broadcast per channel inside the block instead of held in registers.
        ["k4-p1-two-inputs"] = (new(ColumnSharing.SecondOddIsFirstEven, true, false, true),
            Make(4, 2, 6, 70, kernel: 4, padding: 1, groups: 2, activation: FusedActivation.LeakyRelu)),
        // Kernel 4, even padding: both phases read the same columns.
        ["k4-p0"] = (new(ColumnSharing.OddIsEven, true, false, true), Make(2, 3, 5, 41, kernel: 4, padding: 0)),
        ["k4-p2"] = (new(ColumnSharing.OddIsEven, true, true, true), Make(1, 2, 6, 66, kernel: 4, padding: 2, activation: FusedActivation.Tanh)),
        // Kernel 3: one even and two odd taps (odd padding), or two even and one odd (even padding); row phases of 2 and 1 taps.
        ["k3-p1-op1"] = (new(ColumnSharing.SecondOddIsEven, true, true, true), Make(1, 3, 8, 53, kernel: 3, padding: 1, outputPadding: 1)),
        ["k3-p0"] = (new(ColumnSharing.OddIsFirstEven, true, false, true), Make(3, 1, 5, 38, kernel: 3, padding: 0)),
        // Kernel 3, padding 1, no output padding: an odd output width, so the last pair has no odd cell (staged last vector).
        ["k3-p1-odd-width"] = (new(ColumnSharing.SecondOddIsEven, true, false, true),
            Make(2, 2, 4, 45, kernel: 3, padding: 1, activation: FusedActivation.Sigmoid)),
        // Kernel 2: one tap per phase, the same column (no padding) or different columns (padding 1, no sharing).
        ["k2-p0"] = (new(ColumnSharing.OddIsEven, true, false, true), Make(2, 2, 5, 100, kernel: 2, padding: 0)),
        ["k2-p1"] = (new(ColumnSharing.None, true, true, true), Make(1, 1, 6, 99, kernel: 2, padding: 1)),
        // Kernel 5: 3 x 3 and 2 x 3 taps per phase, by loops.
        ["k5-looped"] = (new(ColumnSharing.None, false, true, true), Make(1, 2, 6, 60, kernel: 5, padding: 2, outputPadding: 1)),
        ["k5-looped-two-inputs"] = (new(ColumnSharing.None, false, false, true), Make(2, 1, 5, 37, kernel: 5, padding: 1)),
        // Kernel 1: the odd phase has no tap, so odd cells hold only the bias (looped with no taps).
        ["k1-bias-only-phase"] = (new(ColumnSharing.None, false, false, true), Make(2, 2, 7, 70, kernel: 1, padding: 0, outputPadding: 1)),
        // Row stride 1 and 3: the row phases are not paired, only the columns are.
        ["row-stride-1"] = (new(ColumnSharing.SecondOddIsFirstEven, false, true, true), Make(1, 1, 6, 50, kernel: 4, padding: 1, stride: (1, 2))),
        ["row-stride-3"] = (new(ColumnSharing.SecondOddIsFirstEven, true, true, true), Make(1, 2, 5, 44, kernel: 4, padding: 1, stride: (3, 2))),
        // Large enough for two threads, split in the middle of a channel at an odd output row.
        ["two-threads-split-mid-channel"] = (new(ColumnSharing.SecondOddIsFirstEven, true, true, true),
            Make(15, 15, 33, 70, kernel: 4, padding: 1, groups: 15)),
        // Rows shorter than any vector: one staged vector per row.
        ["short-rows"] = (new(ColumnSharing.SecondOddIsFirstEven, true, true, true), Make(1, 1, 40, 3, kernel: 4, padding: 1)),
        ["one-column"] = (new(ColumnSharing.OddIsFirstEven, true, true, true), Make(1, 1, 30, 1, kernel: 3, padding: 0, outputPadding: 0)),
        // Tall and wide: the rows of one output channel do not fit in one window, so the window is halved.
        ["window-halved"] = (new(ColumnSharing.SecondOddIsFirstEven, true, false, true),
            Make(2, 1, 64, 300, kernel: 4, padding: 1, batch: 2)),
        // So wide that one output row's input rows do not fit in the window: the separate padding pass runs instead.
        ["too-wide-for-window"] = (new(ColumnSharing.SecondOddIsFirstEven, true, false, false),
            Make(4, 1, 3, 1700, kernel: 4, padding: 1)),
        // NHWC input always goes through the padding pass.
        ["nhwc"] = (new(ColumnSharing.SecondOddIsFirstEven, true, true, false), Make(3, 3, 6, 70, kernel: 4, padding: 1, groups: 3, channelsLast: true)),
        ["nhwc-k3"] = (new(ColumnSharing.SecondOddIsEven, true, false, false), Make(4, 2, 5, 33, kernel: 3, padding: 1, outputPadding: 1, channelsLast: true)),
    };

    public static TheoryData<string> CaseNames() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void TakesItsPathAndMatchesTheReferenceAtEveryWidthAndOnTwoThreads(string name)
    {
        var (path, c) = Cases[name];
        Assert.Equal(path, PathOf(c));
        AssertMatchesAtEveryWidth(c);
    }

    /// <summary>Every named path is reached by some named case, so none of the branches above goes untested.</summary>
    [Fact]
    public void TheNamedCasesReachEveryBranch()
    {
        var paths = Cases.Values.Select(entry => entry.Path).ToList();
        foreach (ColumnSharing sharing in Enum.GetValues<ColumnSharing>())
            Assert.Contains(paths, path => path.Sharing == sharing && path.AllPhasesFlat);
        Assert.Contains(paths, path => !path.AllPhasesFlat && path.OneInputChannel);
        Assert.Contains(paths, path => !path.AllPhasesFlat && !path.OneInputChannel);
        Assert.Contains(paths, path => path.AllPhasesFlat && !path.OneInputChannel && path.PadsItself);
        Assert.Contains(Cases.Values, entry => !entry.Path.PadsItself && !entry.Case.ChannelsLast);
        Assert.Contains(Cases.Values, entry => (long)entry.Case.InChannels * entry.Case.InputHeight * entry.Case.InputWidth
            * entry.Case.OutChannels / entry.Case.Groups * entry.Case.Kernel.H * entry.Case.Kernel.W >= 2 << 18);
    }

    /// <summary>
    /// Named cases for the blocked path (<see cref="WidthPairedKernel.BlockChannels"/> output channels at once): each
    /// one's paired path and how many of its output channels per group run in blocks, then the case.
    /// </summary>
    private static readonly Dictionary<string, (PairedPath Path, int BlockedPerGroup, ConvCase Case)> BlockedCases = new()
    {
        // game_up's geometry (kernel 3, padding 1, output padding 1) with 8 output channels: two blocks, no tail.
        ["blocked-k3-two-blocks"] = (new(ColumnSharing.SecondOddIsEven, true, false, true), 8, Make(16, 8, 12, 64, kernel: 3, padding: 1, outputPadding: 1)),
        // 6 channels: one block, then 2 channels one at a time.
        ["blocked-k4-tail"] = (new(ColumnSharing.SecondOddIsFirstEven, true, false, true), 4, Make(3, 6, 7, 50, kernel: 4, padding: 1)),
        // Two groups of 5: a block and a tail channel in each group, the second group's block from its own weights and input.
        ["blocked-groups"] = (new(ColumnSharing.SecondOddIsEven, true, false, true), 4,
            Make(4, 10, 6, 40, kernel: 3, padding: 1, outputPadding: 1, groups: 2, activation: FusedActivation.Relu)),
        // Kernel 4 with even padding (both phases read the same columns), 9 channels, an activation with a parameter.
        ["blocked-k4-p0-leaky"] = (new(ColumnSharing.OddIsEven, true, true, true), 8,
            Make(1, 9, 5, 41, kernel: 4, padding: 0, activation: FusedActivation.LeakyRelu)),
        // Kernel 3 without output padding: an odd width, the last vector staged for each channel of the block.
        ["blocked-odd-width"] = (new(ColumnSharing.SecondOddIsEven, true, false, true), 4,
            Make(2, 4, 4, 45, kernel: 3, padding: 1, activation: FusedActivation.Sigmoid)),
        // Kernel 2, padding 1: no shared column. Kernel 3 with even padding: two even taps and one odd.
        ["blocked-k2-p1"] = (new(ColumnSharing.None, true, false, true), 4, Make(2, 5, 6, 99, kernel: 2, padding: 1, activation: FusedActivation.Tanh)),
        ["blocked-k3-p0"] = (new(ColumnSharing.OddIsFirstEven, true, false, true), 4, Make(3, 4, 5, 38, kernel: 3, padding: 0)),
        // Kernel 5: tap counts the block does not cover, so the block's channels run one at a time by loops.
        ["blocked-k5-looped"] = (new(ColumnSharing.None, false, false, true), 4, Make(2, 4, 5, 37, kernel: 5, padding: 1)),
        // 12 channels on two threads: each thread's half starts or ends with channels outside a whole aligned block.
        ["blocked-two-threads"] = (new(ColumnSharing.SecondOddIsFirstEven, true, false, true), 12,
            Make(8, 12, 24, 64, kernel: 4, padding: 1)),
        // Rows wider than the window (separate padding pass), and NHWC (padding pass, output relayout).
        ["blocked-too-wide-for-window"] = (new(ColumnSharing.SecondOddIsFirstEven, true, false, false), 4,
            Make(4, 4, 3, 1700, kernel: 4, padding: 1)),
        ["blocked-nhwc"] = (new(ColumnSharing.SecondOddIsFirstEven, true, false, false), 4,
            Make(3, 5, 6, 40, kernel: 4, padding: 1, channelsLast: true)),
    };

    public static TheoryData<string> BlockedCaseNames() => new(BlockedCases.Keys);

    [Theory]
    [MemberData(nameof(BlockedCaseNames))]
    public void BlockedCasesTakeTheirPathAndMatchTheReferenceAtEveryWidthAndOnTwoThreads(string name)
    {
        var (path, blockedPerGroup, c) = BlockedCases[name];
        Assert.Equal(path, PathOf(c));
        var layer = LayerShape.Of(c.Create());
        Assert.True(Plans.Of(c.Create(), c.InputHeight, c.InputWidth).BlocksChannels);
        Assert.Equal(blockedPerGroup, WidthPairedKernel.BlocksPerGroup(layer) * WidthPairedKernel.BlockChannels);
        AssertMatchesAtEveryWidth(c);
    }

    /// <summary>NCHW stride-2 layers with 8 to 16 output channels per group move from the channel kernel to the blocked width kernel; others stay.</summary>
    [Theory]
    [InlineData(8, false, 64, true)]
    [InlineData(16, false, 64, true)]
    [InlineData(17, false, 64, false)]
    [InlineData(8, true, 64, false)]
    [InlineData(8, false, 6, false)]
    public void NchwStride2LayersWithUpTo16ChannelsUseTheBlockedWidthKernel(int outChannels, bool channelsLast, int inputWidth, bool width)
    {
        var c = Make(16, outChannels, 8, inputWidth, kernel: 3, padding: 1, outputPadding: 1, channelsLast: channelsLast);
        var plan = Plans.Of(c.Create(), c.InputHeight, c.InputWidth);
        Assert.Equal(width ? KernelStrategy.WidthVectorized : KernelStrategy.ChannelVectorized, plan.Strategy);
        var stride1 = Make(16, outChannels, 8, inputWidth, kernel: 3, padding: 1, stride: (2, 1), channelsLast: channelsLast);
        Assert.Equal(KernelStrategy.ChannelVectorized, Plans.Of(stride1.Create(), stride1.InputHeight, stride1.InputWidth).Strategy);
    }

    /// <summary>
    /// 4 to 7 output channels per group on phase rows too short for the width kernel's 4-vector block: NCHW stride-2 layers
    /// take the blocked paired width kernel (a short row staged in one vector), NHWC and width stride 1 the channel kernel.
    /// </summary>
    [Theory]
    [InlineData(4, false, 2, true)]
    [InlineData(7, false, 2, true)]
    [InlineData(4, true, 2, false)]
    [InlineData(4, false, 1, false)]
    public void NarrowRowsWithFourToSevenChannelsUseTheBlockedWidthKernelOnlyForNchwStride2(int outChannels, bool channelsLast, int widthStride, bool width)
    {
        var c = Make(4, outChannels, 8, 8, kernel: 3, padding: 1, stride: (2, widthStride), channelsLast: channelsLast);
        var plan = Plans.Of(c.Create(), c.InputHeight, c.InputWidth);
        Assert.Equal(width ? KernelStrategy.WidthVectorized : KernelStrategy.ChannelVectorized, plan.Strategy);
        AssertMatchesAtEveryWidth(c);
    }

    /// <summary>The case against the reference at 1, 4, 8 and all lanes, on one thread and (prepared) on two; never the tap-list kernel.</summary>
    private static void AssertMatchesAtEveryWidth(ConvCase c)
    {
        foreach (int? lanes in new int?[] { 1, 4, 8, null })
        {
            var options = Force.Lanes(lanes, Force.SimdKernels());
            RandomShapeTests.AssertMatchesReference(c, options: options);
            RandomShapeTests.AssertMatchesReference(c, maxThreads: 2, prepared: true, options: options);
        }
    }

    /// <summary>Random geometries with a width stride of 2 and 4 to 10 output channels per group: blocks, tails and groups.</summary>
    private static readonly Gen<ConvCase> BlockedGenerator =
        from kernelH in Gen.Int[1, 5]
        from kernelW in Gen.Int[1, 5]
        from strideH in Gen.Int[1, 3]
        from groups in Gen.Int[1, 2]
        from inPerGroup in Gen.Int[1, 3]
        from outPerGroup in Gen.Int[4, 10]
        from inputH in Gen.Int[1, 6]
        from inputW in Gen.Int[8, 70]
        from pads in Gen.Int[0, 2].Array[4]
        from opH in Gen.Int[0, strideH - 1]
        from opW in Gen.Int[0, 1]
        from batch in Gen.Int[1, 2]
        from channelsLast in Gen.Bool
        from hasBias in Gen.Bool
        from activation in Gen.Enum<FusedActivation>()
        from seed in Gen.Int
        let c = new ConvCase(batch, groups * inPerGroup, groups * outPerGroup, groups, inputH, inputW,
            (kernelH, kernelW), (strideH, 2), (pads[0], pads[1], pads[2], pads[3]), (opH, opW),
            (1, 1), channelsLast, hasBias, activation, seed)
        where c.OutputHeight >= 1 && c.OutputWidth >= 2 && PathOf(c) is not null
        select c;

    [Fact]
    public void RandomBlockedGeometriesMatchTheReferenceAtEveryWidthAndOnTwoThreads()
    {
        foreach (int? lanes in new int?[] { 1, 4, 8, null })
            BlockedGenerator.Sample(c => RandomShapeTests.AssertMatchesReference(c, options: Force.Lanes(lanes, Force.SimdKernels())), iter: 60, threads: 1);

        BlockedGenerator.Sample(c => RandomShapeTests.AssertMatchesReference(c, maxThreads: 2, options: Force.SimdKernels()), iter: 60, threads: 1);
    }

    /// <summary>Random geometries with a width stride of 2 and few output channels per group, all through the paired path.</summary>
    private static readonly Gen<ConvCase> PairedGenerator =
        from kernelH in Gen.Int[1, 5]
        from kernelW in Gen.Int[1, 5]
        from strideH in Gen.Int[1, 3]
        from dilationH in Gen.Int[1, 2]
        from dilationW in Gen.Int[1, 2]
        from groups in Gen.Int[1, 3]
        from inPerGroup in Gen.Int[1, 3]
        from outPerGroup in Gen.Int[1, 3]
        from inputH in Gen.Int[1, 8]
        from inputW in Gen.Int[1, 90]
        from pads in Gen.Int[0, 3].Array[4]
        from opH in Gen.Int[0, Math.Max(strideH, dilationH) - 1]
        from opW in Gen.Int[0, Math.Max(2, dilationW) - 1]
        from batch in Gen.Int[1, 2]
        from channelsLast in Gen.Bool
        from hasBias in Gen.Bool
        from activation in Gen.Enum<FusedActivation>()
        from seed in Gen.Int
        let c = new ConvCase(batch, groups * inPerGroup, groups * outPerGroup, groups, inputH, inputW,
            (kernelH, kernelW), (strideH, 2), (pads[0], pads[1], pads[2], pads[3]), (opH, opW),
            (dilationH, dilationW), channelsLast, hasBias, activation, seed)
        where c.OutputHeight >= 1 && c.OutputWidth >= 2 && PathOf(c) is not null
        select c;

    [Fact]
    public void RandomPairedGeometriesMatchTheReferenceAtEveryWidth()
    {
        foreach (int? lanes in new int?[] { 1, 4, 8, null })
            PairedGenerator.Sample(c => RandomShapeTests.AssertMatchesReference(c, options: Force.Lanes(lanes, Force.SimdKernels())), iter: 150, threads: 1);
    }

    [Fact]
    public void RandomPairedGeometriesMatchTheReferenceOnTwoThreads()
    {
        PairedGenerator.Sample(c => RandomShapeTests.AssertMatchesReference(c, maxThreads: 2, options: Force.SimdKernels()), iter: 150, threads: 1);
    }
}
