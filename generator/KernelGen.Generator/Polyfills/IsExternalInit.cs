// netstandard2.0 lacks the types the C# compiler needs for records and init accessors; declaring them here is the
// standard polyfill (the compiler matches them by name).
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit
    {
    }
}
