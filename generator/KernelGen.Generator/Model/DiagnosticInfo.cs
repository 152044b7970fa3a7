using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace KernelGen.Generator.Model
{
    /// <summary>
    /// Where a diagnostic points, without a <see cref="Location"/> (which would pin a syntax tree in memory and compare by
    /// reference; see roslyn#68291). A <see cref="Location"/> is made again from it when the diagnostic is reported.
    /// </summary>
    internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
    {
        public static LocationInfo? From(Location? location) =>
            location is null || location.SourceTree is null
                ? null
                : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);

        public static LocationInfo? From(SyntaxNode? node) => node is null ? null : From(node.GetLocation());

        public static LocationInfo? From(SyntaxToken token) => From(token.GetLocation());
    }

    /// <summary>A diagnostic found by the declaration parser: its descriptor, where it points and its message arguments.</summary>
    internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> MessageArgs)
    {
        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] messageArgs) =>
            new(descriptor, location, new EquatableArray<string>(messageArgs));

        /// <summary>The message with its arguments filled in (for the body of a declaration that cannot be implemented).</summary>
        public string Message
        {
            get
            {
                var args = new object[MessageArgs.Count];
                for (int i = 0; i < args.Length; i++) args[i] = MessageArgs[i];
                return string.Format(System.Globalization.CultureInfo.InvariantCulture, Descriptor.MessageFormat.ToString(System.Globalization.CultureInfo.InvariantCulture), args);
            }
        }

        /// <summary>Makes the <see cref="Diagnostic"/>, pointing into the matching tree of <paramref name="compilation"/> so that <c>#pragma warning disable</c> applies.</summary>
        public Diagnostic ToDiagnostic(Compilation compilation)
        {
            Location location = Microsoft.CodeAnalysis.Location.None;
            if (Location is { } info)
            {
                location = Microsoft.CodeAnalysis.Location.Create(info.FilePath, info.Span, info.LineSpan);
                foreach (SyntaxTree tree in compilation.SyntaxTrees)
                {
                    if (tree.FilePath == info.FilePath)
                    {
                        location = Microsoft.CodeAnalysis.Location.Create(tree, info.Span);
                        break;
                    }
                }
            }

            var args = new object[MessageArgs.Count];
            for (int i = 0; i < args.Length; i++) args[i] = MessageArgs[i];
            return Diagnostic.Create(Descriptor, location, args);
        }
    }
}
