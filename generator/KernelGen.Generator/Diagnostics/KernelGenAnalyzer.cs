using System.Collections.Immutable;
using System.Globalization;
using KernelGen.Generator.Emitting;
using KernelGen.Generator.Parsing;
using KernelGen.Generator.Strategy;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace KernelGen.Generator.Diagnostics
{
    /// <summary>
    /// Reports KernelGen's diagnostics on every method marked <c>[GeneratedConvTranspose2D]</c> that the generator implements,
    /// by running the generator's own declaration parser and planner. Being an analyzer is what lets <c>#pragma warning
    /// disable</c> and <c>.editorconfig</c> severities apply to them and the IDE show them as the user types. The generated
    /// code carries <c>[GeneratedCode]</c>, which merges into the user's partial method, so generated code is analysed too.
    /// Declarations the compiler rejects whatever is generated are the generator's to report (the compiler runs no
    /// analyzer then; see <see cref="ParseResult.ReportedByGenerator"/>).
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
            DiagnosticDescriptors.DuplicateName,
            DiagnosticDescriptors.NotATypeMethod,
            DiagnosticDescriptors.ShapeNameTaken,
            DiagnosticDescriptors.FileLocalType,
            DiagnosticDescriptors.SeveralKernelAttributes,
            DiagnosticDescriptors.InternalError);

        /// <inheritdoc/>
        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.Analyze | GeneratedCodeAnalysisFlags.ReportDiagnostics);
            context.EnableConcurrentExecution();
            context.RegisterCompilationStartAction(start =>
            {
                if (start.Compilation.GetTypeByMetadataName(DeclarationParser.AttributeMetadataName) is null
                    && start.Compilation.GetTypeByMetadataName(DeclarationParser.AttributeMetadataName1D) is null
                    && start.Compilation.GetTypeByMetadataName(DeclarationParser.AttributeMetadataName3D) is null) return;
                int projectBudget = ConvTransposeGenerator.ReadBudget(
                    start.Options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue(ConvTransposeGenerator.BudgetProperty, out var value) ? value : null);
                var delegation = DelegationPlanner.Parse(
                    start.Options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue(ConvTransposeGenerator.DelegationProperty, out var mode) ? mode : null);
                start.RegisterSymbolAction(symbolContext => AnalyzeMethod(symbolContext, projectBudget, delegation), SymbolKind.Method);
                // Local functions and lambdas are not visited as symbols (accessors and operators are): find the attribute by syntax.
                start.RegisterSyntaxNodeAction(AnalyzeAttribute, SyntaxKind.Attribute);
            });
        }

        private static void AnalyzeMethod(SymbolAnalysisContext context, int projectBudget, DelegationMode delegation)
        {
            var method = (IMethodSymbol)context.Symbol;
            // A partial method is analysed once, through its defining part (whose attributes include the implementing part's).
            if (method.PartialDefinitionPart is not null) return;
            foreach (var attribute in method.GetAttributes())
            {
                if (!DeclarationParser.IsKernelAttribute(attribute.AttributeClass)) continue;
                // With the compilation, as the generator parses it: the same spec, so that the plan the generator made is found.
                var result = DeclarationParser.Parse(method, attribute, context.CancellationToken, context.Compilation);
                if (result.ReportedByGenerator) continue;
                foreach (var diagnostic in result.Diagnostics)
                    context.ReportDiagnostic(diagnostic.ToDiagnostic(context.Compilation));

                // A layer that delegates unplanned ("all") unrolls nothing and exceeds no budget: there is nothing to report.
                if (result.Declaration?.Spec is { } spec && attribute.ApplicationSyntaxReference is { } reference
                    && DelegationPlanner.ReasonUnplanned(spec, delegation) is null)
                {
                    var plan = KernelPlanner.Plan(spec, projectBudget);
                    var location = Location.Create(reference.SyntaxTree, reference.Span);
                    if (plan.OverHardCap)
                    {
                        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.TooLarge, location, method.Name,
                            "the kernel would need " + Text(plan.EmittedStatements) + " statements even with every loop kept, above the hard cap of "
                            + Text(KernelPlanner.HardCap)));
                    }
                    else if (plan.Level != UnrollLevel.Full && DelegationPlanner.Reason(plan, delegation) is null)   // a delegating layer unrolls nothing
                    {
                        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.KeptLoops, location, method.Name,
                            Text(plan.UnrolledStatements), Text(plan.Budget), KernelEmitter.LoopsKept(plan.Level), Text(plan.EmittedStatements)));
                    }
                }
            }
        }

        private static void AnalyzeAttribute(SyntaxNodeAnalysisContext context)
        {
            var attribute = (AttributeSyntax)context.Node;
            if (attribute.Parent?.Parent is not (LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax)) return; // analysed as a symbol
            if (context.SemanticModel.GetSymbolInfo(attribute, context.CancellationToken).Symbol is not IMethodSymbol { ContainingType: var type }
                || !DeclarationParser.IsKernelAttribute(type))
            {
                return;
            }

            if (DeclarationParser.NotATypeMethod(attribute) is { } diagnostic)
                context.ReportDiagnostic(diagnostic.ToDiagnostic(context.Compilation));
        }

        private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
