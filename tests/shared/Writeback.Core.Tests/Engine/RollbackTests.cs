using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

/// <summary>
/// An operator's rollback in the ledger: the earlier batch goes back over the newer one once, through the same steps as
/// any batch, recorded with who and why; it is refused, changing nothing, when its shards are gone or the partition
/// moved on since the operator looked.
/// </summary>
public sealed class RollbackTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private const string Partition = "2026-11-01";
    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    private static IReadOnlyList<ScoreRow> Corrected(IReadOnlyList<ScoreRow> rows) =>
        [.. rows.Where((_, i) => i % 10 != 0).Select((r, i) => i % 3 == 0 ? r with { Minutes = r.Minutes + 7 } : r)];

    /// <summary>A applied, then B (a bad correction) applied over it; returns A's manifest and the table as A left it.</summary>
    private async Task<(LoadEngine Engine, Target Target, string ManifestA, string AsA, string AsB)> AppliedAThenBAsync(string name)
    {
        var target = ScoresTarget(name, LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var a = Scores(Day1, 300);
        var manifestA = await _batches.WriteScoresAsync(name + "-a1", target.Dataset, [a], Partition, sequence: 1);
        await RunAsync(engine, manifestA);
        var asA = await TableDigestAsync(database.ConnectionString, target.Table);
        await RunAsync(engine, await _batches.WriteScoresAsync(name + "-b2", target.Dataset, [Corrected(a)], Partition, sequence: 2));
        return (engine, target, manifestA, asA, await TableDigestAsync(database.ConnectionString, target.Table));
    }

    private Task<string> LedgerAsync(string table) => ScalarAsync<string>(database.ConnectionString, $"""
        SELECT concat_ws(' ; ',
            (SELECT string_agg(concat_ws(',', batch_id, status, inserted, updated, deleted), ' ' ORDER BY batch_id) FROM writeback.batches WHERE target = '{table}'),
            (SELECT concat_ws(',', batch_id, sequence) FROM writeback.watermarks WHERE target = '{table}'),
            (SELECT count(*)::text FROM writeback.rollbacks WHERE target = '{table}'))
        """);

    [Fact]
    public async Task A_rollback_puts_the_earlier_batch_back_over_the_newer_one_and_the_ledger_says_who_and_why()
    {
        var (engine, target, manifestA, asA, asB) = await AppliedAThenBAsync("rb_apply");
        Assert.NotEqual(asA, asB);

        var result = await RunAsync(engine, manifestA, new RollbackRequest("rb_apply-b2", "alice", "B double-counted the 1 Nov events"));

        Assert.Equal(PublishStatus.Applied, result.Status);
        Assert.Equal(asA, await TableDigestAsync(database.ConnectionString, target.Table));
        Assert.Equal("rb_apply-a1,1", await ScalarAsync<string>(database.ConnectionString,
            $"SELECT concat_ws(',', batch_id, sequence) FROM writeback.watermarks WHERE target = '{target.Table}'"));
        Assert.Equal("rb_apply-b2|alice|B double-counted the 1 Nov events|applied", await ScalarAsync<string>(database.ConnectionString,
            "SELECT concat_ws('|', replaces, requested_by, reason, status) FROM writeback.rollbacks WHERE batch_id = 'rb_apply-a1'"));
        Assert.Equal("applied", await ScalarAsync<string>(database.ConnectionString, "SELECT status FROM writeback.batches WHERE batch_id = 'rb_apply-a1'"));
    }

    [Fact]
    public async Task The_override_holds_once_a_newer_export_then_wins_as_usual_and_the_replaced_batch_stays_replaced()
    {
        var (engine, target, manifestA, asA, _) = await AppliedAThenBAsync("rb_once");
        await RunAsync(engine, manifestA, new RollbackRequest("rb_once-b2", "alice", "bad correction"));

        // Running the same rollback's Prepare again (a retried execution) finds it done and writes nothing.
        var again = await engine.PrepareAsync(manifestA, null, null, new RollbackRequest("rb_once-b2", "alice", "bad correction"), default);
        Assert.Equal(PrepareAction.Applied, again.Action);
        Assert.Contains("rolled back already", again.Reason, StringComparison.Ordinal);
        Assert.Equal(asA, await TableDigestAsync(database.ConnectionString, target.Table));

        // The next morning's export has a newer sequence than anything before: the ordering rule is back.
        var fixedRows = Scores(Day1, 300, seed: 9);
        var next = await RunAsync(engine, await _batches.WriteScoresAsync("rb_once-c3", target.Dataset, [fixedRows], Partition, sequence: 3));
        Assert.Equal(PublishStatus.Applied, next.Status);
        Assert.Equal("rb_once-c3", await ScalarAsync<string>(database.ConnectionString, $"SELECT batch_id FROM writeback.watermarks WHERE target = '{target.Table}'"));
    }

    [Fact]
    public async Task A_rollback_whose_shards_are_gone_is_refused_naming_them_and_the_retention_and_changes_nothing()
    {
        var (engine, target, manifestA, _, asB) = await AppliedAThenBAsync("rb_gone");
        var before = await LedgerAsync(target.Table);
        File.Delete(Path.Combine(Path.GetDirectoryName(manifestA)!, "shard-00000.parquet"));

        var refused = await Assert.ThrowsAsync<InvalidBatchException>(() =>
            engine.PrepareAsync(manifestA, null, null, new RollbackRequest("rb_gone-b2", "alice", "bad correction"), default));

        Assert.Contains("no longer retained: shard 0", refused.Message, StringComparison.Ordinal);
        Assert.Contains("shard-00000.parquet", refused.Message, StringComparison.Ordinal);
        Assert.Contains("shard_retention_days", refused.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", refused.Message, StringComparison.Ordinal);
        Assert.Equal(before, await LedgerAsync(target.Table));
        Assert.Equal(asB, await TableDigestAsync(database.ConnectionString, target.Table));
    }

    [Fact]
    public async Task A_rollback_over_a_batch_the_partition_no_longer_holds_is_refused_and_changes_nothing()
    {
        var (engine, target, manifestA, _, asB) = await AppliedAThenBAsync("rb_moved");
        var before = await LedgerAsync(target.Table);

        var refused = await Assert.ThrowsAsync<InvalidBatchException>(() =>
            engine.PrepareAsync(manifestA, null, null, new RollbackRequest("rb_moved-x9", "alice", "looked at a stale status page"), default));

        Assert.Contains("holds batch 'rb_moved-b2', not 'rb_moved-x9'", refused.Message, StringComparison.Ordinal);
        Assert.Equal(before, await LedgerAsync(target.Table));
        Assert.Equal(asB, await TableDigestAsync(database.ConnectionString, target.Table));
    }

    [Fact]
    public async Task The_default_rollback_target_is_the_batch_applied_before_the_current_one_with_other_content()
    {
        var (engine, target, _, _, _) = await AppliedAThenBAsync("rb_choose");
        // A re-export of B's content (recorded as applied, nothing loaded) is the same table: not what a rollback wants.
        await RunAsync(engine, await _batches.WriteScoresAsync("rb_choose-b3", target.Dataset, [Corrected(Scores(Day1, 300))], Partition, sequence: 3));

        var choice = await engine.ChooseRollbackAsync(target.Dataset, Partition, to: null, default);

        Assert.Equal(new RollbackChoice("rb_choose-b3", "rb_choose-a1"), choice);
    }
}
