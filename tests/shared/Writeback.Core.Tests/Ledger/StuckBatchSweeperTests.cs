using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Ledger;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Ledger;

/// <summary>
/// Batches whose execution ended without cleanup (killed, timed out, over the history limit) are brought to a final
/// state: failed with a reason and staging dropped, so a redelivery retries them. Time passing is simulated by moving
/// the batch's prepared_at back; nothing here waits.
/// </summary>
public sealed class StuckBatchSweeperTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private static readonly TimeSpan Bound = StuckBatchSweeper.DefaultStuckAfter;

    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    private StuckBatchSweeper Sweeper() => new(NpgsqlDataSource.Create(database.ConnectionString));

    private Task Age(string batchId, TimeSpan by) =>
        ExecuteAsync(database.ConnectionString, $"UPDATE writeback.batches SET prepared_at = prepared_at - interval '{(long)by.TotalSeconds} seconds' WHERE batch_id = '{batchId}'");

    private Task<bool> StagingExists(string batchId) =>
        ScalarAsync<bool>(database.ConnectionString, $"SELECT to_regclass('{LedgerSchema.StagingTable(batchId)}') IS NOT NULL");

    /// <summary>An execution that prepared the batch and loaded one of two shards, then died before any Catch could run.</summary>
    private async Task<(LoadEngine Engine, string Manifest)> HalfLoadedAsync(string table, string batchId)
    {
        var target = ScoresTarget(table, LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var manifest = await _batches.WriteScoresAsync(batchId, target.Dataset, [Scores(Day1, 30), Scores(Day1, 20, firstId: 31)], "2026-11-01", sequence: 1);
        await engine.PrepareAsync(manifest, batchId, target.Dataset, default);
        await engine.LoadShardAsync(manifest, batchId, 0, default);
        return (engine, manifest);
    }

    [Fact]
    public async Task A_batch_left_prepared_past_the_bound_is_marked_failed_with_a_reason_and_its_staging_is_dropped()
    {
        await HalfLoadedAsync("stuck_one", "stuck-1");
        await Age("stuck-1", Bound + TimeSpan.FromMinutes(1));
        Assert.True(await StagingExists("stuck-1"));

        var swept = await Sweeper().SweepAsync(Bound);

        var stuck = Assert.Single(swept, s => s.BatchId == "stuck-1");
        Assert.Equal(("stuck_one", "prepared"), (stuck.Dataset, stuck.PreviousStatus));
        Assert.Equal("failed", await ScalarAsync<string>(database.ConnectionString, "SELECT status FROM writeback.batches WHERE batch_id = 'stuck-1'"));
        Assert.StartsWith("stuck: still prepared", await ScalarAsync<string>(database.ConnectionString, "SELECT error FROM writeback.batches WHERE batch_id = 'stuck-1'"), StringComparison.Ordinal);
        Assert.False(await StagingExists("stuck-1"));
        Assert.Equal(0L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM writeback.shards WHERE batch_id = 'stuck-1'"));
        Assert.DoesNotContain(await Sweeper().SweepAsync(Bound), s => s.BatchId == "stuck-1");
    }

    [Fact]
    public async Task A_stuck_batch_once_swept_is_applied_in_full_by_its_retry()
    {
        var (engine, manifest) = await HalfLoadedAsync("stuck_retry", "stuck-retry-1");
        await Age("stuck-retry-1", Bound + TimeSpan.FromHours(1));
        await Sweeper().SweepAsync(Bound);

        var result = await RunAsync(engine, manifest);

        Assert.Equal(new PublishResult("stuck-retry-1", PublishStatus.Applied, 50, 0, 0, 0, null), result);
        Assert.Equal(50L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.stuck_retry"));
    }

    [Fact]
    public async Task A_batch_within_the_bound_is_left_alone()
    {
        await HalfLoadedAsync("stuck_young", "stuck-young-1");
        await Age("stuck-young-1", Bound - TimeSpan.FromMinutes(10));

        Assert.DoesNotContain(await Sweeper().SweepAsync(Bound), s => s.BatchId == "stuck-young-1");
        Assert.Equal("prepared", await ScalarAsync<string>(database.ConnectionString, "SELECT status FROM writeback.batches WHERE batch_id = 'stuck-young-1'"));
        Assert.True(await StagingExists("stuck-young-1"));
    }

    [Fact]
    public async Task A_batch_prepared_again_by_a_new_attempt_counts_from_that_attempt()
    {
        var (engine, manifest) = await HalfLoadedAsync("stuck_reprepared", "stuck-re-1");
        await Age("stuck-re-1", Bound + TimeSpan.FromHours(1));

        // The redelivery's attempt prepares the batch before the sweep runs: it is live, not stuck.
        await engine.PrepareAsync(manifest, "stuck-re-1", "stuck_reprepared", default);

        Assert.DoesNotContain(await Sweeper().SweepAsync(Bound), s => s.BatchId == "stuck-re-1");
        Assert.True(await StagingExists("stuck-re-1"));
    }
}
