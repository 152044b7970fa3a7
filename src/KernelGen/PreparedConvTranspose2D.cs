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
    /// Floats of the per-thread buffer the channel kernel writes when a relayout must follow it (8192 = 32 KiB): the
    /// kernel fills a few output rows, which are relayouted into the user's output while still in the L1 cache, instead
    /// of a whole-output scratch that goes out to memory and is read back by a second pass (measured 10 % of a 128 -> 64
    /// channel NCHW layer). The input rows those output rows read are copied into a second per-thread buffer just before,
    /// likewise (measured 2 % more). Tests lower it so that small cases run in several chunks per part.
    /// </summary>
    internal static int FusedRelayoutChunkFloats { get; set; } = DefaultFusedRelayoutChunkFloats;

    internal const int DefaultFusedRelayoutChunkFloats = 8192;

    private readonly LayerShape _layer;
    private readonly VectorWidth _channelVectors;
    private readonly int _paddedChannels;

    // Weights and bias packed for each kernel this layer may run (see RuntimeStrategy): both for 4 to 7 output
    // channels per group, and for 8 to 16 in NCHW layers with a width stride of 2, where the input width decides.
    private readonly float[]? _widthPacked, _widthBias, _channelBias;

    // Aligned: every weight vector the channel kernel loads then lies in one cache line.
    private readonly AlignedBuffer? _channelPacked;

    // The width kernel's weights again, in blocks of output channels for its stride-2 path (see RuntimeStrategy.MayBlockWidthPairs).
    private readonly float[]? _widthBlockPacked;
    private ExecutionPlan? _plan;
    private CallContext? _idleContext;

    internal PreparedConvTranspose2D(ConvTranspose2D definition)
    {
        Definition = definition;
        _layer = LayerShape.Of(definition);
        if (RuntimeStrategy.MayUseChannelKernel(_layer.OutPerGroup))
        {
            _channelVectors = VectorWidths.For(_layer.OutPerGroup);
            _paddedChannels = ChannelVectorizedKernel.PaddedChannels(_layer.OutPerGroup, _channelVectors);
            _channelPacked = new AlignedBuffer();
            _channelPacked.Ensure(checked(_layer.Groups * _layer.Taps * _layer.InPerGroup * _paddedChannels));
            _channelBias = new float[_layer.Groups * _paddedChannels];
        }

        bool channelsLast = definition.Layout == TensorLayout.Nhwc;
        if (RuntimeStrategy.MayUseWidthKernel(_layer.InPerGroup, _layer.OutPerGroup, channelsLast, definition.WidthAxis.Stride))
        {
            _widthPacked = new float[definition.WeightsLength];
            _widthBias = new float[_layer.OutChannels];
            if (RuntimeStrategy.MayBlockWidthPairs(_layer.OutPerGroup, definition.WidthAxis.Stride))
                _widthBlockPacked = new float[WidthPairedKernel.BlockPackedLength(_layer)];
        }
    }

    /// <summary>The convolution this was prepared from (geometry, layout, activation, thread cap).</summary>
    public ConvTranspose2D Definition { get; }

    /// <summary>Computes the transposed convolution of <paramref name="input"/> into <paramref name="output"/> with the prepared weights.</summary>
    /// <param name="input">One or more samples of <c>inChannels * inputHeight * inputWidth</c> elements, in the definition's layout.</param>
    /// <param name="inputHeight">Input height, at least 1.</param>
    /// <param name="inputWidth">Input width, at least 1.</param>
    /// <param name="output">At least <c>batch * outChannels * outputHeight * outputWidth</c> elements; the first that many are written.</param>
    /// <exception cref="ArgumentException">A size or span length is wrong, or the spans overlap; nothing has been written.</exception>
    public void Compute(ReadOnlySpan<float> input, int inputHeight, int inputWidth, Span<float> output)
    {
        var shape = Definition.ValidateCall(input, inputHeight, inputWidth, output);
        ComputeValidated(input, shape, output);
    }

    internal void Pack(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        if (_channelPacked is not null)
            ChannelVectorizedKernel.Pack(_layer, _paddedChannels, weights, bias, _channelPacked.Span, _channelBias);
        if (_widthPacked is not null)
        {
            WidthVectorizedKernel.Pack(weights, _widthPacked, _layer.InChannels, _layer.OutChannels, _layer.Groups, _layer.Taps);
            if (_widthBlockPacked is not null)
                WidthPairedKernel.PackBlocks(_layer, weights, _widthBlockPacked);
            if (bias.IsEmpty) Array.Clear(_widthBias!);
            else bias.CopyTo(_widthBias);
        }
    }

    internal void ComputeValidated(ReadOnlySpan<float> input, CallShape shape, Span<float> output)
    {
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

    private ExecutionPlan GetPlan(int inputHeight, int inputWidth)
    {
        ExecutionPlan? plan = Volatile.Read(ref _plan);
        if (plan is null || plan.InputHeight != inputHeight || plan.InputWidth != inputWidth)
        {
            plan = new ExecutionPlan(Definition, inputHeight, inputWidth);
            Volatile.Write(ref _plan, plan);
        }

        return plan;
    }

    /// <summary>The state of one call, handed to the worker threads as raw pointers over validated, pinned memory.</summary>
    private sealed class CallContext : IParallelWork
    {
        private readonly PreparedConvTranspose2D _owner;
        private readonly AlignedBuffer _paddedInput = new(), _outputScratch = new();
        private ExecutionPlan _plan = null!;
        private Pass _pass;
        private int _batch, _inputLength, _outputLength, _chunkRows, _chunkLength, _bandLength;
        private float* _input, _output;

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
        }

        private LayerShape Layer => _owner._layer;

        private bool ChannelsLast => _owner.Definition.Layout == TensorLayout.Nhwc;

        private bool IsChannelKernel => _plan.Strategy == KernelStrategy.ChannelVectorized;

        /// <summary>
        /// Whether the kernel writes the user's output in place: the width kernel when the output is NCHW, the channel
        /// kernel when it is NHWC and no padding lanes would land in it. Otherwise it writes scratch and a relayout follows
        /// (for the channel kernel, chunk by chunk in the same pass).
        /// </summary>
        private bool WritesOutputDirectly => IsChannelKernel
            ? ChannelsLast && _owner._paddedChannels == Layer.OutPerGroup
            : !ChannelsLast;

        /// <summary>Whether the kernel reads the user's input as it is and pads it itself (no <see cref="Pass.PadInput"/> pass).</summary>
        private bool KernelPadsInput => !IsChannelKernel && WidthVectorizedKernel.PadsItself(Layer, _plan, ChannelsLast);

        private int InputSample => Layer.InChannels * _plan.InputHeight * _plan.InputWidth;

        private int PaddedSample => Layer.InChannels * _plan.PaddedHeight * _plan.PaddedWidth;

        private int OutputSample => Layer.OutChannels * _plan.OutputHeight * _plan.OutputWidth;

        public void Run(ExecutionPlan plan, int batch, float* input, int inputLength, float* output, int outputLength)
        {
            _plan = plan;
            _batch = batch;
            _input = input;
            _inputLength = inputLength;
            _output = output;
            _outputLength = outputLength;

            long multiplyAdds = plan.MultiplyAddsPerSample * batch;
            if (!IsChannelKernel && multiplyAdds <= TapListKernel.MaxMultiplyAdds)
            {
                TapListKernel.Run(Layer, plan, new ReadOnlySpan<float>(input, inputLength), new Span<float>(output, outputLength),
                    _owner._widthPacked, _owner._widthBias, batch, ChannelsLast);
                _input = _output = null;
                return;
            }

            int parts = (int)Math.Clamp(multiplyAdds / MinMultiplyAddsPerPart, 1,
                Math.Min(_owner.Definition.MaxDegreeOfParallelism, WorkerPool.MaxParallelism));

            if (IsChannelKernel && !WritesOutputDirectly)
            {
                int rowLength = plan.OutputWidth * Layer.Groups * _owner._paddedChannels;
                int chunkRows = Math.Clamp(FusedRelayoutChunkFloats / rowLength, 1, plan.OutputHeight);
                ChannelChunking chunking = plan.ChannelChunking is { } built && built.OutputRows == chunkRows ? built
                    : plan.ChannelChunking = new ChannelChunking(chunkRows, ChannelVectorizedKernel.MaxPaddedRowsRead(plan, chunkRows));
                _chunkRows = chunkRows;
                _chunkLength = AlignedBuffer.RoundUp(chunkRows * rowLength);
                _bandLength = AlignedBuffer.RoundUp(chunking.MaxPaddedRows * plan.PaddedWidth * Layer.InChannels);
                int threads = Math.Min(parts, plan.OutputHeight * batch);
                _outputScratch.Ensure(_chunkLength * threads);
                _paddedInput.Ensure(_bandLength * threads);
                RunPass(Pass.PadKernelAndRelayout, parts);
                _input = _output = null;
                return;
            }

            if (!KernelPadsInput)
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

            _input = _output = null;
        }

        private int RowsPerSample(Pass pass) => pass switch
        {
            Pass.PadInput => IsChannelKernel ? _plan.PaddedHeight : Layer.InChannels * _plan.PaddedHeight,
            Pass.Kernel => IsChannelKernel ? _plan.OutputHeight : Layer.OutChannels * _plan.OutputHeight,
            _ => _plan.OutputHeight,
        };

        private void RunPass(Pass pass, int parts)
        {
            _pass = pass;
            WorkerPool.Run(this, Math.Min(parts, RowsPerSample(pass) * _batch));
        }

        public void Execute(int part, int partCount)
        {
            int rowsPerSample = RowsPerSample(_pass);
            long total = (long)rowsPerSample * _batch;
            int start = (int)(total * part / partCount), end = (int)(total * (part + 1) / partCount);
            while (start < end)
            {
                int sample = start / rowsPerSample;
                int rowStart = start - sample * rowsPerSample;
                int rowEnd = Math.Min(rowsPerSample, end - sample * rowsPerSample);
                ExecuteRows(part, sample, rowStart, rowEnd);
                start += rowEnd - rowStart;
            }
        }

        private void ExecuteRows(int part, int sample, int rowStart, int rowEnd)
        {
            LayerShape layer = Layer;
            ExecutionPlan plan = _plan;
            int inputSample = InputSample, paddedSample = PaddedSample, outputSample = OutputSample;
            var userInput = new ReadOnlySpan<float>(_input, _inputLength).Slice(sample * inputSample, inputSample);
            var userOutput = new Span<float>(_output, _outputLength).Slice(sample * outputSample, outputSample);
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
                    ChannelVectorizedKernel.Run(_owner._channelVectors, layer, _owner._paddedChannels, plan, padded, kernelOutput,
                        _owner._channelPacked!.Span, _owner._channelBias, rowStart, rowEnd, applyActivation: true);
                    break;
                case Pass.PadKernelAndRelayout:
                    Span<float> chunk = _outputScratch.Slice(part * _chunkLength, _chunkLength);
                    Span<float> band = _paddedInput.Slice(part * _bandLength, _bandLength);
                    int paddedRowLength = plan.PaddedWidth * layer.InChannels;
                    for (int row = rowStart; row < rowEnd; row += _chunkRows)
                    {
                        int chunkEnd = Math.Min(rowEnd, row + _chunkRows);
                        // The kernel's reads are unchecked: this slice (which throws if the rows outgrow the buffer) holds
                        // exactly the padded rows they address.
                        (int bandFirst, int bandEnd) = ChannelVectorizedKernel.PaddedRowsRead(plan, row, chunkEnd);
                        Span<float> bandRows = band[..((bandEnd - bandFirst) * paddedRowLength)];
                        ChannelVectorizedKernel.PadInput(layer, plan, userInput, ChannelsLast, bandRows, bandFirst, bandEnd, paddedFirstRow: bandFirst);
                        ChannelVectorizedKernel.Run(_owner._channelVectors, layer, _owner._paddedChannels, plan, bandRows, chunk,
                            _owner._channelPacked!.Span, _owner._channelBias, row, chunkEnd, applyActivation: false, outputFirstRow: row,
                            paddedFirstRow: bandFirst);
                        Relayout.PaddedHwcToOutput(chunk, userOutput, layer, _owner._paddedChannels, plan.OutputHeight,
                            plan.OutputWidth, ChannelsLast, row, chunkEnd, sourceFirstRow: row);
                    }

                    break;
                case Pass.Kernel when KernelPadsInput:
                    WidthVectorizedKernel.RunUnpadded(layer, plan, userInput, kernelOutput, _owner._widthPacked, _owner._widthBlockPacked, _owner._widthBias, rowStart, rowEnd);
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
    }
}
