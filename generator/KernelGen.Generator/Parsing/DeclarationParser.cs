using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using KernelGen.Generator.Diagnostics;
using KernelGen.Generator.Model;
using KernelGen.Geometry;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace KernelGen.Generator.Parsing
{
    /// <summary>What the parser made of one annotated method: the model (or nothing to emit) and the diagnostics to report.</summary>
    internal sealed record ParseResult(KernelDeclaration? Declaration, EquatableArray<DiagnosticInfo> Diagnostics);

    /// <summary>
    /// Turns a method carrying <c>[GeneratedConvTranspose2D]</c> into a <see cref="KernelDeclaration"/> and the diagnostics
    /// it deserves. Shared by the generator (which keeps the model) and the analyzer (which reports the diagnostics), so the
    /// two always agree. Half-typed code (missing arguments, error types) gives no model and no diagnostic of ours: the
    /// compiler already reports it. Never throws on any input.
    /// </summary>
    internal static class DeclarationParser
    {
        public const string AttributeMetadataName = "KernelGen.GeneratedConvTranspose2DAttribute";

        /// <summary>Each output axis is capped so that the compiler never plans an absurd axis (the phase plan is linear in it).</summary>
        public const int MaxOutputAxisLength = 1 << 16;

        /// <summary>Kernel extent, stride and dilation are capped per axis: the planner's work grows with them, and no real layer comes near.</summary>
        public const int MaxAxisParameter = 64;

        private static readonly string[] ConstructorParameters = { "inChannels", "outChannels", "inputHeight", "inputWidth", "kernelSize" };

        public static ParseResult Parse(IMethodSymbol method, AttributeData attribute, CancellationToken cancellationToken)
        {
            var diagnostics = new List<DiagnosticInfo>();
            if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax attributeSyntax
                || attributeSyntax.Parent?.Parent is not MethodDeclarationSyntax methodSyntax)
            {
                return new ParseResult(null, EquatableArray<DiagnosticInfo>.Empty);
            }

            bool shapeBroken = !CheckMethodShape(method, methodSyntax, attributeSyntax, diagnostics, cancellationToken);
            var types = CollectContainingTypes(method, diagnostics, ref shapeBroken, cancellationToken);
            if (shapeBroken || types is null)
                return new ParseResult(null, new EquatableArray<DiagnosticInfo>(diagnostics));

            var target = CreateTarget(method, methodSyntax, types);
            var spec = ParseAttribute(attribute, attributeSyntax, method.Name, target.HasBias, diagnostics);
            if (spec is null && diagnostics.Count == 0)
                return new ParseResult(null, EquatableArray<DiagnosticInfo>.Empty); // half-typed arguments: the compiler reports them

            // A square property breaks the rule on both axes at once: say so once.
            diagnostics = diagnostics.Distinct().ToList();
            var firstError = diagnostics.FirstOrDefault(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);
            var declaration = firstError is null
                ? new KernelDeclaration(target, spec, null, null)
                : new KernelDeclaration(target, null, firstError.Descriptor.Id, firstError.Message);
            return new ParseResult(declaration, new EquatableArray<DiagnosticInfo>(diagnostics));
        }

        /// <summary>Checks everything about the method's declaration; false when no implementation can be emitted for it.</summary>
        private static bool CheckMethodShape(IMethodSymbol method, MethodDeclarationSyntax syntax, AttributeSyntax attributeSyntax,
            List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
        {
            bool ok = true;
            string name = method.Name;

            if (syntax.SyntaxTree.Options is CSharpParseOptions options && options.LanguageVersion < LanguageVersion.CSharp9)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LanguageVersionTooLow, LocationInfo.From(attributeSyntax),
                    name, options.LanguageVersion.ToDisplayString()));
                ok = false;
            }

            if (method.IsGenericMethod || syntax.TypeParameterList is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GenericMethod,
                    LocationInfo.From((SyntaxNode?)syntax.TypeParameterList ?? syntax), name));
                ok = false;
            }

            bool isPartial = syntax.Modifiers.Any(SyntaxKind.PartialKeyword);
            bool hasBody = syntax.Body is not null || syntax.ExpressionBody is not null;
            string? problem =
                !isPartial && hasBody ? "is not declared 'partial' and has a body"
                : !isPartial ? "is not declared 'partial'"
                : hasBody ? "has a body"
                : syntax.Modifiers.Any(SyntaxKind.ExternKeyword) ? "is 'extern'"
                : HasForeignImplementation(method, cancellationToken) ? "already has an implementing declaration"
                : null;
            if (problem is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartialDefinition, LocationInfo.From(syntax.Identifier), name, problem));
                ok = false;
            }

            if (!CheckSignature(method, syntax, diagnostics))
                ok = false;

            if (HasDuplicateName(method))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateName, LocationInfo.From(syntax.Identifier),
                    method.ContainingType?.Name ?? "", name));
                ok = false;
            }

            return ok;
        }

        /// <summary>An implementing part that the user wrote (the generator's own shows up only after generation, in the analyzer's view).</summary>
        private static bool HasForeignImplementation(IMethodSymbol method, CancellationToken cancellationToken)
        {
            if (method.PartialImplementationPart is not { } implementation) return false;
            foreach (var reference in implementation.DeclaringSyntaxReferences)
            {
                string path = reference.SyntaxTree.FilePath.Replace('\\', '/');
                if (!path.Contains("/KernelGen.Generator/") && !path.StartsWith("KernelGen.Generator/", StringComparison.Ordinal))
                    return true;
            }

            return false;
        }

        private static bool HasDuplicateName(IMethodSymbol method)
        {
            if (method.ContainingType is null) return false;
            int annotated = 0;
            foreach (var member in method.ContainingType.GetMembers(method.Name))
            {
                if (member is IMethodSymbol other && other.PartialDefinitionPart is null && HasKernelAttribute(other))
                    annotated++;
            }

            return annotated > 1;
        }

        public static bool HasKernelAttribute(ISymbol symbol)
        {
            foreach (var attribute in symbol.GetAttributes())
            {
                if (IsKernelAttribute(attribute.AttributeClass)) return true;
            }

            return false;
        }

        public static bool IsKernelAttribute(INamedTypeSymbol? type) =>
            type is { Name: "GeneratedConvTranspose2DAttribute", ContainingNamespace: { Name: "KernelGen", ContainingNamespace.IsGlobalNamespace: true } };

        /// <summary>Checks <c>void (ReadOnlySpan&lt;float&gt;, ReadOnlySpan&lt;float&gt;, [ReadOnlySpan&lt;float&gt;,] Span&lt;float&gt;)</c>, all by value.</summary>
        private static bool CheckSignature(IMethodSymbol method, MethodDeclarationSyntax syntax, List<DiagnosticInfo> diagnostics)
        {
            // Types the compiler cannot bind yet (half-typed code) are its to report, not ours.
            if (method.ReturnType.TypeKind == TypeKind.Error || method.Parameters.Any(p => p.Type.TypeKind == TypeKind.Error))
                return false;

            string? problem = null;
            SyntaxNode location = syntax.ParameterList;
            if (!method.ReturnsVoid || method.ReturnsByRef || method.ReturnsByRefReadonly)
            {
                problem = "returns " + method.ReturnType.ToDisplayString();
                location = syntax.ReturnType;
            }
            else if (method.Parameters.Length is not (3 or 4))
            {
                problem = "takes " + method.Parameters.Length.ToString(CultureInfo.InvariantCulture) + " parameter" + (method.Parameters.Length == 1 ? "" : "s");
            }
            else
            {
                int last = method.Parameters.Length - 1;
                for (int i = 0; i <= last && problem is null; i++)
                {
                    var parameter = method.Parameters[i];
                    bool expectSpan = i == last;
                    if (!IsSpanOfFloat(parameter.Type, readOnly: !expectSpan))
                        problem = "has parameter '" + parameter.Name + "' of type " + parameter.Type.ToDisplayString();
                    else if (parameter.RefKind != RefKind.None || parameter.ScopedKind != ScopedKind.None || parameter.IsParams)
                        problem = "has parameter '" + parameter.Name + "' with a modifier";
                    if (problem is not null && i < syntax.ParameterList.Parameters.Count)
                        location = syntax.ParameterList.Parameters[i];
                }
            }

            if (problem is null) return true;
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SignatureMismatch, LocationInfo.From(location), method.Name, problem));
            return false;
        }

        private static bool IsSpanOfFloat(ITypeSymbol type, bool readOnly) =>
            type is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } named
            && named.TypeArguments[0].SpecialType == SpecialType.System_Single
            && named.OriginalDefinition.MetadataName == (readOnly ? "ReadOnlySpan`1" : "Span`1")
            && named.OriginalDefinition.ContainingNamespace is { Name: "System", ContainingNamespace.IsGlobalNamespace: true };

        /// <summary>The containing types, outermost first; reports those not declared partial. Null when one cannot be re-declared.</summary>
        private static List<ContainingType>? CollectContainingTypes(IMethodSymbol method, List<DiagnosticInfo> diagnostics,
            ref bool shapeBroken, CancellationToken cancellationToken)
        {
            var types = new List<ContainingType>();
            for (var type = method.ContainingType; type is not null; type = type.ContainingType)
            {
                TypeDeclarationSyntax? first = null;
                foreach (var reference in type.DeclaringSyntaxReferences)
                {
                    if (reference.GetSyntax(cancellationToken) is not TypeDeclarationSyntax declaration)
                        return null;
                    first ??= declaration;
                    if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ContainingTypeNotPartial,
                            LocationInfo.From(declaration.Identifier), type.Name, method.Name));
                        shapeBroken = true;
                    }
                }

                if (first is null) return null;
                types.Insert(0, new ContainingType(Keyword(first), NameWithTypeParameters(type)));
            }

            return types.Count == 0 ? null : types;
        }

        private static string Keyword(TypeDeclarationSyntax declaration)
        {
            string refPrefix = declaration.Modifiers.Any(SyntaxKind.RefKeyword) ? "ref " : "";
            return declaration switch
            {
                RecordDeclarationSyntax record when record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) => "record struct",
                RecordDeclarationSyntax => "record",
                StructDeclarationSyntax => refPrefix + "struct",
                InterfaceDeclarationSyntax => "interface",
                _ => "class",
            };
        }

        private static string NameWithTypeParameters(INamedTypeSymbol type) =>
            type.TypeParameters.Length == 0
                ? Escape(type.Name)
                : Escape(type.Name) + "<" + string.Join(", ", type.TypeParameters.Select(p => Escape(p.Name))) + ">";

        private static string Escape(string identifier) =>
            SyntaxFacts.GetKeywordKind(identifier) != SyntaxKind.None ? "@" + identifier : identifier;

        private static KernelTarget CreateTarget(IMethodSymbol method, MethodDeclarationSyntax syntax, List<ContainingType> types)
        {
            string ns = method.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : "";
            string modifiers = string.Join(" ", syntax.Modifiers.Where(m => !m.IsKind(SyntaxKind.PartialKeyword)).Select(m => m.Text));
            var parameters = method.Parameters.Select(p => Escape(p.Name)).ToArray();

            // The hint name follows metadata names (Outer+Inner`1), which are unique per type, so two kernels never collide.
            var hint = new StringBuilder();
            if (ns.Length > 0) hint.Append(ns).Append('.');
            var chain = new List<INamedTypeSymbol>();
            for (var type = method.ContainingType; type is not null; type = type.ContainingType) chain.Insert(0, type);
            for (int i = 0; i < chain.Count; i++)
            {
                if (i > 0) hint.Append('+');
                hint.Append(chain[i].MetadataName.Replace('`', '_'));
            }

            hint.Append('.').Append(method.Name).Append(".g.cs");
            return new KernelTarget(ns, new EquatableArray<ContainingType>(types), Escape(method.Name), modifiers,
                AccessibilityText(method.DeclaredAccessibility), new EquatableArray<string>(parameters), hint.ToString());
        }

        private static string AccessibilityText(Accessibility accessibility) => accessibility switch
        {
            Accessibility.Public => "public",
            Accessibility.Internal => "internal",
            Accessibility.Protected => "protected",
            Accessibility.ProtectedOrInternal => "protected internal",
            Accessibility.ProtectedAndInternal => "private protected",
            _ => "private",
        };

        /// <summary>Reads and validates the attribute's arguments. Null when they are half-typed (no diagnostic) or invalid (diagnostics added).</summary>
        private static KernelSpec? ParseAttribute(AttributeData attribute, AttributeSyntax syntax, string methodName, bool hasBias, List<DiagnosticInfo> diagnostics)
        {
            if (attribute.AttributeConstructor is null || attribute.ConstructorArguments.Length != ConstructorParameters.Length)
                return null;
            var ctor = new int[ConstructorParameters.Length];
            for (int i = 0; i < ctor.Length; i++)
            {
                if (attribute.ConstructorArguments[i] is not { Kind: TypedConstantKind.Primitive, Value: int value }) return null;
                ctor[i] = value;
            }

            var named = new Dictionary<string, TypedConstant>(StringComparer.Ordinal);
            foreach (var pair in attribute.NamedArguments)
            {
                if (pair.Value.Kind == TypedConstantKind.Error || pair.Value.Value is null) return null;
                named[pair.Key] = pair.Value;
            }

            int inChannels = ctor[0], outChannels = ctor[1], inputHeight = ctor[2], inputWidth = ctor[3], kernelSize = ctor[4];
            var axisH = new AxisArguments(named, "Height", kernelSize);
            var axisW = new AxisArguments(named, "Width", kernelSize);
            if (!axisH.Complete || !axisW.Complete) return null;
            int groups = IntOr(named, "Groups", 1, out bool groupsOk);
            int layout = IntOr(named, "Layout", 0, out bool layoutOk);
            int activation = IntOr(named, "Activation", 0, out bool activationOk);
            int budget = IntOr(named, "UnrollBudget", 0, out bool budgetOk);
            float slope = 0.01f;
            bool slopeOk = true;
            if (named.TryGetValue("LeakyReluSlope", out var slopeArgument))
            {
                if (slopeArgument.Value is float f) slope = f;
                else slopeOk = false;
            }

            if (!(groupsOk && layoutOk && activationOk && budgetOk && slopeOk)) return null;

            int before = diagnostics.Count;
            void Violation(RuleViolation? violation)
            {
                if (violation is { } v)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidGeometry, ArgumentLocation(syntax, v.Parameter), v.Message));
            }

            Violation(ConvTransposeRules.CheckChannels(inChannels, outChannels, groups, "inChannels", "outChannels", "Groups"));
            Violation(ConvTransposeRules.CheckInputSize(inputHeight, "inputHeight"));
            Violation(ConvTransposeRules.CheckInputSize(inputWidth, "inputWidth"));
            var heightAxis = axisH.Geometry;
            var widthAxis = axisW.Geometry;
            var heightViolation = ConvTransposeRules.CheckAxis(heightAxis, axisH.Names);
            var widthViolation = ConvTransposeRules.CheckAxis(widthAxis, axisW.Names);
            Violation(heightViolation);
            Violation(widthViolation);
            if (layout is not (0 or 1))
                Violation(new RuleViolation("Layout", layout, "it must be TensorLayout.Nchw or TensorLayout.Nhwc"));
            if (activation is < 0 or > 4)
                Violation(new RuleViolation("Activation", activation, "it must be FusedActivation.None, Relu, LeakyRelu, Sigmoid or Tanh"));
            Violation(ConvTransposeRules.CheckLeakyReluSlope(slope, "LeakyReluSlope"));

            if (budget < 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidUnrollBudget, ArgumentLocation(syntax, "UnrollBudget"),
                    budget.ToString(CultureInfo.InvariantCulture), Strategy.KernelPlanner.DefaultUnrollBudget.ToString(CultureInfo.InvariantCulture)));
            }

            if (diagnostics.Count > before) return null;

            // The size caps on the per-axis parameters, then the output size rule and the element caps (only once every
            // parameter is valid and bounded, so the arithmetic means something).
            CheckAxisCap(heightViolation, axisH, methodName, syntax, diagnostics);
            CheckAxisCap(widthViolation, axisW, methodName, syntax, diagnostics);
            if (diagnostics.Count > before) return null;

            CheckOutputAxis(heightAxis, inputHeight, "height", "inputHeight", methodName, syntax, diagnostics);
            CheckOutputAxis(widthAxis, inputWidth, "width", "inputWidth", methodName, syntax, diagnostics);
            if (diagnostics.Count > before) return null;

            long outputHeight = heightAxis.OutputLength(inputHeight), outputWidth = widthAxis.OutputLength(inputWidth);
            CheckElements("the input", Product(inChannels, inputHeight, inputWidth), methodName, syntax, diagnostics);
            CheckElements("the weights", Product(inChannels, outChannels / groups, heightAxis.Kernel, widthAxis.Kernel), methodName, syntax, diagnostics);
            CheckElements("the output", Product(outChannels, outputHeight, outputWidth), methodName, syntax, diagnostics);
            if (diagnostics.Count > before) return null;

            return new KernelSpec(inChannels, outChannels, groups, inputHeight, inputWidth,
                heightAxis.Kernel, widthAxis.Kernel, heightAxis.Stride, widthAxis.Stride, heightAxis.PadBegin, widthAxis.PadBegin,
                heightAxis.OutputPadding, widthAxis.OutputPadding, heightAxis.Dilation, widthAxis.Dilation,
                layout == 1, (KernelActivation)activation, slope, hasBias, budget);
        }

        private static void CheckOutputAxis(AxisGeometry axis, int input, string axisName, string inputName, string methodName, AttributeSyntax syntax,
            List<DiagnosticInfo> diagnostics)
        {
            long output = axis.OutputLength(input);
            if (output < 1)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.OutputTooSmall, ArgumentLocation(syntax, inputName),
                    axisName, Text(output), Text(input), Text(axis.Stride), Text(axis.PadBegin), Text(axis.Dilation), Text(axis.Kernel),
                    Text(axis.OutputPadding)));
            }
            else if (output > MaxOutputAxisLength)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TooLarge, ArgumentLocation(syntax, inputName), methodName,
                    "the output " + axisName + " would be " + Text(output) + ", above the cap of " + Text(MaxOutputAxisLength) + " per axis"));
            }
        }

        private static void CheckAxisCap(RuleViolation? violation, AxisArguments axis, string methodName, AttributeSyntax syntax, List<DiagnosticInfo> diagnostics)
        {
            if (violation is not null) return;
            void Cap(string name, int value)
            {
                if (value > MaxAxisParameter)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TooLarge, ArgumentLocation(syntax, name), methodName,
                        name + " is " + Text(value) + ", above the cap of " + Text(MaxAxisParameter) + " for a generated kernel"));
                }
            }

            Cap(axis.Names.Kernel, axis.Geometry.Kernel);
            Cap(axis.Names.Stride, axis.Geometry.Stride);
            Cap(axis.Names.Dilation, axis.Geometry.Dilation);
        }

        /// <summary>A product that saturates instead of wrapping (absurd declarations must still be reported, not overflow).</summary>
        private static long Product(params long[] factors)
        {
            long product = 1;
            foreach (long factor in factors)
                product = factor != 0 && product > long.MaxValue / factor ? long.MaxValue : product * factor;
            return product;
        }

        private static void CheckElements(string what, long elements, string methodName, AttributeSyntax syntax, List<DiagnosticInfo> diagnostics)
        {
            if (elements > ConvTransposeRules.MaxElements)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TooLarge, LocationInfo.From(syntax), methodName,
                    what + " would hold " + Text(elements) + " elements per sample, above the cap of " + Text(ConvTransposeRules.MaxElements)
                    + " (Int32.MaxValue) that a span can index"));
            }
        }

        private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

        private static int IntOr(Dictionary<string, TypedConstant> named, string name, int fallback, out bool ok)
        {
            ok = true;
            if (!named.TryGetValue(name, out var argument)) return fallback;
            if (argument.Value is int value) return value;
            ok = false;
            return fallback;
        }

        /// <summary>The argument that set <paramref name="parameter"/> (named, by name-colon, or by position), or the whole attribute.</summary>
        private static LocationInfo? ArgumentLocation(AttributeSyntax syntax, string parameter)
        {
            var arguments = syntax.ArgumentList?.Arguments;
            if (arguments is null) return LocationInfo.From(syntax);
            int position = Array.IndexOf(ConstructorParameters, parameter);
            int positional = 0;
            foreach (var argument in arguments)
            {
                if (argument.NameEquals is { } equals)
                {
                    if (equals.Name.Identifier.ValueText == parameter) return LocationInfo.From(argument);
                    continue;
                }

                if (argument.NameColon is { } colon)
                {
                    if (colon.Name.Identifier.ValueText == parameter) return LocationInfo.From(argument);
                }
                else if (positional == position)
                {
                    return LocationInfo.From(argument);
                }

                positional++;
            }

            return LocationInfo.From(syntax);
        }

        /// <summary>One axis's parameters: the per-axis property if set, else the square one, else the default; and the names that set them.</summary>
        private sealed class AxisArguments
        {
            public AxisArguments(Dictionary<string, TypedConstant> named, string axis, int kernelSize)
            {
                Complete = true;
                int Pick(string square, string perAxis, int fallback, out string name)
                {
                    name = square;
                    int value = fallback;
                    if (named.TryGetValue(square, out var s))
                    {
                        if (s.Value is int v) value = v;
                        else Complete = false;
                    }

                    if (named.TryGetValue(perAxis, out var p))
                    {
                        name = perAxis;
                        if (p.Value is int v) value = v;
                        else Complete = false;
                    }

                    return value;
                }

                int kernel = Pick("kernelSize", "Kernel" + axis, kernelSize, out string kernelName);
                int stride = Pick("Stride", "Stride" + axis, 1, out string strideName);
                int padding = Pick("Padding", "Padding" + axis, 0, out string paddingName);
                int outputPadding = Pick("OutputPadding", "OutputPadding" + axis, 0, out string outputPaddingName);
                int dilation = Pick("Dilation", "Dilation" + axis, 1, out string dilationName);
                Geometry = new AxisGeometry(kernel, stride, padding, padding, outputPadding, dilation);
                Names = new AxisParameterNames(kernelName, strideName, paddingName, paddingName, outputPaddingName, dilationName);
            }

            public bool Complete { get; private set; }

            public AxisGeometry Geometry { get; }

            public AxisParameterNames Names { get; }
        }
    }
}
