using KernelGen.Generator.Strategy;

namespace KernelGen.Generator.Tests;

/// <summary>
/// The planner's recent plans (the generator and the KernelGen analyzer plan each declaration in one compiler process): a
/// plan is reused only for an equal spec and budget, is the plan planning anew makes, and the cache stays bounded.
/// </summary>
[Collection(nameof(PlanCacheTests))]
public class PlanCacheTests
{
    private static readonly KernelCase Dcgan = KernelCase.Square(128, 64, 16, 16, 4, stride: 2, padding: 1);

    [Fact]
    public void AnEqualSpecAndBudgetGetTheSamePlanAndAnyDifferenceAnother()
    {
        var first = KernelPlanner.Plan(PlannerTests.Spec(Dcgan), 0);
        Assert.Same(first, KernelPlanner.Plan(PlannerTests.Spec(Dcgan), 0));

        // Another project budget, or a spec that differs in one field, plans anew.
        var budgeted = KernelPlanner.Plan(PlannerTests.Spec(Dcgan), 100_000);
        Assert.NotSame(first, budgeted);
        Assert.NotEqual(first.Budget, budgeted.Budget);
        var relu = KernelPlanner.Plan(PlannerTests.Spec(Dcgan with { Activation = FusedActivation.Relu }), 0);
        Assert.NotSame(first, relu);
        Assert.Equal(KernelGen.Generator.Model.KernelActivation.Relu, relu.Spec.Activation);
    }

    [Fact]
    public void AKeptPlanIsThePlanPlanningAnewMakes()
    {
        foreach (var c in new[] { Dcgan, KernelCase.Square(4, 4, 8, 8, 3, stride: 2, padding: 1, outputPadding: 1) })
        {
            var kept = KernelPlanner.Plan(PlannerTests.Spec(c), 0);
            var anew = KernelPlanner.PlanAnew(PlannerTests.Spec(c), 0);
            Assert.NotSame(kept, anew);
            Assert.Equal(anew.Strategy, kept.Strategy);
            Assert.Equal(anew.Level, kept.Level);
            Assert.Equal(anew.PathWidths, kept.PathWidths);
            Assert.Equal(anew.EmittedStatements, kept.EmittedStatements);
            Assert.Equal(anew.UnrolledStatements, kept.UnrolledStatements);
        }
    }

    [Fact]
    public void TheCacheNeverHoldsMoreThanItsLimit()
    {
        int limit = KernelPlanner.RecentPlanLimit;
        for (int i = 0; i < limit + 40; i++)
        {
            // Distinct small specs: 1 to 600 output channels of a 1-channel, 2 x 2 layer.
            KernelPlanner.Plan(PlannerTests.Spec(KernelCase.Square(1, 1 + i, 2, 2, 3, stride: 2)), 0);
            Assert.InRange(KernelPlanner.RecentPlanCount, 1, limit);
        }
    }
}

/// <summary>The cache is process-wide: these tests run alone, after every parallel test, so that no other test plans meanwhile.</summary>
[CollectionDefinition(nameof(PlanCacheTests), DisableParallelization = true)]
public class PlanCacheCollection
{
}
