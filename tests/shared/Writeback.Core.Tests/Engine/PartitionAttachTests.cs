using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Ledger;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

/// <summary>A new day of a product table partitioned by day is published by attaching staging as its partition.</summary>
public sealed class PartitionAttachTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    internal static string Partitioned(string table, string strategy) => $"""
        CREATE SCHEMA IF NOT EXISTS test;
        CREATE TABLE test.{table} (id bigint NOT NULL, day date NOT NULL, name varchar(10), score numeric(5,2), minutes integer NOT NULL,
            PRIMARY KEY (id, day)) PARTITION BY {strategy} (day);
        """;

    private static async Task<(long Heap, long Index)> StagingFilesAsync(string connectionString, string batchId) =>
        (await ScalarAsync<long>(connectionString, $"SELECT pg_relation_filenode(to_regclass('{LedgerSchema.StagingTable(batchId)}'))::bigint"),
         await ScalarAsync<long>(connectionString, $"SELECT pg_relation_filenode(to_regclass('{LedgerSchema.StagingSchema}.{LedgerSchema.StagingKeyIndexName(batchId)}'))::bigint"));

    private static async Task LoadAndVerifyAsync(LoadEngine engine, string manifest, string batchId)
    {
        var prepared = await engine.PrepareAsync(manifest, null, null, default);
        Assert.Equal(PrepareAction.Load, prepared.Action);
        for (var i = 0; i < prepared.ShardCount; i++)
        {
            await engine.LoadShardAsync(manifest, batchId, i, default);
        }

        await engine.VerifyAsync(manifest, batchId, default);
    }

    [Theory]
    [InlineData("LIST")]
    [InlineData("RANGE")]
    public async Task A_new_day_becomes_the_tables_partition_without_copying_a_row_or_rebuilding_the_key(string strategy)
    {
        var table = "pa_new_" + strategy.ToLowerInvariant();
        await ExecuteAsync(database.ConnectionString, Partitioned(table, strategy));
        var target = ScoresTarget(table, LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var batchId = table + "-1";
        var manifest = await _batches.WriteScoresAsync(batchId, target.Dataset, [Scores(Day1, 400), Scores(Day1, 300, firstId: 401)], "2026-11-01");

        await LoadAndVerifyAsync(engine, manifest, batchId);
        Assert.Equal("p", await ScalarAsync<string>(database.ConnectionString, $"SELECT relpersistence::text FROM pg_class WHERE oid = to_regclass('{LedgerSchema.StagingTable(batchId)}')"));
        var staged = await StagingFilesAsync(database.ConnectionString, batchId);
        var published = await engine.PublishAsync(manifest, batchId, default);
        await engine.CleanupAsync(manifest, batchId, null, default);

        Assert.Equal(new PublishResult(batchId, PublishStatus.Applied, 700, 0, 0, 0, null), published);
        Assert.Equal(700L, await ScalarAsync<long>(database.ConnectionString, $"SELECT count(*) FROM test.{table} WHERE day = '2026-11-01'"));

        // The very files staging wrote are the partition's heap and primary key: nothing was copied or sorted again.
        var partition = $"test.{table}_20261101";
        Assert.Equal(staged.Heap, await ScalarAsync<long>(database.ConnectionString, $"SELECT pg_relation_filenode('{partition}')::bigint"));
        Assert.Equal(staged.Index, await ScalarAsync<long>(database.ConnectionString, $"SELECT pg_relation_filenode('test.{table}_20261101_pkey')::bigint"));
        Assert.Equal($"test.{table}", await ScalarAsync<string>(database.ConnectionString, $"SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = '{partition}'::regclass"));
        Assert.Equal(5L, await ScalarAsync<long>(database.ConnectionString, $"SELECT count(*) FROM pg_attribute WHERE attrelid = '{partition}'::regclass AND attnum > 0 AND NOT attisdropped"));
        Assert.Equal(0L, await ScalarAsync<long>(database.ConnectionString, $"SELECT count(*) FROM pg_constraint WHERE conrelid = '{partition}'::regclass AND contype = 'c'"));
        Assert.False(await ScalarAsync<bool>(database.ConnectionString, $"SELECT to_regclass('{LedgerSchema.StagingTable(batchId)}') IS NOT NULL"));
        Assert.Equal("applied", await ScalarAsync<string>(database.ConnectionString, $"SELECT status FROM writeback.batches WHERE batch_id = '{batchId}'"));
    }

    /// <summary>Each row's page: an update that leaves a row on its page was done in place (HOT), with no new index entry.</summary>
    private static async Task<string> PagesAsync(string connectionString, string table) =>
        await ScalarAsync<string>(connectionString, $"SELECT string_agg(id || ':' || (ctid::text::point)[0], ',' ORDER BY id) FROM {table}");

    /// <summary>
    /// A table partitioned by day with the given other partitions gets a new day of 2,000 rows, then a batch of the day
    /// with every tenth row changed: the new day's storage parameters, each row's page before and after, and the result.
    /// </summary>
    private async Task<(string? Parameters, string Before, string After, PublishResult Result)> ReapplyTenthAsync(string table, string otherPartitions)
    {
        await ExecuteAsync(database.ConnectionString, Partitioned(table, "LIST") + otherPartitions);
        var target = ScoresTarget(table, LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var day1 = Scores(Day1, 2000);
        await RunAsync(engine, await _batches.WriteScoresAsync(table + "-1", target.Dataset, [day1], "2026-11-01", 1));
        var partition = $"test.{table}_20261101";
        var before = await PagesAsync(database.ConnectionString, partition);

        var next = day1.Select((r, i) => i % 10 == 0 ? r with { Minutes = r.Minutes + 1 } : r).ToList();
        var result = await RunAsync(engine, await _batches.WriteScoresAsync(table + "-2", target.Dataset, [next], "2026-11-01", 2));

        Assert.Equal(next.Sum(r => (long)r.Minutes), await ScalarAsync<long>(database.ConnectionString, $"SELECT sum(minutes) FROM test.{table}"));
        var parameters = await ScalarAsync<string?>(database.ConnectionString, $"SELECT COALESCE(reloptions::text, '') FROM pg_class WHERE oid = '{partition}'::regclass");
        return (parameters is "" ? null : parameters, before, await PagesAsync(database.ConnectionString, partition), result);
    }

    [Fact]
    public async Task A_new_day_takes_the_storage_parameters_of_the_newest_partition_so_a_re_apply_updates_its_rows_in_place()
    {
        var (parameters, before, after, result) = await ReapplyTenthAsync("pa_fill", """
            CREATE TABLE test.pa_fill_oct1 PARTITION OF test.pa_fill FOR VALUES IN ('2026-10-01') WITH (fillfactor = 90);
            CREATE TABLE test.pa_fill_oct31 PARTITION OF test.pa_fill FOR VALUES IN ('2026-10-31') WITH (fillfactor = 60, autovacuum_vacuum_scale_factor = 0.05);
            """);

        Assert.Equal("{fillfactor=60,autovacuum_vacuum_scale_factor=0.05}", parameters);
        Assert.Equal(new PublishResult("pa_fill-2", PublishStatus.Applied, 0, 200, 0, 1800, null), result);
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task A_new_day_of_a_table_whose_partitions_keep_the_defaults_is_full_and_a_re_apply_moves_the_changed_rows()
    {
        var (parameters, before, after, _) = await ReapplyTenthAsync("pa_full", "CREATE TABLE test.pa_full_oct31 PARTITION OF test.pa_full FOR VALUES IN ('2026-10-31');");

        Assert.Null(parameters);
        Assert.NotEqual(before, after);
    }

    [Fact]
    public async Task A_partitioned_contract_creates_the_table_partitioned_by_day_and_each_new_day_is_attached()
    {
        var target = ScoresTarget("pa_contract", LoadMode.ReplacePartition) with { Partitioned = true };
        var engine = CreateEngine(database.ConnectionString, target);

        await RunAsync(engine, await _batches.WriteScoresAsync("pa-contract-1", target.Dataset, [Scores(Day1, 30)], "2026-11-01", 1));
        await RunAsync(engine, await _batches.WriteScoresAsync("pa-contract-2", target.Dataset, [Scores(Day2, 20)], "2026-11-02", 1));

        Assert.Equal("l", await ScalarAsync<string>(database.ConnectionString, "SELECT partstrat::text FROM pg_partitioned_table WHERE partrelid = 'test.pa_contract'::regclass"));
        Assert.Equal(
            "test.pa_contract_20261101,test.pa_contract_20261102",
            await ScalarAsync<string>(database.ConnectionString, "SELECT string_agg(inhrelid::regclass::text, ',' ORDER BY inhrelid::regclass::text) FROM pg_inherits WHERE inhparent = 'test.pa_contract'::regclass"));
        Assert.Equal(50L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.pa_contract"));
    }

    [Fact]
    public async Task A_later_batch_of_an_attached_day_writes_only_what_changed_and_other_days_attach_beside_it()
    {
        await ExecuteAsync(database.ConnectionString, Partitioned("pa_days", "LIST"));
        var target = ScoresTarget("pa_days", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var day1 = Scores(Day1, 100);
        await RunAsync(engine, await _batches.WriteScoresAsync("pa-days-1", target.Dataset, [day1], "2026-11-01", 1));
        await RunAsync(engine, await _batches.WriteScoresAsync("pa-days-2", target.Dataset, [Scores(Day2, 50)], "2026-11-02", 1));
        var day2 = await TableDigestAsync(database.ConnectionString, "test.pa_days_20261102");

        var next = day1.Take(95).Select((r, i) => i < 10 ? r with { Minutes = r.Minutes + 1 } : r).Concat(Scores(Day1, 3, firstId: 101)).ToList();
        var result = await RunAsync(engine, await _batches.WriteScoresAsync("pa-days-3", target.Dataset, [next], "2026-11-01", 2));

        Assert.Equal(new PublishResult("pa-days-3", PublishStatus.Applied, 3, 10, 5, 85, null), result);
        Assert.Equal(98L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.pa_days_20261101"));
        Assert.Equal(day2, await TableDigestAsync(database.ConnectionString, "test.pa_days_20261102"));
        Assert.Equal(2L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'test.pa_days'::regclass"));
    }

    [Fact]
    public async Task A_day_whose_empty_partition_exists_is_inserted_into_it()
    {
        await ExecuteAsync(database.ConnectionString, Partitioned("pa_empty", "LIST") + "CREATE TABLE test.pa_empty_nov1 PARTITION OF test.pa_empty FOR VALUES IN ('2026-11-01');");
        var target = ScoresTarget("pa_empty", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);

        var result = await RunAsync(engine, await _batches.WriteScoresAsync("pa-empty-1", target.Dataset, [Scores(Day1, 80)], "2026-11-01"));

        Assert.Equal(new PublishResult("pa-empty-1", PublishStatus.Applied, 80, 0, 0, 0, null), result);
        Assert.Equal(80L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.pa_empty_nov1"));
        Assert.Equal(1L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'test.pa_empty'::regclass"));
    }

    [Fact]
    public async Task Views_grants_checks_and_a_reader_inside_its_transaction_all_survive_the_attach()
    {
        var role = "pa_reader_" + Guid.NewGuid().ToString("N")[..8];
        await ExecuteAsync(
            database.ConnectionString,
            Partitioned("pa_deps", "RANGE") + $"""
                ALTER TABLE test.pa_deps ADD CONSTRAINT minutes_not_negative CHECK (minutes >= 0);
                CREATE VIEW test.pa_deps_totals AS SELECT day, sum(minutes) AS minutes FROM test.pa_deps GROUP BY day;
                CREATE ROLE {role};
                GRANT USAGE ON SCHEMA test TO {role};
                GRANT SELECT ON test.pa_deps, test.pa_deps_totals TO {role};
                """);
        var target = ScoresTarget("pa_deps", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var manifest = await _batches.WriteScoresAsync("pa-deps-1", target.Dataset, [Scores(Day1, 60)], "2026-11-01");
        await LoadAndVerifyAsync(engine, manifest, "pa-deps-1");

        try
        {
            // A reader in the middle of a transaction holds ACCESS SHARE on the table; the attach must not wait for it.
            await using var reader = new NpgsqlConnection(database.ConnectionString);
            await reader.OpenAsync();
            await using var transaction = await reader.BeginTransactionAsync();
            await using (var before = new NpgsqlCommand("SELECT count(*) FROM test.pa_deps", reader, transaction))
            {
                Assert.Equal(0L, (long)(await before.ExecuteScalarAsync())!);
            }

            using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var published = await engine.PublishAsync(manifest, "pa-deps-1", hang.Token);
            Assert.Equal(PublishStatus.Applied, published.Status);

            await using (var after = new NpgsqlCommand("SELECT count(*) FROM test.pa_deps", reader, transaction))
            {
                Assert.Equal(60L, (long)(await after.ExecuteScalarAsync())!);
            }

            await transaction.CommitAsync();
            await ExecuteAsync(database.ConnectionString, $"SET ROLE {role}; SELECT minutes FROM test.pa_deps_totals; RESET ROLE;");
            Assert.Equal(Scores(Day1, 60).Sum(r => (long)r.Minutes), await ScalarAsync<long>(database.ConnectionString, "SELECT minutes FROM test.pa_deps_totals WHERE day = '2026-11-01'"));
            Assert.Equal(1L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'test.pa_deps_20261101'::regclass AND conname = 'minutes_not_negative'"));
        }
        finally
        {
            await ExecuteAsync(database.ConnectionString, $"DROP VIEW test.pa_deps_totals; DROP OWNED BY {role}; DROP ROLE {role};");
        }
    }

    [Fact]
    public async Task A_table_named_like_the_day_that_is_not_its_partition_is_left_alone_and_the_batch_refused()
    {
        await ExecuteAsync(database.ConnectionString, Partitioned("pa_taken", "LIST") + "CREATE TABLE test.pa_taken_20261101 (note text);");
        var target = ScoresTarget("pa_taken", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var manifest = await _batches.WriteScoresAsync("pa-taken-1", target.Dataset, [Scores(Day1, 10)], "2026-11-01");
        await LoadAndVerifyAsync(engine, manifest, "pa-taken-1");

        var e = await Assert.ThrowsAsync<InvalidBatchException>(() => engine.PublishAsync(manifest, "pa-taken-1", default));

        Assert.Contains("test.pa_taken_20261101", e.Message);
        Assert.Contains("rename or drop it", e.Message);
        Assert.Equal(0L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.pa_taken"));
        Assert.Equal("verified", await ScalarAsync<string>(database.ConnectionString, "SELECT status FROM writeback.batches WHERE batch_id = 'pa-taken-1'"));
    }
}

/// <summary>Real crashes around the attach, on a private server; each end state is compared with a fault-free run.</summary>
public sealed class PartitionAttachCrashTests : IDisposable
{
    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    private static string Partitioned(string table) => PartitionAttachTests.Partitioned(table, "LIST");

    /// <summary>What the state machine does: a step that failed transiently is retried; a reload goes back to the Map.</summary>
    private static async Task<PublishResult> RunWithRetriesAsync(LoadEngine engine, string manifest, string batchId, int shards, Func<Task>? beforePublish = null)
    {
        for (var round = 0; round < 5; round++)
        {
            try
            {
                for (var i = 0; i < shards; i++)
                {
                    await engine.LoadShardAsync(manifest, batchId, i, default);
                }

                await engine.VerifyAsync(manifest, batchId, default);
                if (beforePublish is not null)
                {
                    var fault = beforePublish;
                    beforePublish = null;
                    await fault();
                }

                var published = await engine.PublishAsync(manifest, batchId, default);
                await engine.CleanupAsync(manifest, batchId, null, default);
                return published;
            }
            catch (Exception e) when (Failures.IsTransient(e) || e is ReloadRequiredException)
            {
                NpgsqlConnection.ClearAllPools();
            }
        }

        throw new InvalidOperationException("the batch did not finish in five rounds");
    }

    private async Task<string> FaultFreeDigestAsync(PrivatePostgres server, IReadOnlyList<IReadOnlyList<ScoreRow>> shards)
    {
        await ExecuteAsync(server.ConnectionString, Partitioned("pa_clean"));
        var target = ScoresTarget("pa_clean", LoadMode.ReplacePartition);
        await RunAsync(CreateEngine(server.ConnectionString, target), await _batches.WriteScoresAsync("pa-clean-1", target.Dataset, shards, "2026-11-01"));
        return await TableDigestAsync(server.ConnectionString, "test.pa_clean");
    }

    [PrivatePostgresFact]
    public async Task An_immediate_shutdown_between_verify_and_publish_reloads_and_attaches_the_whole_day()
    {
        await using var server = await PrivatePostgres.StartAsync();
        IReadOnlyList<IReadOnlyList<ScoreRow>> shards = [Scores(Day1, 500), Scores(Day1, 500, firstId: 501)];
        var expected = await FaultFreeDigestAsync(server, shards);
        await ExecuteAsync(server.ConnectionString, Partitioned("pa_crash"));
        var target = ScoresTarget("pa_crash", LoadMode.ReplacePartition);
        var engine = CreateEngine(server.ConnectionString, target);
        var manifest = await _batches.WriteScoresAsync("pa-crash-1", target.Dataset, shards, "2026-11-01");
        await engine.PrepareAsync(manifest, null, null, default);

        var published = await RunWithRetriesAsync(engine, manifest, "pa-crash-1", 2, server.CrashAndRestartAsync);

        Assert.Equal(PublishStatus.Applied, published.Status);
        Assert.Equal(expected, await TableDigestAsync(server.ConnectionString, "test.pa_crash"));
        Assert.Equal(1L, await ScalarAsync<long>(server.ConnectionString, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'test.pa_crash'::regclass"));
        Assert.Equal(0L, await ScalarAsync<long>(server.ConnectionString, "SELECT count(*) FROM pg_tables WHERE schemaname = 'writeback_staging' AND tablename <> 'intact'"));
    }

    [PrivatePostgresFact]
    public async Task A_backend_killed_inside_the_attach_leaves_no_partition_and_the_retry_attaches_the_whole_day()
    {
        await using var server = await PrivatePostgres.StartAsync();
        IReadOnlyList<IReadOnlyList<ScoreRow>> shards = [Scores(Day1, 500), Scores(Day1, 500, firstId: 501)];
        var expected = await FaultFreeDigestAsync(server, shards);
        await ExecuteAsync(server.ConnectionString, Partitioned("pa_kill"));
        var target = ScoresTarget("pa_kill", LoadMode.ReplacePartition);
        var engine = CreateEngine(server.ConnectionString, target);
        var manifest = await _batches.WriteScoresAsync("pa-kill-1", target.Dataset, shards, "2026-11-01");
        await engine.PrepareAsync(manifest, null, null, default);

        // Another session holds the one lock ATTACH needs and readers do not take, so the publisher stops inside the
        // attach, its staging already altered; then its backend is SIGKILLed and the server crash-restarts.
        async Task KillInsideTheAttach()
        {
            var holder = new NpgsqlConnection(server.ConnectionString);
            await holder.OpenAsync();
            await using (var hold = new NpgsqlCommand("BEGIN; LOCK TABLE test.pa_kill IN SHARE UPDATE EXCLUSIVE MODE", holder))
            {
                await hold.ExecuteNonQueryAsync();
            }

            var publishing = engine.PublishAsync(manifest, "pa-kill-1", default);
            var pid = 0;
            for (var i = 0; i < 600 && pid == 0 && !publishing.IsCompleted; i++)
            {
                await Task.Delay(100);
                pid = await ScalarAsync<int>(
                    server.ConnectionString,
                    "SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%ATTACH PARTITION%'");
            }

            Assert.NotEqual(0, pid);
            await server.KillBackendAsync(pid);
            await Assert.ThrowsAnyAsync<Exception>(() => publishing);
            await holder.DisposeAsync();
            Assert.Equal(0L, await ScalarAsync<long>(server.ConnectionString, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'test.pa_kill'::regclass"));
            Assert.Equal("verified", await ScalarAsync<string>(server.ConnectionString, "SELECT status FROM writeback.batches WHERE batch_id = 'pa-kill-1'"));
        }

        var published = await RunWithRetriesAsync(engine, manifest, "pa-kill-1", 2, KillInsideTheAttach);

        Assert.Equal(PublishStatus.Applied, published.Status);
        Assert.Equal(expected, await TableDigestAsync(server.ConnectionString, "test.pa_kill"));
        Assert.Equal(1L, await ScalarAsync<long>(server.ConnectionString, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'test.pa_kill'::regclass"));
    }
}
