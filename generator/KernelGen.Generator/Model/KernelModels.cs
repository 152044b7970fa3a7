namespace KernelGen.Generator.Model
{
    // The models of the incremental pipeline: small immutable records of primitives, strings and EquatableArrays,
    // compared by value, so that an edit elsewhere in the compilation leaves them equal and every later step cached.
    // They never hold an ISymbol, a SyntaxNode, a Compilation or a Location (a test walks them by reflection).

    /// <summary>One type around the method, outermost first, as needed to re-declare it as <c>partial</c>.</summary>
    /// <param name="Keyword">The declaration keyword(s): <c>class</c>, <c>struct</c>, <c>ref struct</c>, <c>record</c>, <c>record struct</c>, <c>interface</c>.</param>
    /// <param name="Name">The name with its type parameters, e.g. <c>Outer&lt;T&gt;</c>.</param>
    internal sealed record ContainingType(string Keyword, string Name);

    /// <summary>Where and under what signature the implementation goes.</summary>
    /// <param name="Namespace">The containing namespace, or empty for the global namespace.</param>
    /// <param name="Types">The containing types, outermost first.</param>
    /// <param name="MethodName">The method's name.</param>
    /// <param name="Declaration">The implementing declaration as the user's definition reads (modifiers other than
    /// <c>partial</c>, return type, name, type parameters, parameters with their modifiers, constraints), every type fully
    /// qualified; <c>partial</c> goes before the return type.</param>
    /// <param name="Accessibility">The method's accessibility as C# keywords (e.g. <c>internal</c>), for the sizes class.</param>
    /// <param name="ParameterNames">The parameter names: input, weights, [bias,] output (for a declaration that cannot be
    /// implemented, the names as declared).</param>
    /// <param name="FullName">The method's containing types by metadata name and the method's name, unique per method
    /// name in a compilation (the generated file's name is made from it).</param>
    /// <param name="NullableDirectives">The project's C# version knows <c>#nullable</c> (C# 8 or later).</param>
    /// <param name="DeclaresMethodImpl">The user's declaration carries a <c>[MethodImpl]</c> of its own: the implementing
    /// part may not repeat the attribute (CS0579), so the user's options are the method's.</param>
    internal sealed record KernelTarget(
        string Namespace,
        EquatableArray<ContainingType> Types,
        string MethodName,
        string Declaration,
        string Accessibility,
        EquatableArray<string> ParameterNames,
        string FullName,
        bool NullableDirectives,
        bool DeclaresMethodImpl = false)
    {
        public bool HasBias => ParameterNames.Count == 4;

        /// <summary>The display name used in comments and messages: <c>Outer.Inner.Method</c>.</summary>
        public string DisplayName
        {
            get
            {
                var name = new System.Text.StringBuilder();
                foreach (var type in Types)
                    name.Append(type.Name).Append('.');
                return name.Append(MethodName).ToString();
            }
        }
    }

    /// <summary>
    /// The fixed shape of one kernel, as declared (already validated when it sits in a <see cref="KernelDeclaration"/>). A 1-D
    /// kernel is a 2-D one of height 1 (<see cref="Rank"/> 1); a 3-D kernel (<see cref="Rank"/> 3) adds the depth axis, whose
    /// defaults (one slice, kernel 1) make every 3-D size below the 2-D one.
    /// </summary>
    /// <param name="MultiplyAddEstimate">The compilation's vector types have <c>MultiplyAddEstimate</c> (.NET 9 and later): the
    /// kernels' multiply-adds call it (one intrinsic, fused where the hardware has FMA) instead of a conditional on
    /// <c>Fma.IsSupported</c>, whose two branches every analyser with a control-flow analysis (the trim analyzer of
    /// <c>IsAotCompatible</c>) walks, thousands of times per kernel (docs/build-time.md).</param>
    internal sealed record KernelSpec(
        int InChannels,
        int OutChannels,
        int Groups,
        int InputHeight,
        int InputWidth,
        int KernelHeight,
        int KernelWidth,
        int StrideHeight,
        int StrideWidth,
        int PaddingTop,
        int PaddingBottom,
        int PaddingLeft,
        int PaddingRight,
        int OutputPaddingHeight,
        int OutputPaddingWidth,
        int DilationHeight,
        int DilationWidth,
        bool ChannelsLast,
        KernelActivation Activation,
        float LeakyReluSlope,
        bool HasBias,
        int UnrollBudget,
        int Rank = 2,
        int InputDepth = 1,
        int KernelDepth = 1,
        int StrideDepth = 1,
        int PaddingFront = 0,
        int PaddingBack = 0,
        int OutputPaddingDepth = 0,
        int DilationDepth = 1,
        bool MultiplyAddEstimate = false)
    {
        public int InPerGroup => InChannels / Groups;

        public KernelGen.Geometry.AxisGeometry DepthAxis =>
            new(KernelDepth, StrideDepth, PaddingFront, PaddingBack, OutputPaddingDepth, DilationDepth);

        public int OutputDepth => (int)DepthAxis.OutputLength(InputDepth);

        /// <summary>Elements of one input slice of one channel (NCDHW) or of all channels (NDHWC): the 2-D plane a depth tap reads.</summary>
        public int InputPlane => InputHeight * InputWidth;

        public int OutputPlane => OutputHeight * OutputWidth;

        /// <summary>Weights of one (input channel, output channel) pair: the distance between consecutive output channels in the weights.</summary>
        public int KernelVolume => KernelDepth * KernelHeight * KernelWidth;

        public int OutPerGroup => OutChannels / Groups;

        public KernelGen.Geometry.AxisGeometry HeightAxis =>
            new(KernelHeight, StrideHeight, PaddingTop, PaddingBottom, OutputPaddingHeight, DilationHeight);

        public KernelGen.Geometry.AxisGeometry WidthAxis =>
            new(KernelWidth, StrideWidth, PaddingLeft, PaddingRight, OutputPaddingWidth, DilationWidth);

        public int OutputHeight => (int)HeightAxis.OutputLength(InputHeight);

        public int OutputWidth => (int)WidthAxis.OutputLength(InputWidth);

        public int InputLength => InChannels * InputDepth * InputHeight * InputWidth;

        public int WeightsLength => InChannels * OutPerGroup * KernelVolume;

        public int OutputLength => OutChannels * OutputDepth * OutputHeight * OutputWidth;
    }

    /// <summary>The fused activations, with the values of the runtime's <c>KernelGen.FusedActivation</c>.</summary>
    internal enum KernelActivation
    {
        None = 0,
        Relu = 1,
        LeakyRelu = 2,
        Sigmoid = 3,
        Tanh = 4,
    }

    /// <summary>
    /// The constants of the <c>{Method}Shape</c> class. For a declaration that cannot be implemented they are placeholders
    /// (the declared values where they are valid, else 1), so that code using them still compiles and the declaration's
    /// own KG error is the only one the build reports.
    /// </summary>
    internal sealed record ShapeConstants(
        int InChannels,
        int OutChannels,
        int Groups,
        int InputHeight,
        int InputWidth,
        int OutputHeight,
        int OutputWidth,
        int InputLength,
        int WeightsLength,
        int BiasLength,
        int OutputLength,
        int Rank = 2,
        int InputDepth = 1,
        int OutputDepth = 1);

    /// <summary>
    /// What the generator needs of one annotated method: where to emit, and either the validated shape or the first
    /// error (then the emitted body throws, naming it, so that the user is not also told that the method has no body).
    /// </summary>
    /// <param name="Shape">The sizes class to emit, or null when none may be (a member of that name exists, or another
    /// kernel of the same name emits it).</param>
    /// <param name="HintName">The generated file's name, unique in the compilation; empty until the generator assigns it.</param>
    internal sealed record KernelDeclaration(KernelTarget Target, KernelSpec? Spec, string? ErrorId, string? ErrorMessage, ShapeConstants? Shape,
        string HintName = "");
}
