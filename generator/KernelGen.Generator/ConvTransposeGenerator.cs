using System;
using System.Globalization;
using KernelGen.Generator.Emitting;
using KernelGen.Generator.Model;
using KernelGen.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace KernelGen.Generator
{
    /// <summary>
    /// Implements every partial method marked <c>[GeneratedConvTranspose2D]</c> with a transposed convolution specialised for
    /// its fixed shape. Reports no diagnostics itself (<see cref="Diagnostics.KernelGenAnalyzer"/> does, from the same parser).
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class ConvTransposeGenerator : IIncrementalGenerator
    {
        /// <summary>The tracking name of the step that turns an annotated method into its model (asserted by the incrementality tests).</summary>
        public const string DeclarationStep = "KernelDeclaration";

        /// <summary>The tracking name of the step that reads the project's unroll budget.</summary>
        public const string BudgetStep = "UnrollBudget";

        /// <summary>The MSBuild property (made visible by the package's KernelGen.props) that sets the project's unroll budget.</summary>
        public const string BudgetProperty = "build_property.KernelGenUnrollBudget";

        private static readonly string Version =
            typeof(ConvTransposeGenerator).Assembly.GetName().Version?.ToString() ?? "0.0.0.0";

        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var declarations = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    DeclarationParser.AttributeMetadataName,
                    static (node, _) => node is MethodDeclarationSyntax,
                    static (ctx, cancellationToken) => Transform(ctx, cancellationToken))
                .Where(static declaration => declaration is not null)
                .WithTrackingName(DeclarationStep);

            var budget = context.AnalyzerConfigOptionsProvider
                .Select(static (options, _) => ReadBudget(options.GlobalOptions.TryGetValue(BudgetProperty, out var value) ? value : null))
                .WithTrackingName(BudgetStep);

            context.RegisterSourceOutput(declarations.Combine(budget), static (spc, pair) =>
            {
                var declaration = pair.Left!;
                spc.AddSource(declaration.Target.HintName, KernelEmitter.Emit(declaration, pair.Right, Version));
            });
        }

        private static KernelDeclaration? Transform(GeneratorAttributeSyntaxContext context, System.Threading.CancellationToken cancellationToken)
        {
            if (context.TargetSymbol is not IMethodSymbol method || context.Attributes.Length == 0)
                return null;
            return DeclarationParser.Parse(method, context.Attributes[0], cancellationToken).Declaration;
        }

        /// <summary>The project's budget: a positive integer, or 0 (unset or unreadable: the default applies).</summary>
        public static int ReadBudget(string? value) =>
            int.TryParse(value?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int budget) && budget > 0 ? budget : 0;
    }
}
