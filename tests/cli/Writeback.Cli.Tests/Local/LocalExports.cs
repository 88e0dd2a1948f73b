using Writeback.Aggregate;
using Writeback.Aggregate.Warehouse;
using Writeback.Cli.Local;

namespace Writeback.Cli.Tests.Local;

/// <summary>The GCP side of tests against a local AWS side: a small sample warehouse and exports in a test's own folder.</summary>
internal static class LocalExports
{
    /// <summary>With <paramref name="publish"/>, the batch-ready event is pushed straight to the local trigger.</summary>
    public static LocalAggregateOptions Options(string state, DateOnly day, LocalAwsSide aws, bool publish)
    {
        var warehouse = Path.Combine(state, "warehouse.duckdb");
        SampleWarehouse.Ensure(warehouse, SampleWarehouse.DefaultSeed, WarehouseSize.Small, day);
        return new LocalAggregateOptions
        {
            WarehousePath = warehouse,
            OutputRoot = Path.Combine(state, "exports"),
            PushUrl = publish ? aws.TriggerUrl : null,
            PushAudience = aws.TriggerUrl.ToString(),
        };
    }
}

/// <summary>One export time for every run: the exporter then finds its own manifest and exports the same batch again.</summary>
internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
