namespace KernelGen.Samples.Tests.Infrastructure;

/// <summary>
/// The tests that build in child processes (packing, NativeAOT publishing) run one after the other, not in parallel with
/// each other: each is a full build that keeps both cores of a small machine busy on its own. They share one packed package.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ChildBuildCollection : ICollectionFixture<PackedPackage>
{
    public const string Name = "Child-process builds";
}
