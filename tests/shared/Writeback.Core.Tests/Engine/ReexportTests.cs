using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Ledger;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

/// <summary>
/// Invariant 8 in the ledger: every export is its own batch, the ordering rule (sequence) decides what the table
/// shows, a re-export of the content already applied costs nothing, and a failed batch can be prepared again.
/// </summary>
public sealed class ReexportTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    private static IReadOnlyList<ScoreRow> Corrected(IReadOnlyList<ScoreRow> rows) => [.. rows.Select((r, i) => i % 3 == 0 ? r with { Minutes = r.Minutes + 5 } : r)];

    private Task<string> Status(string batchId) =>
        ScalarAsync<string>(database.ConnectionString, $"SELECT status FROM writeback.batches WHERE batch_id = '{batchId}'");

    [Theory]
    [InlineData(LoadMode.ReplacePartition)]
    [InlineData(LoadMode.Upsert)]
    [InlineData(LoadMode.Mirror)]
    public async Task A_then_B_then_A_again_ends_at_A_with_the_table_equal_to_As_rows(LoadMode mode)
    {
        var name = "aba_" + mode.ToString().ToLowerInvariant();
        var target = ScoresTarget(name, mode);
        var engine = CreateEngine(database.ConnectionString, target);
        var a = Scores(Day1, 300);
        await RunAsync(engine, await _batches.WriteScoresAsync(name + "-a1", target.Dataset, [a], "2026-11-01", sequence: 1));
        var asA = await TableDigestAsync(database.ConnectionString, target.Table);
        await RunAsync(engine, await _batches.WriteScoresAsync(name + "-b2", target.Dataset, [Corrected(a)], "2026-11-01", sequence: 2));
        Assert.NotEqual(asA, await TableDigestAsync(database.ConnectionString, target.Table));

        // The correction is reverted: the aggregate exports A's content again, as a new batch with a later sequence.
        var result = await RunAsync(engine, await _batches.WriteScoresAsync(name + "-a3", target.Dataset, [a], "2026-11-01", sequence: 3));

        Assert.Equal(PublishStatus.Applied, result.Status);
        Assert.Equal(100, result.Updated);
        Assert.Equal(asA, await TableDigestAsync(database.ConnectionString, target.Table));
        Assert.Equal(name + "-a3", await ScalarAsync<string>(database.ConnectionString, $"SELECT batch_id FROM writeback.watermarks WHERE target = '{target.Table}'"));
    }

    [Fact]
    public async Task A_re_export_of_the_content_already_applied_is_recorded_as_applied_without_loading()
    {
        var target = ScoresTarget("rerun", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        await RunAsync(engine, await _batches.WriteScoresAsync("rerun-1", target.Dataset, [Scores(Day1, 200)], "2026-11-01", sequence: 1));
        var xmin = await ScalarAsync<string>(database.ConnectionString, "SELECT string_agg(xmin::text, ',' ORDER BY id) FROM test.rerun");

        var manifest = await _batches.WriteScoresAsync("rerun-2", target.Dataset, [Scores(Day1, 200)], "2026-11-01", sequence: 2);
        var prepared = await engine.PrepareAsync(manifest, "rerun-2", target.Dataset, default);

        Assert.Equal(PrepareAction.Applied, prepared.Action);
        Assert.Contains("same content as the applied batch 'rerun-1'", prepared.Reason, StringComparison.Ordinal);
        Assert.Equal("applied", await Status("rerun-2"));
        Assert.False(await ScalarAsync<bool>(database.ConnectionString, $"SELECT to_regclass('{LedgerSchema.StagingTable("rerun-2")}') IS NOT NULL"));
        Assert.Equal("0/0/0/200", await ScalarAsync<string>(database.ConnectionString,
            "SELECT concat_ws('/', inserted, updated, deleted, unchanged) FROM writeback.batches WHERE batch_id = 'rerun-2'"));
        Assert.Equal(xmin, await ScalarAsync<string>(database.ConnectionString, "SELECT string_agg(xmin::text, ',' ORDER BY id) FROM test.rerun"));
        Assert.Equal(2L, await ScalarAsync<long>(database.ConnectionString, "SELECT sequence FROM writeback.watermarks WHERE target = 'test.rerun'"));
    }

    [Fact]
    public async Task After_a_re_export_of_the_applied_content_an_older_export_is_still_refused()
    {
        var target = ScoresTarget("rerun_order", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var a = Scores(Day1, 50);
        await RunAsync(engine, await _batches.WriteScoresAsync("ro-a1", target.Dataset, [a], "2026-11-01", sequence: 1));
        await RunAsync(engine, await _batches.WriteScoresAsync("ro-a3", target.Dataset, [a], "2026-11-01", sequence: 3));
        var asA = await TableDigestAsync(database.ConnectionString, target.Table);

        // B was exported between the two (sequence 2) and arrives late: the newest export says A.
        var late = await RunAsync(engine, await _batches.WriteScoresAsync("ro-b2", target.Dataset, [Corrected(a)], "2026-11-01", sequence: 2));

        Assert.Equal(PublishStatus.Skipped, late.Status);
        Assert.Contains("ro-a3", late.Reason, StringComparison.Ordinal);
        Assert.Equal(asA, await TableDigestAsync(database.ConnectionString, target.Table));
    }

    [Fact]
    public async Task A_failed_batch_prepared_again_by_a_new_attempt_is_applied()
    {
        var target = ScoresTarget("retry", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var manifest = await _batches.WriteScoresAsync("retry-1", target.Dataset, [Scores(Day1, 40), Scores(Day1, 60, firstId: 41)], "2026-11-01", sequence: 1);
        await engine.PrepareAsync(manifest, "retry-1", target.Dataset, default);
        await engine.LoadShardAsync(manifest, "retry-1", 0, default);
        await engine.CleanupAsync(manifest, "retry-1", "Lambda.Unknown: the writer crashed", default);
        Assert.Equal("failed", await Status("retry-1"));

        var result = await RunAsync(engine, manifest);

        Assert.Equal(new PublishResult("retry-1", PublishStatus.Applied, 100, 0, 0, 0, null), result);
        Assert.Equal(100L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.retry"));
    }
}
