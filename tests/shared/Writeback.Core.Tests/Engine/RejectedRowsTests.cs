using Parquet.Schema;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

public sealed class RejectedRowsTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private const string TooLong = "this-name-is-too-long";

    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    /// <summary>
    /// 20 rows of day 1, ids 1-20, with problems at the ids given: a name longer than varchar(10) (a type check), a null
    /// id (a null check on a key column), or id 11 twice (a key check: the row with id 12 carries id 11).
    /// </summary>
    private static ShardColumnData[] Rows(int firstId, int[]? tooLong = null, int[]? nullId = null, bool duplicate = false)
    {
        var rows = Scores(Day1, 20, firstId: firstId).Select(r => tooLong?.Contains((int)r.Id) == true ? r with { Name = TooLong } : r).ToList();
        var columns = ScoreColumns(rows);
        columns[0] = new(new DataField<long?>("id"), rows.Select(r => nullId?.Contains((int)r.Id) == true ? null : duplicate && r.Id == 12 ? 11 : (long?)r.Id).ToArray());
        return columns;
    }

    private Task<string> WriteAsync(string batchId, Target target, params ShardColumnData[][] shards) =>
        _batches.WriteBatchAsync(batchId, target.Dataset, shards, ScoresSchema, "2026-11-01");

    [Fact]
    public async Task Under_the_threshold_the_batch_is_applied_without_the_rejected_rows_which_are_recorded_by_place_and_reason_only()
    {
        var target = ScoresTarget("rej_under", LoadMode.ReplacePartition) with { MaxRejectedRows = 5 };
        var engine = CreateEngine(database.ConnectionString, target);
        var manifest = await WriteAsync("rej-under-1", target, Rows(1, tooLong: [3], nullId: [7], duplicate: true));

        var result = await RunAsync(engine, manifest);

        Assert.Equal(new PublishResult("rej-under-1", PublishStatus.Applied, 16, 0, 0, 0, null), result);
        Assert.Equal(0L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.rej_under WHERE id IN (3, 11) OR name = 's6'"));
        var rejects = await engine.ReadRejectsAsync("rej-under-1", default);
        Assert.Equal(4L, rejects.Count);
        Assert.Equal(
            [
                (0, 3L, "name", "value is 21 characters, longer than varchar(10)"),
                (0, 7L, "id", "null in a column declared not null"),
                (0, 11L, "id, day", "duplicate key (id, day): the key occurs more than once in the batch"),
                (0, 12L, "id, day", "duplicate key (id, day): the key occurs more than once in the batch"),
            ],
            rejects.First.Select(r => (r.ShardIndex, r.RowNumber, r.Column, r.Reason)));
        Assert.All(rejects.First, r => Assert.Null(r.Value));
        Assert.Equal(0L, await ScalarAsync<long>(database.ConnectionString, $"SELECT count(*) FROM writeback.rejects WHERE batch_id = 'rej-under-1' AND (value IS NOT NULL OR reason LIKE '%{TooLong}%')"));
    }

    [Fact]
    public async Task A_target_that_opts_in_keeps_the_rejected_values()
    {
        var target = ScoresTarget("rej_values", LoadMode.ReplacePartition) with { MaxRejectedRows = 5, KeepRejectedValues = true };
        var engine = CreateEngine(database.ConnectionString, target);

        await RunAsync(engine, await WriteAsync("rej-values-1", target, Rows(1, tooLong: [3])));

        Assert.Equal(TooLong, await ScalarAsync<string>(database.ConnectionString, "SELECT value FROM writeback.rejects WHERE batch_id = 'rej-values-1'"));
    }

    [Fact]
    public async Task Without_a_policy_the_first_bad_value_fails_the_shard_as_before_and_nothing_is_recorded()
    {
        var target = ScoresTarget("rej_none", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var manifest = await WriteAsync("rej-none-1", target, Rows(1, tooLong: [3, 5]));
        await engine.PrepareAsync(manifest, null, null, default);

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => engine.LoadShardAsync(manifest, "rej-none-1", 0, default));

        Assert.Contains("column 'name', row 3: value is 21 characters, longer than varchar(10)", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM writeback.rejects WHERE batch_id = 'rej-none-1'"));
    }

    [Fact]
    public async Task A_shard_with_more_rejects_than_the_batch_may_have_fails_naming_the_first_rejects_without_their_values()
    {
        var target = ScoresTarget("rej_shard_over", LoadMode.ReplacePartition) with { MaxRejectedRows = 1 };
        var engine = CreateEngine(database.ConnectionString, target);
        var manifest = await WriteAsync("rej-shard-over-1", target, Rows(1, tooLong: [3, 5]));
        await engine.PrepareAsync(manifest, null, null, default);

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => engine.LoadShardAsync(manifest, "rej-shard-over-1", 0, default));

        Assert.Contains("more than 1 rows rejected", error.Message, StringComparison.Ordinal);
        Assert.Contains("first: shard 0 row 3 column 'name': value is 21 characters, longer than varchar(10); shard 0 row 5 column 'name'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(TooLong, error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM writeback.shards WHERE batch_id = 'rej-shard-over-1'"));
    }

    [Fact]
    public async Task A_batch_whose_shards_together_reject_more_than_the_policy_allows_fails_at_verify_and_leaves_the_table_as_it_was()
    {
        var target = ScoresTarget("rej_batch_over", LoadMode.ReplacePartition) with { MaxRejectedPercent = 5 };
        var engine = CreateEngine(database.ConnectionString, target);
        await RunAsync(engine, await WriteAsync("rej-batch-over-1", target, Rows(1), Rows(21)));
        var before = await TableDigestAsync(database.ConnectionString, "test.rej_batch_over");

        // 40 rows at 5%: 2 may be rejected; each shard has 2 (within the allowance alone), the batch 4.
        var manifest = await _batches.WriteBatchAsync("rej-batch-over-2", target.Dataset, [Rows(1, tooLong: [2, 4]), Rows(21, nullId: [30, 31])], ScoresSchema, "2026-11-01", sequence: 2);
        var prepared = await engine.PrepareAsync(manifest, null, null, default);
        await engine.LoadShardAsync(manifest, prepared.BatchId, 0, default);
        await engine.LoadShardAsync(manifest, prepared.BatchId, 1, default);
        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => engine.VerifyAsync(manifest, prepared.BatchId, default));

        Assert.Contains("4 of 40 rows rejected, more than target test.rej_batch_over allows (maxRejectedPercent 5: 2)", error.Message, StringComparison.Ordinal);
        Assert.Contains("first: shard 0 row 2 column 'name'", error.Message, StringComparison.Ordinal);
        Assert.Contains("shard 1 row 10 column 'id': null in a column declared not null", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await TableDigestAsync(database.ConnectionString, "test.rej_batch_over"));
    }

    [Fact]
    public async Task A_shard_loaded_twice_records_its_rejects_once()
    {
        var target = ScoresTarget("rej_twice", LoadMode.ReplacePartition) with { MaxRejectedRows = 5 };
        var engine = CreateEngine(database.ConnectionString, target);
        var manifest = await WriteAsync("rej-twice-1", target, Rows(1, tooLong: [3, 5]));
        await engine.PrepareAsync(manifest, null, null, default);

        await Task.WhenAll(
            engine.LoadShardAsync(manifest, "rej-twice-1", 0, default),
            engine.LoadShardAsync(manifest, "rej-twice-1", 0, default));
        await engine.LoadShardAsync(manifest, "rej-twice-1", 0, default);

        Assert.Equal(2L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM writeback.rejects WHERE batch_id = 'rej-twice-1'"));
        Assert.Equal(2L, (await engine.ReadRejectsAsync("rej-twice-1", default)).Count);
    }
}
