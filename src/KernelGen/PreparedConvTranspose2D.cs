using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using KernelGen.Kernels;
using KernelGen.Planning;
using KernelGen.Simd;
using KernelGen.Threading;

namespace KernelGen;

/// <summary>
/// A <see cref="ConvTranspose2D"/> whose weights and bias are packed once into the layout its kernels read. Calls to
/// <see cref="Compute"/> allocate nothing once a given input size has been seen. Safe to call from several threads at once.
/// </summary>
public sealed unsafe class PreparedConvTranspose2D
{
    /// <summary>Below this many multiply-adds per part, another thread costs more than it saves.</summary>
    private const long MinMultiplyAddsPerPart = 1L << 18;

    /// <summary>
    /// Chunks per thread of a parallel pass. More chunks bound what a descheduled worker holds the call up by (one chunk);
    /// each costs one atomic claim, too little to show at this count (see docs/contention.md).
    /// </summary>
    internal const int DefaultChunksPerThread = 4;

    /// <summary>
    /// Columns per chunk unit of the copies of a layer split by columns (padding the input, relayouting the output): long
    /// enough runs for the transpositions, short enough that a row of a few thousand columns still makes many chunks.
    /// </summary>
    private const int ColumnsPerCopyTile = 64;

    private readonly LayerShape _layer;

    /// <summary>What the planner decided for every input size: which kernels may run, so which packings exist.</summary>
    private readonly LayerPlan _layerPlan;

    // The weights are packed once, at Prepare, in the layout the layer's kernels read at every size: the width kernel's
    // when it may run (or when there is no other for the exact kernel), else the channel kernel's. Layers whose input size
    // decides between the kernels (4 to 16 output channels per group, see PlanBuilder) pack the other layouts from the
    // width kernel's when a plan first reads them (see EnsurePacked): a layer that only ever sees wide inputs never holds
    // the channel kernel's copy, one that only sees narrow ones never holds the blocked copy.
    private readonly float[]? _widthPacked, _widthBias;

    /// <summary>The channel kernel's weights and bias: made at Prepare when the width kernel has no packing, else on first use.</summary>
    private ChannelWeights? _channel;

    // The width kernel's weights again, in blocks of output channels for its stride-2 path (LayerPlan.BlockPacking), made on first use.
    private float[]? _widthBlockPacked;

    /// <summary>Held while a layout is packed on first use, so that racing first calls of a new size pack it once.</summary>
    private readonly object _packLock = new();

    /// <summary>
    /// Whether every packed weight is finite. When one is NaN or infinite, the exact kernel (<see cref="TapListKernel"/>)
    /// computes the edge cells again after the SIMD kernels: they multiply weights by the zero border there, and 0 x Inf is NaN.
    /// </summary>
    private bool _weightsAreFinite = true;

    /// <summary>When a weight is not finite: per output channel and tap, whether one of its weights is not (see <see cref="TapListWeights.NonFiniteTaps"/>).</summary>
    private bool[]? _nonFiniteTaps;
    private ExecutionPlan? _plan;
    private CallContext? _idleContext;

    /// <summary>Tests only: whether the first call ran again (<see cref="RunsAgainOnFirstCall"/>).</summary>
    internal bool RepeatedFirstCall { get; private set; }

    /// <summary>1 once a call of <see cref="Compute"/> has run the kernel (see <see cref="RunsAgainOnFirstCall"/>).</summary>
    private int _hasRun;

    /// <summary>
    /// Tests and the contention benchmark only: every pass runs on exactly this many threads (capped by its rows), whatever
    /// the work and the processor count, so that any chunking can be compared with one thread. Null: the layer's own choice.
    /// </summary>
    internal int? ForcedThreads { get; set; }

    /// <summary>Chunks per thread of a parallel pass (<see cref="DefaultChunksPerThread"/>; other values for tests and the contention benchmark).</summary>
    internal int ChunksPerThread { get; set; } = DefaultChunksPerThread;

    /// <summary>
    /// Whether a call that could use several threads times itself and runs on one when that is faster (see
    /// <see cref="ThreadCountTuner"/>); false (the contention benchmark's comparison) always runs the threads the work allows.
    /// </summary>
    internal bool TunesThreadCount { get; set; } = true;

    /// <summary>One thread or several, by the layer's own call times (see <see cref="TunesThreadCount"/>).</summary>
    private readonly ThreadCountTuner _threadTuner = new();

    /// <summary>Tests: the tuner of <see cref="TunesThreadCount"/>.</summary>
    internal ThreadCountTuner ThreadTuner => _threadTuner;

    /// <summary>
    /// Whether a call of <paramref name="batch"/> samples on <paramref name="threads"/> threads splits the channel kernel's
    /// rows into tiles of columns and channels (<see cref="ChannelVectorizedKernel.ColumnTile"/>) rather than running whole
    /// rows: when its rows are too few to make <paramref name="chunksPerThread"/> chunks per thread (a 1-D layer has one),
    /// which would leave threads idle. One thread always runs whole rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool SplitsColumns(ExecutionPlan plan, int batch, int threads, int chunksPerThread) =>
        !plan.Exact && plan.IsChannelKernel && threads > 1 && (long)plan.OutputHeight * batch < (long)threads * chunksPerThread;

    internal PreparedConvTranspose2D(ConvTranspose2D definition)
    {
        Definition = definition;
        _layerPlan = PlanBuilder.ForLayer(definition, definition.PlanOptions);
        _layer = _layerPlan.Layer;
        if (_layerPlan.WidthPacking)
        {
            _widthPacked = new float[definition.WeightsLength];
            _widthBias = new float[_layer.OutChannels];
        }
        else
        {
            _channel = new ChannelWeights(_layerPlan);
        }
    }

    /// <summary>The convolution this was prepared from (geometry, layout, activation, thread cap).</summary>
    public ConvTranspose2D Definition { get; }

    /// <summary>Computes the transposed convolution of <paramref name="input"/> into <paramref name="output"/> with the prepared weights.</summary>
    /// <param name="input">Zero or more samples of <c>inChannels * inputHeight * inputWidth</c> elements, in the definition's layout
    /// (empty: a valid call that writes nothing).</param>
    /// <param name="inputHeight">Input height, at least 1.</param>
    /// <param name="inputWidth">Input width, at least 1.</param>
    /// <param name="output">At least <c>batch * outChannels * outputHeight * outputWidth</c> elements; the first that many are written.</param>
    /// <exception cref="ArgumentException">A size or span length is wrong, or the spans overlap; nothing has been written.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Compute(ReadOnlySpan<float> input, int inputHeight, int inputWidth, Span<float> output)
    {
        // A small first call runs again (see RunsAgainOnFirstCall) through the very instructions every later call runs: the
        // same call sites, the size rules' fast path for the last valid size, the cached plan, the reused call state. A
        // second copy of the calls would warm its own copy and leave the first one, which later calls run, cold since
        // before call 1's compiling (the caller usually inlines this method, so both copies would land in its code).
        while (true)
        {
            var shape = Definition.ValidateCall(input, inputHeight, inputWidth, output);
            ComputeValidated(input, shape, output);
            if (Volatile.Read(ref _hasRun) != 0 || !IsFirstCallToRepeat(shape)) return;
            RepeatedFirstCall = true;
        }
    }

    /// <summary>Whether this is the first call of the layer to have run the kernel, and a small one (<see cref="RunsAgainOnFirstCall"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool IsFirstCallToRepeat(CallShape shape) =>
        shape.Batch != 0 && Interlocked.Exchange(ref _hasRun, 1) == 0 && RunsAgainOnFirstCall(GetPlan(shape.InputHeight, shape.InputWidth), shape.Batch);

    /// <summary>
    /// The plan of a layer of this definition when it may run <see cref="WidthUpsampleKernel"/> at some input size (NCHW,
    /// 2 x 2 at stride 2, the channel kernel at Vector256 or Vector512), else null: then <see cref="ComputeChannelPlanes"/>
    /// may take the slices of an NCDHW volume in place, at the sizes whose plan runs that kernel. Decided by the planner's
    /// own rules, without packing anything.
    /// </summary>
    internal static LayerPlan? UpsamplingPlan(ConvTranspose2D definition)
    {
        LayerPlan layer = PlanBuilder.ForLayer(definition, definition.PlanOptions);
        return layer.Options.WidthUpsampleKernel && WidthUpsampleKernel.LayerFits(layer) ? layer : null;
    }

    /// <summary>Floats of a bias padded for <see cref="ComputeChannelPlanes"/> (<see cref="PadBias"/>).</summary>
    internal int PaddedBiasLength => _layer.Groups * _layerPlan.PaddedChannels;

    /// <summary>Copies a bias of <c>outChannels</c> into the kernels' padded layout (each group's channels padded to whole vectors, zeros between).</summary>
    internal void PadBias(ReadOnlySpan<float> bias, Span<float> padded)
    {
        padded.Clear();
        if (bias.IsEmpty) return;
        int outPerGroup = _layer.OutPerGroup;
        for (int group = 0; group < _layer.Groups; group++)
            bias.Slice(group * outPerGroup, outPerGroup).CopyTo(padded[(group * _layerPlan.PaddedChannels)..]);
    }

    /// <summary>
    /// One sample of one depth slice of an NCDHW volume by <see cref="WidthUpsampleKernel"/> (the plan for this size must
    /// run it: <see cref="ExecutionPlan.UpsamplesByWidth"/>): <paramref name="stagedRows"/> holds the input slice row by
    /// row, each row's channels one after the other (input channel <c>c</c>'s row <c>iy</c> at
    /// <c>(iy * inChannels + c) * inputWidth</c>), which the kernel reads where they lie; output channel <c>c</c>'s plane
    /// starts at <c>c * outputPlane</c> of <paramref name="output"/>. <paramref name="paddedBias"/> (<see cref="PadBias"/>)
    /// starts the sums, as this layer's own bias would, and the activation follows, on the thread count and chunks of this
    /// layer's calls.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void ComputeChannelPlanes(ReadOnlySpan<float> stagedRows, int inputHeight, int inputWidth, Span<float> output, int outputPlane,
        float[] paddedBias, FusedActivation activation, float leakyReluSlope)
    {
        ExecutionPlan plan = GetPlan(inputHeight, inputWidth);
        if (!plan.UpsamplesByWidth || paddedBias.Length != PaddedBiasLength
            || outputPlane < plan.OutputHeight * plan.OutputWidth
            || stagedRows.Length < (long)_layer.InChannels * inputHeight * inputWidth
            || output.Length < (long)(_layer.OutChannels - 1) * outputPlane + plan.OutputHeight * plan.OutputWidth)
            throw new ArgumentException("The slice does not fit the plan of the width up-sampling kernel.");
        CallContext context = Interlocked.Exchange(ref _idleContext, null) ?? new CallContext(this);
        try
        {
            context.SetChannelPlanes(outputPlane, paddedBias, _layer with { Activation = activation, LeakyReluSlope = leakyReluSlope });
            fixed (float* inputPointer = stagedRows)
            fixed (float* outputPointer = output)
            {
                context.Run(plan, 1, inputPointer, stagedRows.Length, outputPointer, output.Length);
            }
        }
        finally
        {
            Volatile.Write(ref _idleContext, context);
        }
    }

    /// <summary>
    /// Whether a call of this input size may run <see cref="ComputePadded"/>: it runs the channel kernel writing the (NHWC)
    /// output in place after a padding pass, on one thread (the SIMD kernel, finite weights), the one pass that
    /// <see cref="ComputePadded"/> runs. A volume's layer pads each of its input slices once for the several passes that
    /// read it (<see cref="PreparedConvTranspose3D"/>) instead of every pass padding its own copy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal bool TakesPaddedInput(int inputHeight, int inputWidth, out ExecutionPlan plan)
    {
        plan = GetPlan(inputHeight, inputWidth);
        if (!plan.IsChannelKernel || !plan.WritesOutputDirectly || plan.PadsItself || plan.RunsExact(1) || !_weightsAreFinite)
            return false;
        // The thread count of Compute's calls of one sample (CallContext.Run): one part only.
        return PartsFor(plan.MultiplyAddsPerSample) == 1;
    }

    /// <summary>
    /// The parts (threads) a call of <paramref name="multiplyAdds"/> multiply-adds is split into before the thread tuner's
    /// say: the forced count, else one per <see cref="MinMultiplyAddsPerPart"/>, at most the layer's and the pool's parallelism.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int PartsFor(long multiplyAdds) => ForcedThreads ?? (int)Math.Clamp(multiplyAdds / MinMultiplyAddsPerPart, 1,
        Math.Min(Definition.MaxDegreeOfParallelism, WorkerPool.MaxParallelism));

    /// <summary>
    /// One sample whose input the caller padded: <paramref name="padded"/> holds what the padding pass of a call would
    /// write (<see cref="ChannelVectorizedKernel.PadInput"/>: the plan's zero-bordered HWC copy, <c>PaddedHeight x
    /// PaddedWidth x inChannels</c>), and the kernel runs over it as that call's would, on this thread (only when
    /// <see cref="TakesPaddedInput"/>: the same sums, bit for bit).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void ComputePadded(ReadOnlySpan<float> padded, int inputHeight, int inputWidth, Span<float> output)
    {
        // The kernel's reads are unchecked: the padded sample must be whole.
        if (!TakesPaddedInput(inputHeight, inputWidth, out var plan)
            || padded.Length < (long)_layer.InChannels * plan.PaddedHeight * plan.PaddedWidth
            || output.Length < (long)_layer.OutChannels * plan.OutputHeight * plan.OutputWidth)
            throw new ArgumentException("The padded input or the output does not fit the plan of the channel kernel.");
        ChannelVectorizedKernel.Run(_layer, plan, padded, output, _channel!.Packed.Span, _channel.Bias, 0, plan.OutputHeight,
            applyActivation: true);
    }

    internal void Pack(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        _weightsAreFinite = AllFinite(weights);
        if (!_weightsAreFinite)
        {
            _nonFiniteTaps ??= new bool[_layer.OutChannels * _layer.Taps];
            TapListWeights.FindNonFiniteTaps(_layer, weights, _nonFiniteTaps);
        }
        if (_widthPacked is not null)
        {
            WidthVectorizedKernel.Pack(weights, _widthPacked, _layer.InChannels, _layer.OutChannels, _layer.Groups, _layer.Taps);
            if (bias.IsEmpty) Array.Clear(_widthBias!);
            else bias.CopyTo(_widthBias);
            // Layouts packed on first use for earlier sizes hold the previous weights: pack them again (in place, so that an
            // unprepared Compute, which packs on every call, allocates nothing once its sizes have been seen).
            if (_channel is { } channel)
                channel.Pack(_layerPlan, SourceWeights.WidthPacked(_layer, _widthPacked), _widthBias);
            if (_widthBlockPacked is { } blocks)
                WidthPairedKernel.PackBlocks(_layer, SourceWeights.WidthPacked(_layer, _widthPacked), blocks);
        }
        else
        {
            _channel!.Pack(_layerPlan, SourceWeights.PyTorch(_layer, weights), bias);
        }
    }

    /// <summary>
    /// Packs the layouts <paramref name="plan"/> reads that this layer has not packed yet, from the width kernel's packing
    /// (thread-safe: racing first calls of a new size pack each layout once; the fields are published after packing).
    /// </summary>
    private void EnsurePacked(ExecutionPlan plan)
    {
        bool channel = !plan.Exact && plan.IsChannelKernel && Volatile.Read(ref _channel) is null;
        bool blocks = plan.BlocksChannels && Volatile.Read(ref _widthBlockPacked) is null;
        if (!channel && !blocks) return;
        lock (_packLock)
        {
            var source = SourceWeights.WidthPacked(_layer, _widthPacked);
            if (channel && _channel is null)
            {
                var packed = new ChannelWeights(_layerPlan);
                packed.Pack(_layerPlan, source, _widthBias);
                Volatile.Write(ref _channel, packed);
            }

            if (blocks && _widthBlockPacked is null)
            {
                var packed = new float[WidthPairedKernel.BlockPackedLength(_layer)];
                WidthPairedKernel.PackBlocks(_layer, source, packed);
                Volatile.Write(ref _widthBlockPacked, packed);
            }
        }
    }

    /// <summary>The channel kernel's packed weights and bias, made together so that they are published together.</summary>
    private sealed class ChannelWeights
    {
        public ChannelWeights(LayerPlan layer)
        {
            // Aligned: every weight vector the channel kernel loads then lies in one cache line.
            Packed.Ensure(layer.Layer.Groups * layer.Layer.Taps * layer.Layer.InPerGroup * layer.PaddedChannels);
            Bias = new float[layer.Layer.Groups * layer.PaddedChannels];
            if (WidthUpsampleKernel.LayerFits(layer) && layer.Options.WidthUpsampleKernel)
                Upsampling = new float[WidthUpsampleKernel.PackedLength(layer.Layer)];
        }

        public AlignedBuffer Packed { get; } = new();

        public float[] Bias { get; }

        /// <summary>The same weights for <see cref="WidthUpsampleKernel"/>, when the layer may run it (else null).</summary>
        public float[]? Upsampling { get; }

        public void Pack(LayerPlan layer, SourceWeights weights, ReadOnlySpan<float> bias)
        {
            ChannelVectorizedKernel.Pack(layer.Layer, layer.PaddedChannels, weights, bias, Packed.Span, Bias);
            if (Upsampling is not null)
                WidthUpsampleKernel.Pack(layer.Layer, layer.PaddedChannels, Packed.Span, Upsampling);
        }
    }

    /// <summary>Whether no value is NaN or infinite (x - x is 0 for every finite x, NaN for the others).</summary>
    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var sum = Vector<float>.Zero;
            for (; i + Vector<float>.Count <= values.Length; i += Vector<float>.Count)
            {
                var v = new Vector<float>(values.Slice(i, Vector<float>.Count));
                sum += v - v;
            }

            if (!Vector.EqualsAll(sum, Vector<float>.Zero)) return false;
        }

        for (; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) return false;
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void ComputeValidated(ReadOnlySpan<float> input, CallShape shape, Span<float> output)
    {
        // An empty batch is a valid call (PyTorch and ONNX Runtime accept it): nothing to write.
        if (shape.Batch == 0) return;
        ExecutionPlan plan = GetPlan(shape.InputHeight, shape.InputWidth);
        CallContext context = Interlocked.Exchange(ref _idleContext, null) ?? new CallContext(this);
        try
        {
            fixed (float* inputPointer = input)
            fixed (float* outputPointer = output)
            {
                context.Run(plan, shape.Batch, inputPointer, input.Length, outputPointer, output.Length);
            }
        }
        finally
        {
            Volatile.Write(ref _idleContext, context);
        }
    }

    /// <summary>
    /// Whether the first call of this layer runs again (validation, plan and kernel: same output, as the kernel overwrites
    /// it). Under the JIT the first run follows compiling the kernel and planning, which leave the caches, the TLBs and the
    /// branch predictors holding the compiler's state, not the call's; call 2 then took 5 to 40 times a steady call (seed
    /// 3 us against 0.2 us, small_fixed 40 us against 1.1 us; no method is compiled during call 2: docs/first-calls.md).
    /// Running again inside call 1 pays that once, where it is lost among the milliseconds of compiling, so that call 2
    /// runs like the calls after it. Only small calls: a large call's own run warms what it needs, and a second run would
    /// cost as much as the call. Under the JIT the limit is higher (<see cref="FirstCallRepeatMaxMultiplyAddsJit"/>): on a
    /// Zen 5, call 2 of game_up (4.7 M multiply-adds, 59 µs) took 170-235 µs after a first call of 65-75 ms of compiling,
    /// and stride1's (9.4 M, 95 µs) 150-230 µs; NativeAOT, which compiles nothing then, ran their call 2 within 1.4x.
    /// </summary>
    private static bool RunsAgainOnFirstCall(ExecutionPlan plan, int batch) =>
        ExecutionPlan.SaturatingMultiply(plan.MultiplyAddsPerSample, batch) <= FirstCallRepeatLimit;

    /// <summary>The largest first call (in multiply-adds) that runs its kernel twice under NativeAOT: about 0.1 ms on one core.</summary>
    internal const long FirstCallRepeatMaxMultiplyAdds = 1 << 22;

    /// <summary>The largest first call (in multiply-adds) that runs its kernel twice under the JIT: 0.1-0.3 ms on one core,
    /// against the tens of milliseconds a first call spends compiling there.</summary>
    internal const long FirstCallRepeatMaxMultiplyAddsJit = 1 << 24;

    /// <summary>The limit of <see cref="RunsAgainOnFirstCall"/> in this process (a constant under NativeAOT).</summary>
    internal static long FirstCallRepeatLimit =>
        RuntimeFeature.IsDynamicCodeCompiled ? FirstCallRepeatMaxMultiplyAddsJit : FirstCallRepeatMaxMultiplyAdds;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ExecutionPlan GetPlan(int inputHeight, int inputWidth)
    {
        ExecutionPlan? plan = Volatile.Read(ref _plan);
        if (plan is null || plan.InputHeight != inputHeight || plan.InputWidth != inputWidth)
        {
            plan = PlanBuilder.ForInput(_layerPlan, inputHeight, inputWidth);
            EnsurePacked(plan);
            Volatile.Write(ref _plan, plan);
        }

        return plan;
    }

    /// <summary>The weights as the exact kernel reads them: the width kernel's packing when the layer has one, else the channel kernel's.</summary>
    private TapListWeights ExactWeights
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _widthPacked is not null
            ? TapListWeights.OfWidthPacking(_layer, _widthPacked, _widthBias, _nonFiniteTaps)
            : TapListWeights.OfChannelPacking(_layer, _layerPlan.PaddedChannels, _channel!.Packed.Span, _channel.Bias, _nonFiniteTaps);
    }

    /// <summary>The state of one call, handed to the worker threads as raw pointers over validated, pinned memory.</summary>
    private sealed class CallContext : IParallelWork
    {
        private readonly PreparedConvTranspose2D _owner;
        private readonly AlignedBuffer _paddedInput = new(), _outputScratch = new(), _windows = new();
        private ExecutionPlan _plan = null!;
        private Pass _pass;
        private int _batch, _inputLength, _outputLength;
        private float* _input, _output;

        // A call of ComputeChannelPlanes (while _planesBias is set): the channel stride of its output, its bias and its layer
        // with the volume's activation. Reset at the end of every call.
        private int _outputPlane;
        private float[]? _planesBias;
        private LayerShape _planesLayer;

        /// <summary>Makes the next <see cref="Run"/> a call of <see cref="ComputeChannelPlanes"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void SetChannelPlanes(int outputPlane, float[] paddedBias, LayerShape layer)
        {
            (_outputPlane, _planesBias, _planesLayer) = (outputPlane, paddedBias, layer);
        }

        public CallContext(PreparedConvTranspose2D owner) => _owner = owner;

        /// <summary>The steps of a call; each is split by rows across the worker pool.</summary>
        private enum Pass
        {
            /// <summary>Copy the input into the zero-bordered layout the kernel reads.</summary>
            PadInput,

            /// <summary>The convolution itself.</summary>
            Kernel,

            /// <summary>
            /// The channel kernel a few output rows at a time: the input rows they read are copied into a zero-bordered
            /// per-thread buffer, the kernel writes a per-thread buffer of those output rows, which is relayouted into the
            /// user's layout at once. Both buffers stay in the core's caches, where whole-sample copies went out to memory
            /// and were read back by the next pass.
            /// </summary>
            PadKernelAndRelayout,

            /// <summary>Copy the width kernel's CHW scratch output into the user's NHWC output.</summary>
            OutputRelayout,

            /// <summary>The exact scalar kernel (<see cref="TapListKernel"/>), straight from the user's input to the user's output.</summary>
            Exact,

            /// <summary>The exact scalar kernel over the edge cells only, after the SIMD kernels, for weights holding NaN or an infinity.</summary>
            ExactEdges,

            // The channel kernel on a layer of too few rows to split (SplitsColumns): each pass is split by columns instead,
            // through whole-sample scratch. A chunk is a range of units: bands of columns of a row, or tiles of a row's channels
            // and pixel blocks.

            /// <summary>Copy the input into the zero-bordered HWC layout, <see cref="ColumnsPerCopyTile"/> padded columns of a row per unit.</summary>
            PadColumns,

            /// <summary>The channel kernel, one <see cref="KernelShapes.ChannelWeightBlock"/> of channels by one register block of pixels of a row per unit.</summary>
            KernelTiles,

            /// <summary>Relayout the kernel's scratch into the user's output and apply the activation (or only apply it, when the kernel wrote the output), <see cref="ColumnsPerCopyTile"/> columns of a row per unit.</summary>
            OutputColumns,
        }

        private LayerShape Layer { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => _owner._layer; }

        private bool ChannelsLast { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => _owner.Definition.Layout == TensorLayout.Nhwc; }

        private bool IsChannelKernel => _plan.IsChannelKernel;

        /// <summary>Whether the kernel writes the user's output in place (else scratch and a relayout: see <see cref="ExecutionPlan.WritesOutputDirectly"/>).</summary>
        private bool WritesOutputDirectly => _plan.WritesOutputDirectly;

        /// <summary>Whether the kernel reads the user's input as it is and pads it itself (no <see cref="Pass.PadInput"/> pass).</summary>
        private bool KernelPadsInput => _plan.PadsItself;

        private int InputSample { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Layer.InChannels * _plan.InputHeight * _plan.InputWidth; }

        private int PaddedSample { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Layer.InChannels * _plan.PaddedHeight * _plan.PaddedWidth; }

        private int OutputSample { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Layer.OutChannels * _plan.OutputHeight * _plan.OutputWidth; }

        /// <summary>One sample of the channel kernel's output with its padded channels (HWC), as its whole-sample scratch holds it.</summary>
        private int ChannelOutputSample { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Layer.Groups * _plan.PaddedChannels * _plan.OutputHeight * _plan.OutputWidth; }

        /// <summary>The channel tiles of a row: <see cref="KernelShapes.ChannelWeightBlock"/> channels each, the last narrower.</summary>
        private int ChannelTiles { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (_plan.PaddedChannels + KernelShapes.ChannelWeightBlock - 1) / KernelShapes.ChannelWeightBlock; }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int CopyTiles(int columns) => (columns + ColumnsPerCopyTile - 1) / ColumnsPerCopyTile;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(ExecutionPlan plan, int batch, float* input, int inputLength, float* output, int outputLength)
        {
            _plan = plan;
            try
            {
                long multiplyAdds = ExecutionPlan.SaturatingMultiply(plan.MultiplyAddsPerSample, batch);
                int parts = _owner.PartsFor(multiplyAdds);
                if (parts > 1 && _owner.ForcedThreads is null && _owner.TunesThreadCount)
                {
                    // Whether the threads pay on this machine, now, is measured, not assumed (ThreadCountTuner).
                    var (threaded, place) = _owner._threadTuner.Choose(plan, batch);
                    if (place < 0)
                    {
                        RunParts(plan, batch, threaded ? parts : 1, input, inputLength, output, outputLength);
                        return;
                    }

                    long start = Stopwatch.GetTimestamp();
                    RunParts(plan, batch, threaded ? parts : 1, input, inputLength, output, outputLength);
                    _owner._threadTuner.Record(plan, batch, threaded, place, Stopwatch.GetTimestamp() - start);
                    return;
                }

                RunParts(plan, batch, parts, input, inputLength, output, outputLength);
            }
            finally
            {
                _input = _output = null;
                _outputPlane = 0;
                _planesBias = null;
            }
        }

        /// <summary>Runs the call's passes on up to <paramref name="parts"/> threads.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunParts(ExecutionPlan plan, int batch, int parts, float* input, int inputLength, float* output, int outputLength)
        {
            if (_planesBias is not null)
            {
                // A slice of a volume (ComputeChannelPlanes): the up-sampling kernel's rows alone. No exact edge pass for
                // weights that are not finite: every output of its 2 x 2 stride-2 geometry has its one tap inside the
                // input, so no sum multiplies a border zero.
                RunChannelChunks(plan, batch, parts, input, inputLength, output, outputLength);
                return;
            }

            if (plan.RunsExact(batch))
            {
                if (parts <= 1)
                    RunExactOnThisThread(batch, input, inputLength, output, outputLength);
                else
                    RunBatch(Pass.Exact, parts, batch, input, inputLength, output, outputLength);
                return;
            }

            if (SplitsColumns(plan, batch, parts, _owner.ChunksPerThread))
            {
                RunColumnTiles(batch, parts, input, inputLength, output, outputLength);
            }
            else if (IsChannelKernel && !WritesOutputDirectly)
            {
                RunChannelChunks(plan, batch, parts, input, inputLength, output, outputLength);
            }
            else
            {
                // Scratch grows with the batch: a batch whose copies would not fit in one buffer runs in slices (the
                // plan guarantees that one sample's do).
                long scratchPerSample = (KernelPadsInput ? 0 : PaddedSample) + (WritesOutputDirectly ? 0 : OutputSample);
                int samplesPerRun = scratchPerSample == 0 ? batch : (int)Math.Clamp(ExecutionPlan.MaxScratchFloats / scratchPerSample, 1, batch);
                for (int first = 0; first < batch; first += samplesPerRun)
                {
                    int samples = Math.Min(samplesPerRun, batch - first);
                    int inputOffset = first * InputSample, outputOffset = first * OutputSample;
                    RunBatch(Pass.Kernel, parts, samples, input + inputOffset, inputLength - inputOffset, output + outputOffset, outputLength - outputOffset);
                }
            }

            // Weights holding NaN or an infinity: the SIMD kernels multiplied them by border zeros in the edge cells
            // (0 x Inf is NaN), so those are computed again from their real taps only. Every other cell is exact already.
            if (!_owner._weightsAreFinite)
            {
                SetBatch(batch, input, inputLength, output, outputLength);
                RunPass(Pass.ExactEdges, parts);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void SetBatch(int batch, float* input, int inputLength, float* output, int outputLength)
        {
            _batch = batch;
            _input = input;
            _inputLength = inputLength;
            _output = output;
            _outputLength = outputLength;
        }

        /// <summary>
        /// The exact kernel over every row of every sample, straight on the calling thread: what <see cref="Pass.Exact"/>
        /// computes on one thread, without the pass's chunk bookkeeping and interface dispatch, which cost as much as the
        /// kernel itself for calls as small as the course example (the calls that run one thread).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunExactOnThisThread(int batch, float* input, int inputLength, float* output, int outputLength)
        {
            LayerShape layer = Layer;
            ExecutionPlan plan = _plan;
            int inputSample = InputSample, outputSample = OutputSample, rows = layer.OutChannels * plan.OutputHeight;
            TapListWeights weights = _owner.ExactWeights;
            bool channelsLast = ChannelsLast;
            var inputs = new ReadOnlySpan<float>(input, inputLength);
            var outputs = new Span<float>(output, outputLength);
            for (int sample = 0; sample < batch; sample++)
            {
                TapListKernel.Run(layer, plan, inputs.Slice(sample * inputSample, inputSample), outputs.Slice(sample * outputSample, outputSample),
                    weights, channelsLast, 0, rows);
            }
        }

        /// <summary>Runs <paramref name="batch"/> samples through the SIMD kernels' passes (<see cref="Pass.Kernel"/>) or the exact kernel.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunBatch(Pass kind, int parts, int batch, float* input, int inputLength, float* output, int outputLength)
        {
            SetBatch(batch, input, inputLength, output, outputLength);
            if (kind == Pass.Exact)
            {
                RunPass(Pass.Exact, parts);
                return;
            }

            if (KernelPadsInput)
            {
                // One window per thread (a chunk uses its thread's slot), kept across calls: no stack for it, no allocation per call.
                _windows.Ensure(WidthPairedKernel.WindowFloats * PartsOf(Pass.Kernel, parts));
            }
            else
            {
                _paddedInput.Ensure(PaddedSample * batch);
                RunPass(Pass.PadInput, parts);
            }

            if (WritesOutputDirectly)
            {
                RunPass(Pass.Kernel, parts);
            }
            else
            {
                _outputScratch.Ensure(OutputSample * batch);
                RunPass(Pass.Kernel, parts);
                RunPass(Pass.OutputRelayout, parts);
            }
        }

        /// <summary>
        /// The channel kernel on a layer of too few rows to split (see <see cref="SplitsColumns"/>): padding, kernel and
        /// relayout each split by columns, through whole-sample scratch (a 1-D layer's one row is its whole sample, so the
        /// fused pass's per-thread buffers held as much). A batch whose scratch would not fit in one buffer runs in slices.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunColumnTiles(int batch, int parts, float* input, int inputLength, float* output, int outputLength)
        {
            long scratchPerSample = (long)PaddedSample + (WritesOutputDirectly ? 0 : ChannelOutputSample);
            int samplesPerRun = (int)Math.Clamp(ExecutionPlan.MaxScratchFloats / scratchPerSample, 1, batch);
            for (int first = 0; first < batch; first += samplesPerRun)
            {
                int samples = Math.Min(samplesPerRun, batch - first);
                int inputOffset = first * InputSample, outputOffset = first * OutputSample;
                SetBatch(samples, input + inputOffset, inputLength - inputOffset, output + outputOffset, outputLength - outputOffset);
                _paddedInput.Ensure(PaddedSample * samples);
                if (!WritesOutputDirectly)
                    _outputScratch.Ensure(ChannelOutputSample * samples);
                RunPass(Pass.PadColumns, parts);
                RunPass(Pass.KernelTiles, parts);
                if (!WritesOutputDirectly || Layer.Activation != FusedActivation.None)
                    RunPass(Pass.OutputColumns, parts);
            }
        }

        /// <summary>The channel kernel a few output rows at a time (<see cref="Pass.PadKernelAndRelayout"/>), through per-thread buffers.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunChannelChunks(ExecutionPlan plan, int batch, int parts, float* input, int inputLength, float* output, int outputLength)
        {
            SetBatch(batch, input, inputLength, output, outputLength);
            ChannelChunking chunking = plan.ChannelChunking ?? throw new InvalidOperationException("The plan writes the output directly.");
            // The threads are capped so that one buffer holds a chunk per thread.
            long perPart = (long)chunking.ChunkFloats + chunking.BandFloats;
            parts = (int)Math.Clamp(ExecutionPlan.MaxScratchFloats / perPart, 1, parts);
            int threads = PartsOf(Pass.PadKernelAndRelayout, parts);
            _outputScratch.Ensure(chunking.ChunkFloats * threads);
            _paddedInput.Ensure(chunking.BandFloats * threads);
            RunPass(Pass.PadKernelAndRelayout, parts);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private int RowsPerSample(Pass pass) => pass switch
        {
            Pass.PadInput => IsChannelKernel ? _plan.PaddedHeight : Layer.InChannels * _plan.PaddedHeight,
            Pass.Kernel => IsChannelKernel ? _plan.OutputHeight : Layer.OutChannels * _plan.OutputHeight,
            Pass.Exact or Pass.ExactEdges => Layer.OutChannels * _plan.OutputHeight,
            Pass.PadColumns => _plan.PaddedHeight * CopyTiles(_plan.PaddedWidth),
            Pass.KernelTiles => _plan.OutputHeight * ChannelTiles * _plan.PixelBlocksPerRow,
            Pass.OutputColumns => _plan.OutputHeight * CopyTiles(_plan.OutputWidth),
            _ => _plan.OutputHeight,
        };

        /// <summary>
        /// The rows a chunk boundary never splits, so that every chunking computes each output with the same instructions as
        /// one thread: the output rows of one step of <see cref="Pass.PadKernelAndRelayout"/> (a boundary inside them would
        /// also pad the input rows they share twice); whole blocks of whole channels when the width kernel computes blocks of
        /// channels together (a block cut by a boundary falls back to one channel at a time, which sums in another order), or
        /// whole groups when a group's channels are no whole number of blocks; else one row.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private int RowGrain(Pass pass)
        {
            if (pass == Pass.PadKernelAndRelayout) return _plan.ChannelChunking!.OutputRows;
            if (pass != Pass.Kernel || IsChannelKernel || !_plan.BlocksChannels) return 1;
            int outPerGroup = Layer.OutPerGroup;
            int channels = outPerGroup % WidthPairedKernel.BlockChannels == 0 ? WidthPairedKernel.BlockChannels : outPerGroup;
            return channels * _plan.OutputHeight;
        }

        /// <summary>The grains (<see cref="RowGrain"/>) of one sample.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private int GrainsPerSample(Pass pass) => (RowsPerSample(pass) + RowGrain(pass) - 1) / RowGrain(pass);

        /// <summary>How many threads a pass runs on: at most <paramref name="parts"/>, at most one per grain of rows.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private int PartsOf(Pass pass, int parts) => (int)Math.Min(parts, (long)GrainsPerSample(pass) * _batch);

        /// <summary>
        /// Runs a pass on up to <paramref name="parts"/> threads, in <see cref="ChunksPerThread"/> chunks per thread claimed
        /// as threads come free (see <see cref="WorkerPool"/>), so that a thread the operating system has not scheduled
        /// delays the call by one small chunk at most. One thread runs the pass as a single chunk.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunPass(Pass pass, int parts)
        {
            _pass = pass;
            int threads = PartsOf(pass, parts);
            int chunks = threads <= 1 ? 1 : (int)Math.Min((long)threads * _owner.ChunksPerThread, (long)GrainsPerSample(pass) * _batch);
            WorkerPool.Run(this, chunks, threads);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int chunk, int chunkCount, int slot)
        {
            int rowsPerSample = RowsPerSample(_pass), grain = RowGrain(_pass), grainsPerSample = GrainsPerSample(_pass);
            long total = (long)grainsPerSample * _batch;
            long start = total * chunk / chunkCount, end = total * (chunk + 1) / chunkCount;
            while (start < end)
            {
                int sample = (int)(start / grainsPerSample);
                int grainStart = (int)(start - (long)sample * grainsPerSample);
                int grainEnd = (int)Math.Min(grainsPerSample, end - (long)sample * grainsPerSample);
                ExecuteRows(slot, sample, grainStart * grain, Math.Min(rowsPerSample, grainEnd * grain));
                start += grainEnd - grainStart;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ExecuteRows(int slot, int sample, int rowStart, int rowEnd)
        {
            if (_pass >= Pass.PadColumns)
            {
                ExecuteUnits(sample, rowStart, rowEnd);
                return;
            }

            LayerShape layer = Layer;
            ExecutionPlan plan = _plan;
            int inputSample = InputSample, paddedSample = PaddedSample, outputSample = OutputSample;
            // A volume's slice (one sample) spans its channels' planes, a channel volume apart.
            var userInput = _planesBias is not null ? new ReadOnlySpan<float>(_input, _inputLength)
                : new ReadOnlySpan<float>(_input, _inputLength).Slice(sample * inputSample, inputSample);
            var userOutput = _planesBias is not null ? new Span<float>(_output, _outputLength)
                : new Span<float>(_output, _outputLength).Slice(sample * outputSample, outputSample);
            if (_pass is Pass.Exact or Pass.ExactEdges)
            {
                TapListKernel.Run(layer, plan, userInput, userOutput, _owner.ExactWeights, ChannelsLast, rowStart, rowEnd, edgesOnly: _pass == Pass.ExactEdges);
                return;
            }

            Span<float> padded = _pass is Pass.PadKernelAndRelayout || KernelPadsInput ? default : _paddedInput.Slice(sample * paddedSample, paddedSample);
            Span<float> kernelOutput = _pass is Pass.PadInput or Pass.PadKernelAndRelayout ? default
                : WritesOutputDirectly ? userOutput
                : _outputScratch.Slice(sample * outputSample, outputSample);
            switch (_pass)
            {
                case Pass.PadInput when IsChannelKernel:
                    ChannelVectorizedKernel.PadInput(layer, plan, userInput, ChannelsLast, padded, rowStart, rowEnd);
                    break;
                case Pass.PadInput:
                    WidthVectorizedKernel.PadInput(layer, plan, userInput, ChannelsLast, padded, rowStart, rowEnd);
                    break;
                case Pass.Kernel when IsChannelKernel:
                    ChannelVectorizedKernel.Run(layer, plan, padded, kernelOutput,
                        _owner._channel!.Packed.Span, _owner._channel.Bias, rowStart, rowEnd, applyActivation: true);
                    break;
                case Pass.PadKernelAndRelayout:
                    ChannelChunking chunking = plan.ChannelChunking!;
                    Span<float> chunk = _outputScratch.Slice(slot * chunking.ChunkFloats, chunking.ChunkFloats);
                    Span<float> band = _paddedInput.Slice(slot * chunking.BandFloats, chunking.BandFloats);
                    if (plan.UpsamplesByWidth)
                    {
                        if (_planesBias is not null)
                            WidthUpsampleKernel.Run(_planesLayer, plan, userInput, userOutput, _owner._channel!.Upsampling!, _planesBias, band, rowStart, rowEnd,
                                new VolumeSlicePlanes(_outputPlane));
                        else
                            WidthUpsampleKernel.Run(layer, plan, userInput, userOutput, _owner._channel!.Upsampling!, _owner._channel.Bias, band, rowStart, rowEnd,
                                default(SamplePlanes));
                        break;
                    }

                    int paddedRowLength = plan.PaddedWidth * layer.InChannels;
                    for (int row = rowStart; row < rowEnd; row += chunking.OutputRows)
                    {
                        int chunkEnd = Math.Min(rowEnd, row + chunking.OutputRows);
                        // The kernel's reads are unchecked: this slice (which throws if the rows outgrow the buffer) holds
                        // exactly the padded rows they address.
                        (int bandFirst, int bandEnd) = plan.PaddedRowsRead(row, chunkEnd);
                        Span<float> bandRows = band[..((bandEnd - bandFirst) * paddedRowLength)];
                        ChannelVectorizedKernel.PadInput(layer, plan, userInput, ChannelsLast, bandRows, bandFirst, bandEnd, paddedFirstRow: bandFirst);
                        ChannelVectorizedKernel.Run(layer, plan, bandRows, chunk, _owner._channel!.Packed.Span, _owner._channel.Bias, row, chunkEnd,
                            applyActivation: false, outputFirstRow: row, paddedFirstRow: bandFirst);
                        Relayout.PaddedHwcToOutput(chunk, userOutput, layer, plan.PaddedChannels, plan.OutputHeight,
                            plan.OutputWidth, ChannelsLast, row, chunkEnd, sourceFirstRow: row);
                    }

                    break;
                case Pass.Kernel when KernelPadsInput:
                    WidthVectorizedKernel.RunUnpadded(layer, plan, userInput, _windows.Slice(slot * WidthPairedKernel.WindowFloats, WidthPairedKernel.WindowFloats),
                        kernelOutput, _owner._widthPacked, _owner._widthBlockPacked, _owner._widthBias, rowStart, rowEnd);
                    break;
                case Pass.Kernel:
                    WidthVectorizedKernel.Run(layer, plan, padded, kernelOutput, _owner._widthPacked, _owner._widthBlockPacked, _owner._widthBias, rowStart, rowEnd);
                    break;
                case Pass.OutputRelayout:
                    // The width kernel already applied the activation.
                    Relayout.ChwToHwc(kernelOutput, userOutput, layer.OutChannels, plan.OutputHeight, plan.OutputWidth, rowStart, rowEnd);
                    break;
            }
        }

        /// <summary>Units <c>[unitStart, unitEnd)</c> of one sample of a pass split by columns (see <see cref="Pass.PadColumns"/>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ExecuteUnits(int sample, int unitStart, int unitEnd)
        {
            LayerShape layer = Layer;
            ExecutionPlan plan = _plan;
            int inputSample = InputSample, paddedSample = PaddedSample, outputSample = OutputSample, scratchSample = ChannelOutputSample;
            var userInput = new ReadOnlySpan<float>(_input, _inputLength).Slice(sample * inputSample, inputSample);
            var userOutput = new Span<float>(_output, _outputLength).Slice(sample * outputSample, outputSample);
            Span<float> padded = _paddedInput.Slice(sample * paddedSample, paddedSample);
            Span<float> kernelOutput = WritesOutputDirectly ? userOutput : _outputScratch.Slice(sample * scratchSample, scratchSample);
            switch (_pass)
            {
                case Pass.PadColumns:
                {
                    int tiles = CopyTiles(plan.PaddedWidth);
                    for (int unit = unitStart; unit < unitEnd; unit++)
                    {
                        int row = unit / tiles, columnStart = (unit - row * tiles) * ColumnsPerCopyTile;
                        ChannelVectorizedKernel.PadInputColumns(layer, plan, userInput, ChannelsLast, padded, row, columnStart,
                            Math.Min(plan.PaddedWidth, columnStart + ColumnsPerCopyTile));
                    }

                    break;
                }

                case Pass.KernelTiles:
                {
                    // Units run pixel blocks fastest, so a chunk's units are mostly consecutive blocks of one channel tile:
                    // one call each, which reads that tile's weights once per phase, as a whole row does.
                    int blocks = plan.PixelBlocksPerRow, unitsPerRow = ChannelTiles * blocks;
                    for (int unit = unitStart; unit < unitEnd;)
                    {
                        int row = unit / unitsPerRow, inRow = unit - row * unitsPerRow;
                        int channelTile = inRow / blocks, blockStart = inRow - channelTile * blocks;
                        int blockEnd = Math.Min(blocks, blockStart + (unitEnd - unit));
                        int channelStart = channelTile * KernelShapes.ChannelWeightBlock;
                        var tile = new ChannelVectorizedKernel.ColumnTile(channelStart,
                            Math.Min(plan.PaddedChannels, channelStart + KernelShapes.ChannelWeightBlock), blockStart, blockEnd);
                        ChannelVectorizedKernel.Run(layer, plan, padded, kernelOutput, _owner._channel!.Packed.Span, _owner._channel.Bias,
                            row, row + 1, applyActivation: false, outputFirstRow: 0, paddedFirstRow: 0, tile);
                        unit += blockEnd - blockStart;
                    }

                    break;
                }

                case Pass.OutputColumns:
                {
                    int tiles = CopyTiles(plan.OutputWidth), width = plan.OutputWidth, planePixels = plan.OutputHeight * width;
                    for (int unit = unitStart; unit < unitEnd; unit++)
                    {
                        int row = unit / tiles, columnStart = (unit - row * tiles) * ColumnsPerCopyTile;
                        int firstPixel = row * width + columnStart, pixels = Math.Min(width - columnStart, ColumnsPerCopyTile);
                        if (WritesOutputDirectly)
                            Activations.Apply(userOutput.Slice(firstPixel * layer.OutChannels, pixels * layer.OutChannels), layer.Activation, layer.LeakyReluSlope);
                        else
                            Relayout.PaddedHwcPixelsToOutput(kernelOutput, userOutput, layer, plan.PaddedChannels, planePixels, ChannelsLast,
                                firstPixel, pixels, sourceFirstPixel: 0);
                    }

                    break;
                }
            }
        }
    }
}
