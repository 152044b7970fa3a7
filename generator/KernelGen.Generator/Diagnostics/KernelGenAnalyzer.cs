using System.Collections.Immutable;
using System.Globalization;
using KernelGen.Generator.Emitting;
using KernelGen.Generator.Parsing;
using KernelGen.Generator.Strategy;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace KernelGen.Generator.Diagnostics
{
    /// <summary>
    /// Reports KernelGen's diagnostics on every method marked <c>[GeneratedConvTranspose2D]</c>, by running the generator's own
    /// declaration parser and planner. Being an analyzer (not the generator) is what lets <c>#pragma warning disable</c> and
    /// <c>.editorconfig</c> severities apply to them (roslyn#68291).
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class KernelGenAnalyzer : DiagnosticAnalyzer
    {
        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
            DiagnosticDescriptors.InvalidGeometry,
            DiagnosticDescriptors.OutputTooSmall,
            DiagnosticDescriptors.SignatureMismatch,
            DiagnosticDescriptors.NotPartialDefinition,
            DiagnosticDescriptors.ContainingTypeNotPartial,
            DiagnosticDescriptors.GenericMethod,
            DiagnosticDescriptors.TooLarge,
            DiagnosticDescriptors.LanguageVersionTooLow,
            DiagnosticDescriptors.KeptLoops,
            DiagnosticDescriptors.InvalidUnrollBudget,
            DiagnosticDescriptors.DuplicateName);

        /// <inheritdoc/>
        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterCompilationStartAction(start =>
            {
                if (start.Compilation.GetTypeByMetadataName(DeclarationParser.AttributeMetadataName) is null) return;
                int projectBudget = ConvTransposeGenerator.ReadBudget(
                    start.Options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue(ConvTransposeGenerator.BudgetProperty, out var value) ? value : null);
                start.RegisterSymbolAction(symbolContext => AnalyzeMethod(symbolContext, projectBudget), SymbolKind.Method);
            });
        }

        private static void AnalyzeMethod(SymbolAnalysisContext context, int projectBudget)
        {
            var method = (IMethodSymbol)context.Symbol;
            // A partial method is analysed once, through its defining part (whose attributes include the implementing part's).
            if (method.PartialDefinitionPart is not null) return;
            foreach (var attribute in method.GetAttributes())
            {
                if (!DeclarationParser.IsKernelAttribute(attribute.AttributeClass)) continue;
                var result = DeclarationParser.Parse(method, attribute, context.CancellationToken);
                foreach (var diagnostic in result.Diagnostics)
                    context.ReportDiagnostic(diagnostic.ToDiagnostic(context.Compilation));

                if (result.Declaration?.Spec is { } spec && attribute.ApplicationSyntaxReference is { } reference)
                {
                    var plan = KernelPlanner.Plan(spec, projectBudget);
                    var location = Location.Create(reference.SyntaxTree, reference.Span);
                    if (plan.OverHardCap)
                    {
                        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.TooLarge, location, method.Name,
                            "the kernel would need " + Text(plan.EmittedStatements) + " statements even with every loop kept, above the hard cap of "
                            + Text(KernelPlanner.HardCap)));
                    }
                    else if (plan.Level != UnrollLevel.Full)
                    {
                        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.KeptLoops, location, method.Name,
                            Text(plan.UnrolledStatements), Text(plan.Budget), KernelEmitter.LoopsKept(plan.Level), Text(plan.EmittedStatements)));
                    }
                }
            }
        }

        private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
