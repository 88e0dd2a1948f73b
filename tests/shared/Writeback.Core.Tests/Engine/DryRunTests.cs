using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

public sealed class DryRunTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    /// <summary>Every step a dry-run execution runs, in order: Prepare, the shards, Verify, Publish's preview, cleanup.</summary>
    private static async Task<(PrepareResult Prepared, PublishPreview? Preview)> DryRunAsync(LoadEngine engine, string manifest)
    {
        var prepared = await engine.PrepareAsync(manifest, null, null, default, dryRun: true);
        PublishPreview? preview = null;
        if (prepared.Action == PrepareAction.Load)
        {
            for (var i = 0; i < prepared.ShardCount; i++)
            {
                await engine.LoadShardAsync(manifest, prepared.BatchId, i, default);
            }

            await engine.VerifyAsync(manifest, prepared.BatchId, default);
            preview = await engine.PreviewPublishAsync(manifest, prepared.BatchId, default);
        }

        await engine.CleanupAsync(manifest, prepared.BatchId, null, default, dryRun: true);
        return (prepared, preview);
    }

    private async Task<string> LedgerDigestAsync() =>
        await TableDigestAsync(database.ConnectionString, "writeback.batches") + await TableDigestAsync(database.ConnectionString, "writeback.watermarks")
        + await TableDigestAsync(database.ConnectionString, "writeback.shards");

    [Fact]
    public async Task A_dry_run_reports_the_counts_and_key_ordered_samples_of_the_publish_and_changes_neither_table_nor_ledger()
    {
        var target = ScoresTarget("dry_diff", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var day1 = Scores(Day1, 100);
        await RunAsync(engine, await _batches.WriteScoresAsync("dry-diff-1", target.Dataset, [day1], "2026-11-01", 1));
        var tableBefore = await TableDigestAsync(database.ConnectionString, "test.dry_diff");
        var ledgerBefore = await LedgerDigestAsync();

        // Hand-checked: ids 1-10 get one more minute (id n had (n-1)*7 minutes), ids 96-100 go, ids 101-103 are new.
        var next = day1.Take(95).Select((r, i) => i < 10 ? r with { Minutes = r.Minutes + 1 } : r).Concat(Scores(Day1, 3, firstId: 101)).ToList();
        var manifest = await _batches.WriteScoresAsync("dry-diff-2", target.Dataset, [next.Take(50).ToList(), next.Skip(50).ToList()], "2026-11-01", 2);
        var (prepared, preview) = await DryRunAsync(engine, manifest);

        Assert.Equal(PrepareAction.Load, prepared.Action);
        Assert.NotNull(preview);
        Assert.Equal((PublishStatus.Applied, 3L, 10L, 5L, 85L), (preview.Status, preview.Inserted, preview.Updated, preview.Deleted, preview.Unchanged));
        Assert.Equal(["101", "102", "103"], preview.Samples.Inserted.Select(r => r.Key["id"]));
        Assert.Equal("2026-11-01", preview.Samples.Inserted[0].Key["day"]);
        Assert.Contains(new ColumnChange("name", null, "s0"), preview.Samples.Inserted[0].Columns);
        Assert.Equal(["1", "2", "3"], preview.Samples.Updated.Select(r => r.Key["id"]));
        Assert.Equal([new ColumnChange("minutes", "0", "1")], preview.Samples.Updated[0].Columns);
        Assert.Equal([new ColumnChange("minutes", "14", "15")], preview.Samples.Updated[2].Columns);
        Assert.Equal(["96", "97", "98"], preview.Samples.Deleted.Select(r => r.Key["id"]));
        Assert.Contains(new ColumnChange("minutes", "65", null), preview.Samples.Deleted[0].Columns);
        Assert.Equal(["11", "12", "13"], preview.Samples.Unchanged.Select(r => r.Key["id"]));
        Assert.Empty(preview.Samples.Unchanged[0].Columns);

        Assert.Equal(tableBefore, await TableDigestAsync(database.ConnectionString, "test.dry_diff"));
        Assert.Equal(ledgerBefore, await LedgerDigestAsync());
        Assert.Equal(0L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM pg_tables WHERE schemaname = 'writeback_staging' AND tablename LIKE 'b\\_%'"));
    }

    [Fact]
    public async Task The_real_run_after_a_dry_run_of_the_same_batch_is_not_a_duplicate_and_applies_what_the_dry_run_reported()
    {
        var target = ScoresTarget("dry_then_real", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var day1 = Scores(Day1, 40);
        await RunAsync(engine, await _batches.WriteScoresAsync("dtr-1", target.Dataset, [day1], "2026-11-01", 1));
        var manifest = await _batches.WriteScoresAsync("dtr-2", target.Dataset, [[.. day1.Skip(5).Select(r => r with { Minutes = r.Minutes + 2 })]], "2026-11-01", 2);

        var (_, preview) = await DryRunAsync(engine, manifest);
        var applied = await RunAsync(engine, manifest);

        Assert.Equal(new PublishResult("dtr-2", PublishStatus.Applied, preview!.Inserted, preview.Updated, preview.Deleted, preview.Unchanged, null), applied);
        Assert.Equal((0L, 35L, 5L, 0L), (applied.Inserted, applied.Updated, applied.Deleted, applied.Unchanged));
        Assert.Equal("dtr-2", await ScalarAsync<string>(database.ConnectionString, "SELECT batch_id FROM writeback.watermarks WHERE target = 'test.dry_then_real'"));
        Assert.False(await ScalarAsync<bool>(database.ConnectionString, "SELECT dry_run FROM writeback.batches WHERE batch_id = 'dtr-2'"));
    }

    [Fact]
    public async Task A_dry_run_of_a_batch_a_real_run_has_prepared_keeps_its_ledger_row()
    {
        var target = ScoresTarget("dry_beside_real", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var manifest = await _batches.WriteScoresAsync("dbr-1", target.Dataset, [Scores(Day1, 10)], "2026-11-01", 1);
        await engine.PrepareAsync(manifest, null, null, default);

        await DryRunAsync(engine, manifest);

        Assert.Equal("prepared", await ScalarAsync<string>(database.ConnectionString, "SELECT status FROM writeback.batches WHERE batch_id = 'dbr-1'"));
        Assert.Equal(PublishStatus.Applied, (await RunAsync(engine, manifest)).Status);
    }

    [Fact]
    public async Task A_dry_run_of_a_batch_older_than_the_applied_one_reports_the_skip_and_records_nothing()
    {
        var target = ScoresTarget("dry_older", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        await RunAsync(engine, await _batches.WriteScoresAsync("dry-older-2", target.Dataset, [Scores(Day1, 10)], "2026-11-01", 2));
        var ledgerBefore = await LedgerDigestAsync();

        var (prepared, _) = await DryRunAsync(engine, await _batches.WriteScoresAsync("dry-older-1", target.Dataset, [Scores(Day1, 10, seed: 3)], "2026-11-01", 1));

        Assert.Equal(PrepareAction.Skip, prepared.Action);
        Assert.Contains("is not newer than batch 'dry-older-2'", prepared.Reason, StringComparison.Ordinal);
        Assert.Equal(ledgerBefore, await LedgerDigestAsync());
    }

    [Fact]
    public async Task A_dry_run_of_content_already_applied_says_so_without_recording_it_or_moving_the_watermark()
    {
        var target = ScoresTarget("dry_same", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        await RunAsync(engine, await _batches.WriteScoresAsync("dry-same-1", target.Dataset, [Scores(Day1, 10)], "2026-11-01", 1));
        var ledgerBefore = await LedgerDigestAsync();

        var (prepared, _) = await DryRunAsync(engine, await _batches.WriteScoresAsync("dry-same-2", target.Dataset, [Scores(Day1, 10)], "2026-11-01", 2));

        Assert.Equal(PrepareAction.Applied, prepared.Action);
        Assert.Contains("a real run records it as applied without loading", prepared.Reason, StringComparison.Ordinal);
        Assert.Equal(ledgerBefore, await LedgerDigestAsync());
    }

    [Fact]
    public async Task A_dry_run_of_an_unkeyed_replace_counts_the_whole_scope_as_deleted_and_every_staged_row_as_inserted()
    {
        var target = ScoresTarget("dry_unkeyed", LoadMode.Replace, keyed: false);
        var engine = CreateEngine(database.ConnectionString, target);
        await RunAsync(engine, await _batches.WriteScoresAsync("dry-unkeyed-1", target.Dataset, [Scores(Day1, 40)], sequence: 1));

        var (_, preview) = await DryRunAsync(engine, await _batches.WriteScoresAsync("dry-unkeyed-2", target.Dataset, [Scores(Day1, 25)], sequence: 2));

        Assert.Equal((25L, 0L, 40L, 0L), (preview!.Inserted, preview.Updated, preview.Deleted, preview.Unchanged));
        Assert.Equal(3, preview.Samples.Inserted.Count);
        Assert.Equal(3, preview.Samples.Deleted.Count);
        Assert.Equal(40L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.dry_unkeyed"));
    }
}
