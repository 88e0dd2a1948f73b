using System.Diagnostics;
using Npgsql;
using Writeback.Benchmarks;

namespace Writeback.EndToEnd.Benchmarks;

/// <summary>Time, WAL and CPU of one measured action; a CHECKPOINT precedes each, so every case pays its full-page images.</summary>
internal sealed record Measured(double Seconds, long WalBytes, CpuUse Cpu);

/// <summary>The bench's product table on the server, for the business date; with a fillfactor, its pages keep room for HOT updates.</summary>
internal sealed class Database(string connectionString, CpuMeter cpu, DateOnly date, int? fillfactor)
{
    private const string Product = "dashboard.student_daily";

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public Task ExecuteAsync(string sql, params object[] parameters) => ScalarAsync<object>(sql, parameters);

    /// <summary>
    /// An empty product table and ledger: the next batch of the day loads a fresh partition. With a fillfactor, a
    /// partitioned table keeps one empty partition, for the day before, made with it: the parent cannot hold storage
    /// parameters, so the partition that writeback attaches takes those of the table's newest other partition.
    /// </summary>
    public Task ResetAsync() => ExecuteAsync($"""
        DO $$ BEGIN
            -- A partitioned product table loses its days' partitions, so the next batch attaches a new one.
            IF EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass('{Product}')) THEN
                EXECUTE (SELECT coalesce(string_agg(format('DROP TABLE %s;', inhrelid::regclass), ' '), '') FROM pg_inherits WHERE inhparent = '{Product}'::regclass);
                {(fillfactor is { } f ? $"CREATE TABLE {Product}_{date.AddDays(-1):yyyyMMdd} PARTITION OF {Product} FOR VALUES IN ('{date.AddDays(-1):yyyy-MM-dd}') WITH (fillfactor = {f});" : string.Empty)}
            ELSIF to_regclass('{Product}') IS NOT NULL THEN TRUNCATE {Product}; END IF;
            IF to_regclass('writeback.shards') IS NOT NULL THEN
                DELETE FROM writeback.shards; DELETE FROM writeback.batches; DELETE FROM writeback.watermarks;
                -- With the ledger gone, staging left by an interrupted run vouches for nothing: drop its intact marks,
                -- so the next prepare resets it.
                DELETE FROM writeback_staging.intact;
            END IF;
        END $$;
        SELECT 1
        """);

    /// <summary>
    /// The product table made a plain table, or one partitioned by day (LIST on business_date), with the same columns
    /// and key and no rows: the demo's target creates it partitioned, the fresh and re-apply cases measure the
    /// row-copying publish any plain table gets, the partitioned case the attach. A plain table takes the fillfactor
    /// here (TRUNCATE keeps it); a partitioned one through the template partition <see cref="ResetAsync"/> makes. Callers
    /// reset the day afterwards.
    /// </summary>
    public Task ReshapeProductTableAsync(bool partitioned) => ExecuteAsync($"""
        DO $$ BEGIN
            IF {(partitioned ? "NOT " : string.Empty)}EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass('{Product}')) THEN
                CREATE TABLE {Product}_reshaped (LIKE {Product} INCLUDING DEFAULTS INCLUDING CONSTRAINTS){(partitioned ? " PARTITION BY LIST (business_date)" : string.Empty)};
                ALTER TABLE {Product}_reshaped ADD PRIMARY KEY (student_id, business_date);
                DROP TABLE {Product};
                ALTER TABLE {Product}_reshaped RENAME TO student_daily;
            END IF;
        END $$;
        {(!partitioned && fillfactor is { } f ? $"ALTER TABLE {Product} SET (fillfactor = {f});" : string.Empty)}
        SELECT 1
        """);

    public async Task<(Measured Run, T Result)> MeasureAsync<T>(Func<Task<T>> action)
    {
        await ExecuteAsync("CHECKPOINT; SELECT 1");
        var before = await ScalarAsync<string>("SELECT pg_current_wal_lsn()::text");
        var cpuBefore = cpu.Sample();
        var clock = Stopwatch.StartNew();
        var result = await action();
        var seconds = clock.Elapsed.TotalSeconds;
        var cpuAfter = cpu.Sample();
        var wal = await ScalarAsync<decimal>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)", before);
        return (new Measured(seconds, (long)wal, CpuMeter.Between(cpuBefore, cpuAfter)), result);
    }

    public async Task ExportCsvAsync(string path)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var file = File.CreateText(path);
        using var reader = await connection.BeginTextExportAsync(
            $"COPY (SELECT * FROM {Product} WHERE business_date = '{date:yyyy-MM-dd}') TO STDOUT (FORMAT csv)");
        var buffer = new char[1 << 16];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            await file.WriteAsync(buffer.AsMemory(0, read));
        }
    }

    /// <summary>psql \copy of the CSV into a new, empty, logged table like the product table (its key and indexes included).</summary>
    public async Task<Measured> CopyAsync(string csv)
    {
        await ExecuteAsync($"CREATE SCHEMA IF NOT EXISTS bench; DROP TABLE IF EXISTS bench.copy_target; CREATE TABLE bench.copy_target (LIKE {Product} INCLUDING ALL); SELECT 1");
        var (run, _) = await MeasureAsync(async () =>
        {
            await Psql.RunAsync(connectionString, $"\\copy bench.copy_target FROM '{csv}' WITH (FORMAT csv)");
            return 0;
        });
        return run;
    }

    /// <summary>The day rewritten in one transaction (DELETE + INSERT of the same rows): what a re-apply without a diff costs.</summary>
    public async Task<Measured> RewriteAsync()
    {
        var (run, _) = await MeasureAsync(async () =>
        {
            await ExecuteAsync($"""
                BEGIN;
                DELETE FROM {Product} WHERE business_date = '{date:yyyy-MM-dd}';
                INSERT INTO {Product} SELECT * FROM bench.copy_target;
                COMMIT;
                SELECT 1
                """);
            return 0;
        });
        return run;
    }

    /// <summary>
    /// The applied day's keys and row hashes, read by this client through COPY (FORMAT binary) and dropped: the floor of
    /// any re-apply that compares rows in the writer, which must at least read the day's fingerprints. Returns the bytes read.
    /// </summary>
    public Task<(Measured Run, long Bytes)> ReadFingerprintsAsync() => MeasureAsync(async () =>
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var copy = await connection.BeginRawBinaryCopyAsync(
            $"COPY (SELECT student_id, business_date, hash_record_extended(t.*, 0) FROM {Product} t WHERE business_date = '{date:yyyy-MM-dd}') TO STDOUT (FORMAT binary)");
        var buffer = new byte[1 << 16];
        long bytes = 0;
        int read;
        while ((read = await copy.ReadAsync(buffer, CancellationToken.None)) > 0)
        {
            bytes += read;
        }

        return bytes;
    });
}
