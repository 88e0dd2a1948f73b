using System.Text.Json;
using Parquet.Schema;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

/// <summary>Every bad input fails before publish, with a message naming what is wrong, and the product table is untouched.</summary>
public sealed class BadInputTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    /// <summary>A target with one applied batch, so "untouched" has something to compare.</summary>
    private async Task<(LoadEngine Engine, Target Target, string Digest)> SeededAsync(string table)
    {
        var target = ScoresTarget(table, LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        await RunAsync(engine, await _batches.WriteScoresAsync(table + "-seed", target.Dataset, [Scores(Day1, 20)], "2026-11-01", 1));
        return (engine, target, await TableDigestAsync(database.ConnectionString, target.Table));
    }

    private async Task<Exception> FailsAsync(LoadEngine engine, string manifest, string batchId)
    {
        return await Record.ExceptionAsync(async () =>
        {
            await engine.PrepareAsync(manifest, null, null, default);
            var plan = await engine.PlanAsync(manifest, default);
            for (var i = 0; i < plan.Manifest.Shards.Count; i++)
            {
                await engine.LoadShardAsync(manifest, batchId, i, default);
            }

            await engine.VerifyAsync(manifest, batchId, default);
            await engine.PublishAsync(manifest, batchId, default);
        }) ?? throw new Xunit.Sdk.XunitException("the batch was accepted");
    }

    private async Task AssertUntouchedAsync(Target target, string digest) =>
        Assert.Equal(digest, await TableDigestAsync(database.ConnectionString, target.Table));

    [Fact]
    public async Task An_unknown_manifest_version_is_rejected_naming_the_field()
    {
        var (engine, target, digest) = await SeededAsync("bad_version");
        var manifest = await _batches.WriteScoresAsync("bad-version", target.Dataset, [Scores(Day1, 5)], "2026-11-01", 2, m => m with { Version = 2 });

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-version"));

        Assert.Contains("field 'version'", error.Message);
        Assert.Contains("unknown manifest version 2", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_manifest_missing_a_column_is_rejected()
    {
        var (engine, target, digest) = await SeededAsync("bad_missing");
        var manifest = await _batches.WriteScoresAsync("bad-missing", target.Dataset, [Scores(Day1, 5)], "2026-11-01", 2, m => m with { Schema = [.. m.Schema.Where(c => c.Name != "score")] });

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-missing"));

        Assert.Contains("column 'score'", error.Message);
        Assert.Contains("missing", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_shard_missing_a_column_is_rejected_naming_batch_shard_and_column()
    {
        var (engine, target, digest) = await SeededAsync("bad_shard_missing");
        var columns = ScoreColumns(Scores(Day1, 5)).Where(c => c.Field.Name != "minutes").ToList();
        var manifest = await _batches.WriteBatchAsync("bad-shard-missing", target.Dataset, [columns], ScoresSchema, "2026-11-01", 2);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-shard-missing"));

        Assert.Contains("batch 'bad-shard-missing', shard 0", error.Message);
        Assert.Contains("column 'minutes': missing from the shard", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task An_extra_column_in_the_manifest_is_rejected()
    {
        var (engine, target, digest) = await SeededAsync("bad_extra");
        var manifest = await _batches.WriteScoresAsync("bad-extra", target.Dataset, [Scores(Day1, 5)], "2026-11-01", 2, m => m with { Schema = [.. m.Schema, new ShardColumn { Name = "bonus", Type = "integer" }] });

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-extra"));

        Assert.Contains("column 'bonus' is not declared by the target contract", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task An_extra_column_in_a_shard_is_rejected()
    {
        var (engine, target, digest) = await SeededAsync("bad_extra_shard");
        var columns = ScoreColumns(Scores(Day1, 5)).Append(new ShardColumnData(new DataField<int>("bonus"), new int[5])).ToList();
        var manifest = await _batches.WriteBatchAsync("bad-extra-shard", target.Dataset, [columns], ScoresSchema, "2026-11-01", 2);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-extra-shard"));

        Assert.Contains("shard 0", error.Message);
        Assert.Contains("column 'bonus'", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task Text_where_the_contract_says_integer_is_a_type_mismatch()
    {
        var (engine, target, digest) = await SeededAsync("bad_type");
        var rows = Scores(Day1, 5);
        var columns = ScoreColumns(rows).Select(c => c.Field.Name == "minutes" ? new ShardColumnData(new DataField<string>("minutes"), rows.Select(r => (string?)r.Minutes.ToString()).ToArray()) : c).ToList();
        var manifest = await _batches.WriteBatchAsync("bad-type", target.Dataset, [columns], ScoresSchema, "2026-11-01", 2);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-type"));

        Assert.Contains("batch 'bad-type', shard 0", error.Message);
        Assert.Contains("column 'minutes': type mismatch", error.Message);
        Assert.Contains("the contract says integer", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_manifest_type_that_differs_from_the_contract_is_a_type_mismatch()
    {
        var (engine, target, digest) = await SeededAsync("bad_manifest_type");
        var manifest = await _batches.WriteScoresAsync("bad-manifest-type", target.Dataset, [Scores(Day1, 5)], "2026-11-01", 2,
            m => m with { Schema = [.. m.Schema.Select(c => c.Name == "minutes" ? c with { Type = "text" } : c)] });

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-manifest-type"));

        Assert.Contains("column 'minutes': type mismatch: the manifest says text, the contract says integer", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_numeric_overflowing_its_precision_names_batch_shard_column_and_row()
    {
        var (engine, target, digest) = await SeededAsync("bad_overflow");
        var rows = Scores(Day1, 10).Select((r, i) => i == 6 ? r with { Score = 1000.5m } : r).ToList();
        var columns = ScoreColumns(rows).Select(c => c.Field.Name == "score" ? new ShardColumnData(new DecimalDataField("score", 9, 2, false, true), rows.Select(r => r.Score).ToArray()) : c).ToList();
        var manifest = await _batches.WriteBatchAsync("bad-overflow", target.Dataset, [columns], ScoresSchema, "2026-11-01", 2);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-overflow"));

        Assert.Contains("batch 'bad-overflow', shard 0", error.Message);
        Assert.Contains("column 'score', row 7: numeric overflow", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_varchar_too_long_names_the_row()
    {
        var (engine, target, digest) = await SeededAsync("bad_long");
        var rows = Scores(Day1, 10).Select((r, i) => i == 2 ? r with { Name = "much-too-long-name" } : r).ToList();
        var manifest = await _batches.WriteScoresAsync("bad-long", target.Dataset, [Scores(Day1, 5, firstId: 100), rows], "2026-11-01", 2);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-long"));

        Assert.Contains("batch 'bad-long', shard 1", error.Message);
        Assert.Contains("column 'name', row 3: value is 18 characters, longer than varchar(10)", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_null_in_a_not_null_column_names_the_row()
    {
        var (engine, target, digest) = await SeededAsync("bad_null");
        var rows = Scores(Day1, 5);
        var columns = ScoreColumns(rows).Select(c => c.Field.Name == "minutes" ? new ShardColumnData(new DataField<int?>("minutes"), new int?[] { 1, 2, 3, null, 5 }) : c).ToList();
        var manifest = await _batches.WriteBatchAsync("bad-null", target.Dataset, [columns], ScoresSchema, "2026-11-01", 2);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-null"));

        Assert.Contains("column 'minutes', row 4: null in a column declared not null", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_null_key_is_rejected()
    {
        var (engine, target, digest) = await SeededAsync("bad_null_key");
        var columns = ScoreColumns(Scores(Day1, 4), nullableId: true);
        columns[0] = new ShardColumnData(new DataField<long?>("id"), new long?[] { 1, 2, null, 4 });
        var manifest = await _batches.WriteBatchAsync("bad-null-key", target.Dataset, [columns], ScoresSchema, "2026-11-01", 2);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-null-key"));

        Assert.Contains("batch 'bad-null-key', shard 0", error.Message);
        Assert.Contains("column 'id', row 3: null", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_duplicate_key_across_shards_is_rejected_naming_both_rows()
    {
        var (engine, target, digest) = await SeededAsync("bad_dup");
        var manifest = await _batches.WriteScoresAsync("bad-dup", target.Dataset, [Scores(Day1, 5), Scores(Day1, 5, firstId: 5)], "2026-11-01", 2);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-dup"));

        Assert.Contains("duplicate key (id, day) = (5,2026-11-01)", error.Message);
        Assert.Contains("shard 0 row 5 and shard 1 row 1", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_duplicate_key_within_one_shard_is_rejected_naming_both_rows()
    {
        var (engine, target, digest) = await SeededAsync("bad_dup_one");
        var manifest = await _batches.WriteScoresAsync("bad-dup-one", target.Dataset, [Scores(Day1, 5).Append(new ScoreRow(3, Day1, null, null, 1)).ToList()], "2026-11-01", 2);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-dup-one"));

        Assert.Contains("duplicate key (id, day) = (3,2026-11-01)", error.Message);
        Assert.Contains("shard 0 row 3 and shard 0 row 6", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_checksum_mismatch_is_rejected()
    {
        var (engine, target, digest) = await SeededAsync("bad_sum");
        var manifest = await _batches.WriteScoresAsync("bad-sum", target.Dataset, [Scores(Day1, 5)], "2026-11-01", 2,
            m => m with { Shards = [m.Shards[0] with { Sha256 = new string('0', 64) }] });

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-sum"));

        Assert.Contains("batch 'bad-sum', shard 0", error.Message);
        Assert.Contains("checksum mismatch", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_truncated_shard_is_rejected()
    {
        var (engine, target, digest) = await SeededAsync("bad_trunc");
        var manifest = await _batches.WriteScoresAsync("bad-trunc", target.Dataset, [Scores(Day1, 500)], "2026-11-01", 2);
        var shard = Path.Combine(Path.GetDirectoryName(manifest)!, "shard-00000.parquet");
        var bytes = await File.ReadAllBytesAsync(shard);
        await File.WriteAllBytesAsync(shard, bytes[..(bytes.Length / 2)]);
        await RewriteShardEntryAsync(manifest, shard);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-trunc"));

        Assert.Contains("batch 'bad-trunc', shard 0", error.Message);
        Assert.Contains("Parquet", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_file_that_is_not_parquet_is_rejected()
    {
        var (engine, target, digest) = await SeededAsync("bad_csv");
        var manifest = await _batches.WriteScoresAsync("bad-csv", target.Dataset, [Scores(Day1, 5)], "2026-11-01", 2);
        var shard = Path.Combine(Path.GetDirectoryName(manifest)!, "shard-00000.parquet");
        await File.WriteAllTextAsync(shard, "id,day,name,score,minutes\n1,2026-11-01,a,1.00,3\n");
        await RewriteShardEntryAsync(manifest, shard);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-csv"));

        Assert.Contains("batch 'bad-csv', shard 0", error.Message);
        Assert.Contains("not a readable Parquet file", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_hostile_column_name_never_reaches_sql()
    {
        var (engine, target, digest) = await SeededAsync("bad_inject");
        const string hostile = "x\"; drop table test.bad_inject; --";
        var columns = ScoreColumns(Scores(Day1, 3)).Append(new ShardColumnData(new DataField<int>(hostile), new int[3])).ToList();
        var manifest = await _batches.WriteBatchAsync("bad-inject", target.Dataset, [columns], [.. ScoresSchema, new ShardColumn { Name = hostile, Type = "integer" }], "2026-11-01", 2);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-inject"));

        Assert.Contains($"column '{hostile}' is not declared by the target contract", error.Message);
        Assert.True(await ScalarAsync<bool>(database.ConnectionString, "SELECT to_regclass('test.bad_inject') IS NOT NULL"));
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_hostile_column_name_only_in_the_shard_never_reaches_sql()
    {
        var (engine, target, digest) = await SeededAsync("bad_inject_shard");
        const string hostile = "x\"; drop table test.bad_inject_shard; --";
        var columns = ScoreColumns(Scores(Day1, 3)).Append(new ShardColumnData(new DataField<int>(hostile), new int[3])).ToList();
        var manifest = await _batches.WriteBatchAsync("bad-inject-shard", target.Dataset, [columns], ScoresSchema, "2026-11-01", 2);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-inject-shard"));

        Assert.Contains(hostile, error.Message);
        Assert.True(await ScalarAsync<bool>(database.ConnectionString, "SELECT to_regclass('test.bad_inject_shard') IS NOT NULL"));
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_dataset_with_no_contract_is_rejected()
    {
        var (engine, _, _) = await SeededAsync("bad_dataset");
        var manifest = await _batches.WriteScoresAsync("bad-dataset", "no_such\"; drop schema test cascade; --", [Scores(Day1, 3)], "2026-11-01", 2);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-dataset"));

        Assert.Contains("no target contract declares dataset", error.Message);
    }

    [Fact]
    public async Task A_partition_value_that_is_not_a_date_is_rejected()
    {
        var (engine, target, digest) = await SeededAsync("bad_partition");
        var manifest = await _batches.WriteScoresAsync("bad-partition", target.Dataset, [Scores(Day1, 3)], "'; drop table x; --", 2);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-partition"));

        Assert.Contains("field 'partition'", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_row_outside_the_batch_partition_is_rejected()
    {
        var (engine, target, digest) = await SeededAsync("bad_outside");
        var manifest = await _batches.WriteScoresAsync("bad-outside", target.Dataset, [Scores(Day1, 3).Append(new ScoreRow(9, Day2, null, null, 1)).ToList()], "2026-11-01", 2);

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-outside"));

        Assert.Contains("shard 0, column 'day', row 4: value 2026-11-02 is outside the batch's partition 2026-11-01", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_row_count_that_differs_from_the_manifest_is_rejected()
    {
        var (engine, target, digest) = await SeededAsync("bad_rows");
        var manifest = await _batches.WriteScoresAsync("bad-rows", target.Dataset, [Scores(Day1, 5)], "2026-11-01", 2,
            m => m with { Shards = [m.Shards[0] with { Rows = 6 }] });

        var error = Assert.IsType<InvalidBatchException>(await FailsAsync(engine, manifest, "bad-rows"));

        Assert.Contains("batch 'bad-rows', shard 0", error.Message);
        Assert.Contains("5 rows, the manifest says 6", error.Message);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task An_older_batch_after_a_newer_one_is_skipped_with_the_reason()
    {
        var (engine, target, digest) = await SeededAsync("old_after_new");
        var newer = await _batches.WriteScoresAsync("newer", target.Dataset, [Scores(Day1, 7)], "2026-11-01", 5);
        await RunAsync(engine, newer);
        digest = await TableDigestAsync(database.ConnectionString, target.Table);
        var older = await _batches.WriteScoresAsync("older", target.Dataset, [Scores(Day1, 9)], "2026-11-01", 4);

        var prepared = await engine.PrepareAsync(older, null, null, default);
        var published = await engine.PublishAsync(older, "older", default);

        Assert.Equal(PrepareAction.Skip, prepared.Action);
        Assert.Contains("batch 'older' (sequence 4) is not newer than batch 'newer' (sequence 5)", prepared.Reason);
        Assert.Equal(PublishStatus.Skipped, published.Status);
        Assert.Equal("skipped", await ScalarAsync<string>(database.ConnectionString, "SELECT status FROM writeback.batches WHERE batch_id = 'older'"));
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task An_older_batch_prepared_before_the_newer_one_published_is_skipped_at_publish()
    {
        var (engine, target, _) = await SeededAsync("old_race");
        var older = await _batches.WriteScoresAsync("race-older", target.Dataset, [Scores(Day1, 9)], "2026-11-01", 4);
        await engine.PrepareAsync(older, null, null, default);
        await engine.LoadShardAsync(older, "race-older", 0, default);
        await engine.VerifyAsync(older, "race-older", default);
        await RunAsync(engine, await _batches.WriteScoresAsync("race-newer", target.Dataset, [Scores(Day1, 7)], "2026-11-01", 5));
        var digest = await TableDigestAsync(database.ConnectionString, target.Table);

        var published = await engine.PublishAsync(older, "race-older", default);

        Assert.Equal(PublishStatus.Skipped, published.Status);
        Assert.Contains("not newer than batch 'race-newer'", published.Reason);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task The_same_batch_id_with_different_content_is_a_conflict_never_an_overwrite()
    {
        var (engine, target, _) = await SeededAsync("same_id");
        await RunAsync(engine, await _batches.WriteScoresAsync("same-id", target.Dataset, [Scores(Day1, 7)], "2026-11-01", 2));
        var digest = await TableDigestAsync(database.ConnectionString, target.Table);
        var changed = await _batches.WriteScoresAsync("same-id", target.Dataset, [Scores(Day1, 7, seed: 3)], "2026-11-01", 2);

        var error = await Record.ExceptionAsync(() => engine.PrepareAsync(changed, null, null, default));
        var publishError = await Record.ExceptionAsync(() => engine.PublishAsync(changed, "same-id", default));

        Assert.IsType<BatchConflictException>(error);
        Assert.Contains("batch 'same-id'", error.Message);
        Assert.IsType<BatchConflictException>(publishError);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task The_same_batch_re_exported_with_a_new_sequence_and_time_is_the_same_batch()
    {
        var (engine, target, _) = await SeededAsync("same_id_reexport");
        await RunAsync(engine, await _batches.WriteScoresAsync("same-id-reexport", target.Dataset, [Scores(Day1, 7)], "2026-11-01", 2));
        var digest = await TableDigestAsync(database.ConnectionString, target.Table);
        var reexported = await _batches.WriteScoresAsync("same-id-reexport", target.Dataset, [Scores(Day1, 7)], "2026-11-01", 3,
            m => m with { GeneratedAt = m.GeneratedAt.AddHours(1), Traceparent = null });

        var prepared = await engine.PrepareAsync(reexported, null, null, default);

        Assert.Equal(PrepareAction.Applied, prepared.Action);
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task The_same_batch_while_still_loading_with_different_content_is_a_conflict()
    {
        var (engine, target, digest) = await SeededAsync("same_id_loading");
        await engine.PrepareAsync(await _batches.WriteScoresAsync("same-id-loading", target.Dataset, [Scores(Day1, 7)], "2026-11-01", 2), null, null, default);
        var changed = await _batches.WriteScoresAsync("same-id-loading", target.Dataset, [Scores(Day1, 7, seed: 3)], "2026-11-01", 2);

        Assert.IsType<BatchConflictException>(await Record.ExceptionAsync(() => engine.LoadShardAsync(changed, "same-id-loading", 0, default)));
        await AssertUntouchedAsync(target, digest);
    }

    [Fact]
    public async Task A_batch_id_or_dataset_that_differs_from_the_manifest_is_rejected()
    {
        var (engine, target, _) = await SeededAsync("mismatch_id");
        var manifest = await _batches.WriteScoresAsync("mismatch-id", target.Dataset, [Scores(Day1, 3)], "2026-11-01", 2);

        var wrongId = await Record.ExceptionAsync(() => engine.PrepareAsync(manifest, "other-id", null, default));
        var wrongDataset = await Record.ExceptionAsync(() => engine.PrepareAsync(manifest, "mismatch-id", "other", default));

        Assert.Contains("field 'batchId'", Assert.IsType<InvalidBatchException>(wrongId).Message);
        Assert.Contains("field 'dataset'", Assert.IsType<InvalidBatchException>(wrongDataset).Message);
    }

    private static async Task RewriteShardEntryAsync(string manifestPath, string shardPath)
    {
        var manifest = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(manifestPath), ContractJson.Default.Manifest)!;
        var entry = Entry(shardPath, manifest.Shards[0].Uri, manifest.Shards[0].Rows);
        manifest = manifest with { Shards = [entry] };
        await File.WriteAllTextAsync(manifestPath, JsonSerializer.Serialize(manifest, ContractJson.Default.Manifest));
    }
}
