using Microsoft.CodeAnalysis;

namespace KernelGen.Generator.Diagnostics
{
    /// <summary>
    /// Every diagnostic KernelGen reports, in one place. Each message says what is wrong and what is allowed. The
    /// analyzer (<see cref="KernelGenAnalyzer"/>) reports those of declarations the generator implements (with the kernel,
    /// or a body that throws), so <c>#pragma warning disable</c> and <c>.editorconfig</c> severities apply to them; the
    /// generator reports those of declarations the compiler rejects whatever is generated, because the compiler runs no
    /// analyzer on a compilation with errors (see <see cref="Parsing.ParseResult.ReportedByGenerator"/>).
    /// </summary>
    internal static class DiagnosticDescriptors
    {
        private const string Category = "KernelGen";

        /// <summary>The exact signatures a kernel method may have, quoted by KG0003 and KG0004.</summary>
        public const string ExpectedSignatures =
            "void (ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output) or, with a bias, "
            + "void (ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output)";

        public static readonly DiagnosticDescriptor InvalidGeometry = new(
            id: "KG0001",
            title: "Invalid transposed-convolution geometry",
            messageFormat: "Invalid KernelGen kernel geometry: {0}",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true,
            description: "The attribute's arguments must follow PyTorch's rules for conv_transpose2d, the same rules the runtime ConvTranspose2D checks.");

        public static readonly DiagnosticDescriptor OutputTooSmall = new(
            id: "KG0002",
            title: "Output size below 1",
            messageFormat: "The output {0} would be {1} = ({2} - 1) * {3} - {4} - {5} + {6} * ({7} - 1) + {8} + 1, but it must be at least 1: lower the padding or enlarge the input, kernel, stride or dilation",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true,
            description: "Per axis the output size is (in - 1) * stride - padBegin - padEnd + dilation * (kernel - 1) + outputPadding + 1; padding may not crop it all away.");

        public static readonly DiagnosticDescriptor SignatureMismatch = new(
            id: "KG0003",
            title: "Kernel method signature does not match",
            messageFormat: "'{0}' {1}, but a KernelGen kernel method must be " + ExpectedSignatures + ", every parameter passed by value (parameters named input, weights, bias and output are bound by name, in any order)",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor NotPartialDefinition = new(
            id: "KG0004",
            title: "Kernel method must be a partial method without a body",
            messageFormat: "'{0}' {1}; declare it 'partial' with no body, as in 'public static partial void {0}(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, Span<float> output);', and KernelGen supplies the body",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor ContainingTypeNotPartial = new(
            id: "KG0005",
            title: "Type containing a kernel method must be partial",
            messageFormat: "Type '{0}' contains the KernelGen kernel method '{1}' but is not declared 'partial'; add 'partial' to every declaration of '{0}' (and of every type around it)",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor GenericMethod = new(
            id: "KG0006",
            title: "Kernel method must not be generic",
            messageFormat: "'{0}' has type parameters, but a KernelGen kernel method must not be generic: its shape and element type (float) are fixed; remove the type parameters (the containing type may be generic)",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor TooLarge = new(
            id: "KG0007",
            title: "Kernel over the hard size cap",
            messageFormat: "'{0}' is too large for a generated kernel: {1}; use the runtime layer (ConvTranspose1D, ConvTranspose2D, ConvTranspose3D) for this shape",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor LanguageVersionTooLow = new(
            id: "KG0008",
            title: "C# 9 or later is needed",
            messageFormat: "The code KernelGen generates for '{0}' needs C# 9 or later (extended partial methods, such as one with an accessibility modifier), but this project compiles C# {1}; set <LangVersion> to 9.0 or later",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor KeptLoops = new(
            id: "KG0009",
            title: "Kernel keeps loops because of the unroll budget",
            messageFormat: "Fully unrolled, '{0}' would be {1} statements, above the unroll budget of {2}, so {3} stay loops ({4} statements are emitted); to unroll more, raise the budget with the attribute's UnrollBudget property or the KernelGenUnrollBudget MSBuild property",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "Unrolling every loop of a large layer would produce megabytes of source and methods the JIT will not optimise; above the budget the spatial loops (and, for very large layers, the channel loops) are kept. The kernel is still correct and specialised; this warning says it is not fully unrolled.");

        public static readonly DiagnosticDescriptor InvalidUnrollBudget = new(
            id: "KG0010",
            title: "Invalid unroll budget",
            messageFormat: "UnrollBudget is {0}, but it must be 0 (use the project's KernelGenUnrollBudget, or the default of {1}) or a positive number of statements (declarations, loads, multiply-adds and stores of the kernel bodies)",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor DuplicateName = new(
            id: "KG0011",
            title: "Two kernel methods with the same name in one type",
            messageFormat: "Type '{0}' has more than one KernelGen kernel method named '{1}', but each must have its own name: the generated file and the '{1}Shape' class are named after it",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true);
    
        public static readonly DiagnosticDescriptor NotATypeMethod = new(
            id: "KG0012",
            title: "Kernel attribute on something other than a method of a type",
            messageFormat: "A KernelGen attribute ([GeneratedConvTranspose1D], [GeneratedConvTranspose2D], [GeneratedConvTranspose3D]) is applied to {0}, but it applies only to a partial method declared in a partial class, struct or record; declare the kernel as such a method and call it from here",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor ShapeNameTaken = new(
            id: "KG0013",
            title: "The sizes class name is taken",
            messageFormat: "KernelGen generates the sizes class '{1}' for '{0}', but the type {2} a member named '{1}' (in '{3}'), so the class is not generated; the kernel itself is; rename that member, or the method, to get the constants",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor FileLocalType = new(
            id: "KG0014",
            title: "Kernel method in a file-local type",
            messageFormat: "'{1}' is declared in the file-local type '{0}', which no other file can add to, so KernelGen cannot implement it; declare the kernel in a type that is not 'file' (it may be 'internal' or 'private')",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor SeveralKernelAttributes = new(
            id: "KG0016",
            title: "More than one KernelGen attribute on one method",
            messageFormat: "'{0}' carries {1}, but a kernel has one shape: keep one of them (the method throws InvalidOperationException until then)",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true);

        public static readonly DiagnosticDescriptor InternalError = new(
            id: "KG0015",
            title: "KernelGen failed on a declaration",
            messageFormat: "KernelGen could not generate '{0}': {1}. The method throws InvalidOperationException when called; the other kernels are not affected. Please report this with the declaration.",
            category: Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true);
    }
}
