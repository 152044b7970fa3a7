using System.Globalization;
using Onnx;

namespace KernelGen.Onnx;

/// <summary>Turns the graph's <c>ConvTranspose</c> nodes into KernelGen layers, with the shapes the graph states or implies.</summary>
internal static class OnnxGraphReader
{
    private static readonly HashSet<string> KnownAttributes =
        ["auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides"];

    /// <summary>Operators whose output has their first input's shape: the shape information follows them.</summary>
    private static readonly HashSet<string> ShapePreserving =
        ["Relu", "LeakyRelu", "Sigmoid", "Tanh", "BatchNormalization", "Identity", "Elu", "Selu", "PRelu", "HardSigmoid", "Softplus", "Dropout", "Clip"];

    public static List<OnnxConvTransposeNode> ReadConvTransposeNodes(string source, ModelProto model, Dictionary<string, OnnxTensor> constants,
        Dictionary<string, string> otherTypes, IReadOnlyDictionary<string, int[]>? inputShapes)
    {
        var graph = model.Graph;
        var shapes = new Dictionary<string, long?[]>(StringComparer.Ordinal);
        // Shapes given by the caller replace the graph's: then the sizes after them are derived from them, not read from the
        // graph's value_info (which was inferred for the graph's own input sizes).
        bool overridden = inputShapes is { Count: > 0 };
        foreach (var info in overridden ? graph.Input : graph.Input.Concat(graph.ValueInfo).Concat(graph.Output))
        {
            if (info.Type?.TensorType?.Shape is { } shape)
                shapes[info.Name] = shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue > 0 ? d.DimValue : (long?)null).ToArray();
        }

        foreach (var (name, shape) in inputShapes ?? new Dictionary<string, int[]>())
            shapes[name] = shape.Select(d => (long?)d).ToArray();

        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (var input in node.Input.Where(i => i.Length > 0).Distinct())
            {
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = [];
                list.Add(node);
            }
        }

        var graphOutputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var result = new List<OnnxConvTransposeNode>();
        for (int index = 0; index < graph.Node.Count; index++)
        {
            var node = graph.Node[index];
            bool defaultDomain = node.Domain is "" or "ai.onnx";
            if (defaultDomain && node.OpType == "ConvTranspose")
            {
                string label = node.Name.Length > 0 ? $"'{node.Name}'" : $"#{index} (output '{node.Output.FirstOrDefault()}')";
                var read = ReadNode(source, node, label, constants, otherTypes, shapes);
                var followers = new List<OnnxFollower>();
                // A batch normalisation and then an activation (DCGAN's ConvTranspose, BatchNorm, ReLU) fuse into one layer.
                if (Follower(node.Output[0], consumers, graphOutputs, constants, read.OutChannels) is { } first)
                {
                    followers.Add(first);
                    if (first.BatchNorm is not null && Follower(first.OutputName, consumers, graphOutputs, constants, read.OutChannels) is { BatchNorm: null } second)
                        followers.Add(second);
                }

                read.Followers = followers;
                result.Add(read);
                // The graph's own shape for the output (from the exporter or its shape inference) must be what KernelGen computes:
                // a difference means the model's pads, auto_pad or output_shape are read differently from how it was made.
                if (read.OutputSize is { } computed && shapes.TryGetValue(node.Output[0], out var stated) && stated.Length == read.Rank + 2
                    && stated.Skip(2).Select((d, i) => d is null || d == computed[i]).Any(same => !same))
                {
                    throw new OnnxModelException(
                        $"{source}: ConvTranspose node {label} cannot be computed by KernelGen: the graph says its output '{node.Output[0]}' has spatial size [{string.Join(", ", stated.Skip(2).Select(d => d?.ToString(CultureInfo.InvariantCulture) ?? "?"))}], but its attributes give [{string.Join(", ", computed)}] for its input of [{string.Join(", ", read.InputSize!)}].",
                        node.Name.Length > 0 ? node.Name : label);
                }

                if (read.OutputSize is { } outSize && shapes.TryGetValue(node.Input[0], out var inShape) && inShape.Length == read.Rank + 2)
                    shapes.TryAdd(node.Output[0], [inShape[0], read.OutChannels, .. outSize.Select(s => (long?)s)]);
            }
            else if (defaultDomain && ShapePreserving.Contains(node.OpType) && node.Input.Count > 0 && node.Output.Count > 0
                && shapes.TryGetValue(node.Input[0], out var same))
            {
                shapes.TryAdd(node.Output[0], same);
            }
        }

        return result;
    }

    private static OnnxConvTransposeNode ReadNode(string source, NodeProto node, string label, Dictionary<string, OnnxTensor> constants,
        Dictionary<string, string> otherTypes, Dictionary<string, long?[]> shapes)
    {
        OnnxModelException Bad(string rule, Exception? inner = null) =>
            new($"{source}: ConvTranspose node {label} cannot be computed by KernelGen: {rule}.", node.Name.Length > 0 ? node.Name : label, inner);

        if (node.Input.Count is < 2 or > 3 || node.Input[0].Length == 0 || node.Input[1].Length == 0)
            throw Bad($"it has inputs [{string.Join(", ", node.Input.Select(i => $"'{i}'"))}], but ConvTranspose takes X, W and an optional B");
        if (node.Output.Count < 1 || node.Output[0].Length == 0)
            throw Bad("it has no output");

        var weights = Constant(node.Input[1], "weights (W)");
        int rank = weights.Shape.Count - 2;
        if (rank is < 1 or > 3)
            throw Bad($"its weights '{weights.Name}' have shape [{string.Join(", ", weights.Shape)}], rank {weights.Shape.Count}, but KernelGen computes 1-D, 2-D and 3-D layers (weights of rank 3, 4 or 5)");
        OnnxTensor? bias = node.Input.Count == 3 && node.Input[2].Length > 0 ? Constant(node.Input[2], "bias (B)") : null;

        foreach (var attribute in node.Attribute)
        {
            if (!KnownAttributes.Contains(attribute.Name))
                throw Bad($"it has the attribute '{attribute.Name}', which ConvTranspose does not define");
        }

        int[] kernel = weights.Shape.Skip(2).ToArray();
        int group = (int)Int("group", 1, 1, int.MaxValue);
        int[] strides = Ints("strides", rank, 1, 1);
        int[] dilations = Ints("dilations", rank, 1, 1);
        int[] outputPadding = Ints("output_padding", rank, 0, 0);
        int[] pads = Ints("pads", 2 * rank, 0, 0);
        var kernelShape = Attribute("kernel_shape");
        if (kernelShape is not null)
        {
            int[] declared = Ints("kernel_shape", rank, 1, 1);
            if (!declared.SequenceEqual(kernel))
                throw Bad($"its kernel_shape [{string.Join(", ", declared)}] disagrees with its weights '{weights.Name}' of shape [{string.Join(", ", weights.Shape)}], whose kernel is [{string.Join(", ", kernel)}]");
        }

        int[]? outputShape = null;
        if (Attribute("output_shape") is { } shapeAttribute)
        {
            var values = IntsOf(shapeAttribute);
            if (values.Length != rank && values.Length != rank + 2)
                throw Bad($"its output_shape has {values.Length} values, but a {rank}-D layer needs {rank} (spatial) or {rank + 2} (N, C, spatial)");
            outputShape = values.Skip(values.Length - rank).Select((v, i) => ToInt(v, $"output_shape[{i + values.Length - rank}]", 1)).ToArray();
        }

        var autoPadAttribute = Attribute("auto_pad");
        string autoPadText = autoPadAttribute is null ? "NOTSET" : autoPadAttribute.S.ToStringUtf8();
        var autoPad = autoPadText switch
        {
            "NOTSET" or "" => OnnxAutoPad.NotSet,
            "SAME_UPPER" => OnnxAutoPad.SameUpper,
            "SAME_LOWER" => OnnxAutoPad.SameLower,
            "VALID" => OnnxAutoPad.Valid,
            _ => throw Bad($"its auto_pad is '{autoPadText}', but it must be NOTSET, SAME_UPPER, SAME_LOWER or VALID"),
        };

        int inChannels = weights.Shape[0];
        long outChannelsLong = (long)weights.Shape[1] * group;
        if (outChannelsLong > int.MaxValue)
            throw Bad($"its output channels, weights.shape[1] * group = {weights.Shape[1]} * {group}, do not fit in an Int32");
        int outChannels = (int)outChannelsLong;
        if (bias is not null && (bias.Shape.Count != 1 || bias.Shape[0] != outChannels))
            throw Bad($"its bias '{bias.Name}' has shape [{string.Join(", ", bias.Shape)}], but it must be [{outChannels}] (weights.shape[1] * group)");

        int[]? inputSize = null;
        if (shapes.TryGetValue(node.Input[0], out var inputShape))
        {
            if (inputShape.Length != rank + 2)
                throw Bad($"its input '{node.Input[0]}' has rank {inputShape.Length}, but weights of rank {rank + 2} need an input of rank {rank + 2} (N, C, spatial)");
            if (inputShape[1] is { } channels && channels != inChannels)
                throw Bad($"its input '{node.Input[0]}' has {channels} channels, but its weights '{weights.Name}' take {inChannels} (weights.shape[0])");
            if (inputShape.Skip(2).All(d => d is not null))
                inputSize = inputShape.Skip(2).Select((d, i) => ToInt(d!.Value, $"input '{node.Input[0]}' dimension {i + 2}", 1)).ToArray();
        }

        bool sizeDependent = outputShape is not null || autoPad is OnnxAutoPad.SameUpper or OnnxAutoPad.SameLower;
        if (sizeDependent && inputSize is null)
            throw Bad($"its {(outputShape is not null ? "output_shape" : "auto_pad " + autoPadText)} makes its pads depend on the input's spatial size, but the graph gives no fixed size for its input '{node.Input[0]}' (give it one in the graph's inputs or value_info)");

        object layer;
        try
        {
            layer = rank switch
            {
                1 => ConvTranspose1D.FromOnnx(inChannels, outChannels, kernel[0], inputSize?[0] ?? 1, autoPad, outputShape?[0], strides[0],
                    Padding1D.Asymmetric(pads[0], pads[1]), outputPadding[0], dilations[0], group),
                2 => ConvTranspose2D.FromOnnx(inChannels, outChannels, (kernel[0], kernel[1]), inputSize is null ? (1, 1) : (inputSize[0], inputSize[1]), autoPad,
                    outputShape is null ? null : (outputShape[0], outputShape[1]), (strides[0], strides[1]), Padding2D.Asymmetric(pads[0], pads[1], pads[2], pads[3]),
                    (outputPadding[0], outputPadding[1]), (dilations[0], dilations[1]), group),
                _ => ConvTranspose3D.FromOnnx(inChannels, outChannels, (kernel[0], kernel[1], kernel[2]),
                    inputSize is null ? (1, 1, 1) : (inputSize[0], inputSize[1], inputSize[2]), autoPad,
                    outputShape is null ? null : (outputShape[0], outputShape[1], outputShape[2]), (strides[0], strides[1], strides[2]),
                    Padding3D.Asymmetric(pads[0], pads[1], pads[2], pads[3], pads[4], pads[5]), (outputPadding[0], outputPadding[1], outputPadding[2]),
                    (dilations[0], dilations[1], dilations[2]), group),
            };
        }
        catch (ArgumentException e) when (inputSize is not null || !IsInputSizeRule(e))
        {
            throw Bad(e.Message, e);
        }
        catch (ArgumentException)
        {
            // No input size is known and the explicit pads crop everything from a 1-cell input: the geometry is fine, only the
            // placeholder size is not. Build the layer without FromOnnx's size check.
            layer = Construct();
        }

        int[]? outputSize = null;
        if (inputSize is not null)
        {
            try
            {
                outputSize = OnnxConvTransposeNode.OutputSizeOf(layer, inputSize);
            }
            catch (ArgumentException e)
            {
                throw Bad($"for its input '{node.Input[0]}' of spatial size [{string.Join(", ", inputSize)}]: {e.Message}", e);
            }
        }

        return new OnnxConvTransposeNode(node.Name, node.Input[0], node.Output[0], rank, layer, weights, bias, inputSize, outputSize, sizeDependent);

        object Construct()
        {
            try
            {
                return rank switch
                {
                    1 => new ConvTranspose1D(inChannels, outChannels, kernel[0], strides[0], Padding1D.Asymmetric(pads[0], pads[1]), outputPadding[0], dilations[0], group),
                    2 => new ConvTranspose2D(inChannels, outChannels, (kernel[0], kernel[1]), (strides[0], strides[1]), Padding2D.Asymmetric(pads[0], pads[1], pads[2], pads[3]),
                        (outputPadding[0], outputPadding[1]), (dilations[0], dilations[1]), group),
                    _ => new ConvTranspose3D(inChannels, outChannels, (kernel[0], kernel[1], kernel[2]), (strides[0], strides[1], strides[2]),
                        Padding3D.Asymmetric(pads[0], pads[1], pads[2], pads[3], pads[4], pads[5]), (outputPadding[0], outputPadding[1], outputPadding[2]),
                        (dilations[0], dilations[1], dilations[2]), group),
                };
            }
            catch (ArgumentException e)
            {
                throw Bad(e.Message, e);
            }
        }

        OnnxTensor Constant(string name, string role)
        {
            if (constants.TryGetValue(name, out var tensor)) return tensor;
            if (otherTypes.TryGetValue(name, out var type))
                throw Bad($"its {role} '{name}' are {type}, but KernelGen computes FLOAT, FLOAT16, BFLOAT16 and DOUBLE (converted to float)");
            throw Bad($"its {role} '{name}' are not an initializer or Constant: KernelGen binds constant weights and bias, not values computed by the graph or fed as inputs");
        }

        AttributeProto? Attribute(string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

        long[] IntsOf(AttributeProto attribute) =>
            attribute.Type == AttributeProto.Types.AttributeType.Ints || (attribute.Type == 0 && attribute.Ints.Count > 0)
                ? attribute.Ints.ToArray()
                : throw Bad($"its attribute '{attribute.Name}' is of type {attribute.Type}, but it must be a list of integers (INTS)");

        int[] Ints(string name, int count, int fallback, int minimum)
        {
            var attribute = Attribute(name);
            if (attribute is null) return Enumerable.Repeat(fallback, count).ToArray();
            var values = IntsOf(attribute);
            if (values.Length != count)
                throw Bad($"its {name} has {values.Length} values [{string.Join(", ", values)}], but a {rank}-D layer needs {count}");
            return values.Select((v, i) => ToInt(v, $"{name}[{i}]", minimum)).ToArray();
        }

        long Int(string name, long fallback, long minimum, long maximum)
        {
            var attribute = Attribute(name);
            if (attribute is null) return fallback;
            if (attribute.Type != AttributeProto.Types.AttributeType.Int && attribute.Type != 0)
                throw Bad($"its attribute '{name}' is of type {attribute.Type}, but it must be an integer (INT)");
            if (attribute.I < minimum || attribute.I > maximum)
                throw Bad($"its {name} is {attribute.I}, but it must be between {minimum} and {maximum}");
            return attribute.I;
        }

        int ToInt(long value, string what, int minimum) =>
            value >= minimum && value <= int.MaxValue
                ? (int)value
                : throw Bad($"its {what} is {value.ToString(CultureInfo.InvariantCulture)}, but it must be between {minimum} and {int.MaxValue}");
    }

    /// <summary>Whether FromOnnx rejected only the placeholder input size (used when the graph gives none).</summary>
    private static bool IsInputSizeRule(ArgumentException e) => e.ParamName is { } name && name.StartsWith("input", StringComparison.Ordinal);

    private static OnnxFollower? Follower(string output, Dictionary<string, List<NodeProto>> consumers, HashSet<string> graphOutputs,
        Dictionary<string, OnnxTensor> constants, int channels)
    {
        if (graphOutputs.Contains(output) || !consumers.TryGetValue(output, out var readers) || readers.Count != 1) return null;
        var next = readers[0];
        if (next.Domain is not ("" or "ai.onnx") || next.Input.Count == 0 || next.Input[0] != output || next.Output.Count == 0) return null;
        string name = next.Name, result = next.Output[0];
        switch (next.OpType)
        {
            case "Relu": return new OnnxFollower("Relu", name, result, FusedActivation.Relu, 0.01f, null);
            case "Sigmoid": return new OnnxFollower("Sigmoid", name, result, FusedActivation.Sigmoid, 0.01f, null);
            case "Tanh": return new OnnxFollower("Tanh", name, result, FusedActivation.Tanh, 0.01f, null);
            case "LeakyRelu":
                float alpha = next.Attribute.FirstOrDefault(a => a.Name == "alpha")?.F ?? 0.01f;
                return float.IsFinite(alpha) ? new OnnxFollower("LeakyRelu", name, result, FusedActivation.LeakyRelu, alpha, null) : null;
            case "BatchNormalization":
                // Inference form only: one output, constant parameters, no training mode, per-channel (spatial) statistics.
                if (next.Input.Count != 5 || next.Output.Skip(1).Any(o => o.Length > 0)) return null;
                if (next.Attribute.Any(a => (a.Name == "training_mode" && a.I != 0) || (a.Name == "spatial" && a.I == 0))) return null;
                var parameters = next.Input.Skip(1).Select(i => constants.GetValueOrDefault(i)).ToArray();
                if (parameters.Any(p => p is null || p.Shape.Count != 1 || p.Shape[0] != channels)) return null;
                float epsilon = next.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
                try
                {
                    var batchNorm = new BatchNormParameters(parameters[0]!.Data, parameters[1]!.Data, parameters[2]!.Data, parameters[3]!.Data, epsilon);
                    return new OnnxFollower("BatchNormalization", name, result, FusedActivation.None, 0.01f, batchNorm);
                }
                catch (ArgumentException)
                {
                    return null; // a variance + epsilon that is not positive cannot be folded; leave the node to run on its own
                }

            default: return null;
        }
    }
}
