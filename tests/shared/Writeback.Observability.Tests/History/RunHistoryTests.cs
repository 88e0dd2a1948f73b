using Microsoft.Extensions.Time.Testing;
using Writeback.History;
using Writeback.Observability.Tests.Support;
using Writeback.Testing;

namespace Writeback.Observability.Tests.History;

public sealed class RunHistoryTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task The_schema_can_be_created_again_and_concurrently()
    {
        var histories = Enumerable.Range(0, 4).Select(_ => new RunHistory(database.ConnectionString)).ToArray();

        await Task.WhenAll(histories.Select(h => h.EnsureSchemaAsync()));
        await new RunHistory(database.ConnectionString).EnsureSchemaAsync();

        foreach (var history in histories)
        {
            await history.DisposeAsync();
        }
    }

    [Fact]
    public async Task Purging_removes_runs_and_their_steps_older_than_the_retention_and_keeps_the_rest()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 10, 1, 19, 0, 0, TimeSpan.Zero));
        await using var history = new RunHistory(database.ConnectionString, time);
        var runs = new SyntheticRuns(history, time);
        await runs.SucceedAsync("purge_ds", "purge-old", new DateOnly(2026, 10, 1));
        time.Advance(TimeSpan.FromDays(40));
        await runs.SucceedAsync("purge_ds", "purge-new", new DateOnly(2026, 11, 10));

        var purged = await history.PurgeAsync(TimeSpan.FromDays(30));

        Assert.Equal(1, purged);
        Assert.Equal(["purge-new"], (await history.RecentBatchesAsync(10, "purge_ds")).Select(b => b.BatchId));
        Assert.Empty(await history.StepsAsync(["purge-old"]));
        Assert.NotEmpty(await history.StepsAsync(["purge-new"]));
    }

    [Fact]
    public async Task Redelivered_events_count_as_deliveries_of_one_batch()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 19, 0, 0, TimeSpan.Zero));
        await using var history = new RunHistory(database.ConnectionString, time);
        var runs = new SyntheticRuns(history, time);

        await runs.TriggerAsync("redeliver_ds", "redelivered");
        time.Advance(TimeSpan.FromSeconds(10));
        await runs.TriggerAsync("redeliver_ds", "redelivered");

        var batch = Assert.Single(await history.RecentBatchesAsync(10, "redeliver_ds"));
        Assert.Equal((RunStatus.Triggered, 2), (batch.Status, batch.Deliveries));
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 19, 0, 0, TimeSpan.Zero), batch.TriggeredAt);
    }
}
