using KernelGen;

namespace Dcgan;

/// <summary>
/// The generator network of DCGAN (Radford, Metz and Chintala, 2015) at inference time, with weights drawn from a seed:
/// a latent vector of 100 numbers becomes a 64x64 RGB image through five transposed convolutions,
/// 100x1x1 → 4x4x512 → 8x8x256 → 16x16x128 → 32x32x64 → 64x64x3.
/// </summary>
/// <remarks>
/// <para>As in DCGAN, the first layer reads the latent vector as a 1x1 image with 100 channels (kernel 4, stride 1,
/// padding 0 gives 4x4); the others have kernel 4, stride 2, padding 1 and double the size. Each hidden layer is
/// followed by batch normalisation and ReLU, the output layer by tanh. The convolutions before a normalisation have no
/// bias of their own (PyTorch's DCGAN uses <c>bias=False</c>: the normalisation's shift makes it redundant); the output
/// layer has one. The normalisations are folded into the convolutions (<see cref="BatchNormFolding"/>), so each layer is
/// one convolution with its activation fused: <see cref="RunGenerated"/> runs the kernels that KernelGen's source
/// generator wrote for these five shapes (<see cref="DcganKernels"/>), <see cref="RunRuntime"/> the same layers on the
/// runtime path (<see cref="PreparedConvTranspose2D"/>).</para>
/// <para>Layout: NCHW (<see cref="DcganKernels.ActivationLayout"/>), because that is what the generated kernels of
/// this network are fastest at. A generated kernel takes the weights in PyTorch's layout <c>(Cin, Cout, kH, kW)</c>
/// as they are (nothing is packed ahead of time) and vectorises along the axis its activation layout keeps
/// contiguous. In NHWC that is the output channels, whose weights lie kH x kW = 16 floats apart, so every weight vector
/// is gathered element by element; in NCHW it is the output width, with contiguous input loads and one broadcast per
/// weight. Layers 1 and 2 (1x1 and 4x4 inputs) have phase rows too short for width vectors and use channel vectors in
/// either layout, and the output layer (3 channels) uses width vectors in either layout, so those cost the same; layers 3
/// and 4 were 3 to 4 times faster in NCHW (6.4 against 19.6 ms and 3.8 against 14.4 ms, best of 30 calls each,
/// interleaved, on the 2-core AMD EPYC Zen 4 this was developed on, with the generator as of this sample). The runtime
/// path repacks weights and activations into its own layout and is about as fast with either.</para>
/// <para>One network holds the buffers of its intermediate activations: it is not safe to run it from several threads
/// at once, and it allocates nothing per run once each path has run once.</para>
/// </remarks>
public sealed class DcganNetwork
{
    /// <summary>The length of the latent vector (one sample).</summary>
    public const int LatentLength = DcganKernels.ProjectLatentShape.InputLength;

    /// <summary>The height and width of the image.</summary>
    public const int ImageSize = DcganKernels.ToImageShape.OutputHeight;

    /// <summary>The channels of the image (red, green, blue).</summary>
    public const int ImageChannels = DcganKernels.ToImageShape.OutChannels;

    /// <summary>Elements of the image: 3 x 64 x 64, in <see cref="DcganKernels.ActivationLayout"/> (NCHW: the red plane, the green, the blue).</summary>
    public const int ImageLength = DcganKernels.ToImageShape.OutputLength;

    /// <summary>The standard deviation of DCGAN's weight initialisation: every weight is drawn from N(0, 0.02²).</summary>
    public const double WeightStandardDeviation = 0.02;

    private readonly DcganLayer[] _layers;
    private readonly float[][] _generatedActivations;
    private readonly Dictionary<int, RuntimeNetwork> _runtimeNetworks = [];

    /// <summary>Draws every weight, bias and normalisation parameter of the network from <paramref name="seed"/>.</summary>
    public DcganNetwork(int seed)
    {
        Seed = seed;
        var random = new GaussianSource(seed);
        _layers =
        [
            CreateLayer(random, nameof(DcganKernels.ProjectLatent), 100, 512, inputSize: 1, stride: 1, padding: 0, batchNorm: true),
            CreateLayer(random, nameof(DcganKernels.UpsampleTo8), 512, 256, inputSize: 4, stride: 2, padding: 1, batchNorm: true),
            CreateLayer(random, nameof(DcganKernels.UpsampleTo16), 256, 128, inputSize: 8, stride: 2, padding: 1, batchNorm: true),
            CreateLayer(random, nameof(DcganKernels.UpsampleTo32), 128, 64, inputSize: 16, stride: 2, padding: 1, batchNorm: true),
            CreateLayer(random, nameof(DcganKernels.ToImage), 64, 3, inputSize: 32, stride: 2, padding: 1, batchNorm: false),
        ];
        _generatedActivations = CreateActivationBuffers(_layers);
    }

    /// <summary>The seed the parameters were drawn from.</summary>
    public int Seed { get; }

    /// <summary>The five layers, from the latent vector to the image.</summary>
    public IReadOnlyList<DcganLayer> Layers => _layers;

    /// <summary>Multiply-adds of one image as the definition counts them, over all layers.</summary>
    public long MultiplyAdds => _layers.Sum(layer => layer.MultiplyAdds);

    /// <summary>A latent vector drawn from N(0, 1), as DCGAN samples them, fixed by <paramref name="seed"/>.</summary>
    public static float[] CreateLatent(int seed) => new GaussianSource(seed).NextArray(LatentLength, 0, 1);

    /// <summary>Computes the image of one latent vector with the generated kernels (on the calling thread).</summary>
    /// <param name="latent">The latent vector, <see cref="LatentLength"/> values.</param>
    /// <param name="image">Receives the image, <see cref="ImageLength"/> values in [-1, 1], in <see cref="DcganKernels.ActivationLayout"/>.</param>
    public void RunGenerated(ReadOnlySpan<float> latent, Span<float> image)
    {
        CheckLengths(latent, image);
        float[][] a = _generatedActivations;
        DcganKernels.ProjectLatent(latent, _layers[0].FoldedWeights, _layers[0].FoldedBias, a[0]);
        DcganKernels.UpsampleTo8(a[0], _layers[1].FoldedWeights, _layers[1].FoldedBias, a[1]);
        DcganKernels.UpsampleTo16(a[1], _layers[2].FoldedWeights, _layers[2].FoldedBias, a[2]);
        DcganKernels.UpsampleTo32(a[2], _layers[3].FoldedWeights, _layers[3].FoldedBias, a[3]);
        DcganKernels.ToImage(a[3], _layers[4].FoldedWeights, _layers[4].FoldedBias, image);
    }

    /// <summary>Computes the image of one latent vector with KernelGen's runtime path, the same layers and activations.</summary>
    /// <param name="latent">The latent vector, <see cref="LatentLength"/> values.</param>
    /// <param name="image">Receives the image, <see cref="ImageLength"/> values in [-1, 1], in <see cref="DcganKernels.ActivationLayout"/>.</param>
    /// <param name="maxDegreeOfParallelism">The most threads each layer may use (1, the default, runs on the calling
    /// thread like the generated kernels). The first run with a given value prepares (packs) the weights for it.</param>
    public void RunRuntime(ReadOnlySpan<float> latent, Span<float> image, int maxDegreeOfParallelism = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDegreeOfParallelism, 1);
        CheckLengths(latent, image);
        if (!_runtimeNetworks.TryGetValue(maxDegreeOfParallelism, out RuntimeNetwork? network))
        {
            network = new RuntimeNetwork(_layers, maxDegreeOfParallelism);
            _runtimeNetworks.Add(maxDegreeOfParallelism, network);
        }

        network.Run(_layers, latent, image);
    }

    private static void CheckLengths(ReadOnlySpan<float> latent, Span<float> image)
    {
        if (latent.Length != LatentLength)
            throw new ArgumentException($"The latent vector has {latent.Length} values, but it must have {LatentLength}.", nameof(latent));
        if (image.Length != ImageLength)
            throw new ArgumentException($"The image has {image.Length} values, but it must have {ImageLength} (64 x 64 x 3).", nameof(image));
    }

    /// <summary>Buffers for the outputs of every layer but the last (which writes the caller's image).</summary>
    private static float[][] CreateActivationBuffers(DcganLayer[] layers) =>
        layers[..^1].Select(layer => new float[layer.OutputLength]).ToArray();

    // Parameters are drawn in a fixed order (layer by layer: weights, bias, then the normalisation's), so one seed always
    // gives the same network.
    private static DcganLayer CreateLayer(GaussianSource random, string name, int inChannels, int outChannels, int inputSize, int stride,
        int padding, bool batchNorm)
    {
        const int kernelArea = DcganLayer.KernelSize * DcganLayer.KernelSize;
        float[] weights = random.NextArray(inChannels * outChannels * kernelArea, 0, WeightStandardDeviation);
        if (!batchNorm)
        {
            float[] bias = random.NextArray(outChannels, 0, WeightStandardDeviation);
            return new DcganLayer(name, inChannels, outChannels, inputSize, stride, padding, FusedActivation.Tanh, weights, bias, batchNorm: null);
        }

        // Stand-ins for the statistics a trained network would have learned. A fresh BatchNorm2d has mean 0 and variance 1,
        // but this layer's outputs have a much smaller variance: each sums InChannels x (taps per output) products of a
        // N(0, 0.02²) weight and an input whose mean square is 1 for the N(0, 1) latent and about 1/2 after a normalisation
        // and ReLU. Drawing the running variance around that value (and the mean around 0 on that scale) makes each
        // normalisation do what it does in a trained network, bring its channels to about unit variance, so the image is
        // neither flat nor saturated. The scale and shift are spread around DCGAN's initial gamma = 1, beta = 0.
        int tapsPerOutput = inputSize == 1 ? 1 : (DcganLayer.KernelSize / stride) * (DcganLayer.KernelSize / stride);
        double inputMeanSquare = inputSize == 1 ? 1.0 : 0.5;
        double expectedVariance = inChannels * tapsPerOutput * WeightStandardDeviation * WeightStandardDeviation * inputMeanSquare;

        var noBias = new float[outChannels];
        var gamma = random.NextArray(outChannels, 1, 0.1);
        var beta = random.NextArray(outChannels, 0, 0.1);
        var mean = random.NextArray(outChannels, 0, 0.1 * Math.Sqrt(expectedVariance));
        var variance = new float[outChannels];
        for (int o = 0; o < outChannels; o++)
            variance[o] = (float)expectedVariance * random.NextUniform(0.5, 1.5);
        var normalisation = new BatchNormParameters(gamma, beta, mean, variance);
        return new DcganLayer(name, inChannels, outChannels, inputSize, stride, padding, FusedActivation.Relu, weights, noBias, normalisation);
    }

    /// <summary>The network on the runtime path for one thread cap: the prepared layers and their activation buffers.</summary>
    private sealed class RuntimeNetwork
    {
        private readonly PreparedConvTranspose2D[] _prepared;
        private readonly float[][] _activations;

        public RuntimeNetwork(DcganLayer[] layers, int maxDegreeOfParallelism)
        {
            _prepared = layers.Select(layer => layer.CreateRuntimeLayer(maxDegreeOfParallelism).Prepare(layer.FoldedWeights, layer.FoldedBias)).ToArray();
            _activations = CreateActivationBuffers(layers);
        }

        public void Run(DcganLayer[] layers, ReadOnlySpan<float> latent, Span<float> image)
        {
            ReadOnlySpan<float> input = latent;
            for (int i = 0; i < layers.Length; i++)
            {
                Span<float> output = i < layers.Length - 1 ? _activations[i] : image;
                _prepared[i].Compute(input, layers[i].InputSize, layers[i].InputSize, output);
                input = output;
            }
        }
    }
}
