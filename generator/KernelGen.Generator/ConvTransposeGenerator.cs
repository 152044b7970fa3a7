using System;
using System.Collections.Immutable;
using System.Globalization;
using KernelGen.Generator.Diagnostics;
using KernelGen.Generator.Emitting;
using KernelGen.Generator.Model;
using KernelGen.Generator.Parsing;
using KernelGen.Generator.Strategy;
using Microsoft.CodeAnalysis;

namespace KernelGen.Generator
{
    /// <summary>
    /// Implements every partial method marked <c>[GeneratedConvTranspose2D]</c>, <c>[GeneratedConvTranspose1D]</c> or <c>[GeneratedConvTranspose3D]</c> with a transposed convolution specialised for
    /// its fixed shape, or, for a declaration that is wrong, with a body that throws naming the KG error (so that the
    /// compiler does not add errors of its own about a missing implementation). The analyzer
    /// (<see cref="KernelGenAnalyzer"/>) reports the diagnostics of the declarations implemented here; this generator
    /// reports those of declarations the compiler rejects anyway (the compiler runs no analyzer then). Never throws:
    /// a failure on one declaration is that declaration's KG0015, never the other kernels' loss.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class ConvTransposeGenerator : IIncrementalGenerator
    {
        /// <summary>The tracking name of the step that turns an annotated method into its model (asserted by the incrementality tests).</summary>
        public const string DeclarationStep = "KernelDeclaration";

        /// <summary>The tracking name of the step that gives each declaration its generated file's name.</summary>
        public const string FileNameStep = "KernelFileName";

        /// <summary>The tracking name of the step that reads the project's unroll budget.</summary>
        public const string BudgetStep = "UnrollBudget";

        /// <summary>The MSBuild property (made visible by the package's KernelGen.props) that sets the project's unroll budget.</summary>
        public const string BudgetProperty = "build_property.KernelGenUnrollBudget";

        /// <summary>The MSBuild property (made visible by the package's KernelGen.props) that says which layers delegate to the library's kernel.</summary>
        public const string DelegationProperty = "build_property.KernelGenDelegation";

        /// <summary>The tracking name of the step that reads the project's <c>KernelGenDelegation</c>.</summary>
        public const string DelegationStep = "Delegation";

        private static readonly string Version =
            typeof(ConvTransposeGenerator).Assembly.GetName().Version?.ToString() ?? "0.0.0.0";

        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            // Every syntax the attributes may sit on: methods, and the local functions and lambdas they must be reported on.
            // One provider per attribute (1-D, 2-D and 3-D); every later step treats their declarations alike.
            var parsed2D = Parsed(context, DeclarationParser.AttributeMetadataName);
            var parsed1D = Parsed(context, DeclarationParser.AttributeMetadataName1D);
            var parsed3D = Parsed(context, DeclarationParser.AttributeMetadataName3D);
            var declarations2D = Declarations(parsed2D);
            var declarations1D = Declarations(parsed1D);
            var declarations3D = Declarations(parsed3D);

            // File names must be unique in the compilation (ignoring case) and valid whatever the declaring types are called:
            // they are assigned over all declarations together, and each declaration then takes its own, so that an edit to
            // one kernel re-emits no other.
            var fileNames = declarations2D.Select(static (declaration, _) => FileNames.Key(declaration!.Target)).Collect()
                .Combine(declarations1D.Select(static (declaration, _) => FileNames.Key(declaration!.Target)).Collect())
                .Combine(declarations3D.Select(static (declaration, _) => FileNames.Key(declaration!.Target)).Collect())
                .Select(static (keys, _) => FileNames.Assign(keys.Left.Left.AddRange(keys.Left.Right).AddRange(keys.Right)))
                .WithTrackingName(FileNameStep);

            var budget = context.AnalyzerConfigOptionsProvider
                .Select(static (options, _) => ReadBudget(options.GlobalOptions.TryGetValue(BudgetProperty, out var value) ? value : null))
                .WithTrackingName(BudgetStep);

            var delegation = context.AnalyzerConfigOptionsProvider
                .Select(static (options, _) => DelegationPlanner.Parse(options.GlobalOptions.TryGetValue(DelegationProperty, out var value) ? value : null))
                .WithTrackingName(DelegationStep);
            var projectOptions = budget.Combine(delegation);

            foreach (var (parsed, declarations) in new[] { (parsed2D, declarations2D), (parsed1D, declarations1D), (parsed3D, declarations3D) })
            {
                var named = declarations
                    .Combine(fileNames)
                    .Select(static (pair, _) => pair.Left! with { HintName = FileNames.Find(pair.Right, FileNames.Key(pair.Left!.Target)) });
                context.RegisterSourceOutput(named.Combine(projectOptions), static (spc, pair) => Emit(spc, pair.Left, pair.Right.Left, pair.Right.Right));

                // Diagnostics are pointed into the compilation's own trees, so that #pragma and .editorconfig apply to them.
                var generatorDiagnostics = parsed
                    .Where(static result => result.ReportedByGenerator && result.Diagnostics.Count > 0)
                    .Select(static (result, _) => result.Diagnostics)
                    .Combine(context.CompilationProvider);
                context.RegisterSourceOutput(generatorDiagnostics, static (spc, pair) =>
                {
                    foreach (var diagnostic in pair.Left)
                        spc.ReportDiagnostic(diagnostic.ToDiagnostic(pair.Right));
                });
            }
        }

        private static IncrementalValuesProvider<ParseResult> Parsed(IncrementalGeneratorInitializationContext context, string attributeMetadataName) =>
            context.SyntaxProvider.ForAttributeWithMetadataName(
                attributeMetadataName,
                static (_, _) => true,
                static (ctx, cancellationToken) => Transform(ctx, cancellationToken));

        private static IncrementalValuesProvider<KernelDeclaration?> Declarations(IncrementalValuesProvider<ParseResult> parsed) =>
            parsed
                .Select(static (result, _) => result.Declaration)
                .Where(static declaration => declaration is not null)
                .WithTrackingName(DeclarationStep);

        private static ParseResult Transform(GeneratorAttributeSyntaxContext context, System.Threading.CancellationToken cancellationToken)
        {
            if (context.Attributes.Length == 0) return ParseResult.Nothing;
            try
            {
                return DeclarationParser.Parse(context.TargetSymbol, context.Attributes[0], cancellationToken, context.SemanticModel.Compilation);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                var location = LocationInfo.From(context.Attributes[0].ApplicationSyntaxReference?.GetSyntax(cancellationToken));
                var diagnostic = DiagnosticInfo.Create(DiagnosticDescriptors.InternalError, location, context.TargetSymbol.Name, Describe(exception));
                return new ParseResult(null, new EquatableArray<DiagnosticInfo>(new[] { diagnostic }), ReportedByGenerator: true);
            }
        }

        /// <summary>Adds one declaration's file. Whatever goes wrong stays this declaration's error (KG0015): the other kernels keep their bodies.</summary>
        internal static void Emit(SourceProductionContext context, KernelDeclaration declaration, int projectBudget, DelegationMode delegation = DelegationMode.None)
        {
            string? source = EmitSafely(declaration, projectBudget, out var failure, delegation);
            if (failure is not null)
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InternalError, Location.None,
                    declaration.Target.DisplayName, failure));
            }

            if (source is null) return;
            try
            {
                context.AddSource(declaration.HintName, source);
            }
            catch (ArgumentException exception)
            {
                // File names are unique by construction (FileNames.Assign); this is the last line of defence.
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InternalError, Location.None,
                    declaration.Target.DisplayName, Describe(exception)));
            }
        }

        /// <summary>The declaration's source; if the emitter fails, a body that throws instead, and the failure in <paramref name="failure"/>.</summary>
        internal static string? EmitSafely(KernelDeclaration declaration, int projectBudget, out string? failure, DelegationMode delegation = DelegationMode.None)
        {
            failure = null;
            try
            {
                return KernelEmitter.Emit(declaration, projectBudget, Version, delegation);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                failure = Describe(exception);
            }

            try
            {
                return KernelEmitter.Emit(declaration with { Spec = null, ErrorId = "KG0015", ErrorMessage = "KernelGen could not generate this kernel: " + failure },
                    projectBudget, Version);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                return null;
            }
        }

        private static string Describe(Exception exception) => exception.GetType().Name + ": " + exception.Message;

        /// <summary>The project's budget: a positive integer, or 0 (unset or unreadable: the default applies).</summary>
        public static int ReadBudget(string? value) =>
            int.TryParse(value?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int budget) && budget > 0 ? budget : 0;
    }
}
