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
    /// <summary>What the parser made of one annotated declaration: the model (or nothing to emit) and the diagnostics to report.</summary>
    /// <param name="ReportedByGenerator">
    /// True when the compiler rejects the declaration whatever is generated for it (a type around it is not partial, the
    /// method is not a partial definition, the C# version has no extended partial methods, a file-local type, an
    /// attribute on a local function): then the compiler skips all analyzers, so the generator reports these diagnostics
    /// itself. Otherwise the generated code compiles and the analyzer reports them (so that <c>#pragma</c> and
    /// <c>.editorconfig</c> apply, and the IDE shows them as the user types). Either way each is reported once.
    /// </param>
    internal sealed record ParseResult(KernelDeclaration? Declaration, EquatableArray<DiagnosticInfo> Diagnostics, bool ReportedByGenerator)
    {
        public static readonly ParseResult Nothing = new(null, EquatableArray<DiagnosticInfo>.Empty, false);
    }

    /// <summary>
    /// Turns a declaration carrying <c>[GeneratedConvTranspose2D]</c> into a <see cref="KernelDeclaration"/> and the diagnostics
    /// it deserves. Shared by the generator (which keeps the model) and the analyzer (which reports the diagnostics), so the
    /// two always agree. Half-typed code (missing arguments, error types) gives no diagnostic of ours: the compiler already
    /// reports it. Never throws on any input.
    /// </summary>
    internal static class DeclarationParser
    {
        public const string AttributeMetadataName = "KernelGen.GeneratedConvTranspose2DAttribute";

        /// <summary>The 1-D attribute: a 2-D kernel of height 1 underneath, declared and checked in 1-D terms.</summary>
        public const string AttributeMetadataName1D = "KernelGen.GeneratedConvTranspose1DAttribute";

        private const string AttributeClassName1D = "GeneratedConvTranspose1DAttribute";

        /// <summary>The 3-D attribute: the 2-D plane kernel run once per (input slice, depth tap) pair, declared and checked in 3-D terms.</summary>
        public const string AttributeMetadataName3D = "KernelGen.GeneratedConvTranspose3DAttribute";

        private const string AttributeClassName3D = "GeneratedConvTranspose3DAttribute";

        /// <summary>Each output axis is capped so that the compiler never plans an absurd axis (the phase plan is linear in it).</summary>
        public const int MaxOutputAxisLength = 1 << 16;

        /// <summary>Kernel extent, stride and dilation are capped per axis: the planner's work grows with them, and no real layer comes near.</summary>
        public const int MaxAxisParameter = 64;

        /// <summary>The suffix of the generated sizes class: <c>{Method}Shape</c>.</summary>
        public const string ShapeClassSuffix = "Shape";

        private static readonly string[] ConstructorParameters = { "inChannels", "outChannels", "inputHeight", "inputWidth", "kernelSize" };

        private static readonly string[] ConstructorParameters1D = { "inChannels", "outChannels", "inputLength", "kernelSize" };

        private static readonly string[] ConstructorParameters3D = { "inChannels", "outChannels", "inputDepth", "inputHeight", "inputWidth", "kernelSize" };

        /// <summary>1 for <c>[GeneratedConvTranspose1D]</c>, 2 for <c>[GeneratedConvTranspose2D]</c>, 3 for <c>[GeneratedConvTranspose3D]</c>.</summary>
        private static int RankOf(AttributeData attribute) => attribute.AttributeClass?.Name switch
        {
            AttributeClassName1D => 1,
            AttributeClassName3D => 3,
            _ => 2,
        };

        private static string AttributeDisplayName(int rank) => rank switch
        {
            1 => "[GeneratedConvTranspose1D]",
            3 => "[GeneratedConvTranspose3D]",
            _ => "[GeneratedConvTranspose2D]",
        };

        /// <summary>Types in signatures: fully qualified (the generated file has no usings), nullable annotations kept.</summary>
        private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat.WithMiscellaneousOptions(
            SymbolDisplayFormat.FullyQualifiedFormat.MiscellaneousOptions | SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

        /// <summary>Parses the declaration that <paramref name="attribute"/> (one of ours) is applied to.</summary>
        /// <param name="compilation">The compilation the kernel is emitted into, for what its runtime's API offers (see
        /// <see cref="KernelSpec.MultiplyAddEstimate"/>); null where only the diagnostics are wanted.</param>
        public static ParseResult Parse(ISymbol symbol, AttributeData attribute, CancellationToken cancellationToken, Compilation? compilation = null)
        {
            if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax attributeSyntax
                || attributeSyntax.Parent is not AttributeListSyntax { Target: null or { Identifier.ValueText: "method" } } list)
            {
                return ParseResult.Nothing; // e.g. [return: ...]: the compiler reports the wrong target
            }

            if (list.Parent is not MethodDeclarationSyntax methodSyntax || symbol is not IMethodSymbol method)
            {
                // Nothing a generator can implement; nothing the compiler rejects either, so the analyzer reports it.
                return NotATypeMethod(attributeSyntax) is { } diagnostic
                    ? new ParseResult(null, new EquatableArray<DiagnosticInfo>(new[] { diagnostic }), false)
                    : ParseResult.Nothing;
            }

            var diagnostics = new List<DiagnosticInfo>();

            // Attributes of two ranks on one method ([GeneratedConvTranspose3D] and [GeneratedConvTranspose2D], say) would each
            // implement it: the first in source order reports KG0016 and gets the throwing body, the others nothing. (The same
            // attribute twice is the compiler's CS0579.)
            var kernelAttributes = method.GetAttributes().Where(a => IsKernelAttribute(a.AttributeClass) && a.ApplicationSyntaxReference is not null).ToList();
            if (kernelAttributes.Select(a => a.AttributeClass!.Name).Distinct().Count() > 1)
            {
                var firstApplied = kernelAttributes
                    .OrderBy(a => a.ApplicationSyntaxReference!.SyntaxTree.FilePath, StringComparer.Ordinal)
                    .ThenBy(a => a.ApplicationSyntaxReference!.Span.Start)
                    .First();
                if (firstApplied.ApplicationSyntaxReference!.Span != attribute.ApplicationSyntaxReference!.Span
                    || firstApplied.ApplicationSyntaxReference.SyntaxTree != attribute.ApplicationSyntaxReference.SyntaxTree)
                {
                    return ParseResult.Nothing;
                }

                var names = kernelAttributes.Select(a => AttributeDisplayName(RankOf(a))).ToList();
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SeveralKernelAttributes, LocationInfo.From(attributeSyntax), method.Name,
                    string.Join(" and ", names)));
            }

            var shape = CheckMethodShape(method, methodSyntax, attributeSyntax, diagnostics, cancellationToken);
            if (shape == MethodShape.HalfTyped)
                return ParseResult.Nothing;

            var types = CollectContainingTypes(method, diagnostics, ref shape, cancellationToken);
            if (shape == MethodShape.CannotImplement || types is null)
                return new ParseResult(null, new EquatableArray<DiagnosticInfo>(diagnostics.Distinct()), true);

            var target = CreateTarget(method, methodSyntax, types);
            bool hasBias = target.ParameterNames.Count == 4;
            var spec = ParseAttribute(attribute, attributeSyntax, method.Name, hasBias, diagnostics);
            bool reportedByGenerator = shape == MethodShape.CompilerRejects;
            ShapeConstants? constants = ShapeClassAllowed(method, methodSyntax, diagnostics, cancellationToken)
                ? spec is not null ? Constants(spec) : PlaceholderConstants(attribute, hasBias)
                : null;

            // A square property breaks the rule on both axes at once: say so once.
            diagnostics = diagnostics.Distinct().ToList();
            var firstError = diagnostics.FirstOrDefault(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);
            KernelDeclaration declaration;
            if (firstError is not null)
                declaration = new KernelDeclaration(target, null, firstError.Descriptor.Id, firstError.Message, constants);
            else if (spec is null)
                declaration = new KernelDeclaration(target, null, null, "the arguments of " + AttributeDisplayName(RankOf(attribute)) + " on " + method.Name + " do not compile", constants);
            else
                declaration = new KernelDeclaration(target, spec with { MultiplyAddEstimate = HasMultiplyAddEstimate(compilation) }, null, null, constants);
            return new ParseResult(declaration, new EquatableArray<DiagnosticInfo>(diagnostics), reportedByGenerator);
        }

        /// <summary>KG0012 when the attribute sits on a local function, lambda, accessor, operator or finalizer (any method that is not a type's method declaration).</summary>
        public static DiagnosticInfo? NotATypeMethod(AttributeSyntax attributeSyntax)
        {
            if (attributeSyntax.Parent is not AttributeListSyntax { Target: null or { Identifier.ValueText: "method" } } list
                || list.Parent is MethodDeclarationSyntax)
            {
                return null;
            }

            string what = list.Parent switch
            {
                LocalFunctionStatementSyntax local => "the local function '" + local.Identifier.ValueText + "'",
                AnonymousFunctionExpressionSyntax => "a lambda",
                AccessorDeclarationSyntax => "an accessor",
                OperatorDeclarationSyntax or ConversionOperatorDeclarationSyntax => "an operator",
                DestructorDeclarationSyntax => "a finalizer",
                _ => "a declaration that is not a method of a type",
            };
            return DiagnosticInfo.Create(DiagnosticDescriptors.NotATypeMethod, LocationInfo.From(attributeSyntax), what);
        }

        /// <summary>What can be generated for a method, from best to worst.</summary>
        private enum MethodShape
        {
            /// <summary>A partial definition the generator implements (the kernel, or a throwing body if the attribute is invalid).</summary>
            Implementable,

            /// <summary>The declaration is wrong, but a body with its own signature that throws compiles (KG0003, KG0006, KG0011):
            /// it keeps the compiler quiet, so the KG error is the build's only one.</summary>
            Stub,

            /// <summary>The compiler rejects the declaration whatever is generated; a body with its signature still avoids a
            /// second, misleading error (CS8795, "must have an implementation part").</summary>
            CompilerRejects,

            /// <summary>Nothing can be generated (not a partial definition, a file-local type).</summary>
            CannotImplement,

            /// <summary>Types the compiler cannot bind yet: its errors, not ours.</summary>
            HalfTyped,
        }

        private static MethodShape Worse(MethodShape a, MethodShape b) => a > b ? a : b;

        /// <summary>Checks everything about the method's own declaration.</summary>
        private static MethodShape CheckMethodShape(IMethodSymbol method, MethodDeclarationSyntax syntax, AttributeSyntax attributeSyntax,
            List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
        {
            if (method.ReturnType.TypeKind == TypeKind.Error || method.Parameters.Any(p => p.Type.TypeKind == TypeKind.Error))
                return MethodShape.HalfTyped;

            var shape = MethodShape.Implementable;
            string name = method.Name;

            if (syntax.SyntaxTree.Options is CSharpParseOptions options && options.LanguageVersion < LanguageVersion.CSharp9)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LanguageVersionTooLow, LocationInfo.From(attributeSyntax),
                    name, options.LanguageVersion.ToDisplayString()));
                // A classic partial method (void, no accessibility or other modifiers, no out parameter) is C# 2; the
                // compiler rejects any other before C# 9.
                bool classic = method.ReturnsVoid && method.Parameters.All(p => p.RefKind != RefKind.Out)
                    && syntax.Modifiers.All(m => m.IsKind(SyntaxKind.PartialKeyword) || m.IsKind(SyntaxKind.StaticKeyword) || m.IsKind(SyntaxKind.UnsafeKeyword));
                shape = Worse(shape, classic ? MethodShape.Stub : MethodShape.CompilerRejects);
            }

            if (method.IsGenericMethod || syntax.TypeParameterList is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GenericMethod,
                    LocationInfo.From((SyntaxNode?)syntax.TypeParameterList ?? syntax), name));
                shape = Worse(shape, MethodShape.Stub);
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
                shape = Worse(shape, MethodShape.CannotImplement);
            }

            if (!CheckSignature(method, syntax, diagnostics))
                shape = Worse(shape, MethodShape.Stub);

            var namesakes = OtherKernelsNamedAlike(method);
            if (namesakes.Count > 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateName, LocationInfo.From(syntax.Identifier),
                    method.ContainingType?.Name ?? "", name));
                // Overloads each get a body; a second method with the very same parameters is the compiler's error
                // (CS0111), and a second body would be one more.
                bool repeatsAnEarlierOne = namesakes.Any(other => SameParameters(other, method) && Precedes(other, syntax));
                shape = Worse(shape, repeatsAnEarlierOne ? MethodShape.CannotImplement : MethodShape.Stub);
            }

            return shape;
        }

        /// <summary>Whether the generated code is (or a user's own part is) in a tree the generator produced.</summary>
        private static bool IsGenerated(SyntaxReference reference)
        {
            string path = reference.SyntaxTree.FilePath.Replace('\\', '/');
            return path.Contains("/KernelGen.Generator/") || path.StartsWith("KernelGen.Generator/", StringComparison.Ordinal);
        }

        /// <summary>An implementing part that the user wrote (the generator's own shows up only after generation, in the analyzer's view).</summary>
        private static bool HasForeignImplementation(IMethodSymbol method, CancellationToken cancellationToken)
        {
            if (method.PartialImplementationPart is not { } implementation) return false;
            foreach (var reference in implementation.DeclaringSyntaxReferences)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!IsGenerated(reference)) return true;
            }

            return false;
        }

        private static bool SameParameters(IMethodSymbol a, IMethodSymbol b) =>
            a.Parameters.Length == b.Parameters.Length
            && a.Parameters.Zip(b.Parameters, (x, y) => x.RefKind == y.RefKind && SymbolEqualityComparer.Default.Equals(x.Type, y.Type)).All(same => same);

        /// <summary>Whether <paramref name="other"/> is declared before <paramref name="syntax"/> (by file path, then position).</summary>
        private static bool Precedes(IMethodSymbol other, SyntaxNode syntax)
        {
            foreach (var reference in other.DeclaringSyntaxReferences)
            {
                int byPath = string.CompareOrdinal(reference.SyntaxTree.FilePath, syntax.SyntaxTree.FilePath);
                if (byPath < 0 || (byPath == 0 && reference.Span.Start < syntax.SpanStart)) return true;
            }

            return false;
        }

        /// <summary>The other kernel definitions of the method's containing type with the method's name.</summary>
        private static List<IMethodSymbol> OtherKernelsNamedAlike(IMethodSymbol method)
        {
            var others = new List<IMethodSymbol>();
            if (method.ContainingType is null) return others;
            foreach (var member in method.ContainingType.GetMembers(method.Name))
            {
                if (member is IMethodSymbol other && other.PartialDefinitionPart is null && !SymbolEqualityComparer.Default.Equals(other, method)
                    && HasKernelAttribute(other))
                {
                    others.Add(other);
                }
            }

            return others;
        }

        /// <summary>
        /// Whether the <c>{Method}Shape</c> class may be emitted: no member of that name is declared by the user in the
        /// type or inherited (reported as KG0013: the kernel still works), and of several kernels sharing a name (KG0011)
        /// only the first in source order emits it.
        /// </summary>
        private static bool ShapeClassAllowed(IMethodSymbol method, MethodDeclarationSyntax syntax, List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            if (method.ContainingType is not { } type) return false;
            string shapeName = method.Name + ShapeClassSuffix;
            for (var current = type; current is not null; current = current.BaseType)
            {
                foreach (var member in current.GetMembers(shapeName))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    bool inherited = !SymbolEqualityComparer.Default.Equals(current, type);
                    if (inherited && member.DeclaredAccessibility == Accessibility.Private) continue;
                    if (member.DeclaringSyntaxReferences.Length > 0 && member.DeclaringSyntaxReferences.All(IsGenerated)) continue;
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ShapeNameTaken, LocationInfo.From(syntax.Identifier),
                        method.Name, shapeName, inherited ? "inherits" : "declares", current.Name));
                    return false;
                }
            }

            return !OtherKernelsNamedAlike(method).Any(other => Precedes(other, syntax));
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
            type is { Name: "GeneratedConvTranspose2DAttribute" or AttributeClassName1D or AttributeClassName3D, ContainingNamespace: { Name: "KernelGen", ContainingNamespace.IsGlobalNamespace: true } };

        /// <summary>The parameters' roles in the order the kernel takes them.</summary>
        private static readonly string[] RolesWithBias = { "input", "weights", "bias", "output" };

        private static readonly string[] RolesWithoutBias = { "input", "weights", "output" };

        /// <summary>
        /// Which parameter plays which role (input, weights, [bias,] output): by name when every parameter is named after a
        /// role, in any order; else by position, when no parameter is named after another position's role (a
        /// <c>(weights, input, output)</c> method must never silently read its weights as the input). Null when neither holds.
        /// </summary>
        public static int[]? BindParameters(IMethodSymbol method)
        {
            var parameters = method.Parameters;
            string[] roles = parameters.Length == 4 ? RolesWithBias : RolesWithoutBias;
            if (parameters.Length != roles.Length) return null;
            var byName = new int[roles.Length];
            bool allNamed = true;
            for (int role = 0; role < roles.Length; role++)
            {
                byName[role] = -1;
                for (int i = 0; i < parameters.Length; i++)
                {
                    if (parameters[i].Name == roles[role]) byName[role] = i;
                }

                allNamed &= byName[role] >= 0;
            }

            if (allNamed) return byName;
            for (int i = 0; i < parameters.Length; i++)
            {
                int role = Array.IndexOf(roles, parameters[i].Name);
                if (role >= 0 && role != i) return null;
            }

            return Enumerable.Range(0, roles.Length).ToArray();
        }

        /// <summary>Checks <c>void (ReadOnlySpan&lt;float&gt;, ReadOnlySpan&lt;float&gt;, [ReadOnlySpan&lt;float&gt;,] Span&lt;float&gt;)</c>, all by value, the parameters bound to their roles.</summary>
        private static bool CheckSignature(IMethodSymbol method, MethodDeclarationSyntax syntax, List<DiagnosticInfo> diagnostics)
        {
            string? problem = null;
            SyntaxNode location = syntax.ParameterList;
            int[]? roles = method.Parameters.Length is 3 or 4 ? BindParameters(method) : null;
            if (!method.ReturnsVoid || method.ReturnsByRef || method.ReturnsByRefReadonly)
            {
                problem = "returns " + method.ReturnType.ToDisplayString();
                location = syntax.ReturnType;
            }
            else if (method.Parameters.Length is not (3 or 4))
            {
                problem = "takes " + method.Parameters.Length.ToString(CultureInfo.InvariantCulture) + " parameter" + (method.Parameters.Length == 1 ? "" : "s");
            }
            else if (roles is null)
            {
                string[] names = method.Parameters.Length == 4 ? RolesWithBias : RolesWithoutBias;
                int misplaced = Enumerable.Range(0, method.Parameters.Length).First(i => Array.IndexOf(names, method.Parameters[i].Name) is int role && role >= 0 && role != i);
                problem = "has parameter '" + method.Parameters[misplaced].Name + "' in the place of the " + names[misplaced]
                    + " (parameters are bound by name when all of them are named " + string.Join(", ", names)
                    + ", in any order, else by position; mixing the two would read one span as another)";
                if (misplaced < syntax.ParameterList.Parameters.Count)
                    location = syntax.ParameterList.Parameters[misplaced];
            }
            else
            {
                int last = roles.Length - 1;
                for (int role = 0; role <= last && problem is null; role++)
                {
                    int i = roles[role];
                    var parameter = method.Parameters[i];
                    bool expectSpan = role == last;
                    if (!IsSpanOfFloat(parameter.Type, readOnly: !expectSpan))
                        problem = "has parameter '" + parameter.Name + "' of type " + parameter.Type.ToDisplayString();
                    else if (i == 0 && method.IsExtensionMethod)
                        problem = "has parameter '" + parameter.Name + "' with the 'this' modifier (an extension method)";
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

        /// <summary>
        /// The containing types, outermost first; reports those not declared partial (the generated part then makes the
        /// compiler say exactly that, CS0260) and file-local ones (no other file can add to them). Null when a type cannot
        /// be re-declared at all.
        /// </summary>
        private static List<ContainingType>? CollectContainingTypes(IMethodSymbol method, List<DiagnosticInfo> diagnostics,
            ref MethodShape shape, CancellationToken cancellationToken)
        {
            var types = new List<ContainingType>();
            for (var type = method.ContainingType; type is not null; type = type.ContainingType)
            {
                TypeDeclarationSyntax? first = null;
                foreach (var reference in type.DeclaringSyntaxReferences)
                {
                    // The program class of top-level statements is also declared by the compilation unit: skip that part.
                    if (reference.GetSyntax(cancellationToken) is not TypeDeclarationSyntax declaration)
                        continue;
                    first ??= declaration;
                    if (declaration.Modifiers.Any(SyntaxKind.FileKeyword))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.FileLocalType,
                            LocationInfo.From(declaration.Identifier), type.Name, method.Name));
                        shape = Worse(shape, MethodShape.CannotImplement);
                        return null;
                    }

                    if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ContainingTypeNotPartial,
                            LocationInfo.From(declaration.Identifier), type.Name, method.Name));
                        shape = Worse(shape, MethodShape.CompilerRejects);
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
            // In the order the kernel takes them (input, weights, [bias,] output), once bound; as declared for a throwing body.
            var parameters = (BindParameters(method) ?? Enumerable.Range(0, method.Parameters.Length).ToArray())
                .Select(i => Escape(method.Parameters[i].Name)).ToArray();

            // Metadata names (Outer+Inner`1) are unique per type; the generator makes the file name from this.
            var fullName = new StringBuilder();
            if (ns.Length > 0) fullName.Append(ns).Append('.');
            var chain = new List<INamedTypeSymbol>();
            for (var type = method.ContainingType; type is not null; type = type.ContainingType) chain.Insert(0, type);
            for (int i = 0; i < chain.Count; i++)
            {
                if (i > 0) fullName.Append('+');
                fullName.Append(chain[i].MetadataName);
            }

            fullName.Append('.').Append(method.Name);
            bool nullableDirectives = syntax.SyntaxTree.Options is not CSharpParseOptions options || options.LanguageVersion >= LanguageVersion.CSharp8;
            return new KernelTarget(ns, new EquatableArray<ContainingType>(types), Escape(method.Name), ImplementingDeclaration(method, syntax),
                AccessibilityText(method.DeclaredAccessibility), new EquatableArray<string>(parameters), fullName.ToString(), nullableDirectives,
                DeclaresMethodImpl: DeclaresMethodImpl(method, syntax));
        }

        /// <summary>
        /// Whether <c>Vector128.MultiplyAddEstimate</c> exists (.NET 9 and later; its Vector256 and Vector512 siblings came
        /// with it): the JIT makes it the FMA instruction where the hardware has one, a multiply and an add elsewhere.
        /// </summary>
        private static bool HasMultiplyAddEstimate(Compilation? compilation) =>
            compilation?.GetTypeByMetadataName("System.Runtime.Intrinsics.Vector128") is { } vector128
            && vector128.GetMembers("MultiplyAddEstimate").Any(member => member is IMethodSymbol { IsStatic: true, Parameters.Length: 3 });

        /// <summary>Whether the user's own declaration (not the generated part, whose attributes a partial method merges in) has a <c>[MethodImpl]</c>.</summary>
        private static bool DeclaresMethodImpl(IMethodSymbol method, MethodDeclarationSyntax syntax) =>
            method.GetAttributes().Any(attribute =>
                attribute.AttributeClass is { Name: "MethodImplAttribute", ContainingNamespace: { Name: "CompilerServices", ContainingNamespace: { Name: "Runtime", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } } }
                && attribute.ApplicationSyntaxReference is { } reference
                && reference.SyntaxTree == syntax.SyntaxTree && syntax.Span.Contains(reference.Span));

        /// <summary>The method's declaration as its implementing part must repeat it, with <c>partial</c> and fully qualified types.</summary>
        private static string ImplementingDeclaration(IMethodSymbol method, MethodDeclarationSyntax syntax)
        {
            var text = new StringBuilder();
            foreach (var modifier in syntax.Modifiers)
            {
                if (!modifier.IsKind(SyntaxKind.PartialKeyword)) text.Append(modifier.Text).Append(' ');
            }

            text.Append("partial ");
            if (method.ReturnsByRefReadonly) text.Append("ref readonly ");
            else if (method.ReturnsByRef) text.Append("ref ");
            text.Append(method.ReturnsVoid ? "void" : method.ReturnType.ToDisplayString(TypeFormat)).Append(' ').Append(Escape(method.Name));
            if (method.TypeParameters.Length > 0)
                text.Append('<').Append(string.Join(", ", method.TypeParameters.Select(p => Escape(p.Name)))).Append('>');
            text.Append('(');
            for (int i = 0; i < method.Parameters.Length; i++)
            {
                var p = method.Parameters[i];
                if (i > 0) text.Append(", ");
                if (i == 0 && method.IsExtensionMethod) text.Append("this ");
                if (p.ScopedKind != ScopedKind.None) text.Append("scoped ");
                text.Append(p.RefKind switch
                {
                    RefKind.Ref => "ref ",
                    RefKind.Out => "out ",
                    RefKind.In => "in ",
                    RefKind.None => "",
                    _ => "ref readonly ",
                });
                if (p.IsParams) text.Append("params ");
                text.Append(p.Type.ToDisplayString(TypeFormat)).Append(' ').Append(Escape(p.Name));
            }

            text.Append(')');
            foreach (var p in method.TypeParameters)
            {
                var constraints = new List<string>();
                if (p.HasReferenceTypeConstraint)
                    constraints.Add(p.ReferenceTypeConstraintNullableAnnotation == NullableAnnotation.Annotated ? "class?" : "class");
                if (p.HasValueTypeConstraint && !p.HasUnmanagedTypeConstraint) constraints.Add("struct");
                if (p.HasUnmanagedTypeConstraint) constraints.Add("unmanaged");
                if (p.HasNotNullConstraint) constraints.Add("notnull");
                constraints.AddRange(p.ConstraintTypes.Select(t => t.ToDisplayString(TypeFormat)));
                if (p.HasConstructorConstraint) constraints.Add("new()");
                if (constraints.Count > 0)
                    text.Append(" where ").Append(Escape(p.Name)).Append(" : ").Append(string.Join(", ", constraints));
            }

            return text.ToString();
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

        private static ShapeConstants Constants(KernelSpec s) =>
            new(s.InChannels, s.OutChannels, s.Groups, s.InputHeight, s.InputWidth, s.OutputHeight, s.OutputWidth,
                s.InputLength, s.WeightsLength, s.HasBias ? s.OutChannels : 0, s.OutputLength, s.Rank, s.InputDepth, s.OutputDepth);

        /// <summary>
        /// Sizes for a declaration that cannot be implemented: each as declared or derived where that gives a valid size,
        /// else 1 (never 0: a division by a constant 0 in the user's code would be one more compiler error to decode).
        /// </summary>
        private static ShapeConstants PlaceholderConstants(AttributeData attribute, bool hasBias)
        {
            long Arg(int index) =>
                index < attribute.ConstructorArguments.Length && attribute.ConstructorArguments[index].Value is int value ? value : 1;
            var named = new Dictionary<string, TypedConstant>(StringComparer.Ordinal);
            foreach (var pair in attribute.NamedArguments) named[pair.Key] = pair.Value;
            int groupsArgument = named.TryGetValue("Groups", out var g) && g.Value is int gv ? gv : 1;
            int rank = RankOf(attribute);
            // The spatial constructor arguments start at index 2: (length), (height, width) or (depth, height, width).
            long inChannels = Arg(0), outChannels = Arg(1);
            long inputDepth = rank == 3 ? Arg(2) : 1, inputHeight = rank == 1 ? 1 : rank == 3 ? Arg(3) : Arg(2), inputWidth = rank == 1 ? Arg(2) : rank == 3 ? Arg(4) : Arg(3);
            int kernelSize = (int)Arg(rank + 2);
            var depth = rank == 3 ? DepthAxis(named, kernelSize).Geometry : UnitAxis.Geometry;
            var height = rank == 1 ? UnitAxis.Geometry : new AxisArguments(named, "Height", "Top", "Bottom", kernelSize).Geometry;
            var width = rank == 1 ? LengthAxis(named, kernelSize).Geometry : new AxisArguments(named, "Width", "Left", "Right", kernelSize).Geometry;
            int Size(long value) => value >= 1 && value <= int.MaxValue ? (int)value : 1;
            int inC = Size(inChannels), outC = Size(outChannels), groups = Size(groupsArgument), inD = Size(inputDepth), inH = Size(inputHeight), inW = Size(inputWidth);
            int outPerGroup = outC % groups == 0 ? outC / groups : outC;
            int outD = Size(depth.OutputLength(inD)), outH = Size(height.OutputLength(inH)), outW = Size(width.OutputLength(inW));
            return new ShapeConstants(inC, outC, groups, inH, inW, outH, outW, Size(Product(inC, inD, inH, inW)),
                Size(Product(inC, outPerGroup, Size(depth.Kernel), Size(height.Kernel), Size(width.Kernel))), hasBias ? outC : 0,
                Size(Product(outC, outD, outH, outW)), rank, inD, outD);
        }

        /// <summary>Reads and validates the attribute's arguments. Null when they are half-typed (no diagnostic) or invalid (diagnostics added).</summary>
        private static KernelSpec? ParseAttribute(AttributeData attribute, AttributeSyntax syntax, string methodName, bool hasBias, List<DiagnosticInfo> diagnostics)
        {
            int rank = RankOf(attribute);
            var constructorParameters = rank == 1 ? ConstructorParameters1D : rank == 3 ? ConstructorParameters3D : ConstructorParameters;
            if (attribute.AttributeConstructor is null || attribute.ConstructorArguments.Length != constructorParameters.Length)
                return null;
            var ctor = new int[constructorParameters.Length];
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

            // A 1-D layer is a 2-D one of height 1: a unit height axis, and the length on the width axis, under 1-D names.
            // A 3-D layer adds the depth axis in front; 1-D and 2-D layers have a unit one.
            int inChannels = ctor[0], outChannels = ctor[1];
            int inputDepth = rank == 3 ? ctor[2] : 1;
            int inputHeight = rank == 1 ? 1 : ctor[ctor.Length - 3], inputWidth = ctor[ctor.Length - 2], kernelSize = ctor[ctor.Length - 1];
            var axisD = rank == 3 ? DepthAxis(named, kernelSize) : UnitAxis;
            var axisH = rank == 1 ? UnitAxis : new AxisArguments(named, "Height", "Top", "Bottom", kernelSize);
            var axisW = rank == 1 ? LengthAxis(named, kernelSize) : new AxisArguments(named, "Width", "Left", "Right", kernelSize);
            if (!axisD.Complete || !axisH.Complete || !axisW.Complete) return null;
            int groups = IntOr(named, "Groups", 1, out bool groupsOk);
            int layout = IntOr(named, "Layout", 0, out bool layoutOk);
            int activation = IntOr(named, "Activation", 0, out bool activationOk);
            int budget = IntOr(named, "UnrollBudget", 0, out bool budgetOk);
            bool autoPadGiven = named.ContainsKey("AutoPad");
            int autoPad = IntOr(named, "AutoPad", 0, out bool autoPadOk);
            float slope = 0.01f;
            bool slopeOk = true;
            if (named.TryGetValue("LeakyReluSlope", out var slopeArgument))
            {
                if (slopeArgument.Value is float f) slope = f;
                else slopeOk = false;
            }

            if (!(groupsOk && layoutOk && activationOk && budgetOk && slopeOk && autoPadOk)) return null;

            int before = diagnostics.Count;
            void Violation(RuleViolation? violation)
            {
                if (violation is { } v)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidGeometry, ArgumentLocation(syntax, v.Parameter, rank), v.Message));
            }

            Violation(ConvTransposeRules.CheckChannels(inChannels, outChannels, groups, "inChannels", "outChannels", "Groups"));
            if (rank == 1)
            {
                Violation(ConvTransposeRules.CheckInputSize(inputWidth, "inputLength"));
            }
            else
            {
                if (rank == 3) Violation(ConvTransposeRules.CheckInputSize(inputDepth, "inputDepth"));
                Violation(ConvTransposeRules.CheckInputSize(inputHeight, "inputHeight"));
                Violation(ConvTransposeRules.CheckInputSize(inputWidth, "inputWidth"));
            }

            AxisGeometry depthAxis = axisD.Geometry, heightAxis = axisH.Geometry, widthAxis = axisW.Geometry;
            var depthViolation = rank == 3 ? ConvTransposeRules.CheckAxis(depthAxis, axisD.Names) : null;
            var heightViolation = ConvTransposeRules.CheckAxis(heightAxis, axisH.Names);
            var widthViolation = ConvTransposeRules.CheckAxis(widthAxis, axisW.Names);
            Violation(depthViolation);
            Violation(heightViolation);
            Violation(widthViolation);
            Violation(CheckPaddingForms(named, rank, axisD, axisH, axisW, autoPadGiven, autoPad));
            if (layout is not (0 or 1))
            {
                Violation(new RuleViolation("Layout", layout, rank switch
                {
                    1 => "it must be TensorLayout.Ncl or TensorLayout.Nlc",
                    3 => "it must be TensorLayout.Ncdhw or TensorLayout.Ndhwc",
                    _ => "it must be TensorLayout.Nchw or TensorLayout.Nhwc",
                }));
            }
            if (activation is < 0 or > 4)
                Violation(new RuleViolation("Activation", activation, "it must be FusedActivation.None, Relu, LeakyRelu, Sigmoid or Tanh"));
            Violation(ConvTransposeRules.CheckLeakyReluSlope(slope, "LeakyReluSlope"));

            if (budget < 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidUnrollBudget, ArgumentLocation(syntax, "UnrollBudget", rank),
                    budget.ToString(CultureInfo.InvariantCulture), Strategy.KernelPlanner.DefaultUnrollBudget.ToString(CultureInfo.InvariantCulture)));
            }

            if (diagnostics.Count > before) return null;

            // A requested output size: ONNX's output_shape / auto_pad derive the padding, PyTorch's output_size the output padding.
            if (rank == 3) Violation(ResolveOutputSize(axisD, inputDepth, autoPadGiven, (AutoPadMode)autoPad, out depthAxis));
            Violation(ResolveOutputSize(axisH, inputHeight, autoPadGiven, (AutoPadMode)autoPad, out heightAxis));
            Violation(ResolveOutputSize(axisW, inputWidth, autoPadGiven, (AutoPadMode)autoPad, out widthAxis));
            if (diagnostics.Count > before) return null;

            // The size caps on the per-axis parameters, then the output size rule and the element caps (only once every
            // parameter is valid and bounded, so the arithmetic means something).
            if (rank == 3) CheckAxisCap(depthViolation, axisD, methodName, syntax, diagnostics, rank);
            CheckAxisCap(heightViolation, axisH, methodName, syntax, diagnostics, rank);
            CheckAxisCap(widthViolation, axisW, methodName, syntax, diagnostics, rank);
            if (diagnostics.Count > before) return null;

            if (rank == 3) CheckOutputAxis(depthAxis, inputDepth, "depth", "inputDepth", methodName, syntax, diagnostics, rank);
            CheckOutputAxis(heightAxis, inputHeight, "height", "inputHeight", methodName, syntax, diagnostics, rank);
            CheckOutputAxis(widthAxis, inputWidth, rank == 1 ? "length" : "width", rank == 1 ? "inputLength" : "inputWidth", methodName, syntax, diagnostics, rank);
            if (diagnostics.Count > before) return null;

            long outputDepth = depthAxis.OutputLength(inputDepth), outputHeight = heightAxis.OutputLength(inputHeight), outputWidth = widthAxis.OutputLength(inputWidth);
            CheckElements("the input", Product(inChannels, inputDepth, inputHeight, inputWidth), methodName, syntax, diagnostics);
            CheckElements("the weights", Product(inChannels, outChannels / groups, depthAxis.Kernel, heightAxis.Kernel, widthAxis.Kernel), methodName, syntax, diagnostics);
            CheckElements("the output", Product(outChannels, outputDepth, outputHeight, outputWidth), methodName, syntax, diagnostics);
            if (diagnostics.Count > before) return null;

            return new KernelSpec(inChannels, outChannels, groups, inputHeight, inputWidth,
                heightAxis.Kernel, widthAxis.Kernel, heightAxis.Stride, widthAxis.Stride, heightAxis.PadBegin, heightAxis.PadEnd,
                widthAxis.PadBegin, widthAxis.PadEnd, heightAxis.OutputPadding, widthAxis.OutputPadding, heightAxis.Dilation, widthAxis.Dilation,
                layout == 1, (KernelActivation)activation, slope, hasBias, budget, rank,
                inputDepth, depthAxis.Kernel, depthAxis.Stride, depthAxis.PadBegin, depthAxis.PadEnd, depthAxis.OutputPadding, depthAxis.Dilation);
        }

        /// <summary>
        /// The padding is given one way: per side (ONNX's pads) or symmetric (PyTorch's), never both; derived by
        /// <c>AutoPad</c> (other than NotSet) or given; and a requested output size (PyTorch's rule) comes without an output
        /// padding, which it derives.
        /// </summary>
        private static RuleViolation? CheckPaddingForms(Dictionary<string, TypedConstant> named, int rank, AxisArguments depth, AxisArguments height,
            AxisArguments width, bool autoPadGiven, int autoPad)
        {
            string[] symmetric = rank switch
            {
                1 => new[] { "Padding" },
                3 => new[] { "Padding", "PaddingDepth", "PaddingHeight", "PaddingWidth" },
                _ => new[] { "Padding", "PaddingHeight", "PaddingWidth" },
            };
            string[] perSide = rank switch
            {
                1 => new[] { "PaddingBegin", "PaddingEnd" },
                3 => new[] { "PaddingFront", "PaddingTop", "PaddingLeft", "PaddingBack", "PaddingBottom", "PaddingRight" },
                _ => new[] { "PaddingTop", "PaddingLeft", "PaddingBottom", "PaddingRight" },
            };
            string? firstSymmetric = symmetric.FirstOrDefault(named.ContainsKey), firstPerSide = perSide.FirstOrDefault(named.ContainsKey);
            if (firstSymmetric is not null && firstPerSide is not null)
            {
                return new RuleViolation(firstPerSide, IntOr(named, firstPerSide, 0, out _),
                    "it cannot be combined with " + firstSymmetric + ": give the padding per side (" + string.Join(", ", perSide)
                    + "; a side not given is 0) or symmetric (" + string.Join(", ", symmetric) + ")");
            }

            if (autoPadGiven && (autoPad < 0 || autoPad > 3))
                return new RuleViolation("AutoPad", autoPad, "it must be OnnxAutoPad.NotSet, SameUpper, SameLower or Valid");
            if (autoPadGiven && autoPad != 0 && (firstSymmetric ?? firstPerSide) is { } padding)
            {
                return new RuleViolation("AutoPad", autoPad, "it derives the padding (as ONNX's auto_pad does), so " + padding
                    + " may not be set too; remove one of them");
            }

            foreach (var axis in rank == 3 ? new[] { depth, height, width } : new[] { height, width })
            {
                if (axis.RequestedOutput < 0)
                    return new RuleViolation(axis.OutputName, axis.RequestedOutput, "it must be 0 (none requested) or at least 1");
                if (!autoPadGiven && axis.RequestedOutput > 0 && axis.OutputPaddingGiven)
                {
                    return new RuleViolation(axis.OutputName, axis.RequestedOutput, "it derives the output padding (as PyTorch's output_size does), so "
                        + axis.Names.OutputPadding + " may not be set too; remove one of them, or set AutoPad to derive the padding instead (ONNX's output_shape)");
                }
            }

            return null;
        }

        /// <summary>The axis with its requested output size (if any) resolved into padding (ONNX) or output padding (PyTorch).</summary>
        private static RuleViolation? ResolveOutputSize(AxisArguments axis, int input, bool autoPadGiven, AutoPadMode autoPad, out AxisGeometry resolved)
        {
            resolved = axis.Geometry;
            long? requested = axis.RequestedOutput > 0 ? axis.RequestedOutput : null;
            if (autoPadGiven)
                return OutputSizeRules.ForOnnx(axis.Geometry, input, autoPad, requested, axis.OutputName, out resolved);
            return requested is { } size ? OutputSizeRules.ForOutputSize(axis.Geometry, input, size, axis.OutputName, out resolved) : null;
        }

        private static void CheckOutputAxis(AxisGeometry axis, int input, string axisName, string inputName, string methodName, AttributeSyntax syntax,
            List<DiagnosticInfo> diagnostics, int rank)
        {
            long output = axis.OutputLength(input);
            if (output < 1)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.OutputTooSmall, ArgumentLocation(syntax, inputName, rank),
                    axisName, Text(output), Text(input), Text(axis.Stride), Text(axis.PadBegin), Text(axis.PadEnd), Text(axis.Dilation), Text(axis.Kernel),
                    Text(axis.OutputPadding)));
            }
            else if (output > MaxOutputAxisLength)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TooLarge, ArgumentLocation(syntax, inputName, rank), methodName,
                    "the output " + axisName + " would be " + Text(output) + ", above the cap of " + Text(MaxOutputAxisLength) + " per axis"));
            }
        }

        private static void CheckAxisCap(RuleViolation? violation, AxisArguments axis, string methodName, AttributeSyntax syntax, List<DiagnosticInfo> diagnostics,
            int rank)
        {
            if (violation is not null) return;
            void Cap(string name, int value)
            {
                if (value > MaxAxisParameter)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TooLarge, ArgumentLocation(syntax, name, rank), methodName,
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
        private static LocationInfo? ArgumentLocation(AttributeSyntax syntax, string parameter, int rank)
        {
            var arguments = syntax.ArgumentList?.Arguments;
            if (arguments is null) return LocationInfo.From(syntax);
            // kernelSize is the last constructor parameter of every rank; inputLength is the 1-D attribute's third.
            int position = parameter == "kernelSize" ? arguments.Value.Count(a => a.NameEquals is null) - 1
                : parameter == "inputLength" ? 2
                : Array.IndexOf(rank == 3 ? ConstructorParameters3D : ConstructorParameters, parameter);
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

        /// <summary>The depth axis of a 3-D layer: <c>KernelDepth</c>, <c>StrideDepth</c>, <c>PaddingDepth</c> or <c>PaddingFront</c>/<c>PaddingBack</c>, ..., <c>OutputDepth</c>.</summary>
        private static AxisArguments DepthAxis(Dictionary<string, TypedConstant> named, int kernelSize) =>
            new(named, "Depth", "Front", "Back", kernelSize);

        /// <summary>The height axis of a 1-D layer (and the depth axis of 1-D and 2-D ones): kernel 1, stride 1, no padding.</summary>
        private static readonly AxisArguments UnitAxis = new(new Dictionary<string, TypedConstant>(), "Height", "Top", "Bottom", 1);

        /// <summary>The 1-D attribute's axis: <c>Stride</c>, <c>Padding</c> or <c>PaddingBegin</c>/<c>PaddingEnd</c>, <c>OutputPadding</c>, <c>Dilation</c>, <c>OutputLength</c>.</summary>
        private static AxisArguments LengthAxis(Dictionary<string, TypedConstant> named, int kernelSize) =>
            new(named, "", "Begin", "End", kernelSize, "OutputLength");

        /// <summary>
        /// One axis's parameters: the per-axis property if set, else the square one, else the default; the padding either
        /// symmetric (<c>Padding</c>, <c>Padding{Axis}</c>) or per side (<c>Padding{Begin}</c>, <c>Padding{End}</c>); the
        /// requested output size; and the names that set them.
        /// </summary>
        private sealed class AxisArguments
        {
            public AxisArguments(Dictionary<string, TypedConstant> named, string axis, string beginSide, string endSide, int kernelSize,
                string? outputName = null)
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

                int Side(string name, out bool given)
                {
                    given = named.TryGetValue(name, out var side);
                    if (!given) return 0;
                    if (side.Value is int v) return v;
                    Complete = false;
                    return 0;
                }

                int kernel = Pick("kernelSize", "Kernel" + axis, kernelSize, out string kernelName);
                int stride = Pick("Stride", "Stride" + axis, 1, out string strideName);
                int padding = Pick("Padding", "Padding" + axis, 0, out string paddingName);
                int outputPadding = Pick("OutputPadding", "OutputPadding" + axis, 0, out string outputPaddingName);
                int dilation = Pick("Dilation", "Dilation" + axis, 1, out string dilationName);
                int begin = Side("Padding" + beginSide, out bool beginGiven), end = Side("Padding" + endSide, out bool endGiven);
                PerSide = beginGiven || endGiven;
                string beginName = paddingName, endName = paddingName;
                if (PerSide)
                    (beginName, endName) = ("Padding" + beginSide, "Padding" + endSide);
                else
                    (begin, end) = (padding, padding);

                OutputName = outputName ?? "Output" + axis;
                RequestedOutput = Side(OutputName, out _);
                OutputPaddingGiven = named.ContainsKey("OutputPadding") || named.ContainsKey("OutputPadding" + axis);
                Geometry = new AxisGeometry(kernel, stride, begin, end, outputPadding, dilation);
                Names = new AxisParameterNames(kernelName, strideName, beginName, endName, outputPaddingName, dilationName);
            }

            public bool Complete { get; private set; }

            /// <summary>The padding was given per side (<c>PaddingTop</c>, ...).</summary>
            public bool PerSide { get; }

            /// <summary>The requested output size (0: none), and the property that set it.</summary>
            public int RequestedOutput { get; }

            public string OutputName { get; }

            public bool OutputPaddingGiven { get; }

            public AxisGeometry Geometry { get; }

            public AxisParameterNames Names { get; }
        }
    }
}
