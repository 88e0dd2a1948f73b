using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using Parquet.Schema;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using Xunit.Abstractions;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

/// <summary>Schema versions of a target, applied by Prepare on a real PostgreSQL while readers use the table.</summary>
public sealed class SchemaMigratorTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>, IDisposable
{
    /// <summary>Short enough for a test; attempts enough that the reader, not the budget, decides when the change lands.</summary>
    private static readonly SchemaMigrationOptions Patient = new(TimeSpan.FromMilliseconds(200), 10_000, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200));

    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    /// <summary>
    /// Version 2 of the scores target: a nullable column, a not-null column with a default, a longer varchar and a
    /// wider numeric, all changes PostgreSQL makes in the catalog alone.
    /// </summary>
    private static Target Version2(string table) => ScoresTarget(table, LoadMode.ReplacePartition) with
    {
        Columns =
        [
            .. ScoresTarget(table, LoadMode.ReplacePartition).Columns.Select(c => c.Name switch
            {
                "name" => c with { Type = "varchar(40)" },
                "score" => c with { Type = "numeric(7,2)" },
                _ => c,
            }),
            new TargetColumn { Name = "grade", Type = "text" },
            new TargetColumn { Name = "attempts", Type = "integer", Nullable = false, Default = JsonDocument.Parse("1").RootElement.Clone() },
        ],
        History =
        [
            new TargetVersion
            {
                Version = 2,
                Description = "grades for the new tile; longer names; scores up to 99999.99",
                Changes =
                [
                    new SchemaChange { Change = SchemaChangeKind.AddColumn, Column = "grade" },
                    new SchemaChange { Change = SchemaChangeKind.AddColumn, Column = "attempts" },
                    new SchemaChange { Change = SchemaChangeKind.Widen, Column = "name", From = "varchar(10)", To = "varchar(40)" },
                    new SchemaChange { Change = SchemaChangeKind.Widen, Column = "score", From = "numeric(5,2)", To = "numeric(7,2)" },
                ],
            },
        ],
    };

    private static IReadOnlyList<ShardColumn> Version2Schema =>
    [
        .. ScoresSchema.Select(c => c.Name switch
        {
            "name" => c with { Type = "varchar(40)" },
            "score" => c with { Type = "numeric(7,2)" },
            _ => c,
        }),
        new() { Name = "grade", Type = "text" },
        new() { Name = "attempts", Type = "integer" },
    ];

    /// <summary>A version 2 batch: every row has grade "A" and 3 attempts.</summary>
    private Task<string> WriteVersion2Async(string batchId, string dataset, IReadOnlyList<ScoreRow> rows, long sequence, int? schemaVersion = 2) =>
        _batches.WriteBatchAsync(
            batchId, dataset,
            [[.. ScoreColumns(rows), new(new DataField<string>("grade"), rows.Select(_ => (string?)"A").ToArray()), new(new DataField<int>("attempts"), rows.Select(_ => 3).ToArray())]],
            Version2Schema, "2026-11-01", sequence, m => m with { SchemaVersion = schemaVersion });

    private async Task<LoadEngine> SeededVersion1Async(string table)
    {
        var target = ScoresTarget(table, LoadMode.ReplacePartition);
        await RunAsync(CreateEngine(database.ConnectionString, target), await _batches.WriteScoresAsync(table + "-v1", target.Dataset, [Scores(Day1, 20)], "2026-11-01", 1));
        return CreateEngine(database.ConnectionString, target);
    }

    private Task<long> RelfilenodeAsync(string relation) =>
        ScalarAsync<long>(database.ConnectionString, $"SELECT relfilenode::bigint FROM pg_class WHERE oid = '{relation}'::regclass");

    private Task<long> ColumnCountAsync(string table, string column) =>
        ScalarAsync<long>(database.ConnectionString, $"SELECT count(*) FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attname = '{column}' AND NOT attisdropped");

    private Task<string> TypesAsync(string table, params string[] columns) =>
        ScalarAsync<string>(
            database.ConnectionString,
            $"SELECT string_agg(format_type(atttypid, atttypmod), ' ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attname IN ('{string.Join("', '", columns)}')");

    /// <summary>
    /// A report that reads the table inside one long transaction, holding its ACCESS SHARE lock until the transaction
    /// ends: ALTER TABLE cannot get its lock meanwhile. Returns the open transaction and the rows it counted.
    /// </summary>
    private async Task<(NpgsqlTransaction Transaction, long Rows)> HoldTableAsync(string table)
    {
        var connection = await database.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var read = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection, transaction);
        return (transaction, (long)(await read.ExecuteScalarAsync())!);
    }

    private async Task<List<DateTime>> WaitingAlterAttemptsAsync(NpgsqlConnection observer)
    {
        await using var command = new NpgsqlCommand(
            "SELECT query_start FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'ALTER TABLE%'", observer);
        var starts = new List<DateTime>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            starts.Add(reader.GetDateTime(0));
        }

        return starts;
    }

    [Fact]
    public async Task An_additive_version_waits_out_a_long_reader_by_retrying_under_lock_timeout_and_readers_keep_reading()
    {
        var table = "sm_online";
        await SeededVersion1Async(table);
        var role = "wb_reader_" + Guid.NewGuid().ToString("N")[..8];
        await ExecuteAsync(
            database.ConnectionString,
            $"CREATE INDEX sm_online_name ON test.sm_online (name); CREATE VIEW test.sm_online_minutes AS SELECT id, day, minutes FROM test.sm_online; " +
            $"CREATE ROLE {role}; GRANT USAGE ON SCHEMA test TO {role}; GRANT SELECT ON test.sm_online, test.sm_online_minutes TO {role};");
        var tableFile = await RelfilenodeAsync("test.sm_online");
        var indexFile = await RelfilenodeAsync("test.sm_online_name");
        var engine = CreateEngine(database.ConnectionString, TestSources, Patient, Version2(table));
        var manifest = await WriteVersion2Async("sm-online-2", table, Scores(Day1, 20), 2);

        var (readerTransaction, rows) = await HoldTableAsync("test.sm_online");
        await using var longReader = readerTransaction.Connection!;
        Assert.Equal(20L, rows);

        var prepare = engine.PrepareAsync(manifest, null, null, default);

        // Three different attempts seen waiting for the lock: each gave up at its lock_timeout and was issued again.
        await using var observer = await database.OpenAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var attempts = new HashSet<DateTime>();
        var readsDuringRetries = 0;
        var slowestRead = TimeSpan.Zero;
        while (attempts.Count < 3)
        {
            guard.Token.ThrowIfCancellationRequested();
            attempts.UnionWith(await WaitingAlterAttemptsAsync(observer));
            if (attempts.Count > 0 && readsDuringRetries < attempts.Count)
            {
                // A new reader while the change is pending returns, although the long reader still holds the table:
                // it waits behind a queued ALTER at most one lock_timeout, never until the long reader ends.
                await using var fresh = await database.OpenAsync();
                await using var read = new NpgsqlCommand("SELECT count(*) FROM test.sm_online", fresh);
                var clock = Stopwatch.StartNew();
                Assert.Equal(20L, (long)(await read.ExecuteScalarAsync())!);
                slowestRead = clock.Elapsed > slowestRead ? clock.Elapsed : slowestRead;
                readsDuringRetries++;
            }

            await Task.Delay(10);
        }

        // Measured, not asserted: how long a new reader waited at worst, against the 200 ms lock_timeout.
        output.WriteLine($"{attempts.Count} attempts seen, {readsDuringRetries} reads during them, slowest {slowestRead.TotalMilliseconds:F0} ms");
        Assert.False(prepare.IsCompleted);
        Assert.Equal(0L, await ColumnCountAsync("test.sm_online", "grade"));
        await readerTransaction.CommitAsync();

        Assert.Equal(PrepareAction.Load, (await prepare).Action);
        await engine.LoadShardAsync(manifest, "sm-online-2", 0, default);
        await engine.VerifyAsync(manifest, "sm-online-2", default);
        Assert.Equal(PublishStatus.Applied, (await engine.PublishAsync(manifest, "sm-online-2", default)).Status);

        // No rewrite of the table or its index; the view and the grant work; the new columns hold the batch's values.
        Assert.Equal(tableFile, await RelfilenodeAsync("test.sm_online"));
        Assert.Equal(indexFile, await RelfilenodeAsync("test.sm_online_name"));
        Assert.Equal(20L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.sm_online_minutes"));
        Assert.Equal(20L, await ScalarAsync<long>(database.ConnectionString, $"SET ROLE {role}; SELECT count(*) FROM test.sm_online WHERE grade = 'A' AND attempts = 3"));
        Assert.Equal("character varying(40) numeric(7,2)", await TypesAsync("test.sm_online", "name", "score"));
        Assert.Equal("1,2", await ScalarAsync<string>(database.ConnectionString, "SELECT string_agg(version::text, ',' ORDER BY version) FROM writeback.target_versions WHERE target = 'test.sm_online'"));
        await ExecuteAsync(database.ConnectionString, $"DROP OWNED BY {role}; DROP ROLE {role}");
    }

    /// <summary>Seeds version 1, then a version 2 batch, so the table is migrated and holds day 1 with grade "A".</summary>
    private async Task<LoadEngine> MigratedAsync(string table, SchemaMigrationOptions? options = null)
    {
        await SeededVersion1Async(table);
        var engine = CreateEngine(database.ConnectionString, TestSources, options ?? SchemaMigrationOptions.Default, Version2(table));
        Assert.Equal(PublishStatus.Applied, (await RunAsync(engine, await WriteVersion2Async(table + "-v2", table, Scores(Day1, 20), 2))).Status);
        return engine;
    }

    [Fact]
    public async Task A_manifest_of_an_older_version_loads_its_columns_and_the_added_ones_get_their_default_or_null()
    {
        var engine = await MigratedAsync("sm_older");

        // An exporter not yet updated: no schemaVersion, version 1's columns and types. Then one that says version 1.
        var unversioned = await _batches.WriteScoresAsync("sm-older-3", "sm_older", [Scores(Day2, 10)], "2026-11-02", 3);
        var version1 = await _batches.WriteScoresAsync("sm-older-4", "sm_older", [Scores(Day2, 12)], "2026-11-02", 4, m => m with { SchemaVersion = 1 });

        Assert.Equal(new PublishResult("sm-older-3", PublishStatus.Applied, 10, 0, 0, 0, null), await RunAsync(engine, unversioned));
        Assert.Equal(new PublishResult("sm-older-4", PublishStatus.Applied, 2, 0, 0, 10, null), await RunAsync(engine, version1));

        Assert.Equal("12 0 12", await ScalarAsync<string>(database.ConnectionString, "SELECT count(*) || ' ' || count(grade) || ' ' || count(*) FILTER (WHERE attempts = 1) FROM test.sm_older WHERE day = '2026-11-02'"));
        Assert.Equal(20L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.sm_older WHERE day = '2026-11-01' AND grade = 'A' AND attempts = 3"));
    }

    [Fact]
    public async Task A_manifest_of_a_newer_version_than_the_writers_know_is_refused_before_anything_is_written()
    {
        var engine = await MigratedAsync("sm_newer");
        var digest = await TableDigestAsync(database.ConnectionString, "test.sm_newer");
        var newer = await WriteVersion2Async("sm-newer-3", "sm_newer", Scores(Day1, 5), 3, schemaVersion: 3);

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => engine.PrepareAsync(newer, null, null, default));

        Assert.Contains("field 'schemaVersion': the batch was exported for schema version 3 of test.sm_newer", error.Message);
        Assert.Contains("is at version 2. Deploy the writers with the newer contract first", error.Message);
        Assert.Equal(digest, await TableDigestAsync(database.ConnectionString, "test.sm_newer"));
        Assert.Equal(0L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM writeback.batches WHERE batch_id = 'sm-newer-3'"));
    }

    [Fact]
    public async Task A_manifest_whose_columns_are_not_those_of_the_version_it_names_is_refused()
    {
        var engine = await MigratedAsync("sm_claims");
        var wrong = await WriteVersion2Async("sm-claims-3", "sm_claims", Scores(Day1, 5), 3, schemaVersion: 1);

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => engine.PrepareAsync(wrong, null, null, default));

        Assert.Contains("type mismatch: the manifest says varchar(40), the contract at schema version 1 says varchar(10)", error.Message);
    }

    [Fact]
    public async Task A_version_is_applied_once_and_later_batches_take_no_lock_on_the_table()
    {
        await MigratedAsync("sm_once");
        var impatient = CreateEngine(database.ConnectionString, TestSources, new SchemaMigrationOptions(TimeSpan.FromMilliseconds(50), 1, TimeSpan.Zero, TimeSpan.Zero), Version2("sm_once"));

        // A reader holds the table; a later batch still prepares, loads and publishes: there is nothing to alter.
        var (readerTransaction, _) = await HoldTableAsync("test.sm_once");
        await using var longReader = readerTransaction.Connection!;

        Assert.Equal(PrepareAction.Load, (await impatient.PrepareAsync(await WriteVersion2Async("sm-once-3", "sm_once", Scores(Day1, 20, seed: 1), 3), null, null, default)).Action);
        await readerTransaction.RollbackAsync();
        Assert.Equal(2L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM writeback.target_versions WHERE target = 'test.sm_once'"));
    }

    [Fact]
    public async Task A_reader_that_outlasts_every_attempt_makes_prepare_give_up_retryably_and_nothing_changes()
    {
        await SeededVersion1Async("sm_busy");
        var engine = CreateEngine(database.ConnectionString, TestSources, new SchemaMigrationOptions(TimeSpan.FromMilliseconds(100), 2, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10)), Version2("sm_busy"));
        var manifest = await WriteVersion2Async("sm-busy-2", "sm_busy", Scores(Day1, 20), 2);
        var (readerTransaction, _) = await HoldTableAsync("test.sm_busy");
        await using var longReader = readerTransaction.Connection!;

        var error = await Assert.ThrowsAsync<TimeoutException>(() => engine.PrepareAsync(manifest, null, null, default));

        Assert.True(Failures.IsTransient(error));
        Assert.Contains("tried 2 times to take the table's lock, waiting at most 100ms each time", error.Message);
        Assert.Equal("character varying(10) numeric(5,2)", await TypesAsync("test.sm_busy", "name", "score"));
        Assert.Equal(0L, await ColumnCountAsync("test.sm_busy", "grade"));
        Assert.Equal(1, await ScalarAsync<int>(database.ConnectionString, "SELECT max(version) FROM writeback.target_versions WHERE target = 'test.sm_busy'"));

        // The state machine's retry, once the reader is done, applies it.
        await readerTransaction.CommitAsync();
        Assert.Equal(PublishStatus.Applied, (await RunAsync(engine, manifest)).Status);
        Assert.Equal(1L, await ColumnCountAsync("test.sm_busy", "grade"));
    }

    [Fact]
    public async Task Widening_a_column_a_view_uses_is_refused_naming_the_view_and_no_change_of_the_version_is_applied()
    {
        await SeededVersion1Async("sm_viewed");
        await ExecuteAsync(database.ConnectionString, "CREATE VIEW test.sm_viewed_names AS SELECT id, name FROM test.sm_viewed");
        var engine = CreateEngine(database.ConnectionString, Version2("sm_viewed"));

        var error = await Assert.ThrowsAsync<InvalidBatchException>(async () => await engine.PrepareAsync(await WriteVersion2Async("sm-viewed-2", "sm_viewed", Scores(Day1, 5), 2), null, null, default));

        Assert.Contains("widen column 'name' from varchar(10) to varchar(40)", error.Message);
        Assert.Contains("PostgreSQL cannot change the type of a column a view or rule uses, and these do: test.sm_viewed_names (column name)", error.Message);
        Assert.Equal(0L, await ColumnCountAsync("test.sm_viewed", "grade"));
        Assert.Equal(1, await ScalarAsync<int>(database.ConnectionString, "SELECT max(version) FROM writeback.target_versions WHERE target = 'test.sm_viewed'"));
    }

    [Fact]
    public async Task A_table_at_a_newer_version_than_the_contract_is_refused()
    {
        await SeededVersion1Async("sm_ahead");
        await ExecuteAsync(database.ConnectionString, "INSERT INTO writeback.target_versions (target, version, columns, changes) VALUES ('test.sm_ahead', 5, '{}', 'version 5: from a newer deployment')");
        var engine = CreateEngine(database.ConnectionString, Version2("sm_ahead"));

        var error = await Assert.ThrowsAsync<InvalidBatchException>(async () => await engine.PrepareAsync(await WriteVersion2Async("sm-ahead-2", "sm_ahead", Scores(Day1, 5), 2), null, null, default));

        Assert.Contains("the table is at schema version 5 (writeback.target_versions), but these writers' contract (targets/sm_ahead.json) is at version 2", error.Message);
        Assert.Equal(0L, await ColumnCountAsync("test.sm_ahead", "grade"));
    }

    /// <summary>A batch for <paramref name="target"/>: the score columns it declares, <c>label</c> holding the names.</summary>
    private Task<string> WriteForAsync(Target target, string batchId, long sequence)
    {
        var score = ScoreColumns(Scores(Day1, 20));
        var columns = target.Columns.Select(c => score.FirstOrDefault(s => s.Field.Name == c.Name) ?? new(new DataField<string>(c.Name), score[2].Values)).ToList();
        return _batches.WriteBatchAsync(batchId, target.Dataset, [columns], [.. target.Columns.Select(c => new ShardColumn { Name = c.Name, Type = c.Type })], "2026-11-01", sequence);
    }

    [Theory]
    [InlineData("narrow", "narrowing of column 'name' from varchar(10) to varchar(5): column 'name' is character varying(10) in the database, the contract says varchar(5)")]
    [InlineData("retype", "type change of column 'minutes' from integer to bigint")]
    [InlineData("drop", "drop of column 'score': the table has it (schema version 1), the contract no longer declares it and no version drops it")]
    [InlineData("rename", "the table exists but has no column 'label' that the contract declares, and no version after 1 adds it (a rename of 'name' to 'label'? A rename is destructive)")]
    [InlineData("declared_drop", "drop of column 'score' (version 2): the table still has it, and Writeback never drops a column")]
    public async Task A_destructive_change_is_refused_naming_the_change_and_the_way_to_migrate_and_the_table_is_untouched(string change, string expected)
    {
        var table = "sm_destroy_" + change;
        await SeededVersion1Async(table);
        var v1 = ScoresTarget(table, LoadMode.ReplacePartition);
        var changed = change switch
        {
            "narrow" => v1 with { Columns = [.. v1.Columns.Select(c => c.Name == "name" ? c with { Type = "varchar(5)" } : c)] },
            "retype" => v1 with { Columns = [.. v1.Columns.Select(c => c.Name == "minutes" ? c with { Type = "bigint" } : c)] },
            "drop" => v1 with { Columns = [.. v1.Columns.Where(c => c.Name != "score")] },
            "rename" => v1 with { Columns = [.. v1.Columns.Select(c => c.Name == "name" ? c with { Name = "label" } : c)] },
            _ => v1 with
            {
                Columns = [.. v1.Columns.Where(c => c.Name != "score")],
                History = [new TargetVersion { Version = 2, Description = "scores move to the grades table", Changes = [new SchemaChange { Change = SchemaChangeKind.DropColumn, Column = "score" }] }],
            },
        };
        var shape = $"SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'test.{table}'::regclass AND attnum > 0 AND NOT attisdropped";
        var before = (await TableDigestAsync(database.ConnectionString, "test." + table), await ScalarAsync<string>(database.ConnectionString, shape));
        var engine = CreateEngine(database.ConnectionString, changed);
        var manifest = await WriteForAsync(changed, table + "-2", 2);

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => engine.PrepareAsync(manifest, null, null, default));

        Assert.Contains($"target test.{table}: refused: {expected}", error.Message);
        Assert.Contains("Nothing was changed. Writeback applies additive changes only", error.Message);
        Assert.Contains("expand/contract: add the new column in a new version, backfill it, switch readers to it, then drop the old column by hand", error.Message);
        Assert.Equal(before, (await TableDigestAsync(database.ConnectionString, "test." + table), await ScalarAsync<string>(database.ConnectionString, shape)));
        Assert.Equal(0L, await ScalarAsync<long>(database.ConnectionString, $"SELECT count(*) FROM writeback.batches WHERE batch_id = '{table}-2'"));

        if (change == "declared_drop")
        {
            // The contract step of expand/contract: the operator drops the column by hand; then the version is recorded.
            await ExecuteAsync(database.ConnectionString, $"ALTER TABLE test.{table} DROP COLUMN score");
            Assert.Equal(PublishStatus.Applied, (await RunAsync(engine, manifest)).Status);
            Assert.Equal(2, await ScalarAsync<int>(database.ConnectionString, $"SELECT max(version) FROM writeback.target_versions WHERE target = 'test.{table}'"));
        }
    }

    [PrivatePostgresFact]
    public async Task A_backend_killed_while_its_change_waits_for_the_lock_leaves_no_half_change_and_the_retry_ends_as_a_fault_free_run()
    {
        await using var server = await PrivatePostgres.StartAsync();
        var v1 = ScoresTarget("sm_killed", LoadMode.ReplacePartition);
        await RunAsync(CreateEngine(server.ConnectionString, v1), await _batches.WriteScoresAsync("sm-killed-1", "sm_killed", [Scores(Day1, 20)], "2026-11-01", 1));
        var engine = CreateEngine(server.ConnectionString, TestSources, Patient with { LockTimeout = TimeSpan.FromSeconds(5) }, Version2("sm_killed"));
        var manifest = await WriteVersion2Async("sm-killed-2", "sm_killed", Scores(Day1, 20), 2);
        var holder = new NpgsqlConnection(server.ConnectionString);
        await holder.OpenAsync();
        await using (var read = new NpgsqlCommand("BEGIN; SELECT count(*) FROM test.sm_killed", holder))
        {
            await read.ExecuteNonQueryAsync();
        }

        // SIGKILL of the backend whose ALTER waits for the lock: the postmaster crash-restarts, every session ends.
        var prepare = engine.PrepareAsync(manifest, null, null, default);
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var pid = 0;
        while (pid == 0)
        {
            guard.Token.ThrowIfCancellationRequested();
            pid = await ScalarAsync<int>(server.ConnectionString, "SELECT coalesce((SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'ALTER TABLE%' LIMIT 1), 0)");
        }

        await server.KillBackendAsync(pid);
        var error = await Record.ExceptionAsync(() => prepare);
        await Record.ExceptionAsync(() => holder.DisposeAsync().AsTask());
        NpgsqlConnection.ClearAllPools();

        // Never half: the columns and the record of version 2 are there together or not at all.
        var shape = $"SELECT (SELECT count(*) FROM pg_attribute WHERE attrelid = 'test.sm_killed'::regclass AND attname IN ('grade', 'attempts')) || ' ' || (SELECT max(version) FROM writeback.target_versions WHERE target = 'test.sm_killed')";
        var afterKill = await ScalarAsync<string>(server.ConnectionString, shape);
        output.WriteLine($"after the kill: prepare {(error is null ? "succeeded" : error.GetType().Name)}; grade/attempts columns and version: {afterKill}");
        Assert.Contains(afterKill, new[] { "0 1", "2 2" });
        Assert.True(error is null || Failures.IsTransient(error), error?.ToString());

        // The state machine retries Prepare; the batch then ends as it does without the crash.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Assert.Equal(PublishStatus.Applied, (await RunAsync(engine, manifest)).Status);
                break;
            }
            catch (Exception e) when (Failures.IsTransient(e) && attempt < 5)
            {
                NpgsqlConnection.ClearAllPools();
            }
        }

        Assert.Equal("2 2", await ScalarAsync<string>(server.ConnectionString, shape));
        Assert.Equal(20L, await ScalarAsync<long>(server.ConnectionString, "SELECT count(*) FROM test.sm_killed WHERE grade = 'A' AND attempts = 3"));
        Assert.Equal("character varying(40) numeric(7,2)", await ScalarAsync<string>(server.ConnectionString, "SELECT string_agg(format_type(atttypid, atttypmod), ' ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'test.sm_killed'::regclass AND attname IN ('name', 'score')"));
    }
}
