using System.Text.Json;
using Npgsql;
using Parquet.Schema;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

/// <summary>Schema versions of a target, applied by Prepare on a real PostgreSQL while readers use the table.</summary>
public sealed class SchemaMigratorTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
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

        // A report that reads the table inside one long transaction: ALTER TABLE cannot get its lock while it lasts.
        await using var longReader = await database.OpenAsync();
        await using var readerTransaction = await longReader.BeginTransactionAsync();
        await using (var read = new NpgsqlCommand("SELECT count(*) FROM test.sm_online", longReader, readerTransaction))
        {
            Assert.Equal(20L, (long)(await read.ExecuteScalarAsync())!);
        }

        var prepare = engine.PrepareAsync(manifest, null, null, default);

        // Two different attempts seen waiting for the lock: the first gave up at its lock_timeout and was issued again.
        await using var observer = await database.OpenAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var attempts = new HashSet<DateTime>();
        var readsDuringRetries = 0;
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
                Assert.Equal(20L, (long)(await read.ExecuteScalarAsync())!);
                readsDuringRetries++;
            }

            await Task.Delay(10);
        }

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
}
