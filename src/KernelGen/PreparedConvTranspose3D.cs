using System.Runtime.CompilerServices;
using System.Numerics;
using System.Runtime.InteropServices;
using KernelGen.Kernels;
using KernelGen.Planning;

namespace KernelGen;

/// <summary>
/// A <see cref="ConvTranspose3D"/> whose weights and bias are packed once: one packed 2-D layer per depth tap, and one per
/// depth phase of several taps over their input slices stacked as channels (see <see cref="_stacked"/>). Calls to
/// <see cref="Compute"/> allocate nothing once a given input size has been seen. Safe to call from several threads at once.
/// </summary>
public sealed class PreparedConvTranspose3D
{
    /// <summary>The (height, width) layer of every depth tap: the definition's geometry and layout, no bias, no activation.</summary>
    private readonly ConvTranspose2D _tapLayer;

    /// <summary>Per depth tap <c>kd</c>, the weights' <c>[:, :, kd]</c> plane packed for the 2-D kernels.</summary>
    private readonly PreparedConvTranspose2D[] _taps;

    private readonly float[] _bias;
    private bool _hasBias;

    /// <summary>
    /// The weights of the depth taps as gathered for their 2-D layers: every tap's, kept, when the in-place slices need
    /// layers of their own (packed from these on first use, see <see cref="PlaneTaps"/>); else one tap's at a time, while
    /// it is packed (the packers copy them).
    /// </summary>
    private readonly float[] _tapWeights;

    /// <summary>Whether <see cref="_tapWeights"/> keeps every depth tap's weights.</summary>
    private readonly bool _keepsTapWeights;

    /// <summary>
    /// Per depth phase <c>r</c> (an output slice's <c>(od + padFront) % stride</c>) of <see cref="_stacked"/>'s layers, the
    /// depth taps of that layer, by increasing index: the phase's in the depth axis' plan for an input deep enough that every
    /// tap reads it (<see cref="DeepPlan"/>). Null when no phase has two taps or the layer has groups.
    /// </summary>
    private readonly int[]?[]? _stackedTaps;

    /// <summary>The depth axis' plan of the last input depth called with (<see cref="DepthPlan"/>): which taps reach each output slice.</summary>
    private AxisPlan? _depthPlan;

    /// <summary>
    /// Per depth phase with two or more taps, one 2-D layer over the input slices of all its taps stacked as channels
    /// (slice j of the stack read by the phase's j-th tap from the last, so that the slices ascend): the phase's taps run as
    /// one pass, with one chain of sums per output, instead of a pass per tap whose partial slices are then added. Null for
    /// the other phases.
    /// </summary>
    private readonly PreparedConvTranspose2D?[]? _stacked;

    /// <summary>The weights of one stacked layer while they are gathered for packing.</summary>
    private readonly float[]? _stackedWeights;

    private Buffers? _idle;

    /// <summary>
    /// The plan of the NCHW layer of <see cref="ConvTranspose3D.ChannelsFirstPlane"/>, when an NCDHW layer's slices may run
    /// <see cref="WidthUpsampleKernel"/> in place: its (height, width) plane fits that kernel and no output slice receives
    /// two depth taps (see <see cref="OneTapPerSlice"/>), so that each output slice is one tap's output written straight
    /// into its channel planes, bias first and activation included. Else null.
    /// </summary>
    private readonly LayerPlan? _planeLayer;

    /// <summary>The plan of <see cref="_planeLayer"/> for the last input size asked (kept so that a repeated size allocates nothing).</summary>
    private ExecutionPlan? _planePlan;

    /// <summary>
    /// The tap layers of the in-place slices, packed on first use (<see cref="PlaneTaps"/>): a layer whose calls never take
    /// that path (volume_up with AVX-512 on runs the NHWC slices) packs no second set of weights.
    /// </summary>
    private SliceTaps? _planeTaps;

    /// <summary>Held while <see cref="_planeTaps"/> are packed, so that racing first calls pack them once.</summary>
    private readonly object _planeLock = new();

    /// <summary>Counts <see cref="Pack"/> calls: an unprepared Compute packs every call, and stale plane taps are packed again.</summary>
    private int _packs;

    internal PreparedConvTranspose3D(ConvTranspose3D definition)
    {
        Definition = definition;
        // The definition's own plane: built once, with the slices' layout and the thread cap, for every prepared copy.
        _tapLayer = definition.Plane;
        _taps = new PreparedConvTranspose2D[definition.KernelSize.Depth];
        for (int kd = 0; kd < _taps.Length; kd++)
            _taps[kd] = new PreparedConvTranspose2D(_tapLayer);
        _bias = new float[definition.OutChannels];
        if (definition.Layout == TensorLayout.Ncdhw && OneTapPerSlice(definition.DepthAxis))
            _planeLayer = PreparedConvTranspose2D.UpsamplingPlan(definition.ChannelsFirstPlane);
        _keepsTapWeights = _planeLayer is not null && _planeLayer.Definition != _tapLayer;
        _tapWeights = new float[(_keepsTapWeights ? _taps.Length : 1) * _tapLayer.WeightsLength];

        var depth = definition.DepthAxis;
        if (definition.Groups == 1 && !OneTapPerSlice(depth))
        {
            _stackedTaps = new int[]?[depth.Stride];
            _stacked = new PreparedConvTranspose2D?[depth.Stride];
            int most = 0;
            foreach (AxisPhase phase in DeepPlan(depth)?.Phases ?? [])
            {
                int[] taps = phase.KernelTaps;
                if (taps.Length < 2) continue;
                var plane = new ConvTranspose2D(taps.Length * _tapLayer.InChannels, _tapLayer.OutChannels, _tapLayer.KernelSize, _tapLayer.Stride,
                    _tapLayer.Padding, _tapLayer.OutputPadding, _tapLayer.Dilation)
                {
                    Layout = _tapLayer.Layout,
                    MaxDegreeOfParallelism = _tapLayer.MaxDegreeOfParallelism,
                    PlanOptions = _tapLayer.PlanOptions,
                };
                _stacked[phase.Residue] = new PreparedConvTranspose2D(plane);
                _stackedTaps[phase.Residue] = taps;
                most = Math.Max(most, taps.Length);
            }

            _stackedWeights = new float[most * _tapLayer.WeightsLength];
        }
    }

    /// <summary>
    /// Whether no output slice is reached by two (input slice, depth tap) pairs, whatever the input depth: taps <c>m</c>
    /// apart reach the same slice from input slices <c>m * dilation / stride</c> apart, a whole number first at
    /// <c>m = stride / gcd(stride, dilation)</c>, so never when the kernel is no longer than that (the usual 2, 2
    /// up-sampling: one tap per slice). Else some depth phase has two or more taps (see <see cref="_stacked"/>).
    /// </summary>
    private static bool OneTapPerSlice(Geometry.AxisGeometry depth) => depth.Kernel <= depth.Stride / Gcd(depth.Stride, depth.Dilation);

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

    /// <summary>
    /// The depth axis' plan for an input deep enough that every depth tap reads an input slice (so that each phase holds all
    /// its taps, as the interior slices of any deeper input use them): the stacked layers are packed for those taps. Every
    /// tap belongs to one phase, and a plan drops only taps that would read the zero border alone, which a deeper input
    /// reaches: the depth doubles until none is dropped. Null (no stacking) if the output would outgrow an int first.
    /// </summary>
    private static AxisPlan? DeepPlan(Geometry.AxisGeometry depth)
    {
        for (int inputDepth = 1; inputDepth <= 1 << 30; inputDepth *= 2)
        {
            if (!AxisPlan.CanPlan(depth, inputDepth))
            {
                if (depth.OutputLength(inputDepth) >= 1) return null; // Past the int range: deeper inputs are too.
                continue; // No output yet (the padding crops it all).
            }

            var plan = AxisPlan.Create(depth, inputDepth);
            if (plan.Phases.Sum(phase => phase.KernelTaps.Length) == depth.Kernel)
                return plan;
        }

        return null;
    }

    /// <summary>The depth axis' plan for <paramref name="inputDepth"/>, kept for the next call (a new one when the depth changes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private AxisPlan DepthPlan(int inputDepth)
    {
        var plan = Volatile.Read(ref _depthPlan);
        if (plan is null || plan.InputLength != inputDepth)
        {
            plan = AxisPlan.Create(Definition.DepthAxis, inputDepth);
            Volatile.Write(ref _depthPlan, plan);
        }

        return plan;
    }

    /// <summary>The convolution this was prepared from (geometry, layout, activation, thread cap).</summary>
    public ConvTranspose3D Definition { get; }

    /// <summary>The depth phases whose taps run as one stacked pass (tests check that the stacked path runs).</summary>
    internal int StackedPhases => _stacked?.Count(layer => layer is not null) ?? 0;

    /// <summary>The packed 2-D layer of each depth tap (tests check that they share the definition's plane).</summary>
    internal IReadOnlyList<PreparedConvTranspose2D> Taps => _taps;

    /// <summary>Computes the transposed convolution of <paramref name="input"/> into <paramref name="output"/> with the prepared weights.</summary>
    /// <param name="input">Zero or more samples of <c>inChannels * inputDepth * inputHeight * inputWidth</c> elements, in the
    /// definition's layout (empty: a valid call that writes nothing).</param>
    /// <param name="inputDepth">Input depth, at least 1.</param>
    /// <param name="inputHeight">Input height, at least 1.</param>
    /// <param name="inputWidth">Input width, at least 1.</param>
    /// <param name="output">At least <c>batch * outChannels * outputDepth * outputHeight * outputWidth</c> elements; the first that many are written.</param>
    /// <exception cref="ArgumentException">A size or span length is wrong, or the spans overlap; nothing has been written.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Compute(ReadOnlySpan<float> input, int inputDepth, int inputHeight, int inputWidth, Span<float> output)
    {
        var shape = Definition.ValidateCall(input, inputDepth, inputHeight, inputWidth, output);
        ComputeValidated(input, shape, output);
    }

    internal void Pack(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        // (Cin, Cout/g, kD, kH, kW): for each (input channel, output channel of its group) pair, kD planes of kH * kW.
        int plane = Definition.KernelSize.Height * Definition.KernelSize.Width, depth = Definition.KernelSize.Depth;
        int pairs = Definition.InChannels * (Definition.OutChannels / Definition.Groups);
        for (int kd = 0; kd < depth; kd++)
        {
            var tapWeights = TapWeights(_keepsTapWeights ? kd : 0);
            for (int pair = 0; pair < pairs; pair++)
                weights.Slice((pair * depth + kd) * plane, plane).CopyTo(tapWeights.Slice(pair * plane, plane));
            _taps[kd].Pack(tapWeights, default);
        }

        if (_stacked is not null)
        {
            // Stacked input channel j * Cin + ic is input channel ic of the slice that the phase's j-th tap from the last reads.
            for (int r = 0; r < _stacked.Length; r++)
            {
                if (_stacked[r] is not { } stacked) continue;
                int[] taps = _stackedTaps![r]!;
                var gathered = _stackedWeights.AsSpan(0, taps.Length * _tapLayer.WeightsLength);
                for (int j = 0; j < taps.Length; j++)
                {
                    int kd = taps[taps.Length - 1 - j]; // Slice j of the stack: the j-th tap from the last.
                    for (int pair = 0; pair < pairs; pair++)
                        weights.Slice((pair * depth + kd) * plane, plane).CopyTo(gathered.Slice((j * pairs + pair) * plane, plane));
                }

                stacked.Pack(gathered, default);
            }
        }

        _hasBias = !bias.IsEmpty;
        if (_hasBias) bias.CopyTo(_bias);
        // The plane taps (if packed yet) now hold older weights: the next call that runs them packs them again.
        Volatile.Write(ref _packs, _packs + 1);
    }

    /// <summary>Depth tap <paramref name="kd"/>'s weights as <see cref="Pack"/> gathered them for its 2-D layer.</summary>
    private Span<float> TapWeights(int kd) => _tapWeights.AsSpan(kd * _tapLayer.WeightsLength, _tapLayer.WeightsLength);

    /// <summary>Tests: whether the plane taps of the in-place slices have been packed.</summary>
    internal bool PacksPlaneTaps => Volatile.Read(ref _planeTaps) is not null;

    /// <summary>Tests: whether calls of this input height and width pad each input slice once (<see cref="PadsSlicesOnce"/>).</summary>
    internal bool PadsSlicesOnceFor(int inputHeight, int inputWidth) =>
        _tapLayer.Layout == TensorLayout.Nhwc && PadsSlicesOnce(inputHeight, inputWidth) is not null;

    /// <summary>
    /// The tap layers of the in-place slices with the weights of the last <see cref="Pack"/>: packed on the first call that
    /// runs them (thread-safe: racing first calls pack them once; published after packing), and again, in place, after
    /// the next Pack (an unprepared Compute, which owns this object during its call, so that it allocates nothing once
    /// its sizes have been seen). When the slices run NCHW anyway the taps are <see cref="_taps"/> themselves.
    /// </summary>
    private SliceTaps PlaneTaps()
    {
        var taps = Volatile.Read(ref _planeTaps);
        int packs = Volatile.Read(ref _packs);
        if (taps is not null && taps.Packs == packs) return taps;
        lock (_planeLock)
        {
            taps = _planeTaps;
            if (taps is not null && taps.Packs == packs) return taps;
            taps ??= new SliceTaps(NewPlaneTapLayers());
            if (taps.Layers != _taps)
            {
                for (int kd = 0; kd < _taps.Length; kd++)
                    taps.Layers[kd].Pack(TapWeights(kd), default);
            }

            taps.Layers[0].PadBias(_hasBias ? _bias : default, taps.Bias);
            taps.Packs = packs;
            Volatile.Write(ref _planeTaps, taps);
            return taps;
        }
    }

    /// <summary>
    /// The in-place slices' tap layers, made once: <see cref="_taps"/> where the slices run NCHW anyway. Not a lambda in
    /// <see cref="PlaneTaps"/>: its captured definition would cost a closure object on every repacking, i.e. on every
    /// unprepared Compute.
    /// </summary>
    private PreparedConvTranspose2D[] NewPlaneTapLayers()
    {
        var plane = _planeLayer!.Definition;
        if (plane == _tapLayer) return _taps;
        var layers = new PreparedConvTranspose2D[_taps.Length];
        for (int kd = 0; kd < layers.Length; kd++) layers[kd] = new PreparedConvTranspose2D(plane);
        return layers;
    }

    /// <summary>The tap layers of the in-place slices and their padded bias (zeros without a bias).</summary>
    private sealed class SliceTaps(PreparedConvTranspose2D[] layers)
    {
        public PreparedConvTranspose2D[] Layers { get; } = layers;

        public float[] Bias { get; } = new float[layers[0].PaddedBiasLength];

        /// <summary>The <see cref="_packs"/> count whose weights they hold.</summary>
        public int Packs { get; set; }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void ComputeValidated(ReadOnlySpan<float> input, CallShape3D shape, Span<float> output)
    {
        if (shape.Batch == 0) return;
        var buffers = Interlocked.Exchange(ref _idle, null) ?? new Buffers();
        try
        {
            for (int n = 0; n < shape.Batch; n++)
            {
                ComputeSample(input.Slice(n * shape.InputSample, shape.InputSample), shape,
                    output.Slice(n * shape.OutputSample, shape.OutputSample), buffers);
            }
        }
        finally
        {
            Volatile.Write(ref _idle, buffers);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ComputeSample(ReadOnlySpan<float> input, CallShape3D shape, Span<float> output, Buffers buffers)
    {
        if (ComputesSlicesInPlace(shape.InputHeight, shape.InputWidth))
        {
            ComputeSlicesInPlace(input, shape, output, buffers);
            return;
        }

        var definition = Definition;
        int inPlane = shape.InputHeight * shape.InputWidth, outPlane = shape.OutputHeight * shape.OutputWidth;
        int inSlice = definition.InChannels * inPlane, outSlice = definition.OutChannels * outPlane;

        // NDHWC: each depth slice is already an NHWC image, computed in place. NCDHW: each channel holds its depth slices one
        // after the other, so the input is first reordered depth-major into NHWC or NCHW slices (the layout the tap layers
        // run in, see PlanBuilder.PrefersChannelsLastSlices); each output slice is computed into a buffer of one slice
        // (which stays in the cache while its taps add into it and its bias and activation are applied), whose channel
        // planes are then written to their places in the output. (A depth-major copy of the whole output, reordered at the
        // end, went through memory twice more: measured on volume_up.)
        bool inPlace = definition.Layout == TensorLayout.Ndhwc, slicesChannelsLast = _tapLayer.Layout == TensorLayout.Nhwc;
        ReadOnlySpan<float> slices = input;
        // NHWC slices whose passes all run the channel kernel on one thread: each input slice padded once, as the kernel
        // reads it, for the (up to three on volume_k3) passes that read it, stacked or not, rather than each pass padding
        // its own copy (see PadsSlicesOnce). Then a slice of `slices` is a padded slice.
        var padded = slicesChannelsLast ? PadsSlicesOnce(shape.InputHeight, shape.InputWidth) : null;
        if (padded is not null)
        {
            inSlice = definition.InChannels * padded.PaddedHeight * padded.PaddedWidth;
            var paddedSlices = Buffers.Grow(ref buffers.PaddedSlices, shape.InputDepth * inSlice);
            if (buffers.PaddedFor != padded)
            {
                // Zero borders, written once for this geometry: the slices' rows land at the same places in every call.
                // (Their borders are 2-3 times their inputs: the rows past the phases' ends the register blocks read.)
                buffers.PaddedSlices.AsSpan().Clear();
                buffers.PaddedStackTaps = 0;
                buffers.PaddedFor = padded;
            }

            for (int id = 0; id < shape.InputDepth; id++)
                PadSlice(input, inPlace, shape, id, padded, paddedSlices.Slice(id * inSlice, inSlice), buffers);
            slices = paddedSlices;
        }
        else if (!inPlace)
        {
            var reordered = Buffers.Grow(ref buffers.Input, input.Length);
            if (slicesChannelsLast)
            {
                for (int id = 0; id < shape.InputDepth; id++)
                    Transpose.Run(input[(id * inPlane)..], shape.InputDepth * inPlane, reordered.Slice(id * inSlice, inSlice),
                        definition.InChannels, definition.InChannels, inPlane);
            }
            else
            {
                SwapChannelsAndDepth(input, reordered, definition.InChannels, shape.InputDepth, inPlane);
            }

            slices = reordered;
        }

        var depthPlan = DepthPlan(shape.InputDepth);
        for (int od = 0; od < shape.OutputDepth; od++)
        {
            var destination = inPlace ? output.Slice(od * outSlice, outSlice) : Buffers.Grow(ref buffers.Output, outSlice);
            bool written = false;
            // Output slice od receives input slice q - TapOffsets[k] through depth tap KernelTaps[k] of its phase, for the
            // k in [first, end) whose slice is inside the input: only those pairs are computed.
            (AxisPhase phase, int q, int first, int end) = depthPlan.ValidTaps(od);
            if (end - first >= 2 && _stacked?[phase.Residue] is { } stacked && end - first == _stackedTaps![phase.Residue]!.Length)
            {
                // The phase's taps in one pass when every slice they read is inside the input (else, at the depth edges,
                // the taps that reach one run alone below: a stacked zero slice would cost its multiply-adds). A plan keeps
                // a phase's taps in order, so as many as the stacked layer's are the same taps.
                if (padded is not null)
                {
                    stacked.ComputePadded(StackPadded(slices, buffers, q, phase.TapOffsets, inSlice, padded, shape), shape.InputHeight,
                        shape.InputWidth, destination);
                }
                else
                {
                    var stackedInput = Stack(slices, buffers, q, phase.TapOffsets, inSlice, slicesChannelsLast, definition.InChannels);
                    stacked.Compute(stackedInput, shape.InputHeight, shape.InputWidth, destination);
                }
                first = end;
                written = true;
            }

            for (int k = first; k < end; k++)
            {
                int kd = phase.KernelTaps[k];
                var source = slices.Slice((q - phase.TapOffsets[k]) * inSlice, inSlice);
                var tapOutput = written ? Buffers.Grow(ref buffers.Slice, outSlice) : destination;
                if (padded is not null)
                    _taps[kd].ComputePadded(source, shape.InputHeight, shape.InputWidth, tapOutput);
                else
                    _taps[kd].Compute(source, shape.InputHeight, shape.InputWidth, tapOutput);
                if (written) Add(destination, tapOutput);
                written = true;
            }

            // A slice no tap reaches (an output padding slice, or a gap of a dilated kernel) is the bias alone, as in PyTorch.
            if (!written) FloatSpans.Clear(destination);
            if (slicesChannelsLast && !inPlace && FinishesWhileWritingPlanes)
            {
                // Bias and activation added as the slice's channel planes are written: one pass over the slice, not two.
                Transpose.ToPlanes(destination, output[(od * outPlane)..], shape.OutputDepth * outPlane, outPlane, definition.OutChannels,
                    _hasBias ? _bias : default, definition.Activation == FusedActivation.Relu);
                continue;
            }

            Finish(destination, slicesChannelsLast, outPlane);
            if (inPlace) continue;
            if (slicesChannelsLast)
            {
                Transpose.Run(destination, definition.OutChannels, output[(od * outPlane)..], shape.OutputDepth * outPlane,
                    outPlane, definition.OutChannels);
            }
            else
            {
                for (int c = 0; c < definition.OutChannels; c++)
                    FloatSpans.Copy(destination.Slice(c * outPlane, outPlane), output.Slice((c * shape.OutputDepth + od) * outPlane, outPlane));
            }
        }
    }

    /// <summary>
    /// The plan of the padded input slices (its padded height and width, row and column shifts) when every tap layer and
    /// stacked layer of calls of this input height and width takes padded input (<see cref="PreparedConvTranspose2D.TakesPaddedInput"/>)
    /// padded alike (the same geometry: the same padding, only the input channels differ), else null: then
    /// <see cref="ComputeSample"/> pads each input slice once. Measured on volume_k3 (NCDHW, 32 -> 16, 8^3, kernel 3,
    /// stride 2) on a Zen 5 (perf, CPU-time samples): the rest of the call beside the unchanged register blocks about 4 %
    /// shorter with AVX-512 off, 6 % with it; see docs/benchmarks.md.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ExecutionPlan? PadsSlicesOnce(int inputHeight, int inputWidth)
    {
        if (!_taps[0].TakesPaddedInput(inputHeight, inputWidth, out var first)) return null;
        for (int kd = 1; kd < _taps.Length; kd++)
        {
            if (!_taps[kd].TakesPaddedInput(inputHeight, inputWidth, out var plan) || !PaddedAlike(plan, first)) return null;
        }

        foreach (var stacked in _stacked ?? [])
        {
            if (stacked is not null && (!stacked.TakesPaddedInput(inputHeight, inputWidth, out var plan) || !PaddedAlike(plan, first)))
                return null;
        }

        return first;

        static bool PaddedAlike(ExecutionPlan a, ExecutionPlan b) =>
            a.PaddedHeight == b.PaddedHeight && a.PaddedWidth == b.PaddedWidth && a.RowShift == b.RowShift && a.ColumnShift == b.ColumnShift;
    }

    /// <summary>
    /// Writes input slice <paramref name="id"/>'s rows into its padded slice, where <see cref="ChannelVectorizedKernel.PadInput"/>
    /// puts an NHWC input's for <paramref name="plan"/> (rows of <c>PaddedWidth x inChannels</c>, the input's rows
    /// <c>RowShift</c> rows and <c>ColumnShift</c> pixels in); the zero borders around them are written once per geometry
    /// (see <see cref="ComputeSample"/>). From an NDHWC volume the rows are copied; from an NCDHW volume the slice is first
    /// transposed whole (one transposition of the slice's pixels ran faster than one per row of 8 pixels).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PadSlice(ReadOnlySpan<float> input, bool channelsLast, CallShape3D shape, int id, ExecutionPlan plan, Span<float> padded,
        Buffers buffers)
    {
        int channels = Definition.InChannels, width = shape.InputWidth, inPlane = shape.InputHeight * width;
        int rowLength = plan.PaddedWidth * channels, lead = plan.ColumnShift * channels, body = width * channels;
        ReadOnlySpan<float> rows;
        if (channelsLast)
        {
            rows = input.Slice(id * inPlane * channels, inPlane * channels);
        }
        else
        {
            var staged = Buffers.Grow(ref buffers.Staged, inPlane * channels);
            Transpose.Run(input[(id * inPlane)..], shape.InputDepth * inPlane, staged, channels, channels, inPlane);
            rows = staged;
        }

        for (int iy = 0; iy < shape.InputHeight; iy++)
            FloatSpans.Copy(rows.Slice(iy * body, body), padded.Slice((iy + plan.RowShift) * rowLength + lead, body));
    }

    /// <summary>
    /// The padded input of a stacked pass at depth phase position <paramref name="q"/> (see <see cref="Stack"/>): the input
    /// rows of the phase's padded slices interleaved pixel by pixel into the stacked layer's padded slice, whose zero
    /// borders are written once per geometry and tap count: the pixels of a stack of one count lie where another count's
    /// borders are, so a pass of another count than the last clears the buffer first (kernel 3 stacks only pairs; kernel 5
    /// alternates threes and pairs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ReadOnlySpan<float> StackPadded(ReadOnlySpan<float> slices, Buffers buffers, int q, int[] offsets, int paddedSlice,
        ExecutionPlan plan, CallShape3D shape)
    {
        int count = offsets.Length, channels = Definition.InChannels, width = shape.InputWidth;
        int rowLength = plan.PaddedWidth * channels, lead = plan.ColumnShift * channels, body = width * channels;
        var stacked = Buffers.Grow(ref buffers.PaddedStack, count * paddedSlice);
        if (buffers.PaddedStackTaps != count)
        {
            stacked.Clear();
            buffers.PaddedStackTaps = count;
        }

        for (int j = 0; j < count; j++)
        {
            var source = slices.Slice((q - offsets[count - 1 - j]) * paddedSlice, paddedSlice);
            for (int row = plan.RowShift; row < plan.RowShift + shape.InputHeight; row++)
                Interleave(source.Slice(row * rowLength + lead, body), stacked[(count * (row * rowLength + lead) + j * channels)..], channels, count * channels);
        }

        return stacked;
    }

    /// <summary>Whether calls of this input height and width run <see cref="ComputeSlicesInPlace"/> (the plan of <see cref="_planeLayer"/> decides).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal bool ComputesSlicesInPlace(int inputHeight, int inputWidth)
    {
        if (_planeLayer is null) return false;
        var plan = Volatile.Read(ref _planePlan);
        if (plan is null || plan.InputHeight != inputHeight || plan.InputWidth != inputWidth)
        {
            plan = PlanBuilder.ForInput(_planeLayer, inputHeight, inputWidth);
            Volatile.Write(ref _planePlan, plan);
        }

        return plan.UpsamplesByWidth;
    }

    /// <summary>
    /// One NCDHW sample through <see cref="_planeTaps"/>: each output slice's one tap writes the output slice's planes where
    /// they belong (a channel volume apart), bias and activation included: no relayout of the output. Its input slice is
    /// first staged row by row, each row's channels together (each channel's slice read as one contiguous run, once for
    /// both taps that read it), and the kernel reads those rows where they lie: staged by the kernel from the volume, each
    /// input row's channels lay a channel volume apart (16 KiB on volume_up, all in one L1 set) and were staged once per
    /// output slice, and volume_up ran 2-9 % slower; from an NCHW copy of the slice staged by the kernel, 1-5 % slower
    /// (in-process interleaved, AVX-512 off, Zen 5). Measured on volume_up (64 -> 32, 16^3, 2, 2): see docs/benchmarks.md.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ComputeSlicesInPlace(ReadOnlySpan<float> input, CallShape3D shape, Span<float> output, Buffers buffers)
    {
        var definition = Definition;
        var planeTaps = PlaneTaps();
        int inPlane = shape.InputHeight * shape.InputWidth, outPlane = shape.OutputHeight * shape.OutputWidth;
        int outVolume = shape.OutputDepth * outPlane;
        var depthPlan = DepthPlan(shape.InputDepth);
        var slice = Buffers.Grow(ref buffers.Input, definition.InChannels * inPlane);
        int copiedId = -1;
        for (int od = 0; od < shape.OutputDepth; od++)
        {
            // At most one tap (OneTapPerSlice).
            (AxisPhase phase, int q, int first, int end) = depthPlan.ValidTaps(od);
            if (first < end)
            {
                int tap = phase.KernelTaps[first], id = q - phase.TapOffsets[first];
                if (id != copiedId)
                {
                    // The input slice staged row by row, each row's channels together, once for the output slices of both
                    // its taps (each channel's slice read as one contiguous run).
                    int width = shape.InputWidth, rowFloats = definition.InChannels * width;
                    for (int c = 0; c < definition.InChannels; c++)
                    {
                        var planeRows = input.Slice((c * shape.InputDepth + id) * inPlane, inPlane);
                        for (int iy = 0; iy < shape.InputHeight; iy++)
                            FloatSpans.Copy(planeRows.Slice(iy * width, width), slice.Slice(iy * rowFloats + c * width, width));
                    }

                    copiedId = id;
                }

                planeTaps.Layers[tap].ComputeChannelPlanes(slice, shape.InputHeight, shape.InputWidth,
                    output[(od * outPlane)..], outVolume, planeTaps.Bias, definition.Activation, definition.LeakyReluSlope);
                continue;
            }

            // A slice no tap reaches: the bias alone (0 + bias, as the other paths add it to a cleared slice), activated.
            for (int c = 0; c < definition.OutChannels; c++)
            {
                var plane = output.Slice((c * shape.OutputDepth + od) * outPlane, outPlane);
                plane.Fill(_hasBias ? 0f + _bias[c] : 0f);
                Activations.Apply(plane, definition.Activation, definition.LeakyReluSlope);
            }
        }
    }

    /// <summary>Whether <see cref="Transpose.ToPlanes"/> can finish an NHWC slice while writing its planes (its activations).</summary>
    private bool FinishesWhileWritingPlanes => Definition.Activation is FusedActivation.None or FusedActivation.Relu;

    /// <summary>Bias and activation over one finished output slice.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Finish(Span<float> slice, bool channelsLast, int plane)
    {
        int channels = Definition.OutChannels;
        if (_hasBias)
        {
            if (channelsLast)
            {
                for (int p = 0; p < plane; p++)
                    Add(slice.Slice(p * channels, channels), _bias);
            }
            else
            {
                for (int c = 0; c < channels; c++)
                {
                    var values = slice.Slice(c * plane, plane);
                    float b = _bias[c];
                    for (int i = 0; i < values.Length; i++) values[i] += b;
                }
            }
        }

        Activations.Apply(slice, Definition.Activation, Definition.LeakyReluSlope);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Add(Span<float> destination, ReadOnlySpan<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var d = MemoryMarshal.Cast<float, Vector<float>>(destination);
            var v = MemoryMarshal.Cast<float, Vector<float>>(values);
            for (int k = 0; k < d.Length; k++) d[k] += v[k];
            i = d.Length * Vector<float>.Count;
        }

        for (; i < destination.Length; i++) destination[i] += values[i];
    }

    /// <summary>
    /// The input of a stacked pass at depth phase position <paramref name="q"/>: the slices <c>q - offsets[k]</c> of all the
    /// phase's taps, the last tap's first (offsets increase with the tap: the slices ascend), as one slice of
    /// <c>count * channels</c> channels (slice j's channels j-th): NHWC slices interleaved pixel by pixel, NCHW ones one
    /// after the other (in place when they are consecutive).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ReadOnlySpan<float> Stack(ReadOnlySpan<float> slices, Buffers buffers, int q, int[] offsets, int inSlice,
        bool channelsLast, int channels)
    {
        int count = offsets.Length, firstId = q - offsets[^1];
        if (!channelsLast && offsets[^1] - offsets[0] == count - 1)
            return slices.Slice(firstId * inSlice, count * inSlice);
        var stacked = Buffers.Grow(ref buffers.Stacked, count * inSlice);
        for (int j = 0; j < count; j++)
        {
            var source = slices.Slice((q - offsets[count - 1 - j]) * inSlice, inSlice);
            if (!channelsLast)
            {
                FloatSpans.Copy(source, stacked.Slice(j * inSlice, inSlice));
                continue;
            }

            Interleave(source, stacked[(j * channels)..], channels, count * channels);
        }

        return stacked;
    }

    /// <summary>
    /// Copies each run of <paramref name="channels"/> floats of <paramref name="source"/> (a pixel) to <paramref name="destination"/>,
    /// <paramref name="pitch"/> floats apart: in registers, a pixel's few vectors at a time (a copy call per pixel cost more
    /// than its copying on volume_k3's 32 channels).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Interleave(ReadOnlySpan<float> source, Span<float> destination, int channels, int pitch)
    {
        int pixels = source.Length / channels;
        if (pixels == 0) return;
        // Every index below is inside these bounds: the last pixel's run ends at (pixels - 1) * pitch + channels.
        if ((long)(pixels - 1) * pitch + channels > destination.Length)
            throw new ArgumentException("The destination is too short.", nameof(destination));
        ref float from = ref MemoryMarshal.GetReference(source);
        ref float to = ref MemoryMarshal.GetReference(destination);
        int lanes = Vector<float>.Count;
        int vectorEnd = Vector.IsHardwareAccelerated ? channels - channels % lanes : 0;
        for (int p = 0; p < pixels; p++)
        {
            ref float pixelFrom = ref Unsafe.Add(ref from, (nint)p * channels);
            ref float pixelTo = ref Unsafe.Add(ref to, (nint)p * pitch);
            int c = 0;
            for (; c < vectorEnd; c += lanes)
                Vector.LoadUnsafe(ref pixelFrom, (nuint)c).StoreUnsafe(ref pixelTo, (nuint)c);
            for (; c < channels; c++)
                Unsafe.Add(ref pixelTo, c) = Unsafe.Add(ref pixelFrom, c);
        }
    }

    /// <summary>(A, B, plane) to (B, A, plane): the swap of the two outer axes, moving whole planes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SwapChannelsAndDepth(ReadOnlySpan<float> source, Span<float> destination, int outer, int inner, int plane)
    {
        for (int a = 0; a < outer; a++)
        for (int b = 0; b < inner; b++)
            FloatSpans.Copy(source.Slice((a * inner + b) * plane, plane), destination.Slice((b * outer + a) * plane, plane));
    }

    /// <summary>Scratch of one call at a time, kept between calls (so that a repeated size allocates nothing).</summary>
    private sealed class Buffers
    {
        public float[]? Input, Output, Slice, Stacked;

        /// <summary>The padded input slices, the stacked passes' padded input and an NCDHW slice transposed (<see cref="PadsSlicesOnce"/>).</summary>
        public float[]? PaddedSlices, PaddedStack, Staged;

        /// <summary>The plan whose zero borders <see cref="PaddedSlices"/> hold (null: none yet).</summary>
        public ExecutionPlan? PaddedFor;

        /// <summary>The tap count of the stack whose zero borders <see cref="PaddedStack"/> holds for <see cref="PaddedFor"/> (0: none).</summary>
        public int PaddedStackTaps;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Span<float> Grow(ref float[]? buffer, int length)
        {
            if (buffer is null || buffer.Length < length) buffer = new float[length];
            return buffer.AsSpan(0, length);
        }
    }
}
