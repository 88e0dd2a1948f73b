using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Writeback.Benchmarks;
using Writeback.Core.Benchmarks;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Storage;

// The load engine's benchmark: one shard-load stream against psql \copy of the same rows (as CSV) into the same kind of
// table, measured in the same run; 1/2/4 parallel shard loads; mirror with 1% changed rows vs a full rewrite (time and
// WAL); peak memory of one shard load at two shard sizes. Needs WRITEBACK_PG (bench/Writeback.Core.Benchmarks/run.sh
// starts a throwaway server). Options: --load-rows N, --mirror-rows N, --memory-mb 64,512, --repeat N, --only a,b.

var options = Options.Parse(args);
if (options.ProbeManifest is not null)
{
    return await Probe.RunAsync(options);
}

var connectionString = Environment.GetEnvironmentVariable("WRITEBACK_PG")
    ?? throw new InvalidOperationException("WRITEBACK_PG is not set; run bench/Writeback.Core.Benchmarks/run.sh, which starts a throwaway PostgreSQL.");
var work = Directory.CreateTempSubdirectory("writeback-bench-").FullName;
Console.WriteLine($"# Writeback load engine benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, work dir {work}");
await using (var admin = NpgsqlDataSource.Create(connectionString))
{
    Console.WriteLine($"# server: {await admin.CreateCommand("SELECT version()").ExecuteScalarAsync()}");
    await admin.CreateCommand("CREATE SCHEMA IF NOT EXISTS bench").ExecuteNonQueryAsync();
}

try
{
    if (options.Runs("load"))
    {
        await LoadBench.RunAsync(connectionString, work, options);
    }

    if (options.Runs("mirror"))
    {
        await MirrorBench.RunAsync(connectionString, work, options);
    }

    if (options.Runs("memory"))
    {
        await MemoryBench.RunAsync(connectionString, work, options);
    }
}
finally
{
    Directory.Delete(work, recursive: true);
}

return 0;

internal sealed record Options(long LoadRows, long MirrorRows, int[] MemoryMb, int Repeat, string[] Only, string? ProbeManifest, string? ProbeBatch, int HeapLimitMb = 0)
{
    public bool Runs(string part) => Only.Length == 0 || Only.Contains(part);

    public static Options Parse(string[] args)
    {
        var o = new Options(2_000_000, 5_000_000, [64, 512], 3, [], null, null);
        for (var i = 0; i < args.Length; i++)
        {
            o = args[i] switch
            {
                "--load-rows" => o with { LoadRows = long.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--mirror-rows" => o with { MirrorRows = long.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--memory-mb" => o with { MemoryMb = [.. args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))] },
                "--repeat" => o with { Repeat = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--only" => o with { Only = args[++i].Split(',') },
                "--heap-limit-mb" => o with { HeapLimitMb = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--probe" => o with { ProbeManifest = args[++i], ProbeBatch = args[++i] },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        return o;
    }
}

internal static class Bench
{
    public static LoadEngine Engine(string connectionString, params Target[] targets) =>
        new(NpgsqlDataSource.Create(connectionString), new TargetCatalog(targets), new BatchFiles(new HttpClient(), SourcePolicy.LocalFolder(Path.GetTempPath())));

    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<TimeSpan> TimeAsync(Func<Task> action)
    {
        var clock = Stopwatch.StartNew();
        await action();
        return clock.Elapsed;
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public static string Mb(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB";
}

internal static class LoadBench
{
    public static async Task RunAsync(string connectionString, string work, Options options)
    {
        var rows = options.LoadRows;
        Console.WriteLine();
        Console.WriteLine($"## Shard load vs psql \\copy — {rows:N0} rows, student_dashboard columns, median of {options.Repeat}");
        var parquet = Path.Combine(work, "load.parquet");
        var csv = Path.Combine(work, "load.csv");
        await BenchData.WriteParquetAsync(parquet, 0, rows);
        await BenchData.WriteCsvAsync(csv, 0, rows);
        Console.WriteLine($"shard: {Bench.Mb(new FileInfo(parquet).Length)} Parquet, {Bench.Mb(new FileInfo(csv).Length)} CSV");

        var target = BenchData.Target("load_target", LoadMode.ReplacePartition);
        var engine = Bench.Engine(connectionString, target);
        var columns = string.Join(", ", BenchData.Columns.Select(c => c.Name));

        // psql loads into a table shaped like a batch's staging table: unlogged, the contract's columns and types,
        // plus the two bookkeeping columns (filled by defaults, so psql need not send them).
        var columnDdl = string.Join(", ", BenchData.Columns.Select(c => $"{c.Name} {c.Type}"));
        await Bench.ExecuteAsync(connectionString, $"DROP TABLE IF EXISTS bench.psql_copy; CREATE UNLOGGED TABLE bench.psql_copy ({columnDdl}, _wb_shard integer NOT NULL DEFAULT 0, _wb_row bigint NOT NULL DEFAULT 0)");
        var csb = new NpgsqlConnectionStringBuilder(connectionString);

        var ours = new List<double>();
        var psql = new List<double>();
        for (var run = 0; run < options.Repeat + 1; run++)
        {
            // Alternate, and discard the first round (JIT, cold caches) for both.
            var batchId = $"load-{run}";
            var manifest = BenchData.WriteManifest(work, batchId, target.Dataset, [(parquet, rows)], run + 1);
            await engine.PrepareAsync(manifest, null, null, default);
            var oursTime = await Bench.TimeAsync(() => engine.LoadShardAsync(manifest, batchId, 0, default));
            await engine.CleanupAsync(manifest, batchId, null, default);

            await Bench.ExecuteAsync(connectionString, "TRUNCATE bench.psql_copy");
            var psqlTime = await Bench.TimeAsync(() => Psql.RunAsync(csb.ConnectionString, $"\\copy bench.psql_copy ({columns}) FROM '{csv}' WITH (FORMAT csv)"));
            if (run > 0)
            {
                ours.Add(oursTime.TotalSeconds);
                psql.Add(psqlTime.TotalSeconds);
            }

            Console.WriteLine($"  round {run}{(run == 0 ? " (warm-up)" : string.Empty)}: writeback {oursTime.TotalSeconds:0.00} s, psql \\copy {psqlTime.TotalSeconds:0.00} s (load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");
        }

        var oursMedian = Bench.Median(ours);
        var psqlMedian = Bench.Median(psql);
        Console.WriteLine($"writeback load-shard: {oursMedian:0.00} s ({rows / oursMedian:N0} rows/s; includes sha256 of the file, Parquet decode, checks, ledger row)");
        Console.WriteLine($"psql \\copy (CSV):      {psqlMedian:0.00} s ({rows / psqlMedian:N0} rows/s)");
        Console.WriteLine($"ratio (psql time / writeback time): {psqlMedian / oursMedian:0.00}x  (>= 0.90 required)");

        Console.WriteLine();
        Console.WriteLine("## Parallel shard loads (each shard the same file, into one batch's staging table)");
        var baseline = 0.0;
        foreach (var parallel in new[] { 1, 2, 4 })
        {
            var batchId = $"parallel-{parallel}";
            var manifest = BenchData.WriteManifest(work, batchId, target.Dataset, [.. Enumerable.Repeat((parquet, rows), parallel)], 100 + parallel);
            await engine.PrepareAsync(manifest, null, null, default);
            var elapsed = await Bench.TimeAsync(() => Task.WhenAll(Enumerable.Range(0, parallel).Select(i => Task.Run(() => engine.LoadShardAsync(manifest, batchId, i, default)))));
            await engine.CleanupAsync(manifest, batchId, null, default);
            var rate = rows * parallel / elapsed.TotalSeconds;
            baseline = parallel == 1 ? rate : baseline;
            Console.WriteLine($"  {parallel} parallel: {elapsed.TotalSeconds:0.00} s, {rate:N0} rows/s aggregate, {rate / baseline:0.00}x of one stream");
        }
    }

}

internal static class MirrorBench
{
    public static async Task RunAsync(string connectionString, string work, Options options)
    {
        var rows = options.MirrorRows;
        Console.WriteLine();
        Console.WriteLine($"## Mirror publish with 1% changed rows on {rows:N0} rows vs rewriting the table");
        var target = BenchData.Target("mirror_target", LoadMode.Mirror);
        var engine = Bench.Engine(connectionString, target);
        await Bench.ExecuteAsync(connectionString, "DROP TABLE IF EXISTS bench.mirror_target");

        // Shards of ~1M rows, like an exporter would write.
        const long perShard = 1_000_000;
        async Task<string> WriteBatchAsync(string batchId, int changeEvery, long sequence)
        {
            var shards = new List<(string, long)>();
            for (long first = 0, i = 0; first < rows; first += perShard, i++)
            {
                var path = Path.Combine(work, $"{batchId}-{i}.parquet");
                var count = Math.Min(perShard, rows - first);
                await BenchData.WriteParquetAsync(path, first, count, changeEvery: changeEvery);
                shards.Add((path, count));
            }

            return BenchData.WriteManifest(work, batchId, target.Dataset, shards, sequence);
        }

        var suffix = DateTime.UtcNow.Ticks.ToString(CultureInfo.InvariantCulture);
        var sequence = DateTime.UtcNow.Ticks;
        var day1 = await WriteBatchAsync("mirror-1-" + suffix, 0, sequence);
        var day2 = await WriteBatchAsync("mirror-2-" + suffix, 100, sequence + 1);
        var initial = await Bench.TimeAsync(() => RunToPublishAsync(engine, day1, publish: true));
        Console.WriteLine($"  initial load + publish of {rows:N0} rows: {initial.TotalSeconds:0.0} s");

        var batch2 = "mirror-2-" + suffix;
        await RunToPublishAsync(engine, day2, publish: false);
        var staging = Writeback.Core.Ledger.LedgerSchema.StagingTable(batch2);
        await Bench.ExecuteAsync(connectionString, $"DROP TABLE IF EXISTS bench.rewrite_source; CREATE UNLOGGED TABLE bench.rewrite_source AS SELECT * FROM {staging}");
        await Bench.ExecuteAsync(connectionString, "VACUUM ANALYZE bench.mirror_target");
        await Bench.ExecuteAsync(connectionString, "CHECKPOINT");

        var before = await Bench.ScalarAsync<string>(connectionString, "SELECT pg_current_wal_lsn()::text");
        var statsBefore = await WalStatsAsync(connectionString);
        PublishResult? result = null;
        var publish = await Bench.TimeAsync(async () => result = await engine.PublishAsync(day2, batch2, default));
        var mirrorWal = await Bench.ScalarAsync<decimal>(connectionString, $"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{before}')");
        var mirrorStats = await WalStatsAsync(connectionString) - statsBefore;
        Console.WriteLine($"  mirror publish: {publish.TotalSeconds:0.00} s, WAL {Bench.Mb((long)mirrorWal)} ({mirrorStats}) — inserted {result!.Inserted:N0}, updated {result.Updated:N0}, deleted {result.Deleted:N0}, unchanged {result.Unchanged:N0}");

        // The alternative the diff avoids: rewrite every row in one transaction (DELETE + INSERT; TRUNCATE would block readers).
        var columns = string.Join(", ", BenchData.Columns.Select(c => c.Name));
        await Bench.ExecuteAsync(connectionString, "VACUUM ANALYZE bench.mirror_target");
        await Bench.ExecuteAsync(connectionString, "CHECKPOINT");
        before = await Bench.ScalarAsync<string>(connectionString, "SELECT pg_current_wal_lsn()::text");
        statsBefore = await WalStatsAsync(connectionString);
        var rewrite = await Bench.TimeAsync(() => Bench.ExecuteAsync(connectionString, $"BEGIN; DELETE FROM bench.mirror_target; INSERT INTO bench.mirror_target ({columns}) SELECT {columns} FROM bench.rewrite_source; COMMIT"));
        var rewriteWal = await Bench.ScalarAsync<decimal>(connectionString, $"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{before}')");
        var rewriteStats = await WalStatsAsync(connectionString) - statsBefore;
        Console.WriteLine($"  full rewrite:   {rewrite.TotalSeconds:0.00} s, WAL {Bench.Mb((long)rewriteWal)} ({rewriteStats})");
        Console.WriteLine($"  mirror/rewrite: time {publish.TotalSeconds / rewrite.TotalSeconds:0.000}x, WAL {mirrorWal / rewriteWal:0.000}x");
        await engine.CleanupAsync(day2, batch2, null, default);
        await Bench.ExecuteAsync(connectionString, "DROP TABLE bench.rewrite_source");
    }

    /// <summary>Cluster-wide WAL counters (pg_stat_wal): records and full-page images explain where the bytes go.</summary>
    private static async Task<WalStats> WalStatsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT wal_records, wal_fpi FROM pg_stat_wal", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new WalStats(reader.GetInt64(0), reader.GetInt64(1));
    }

    private sealed record WalStats(long Records, long FullPageImages)
    {
        public static WalStats operator -(WalStats a, WalStats b) => new(a.Records - b.Records, a.FullPageImages - b.FullPageImages);

        public override string ToString() => $"{Records:N0} records, {FullPageImages:N0} full-page images";
    }

    private static async Task RunToPublishAsync(LoadEngine engine, string manifest, bool publish)
    {
        var prepared = await engine.PrepareAsync(manifest, null, null, default);
        for (var i = 0; i < prepared.ShardCount; i++)
        {
            await engine.LoadShardAsync(manifest, prepared.BatchId, i, default);
        }

        await engine.VerifyAsync(manifest, prepared.BatchId, default);
        if (publish)
        {
            await engine.PublishAsync(manifest, prepared.BatchId, default);
            await engine.CleanupAsync(manifest, prepared.BatchId, null, default);
        }
    }
}

internal static class MemoryBench
{
    public static async Task RunAsync(string connectionString, string work, Options options)
    {
        Console.WriteLine();
        Console.WriteLine($"## Peak memory of one shard load (a fresh process per shard; VmHWM = peak resident set){(options.HeapLimitMb > 0 ? $", GC heap hard limit {options.HeapLimitMb} MB" : string.Empty)}");
        var target = BenchData.Target("memory_target", LoadMode.ReplacePartition);
        var engine = Bench.Engine(connectionString, target);

        // Size the shards from a sample's bytes per row.
        var sample = Path.Combine(work, "sample.parquet");
        await BenchData.WriteParquetAsync(sample, 0, 500_000);
        var bytesPerRow = new FileInfo(sample).Length / 500_000.0;
        File.Delete(sample);
        foreach (var mb in options.MemoryMb)
        {
            var rows = (long)(mb * 1048576.0 / bytesPerRow);
            var path = Path.Combine(work, $"memory-{mb}.parquet");
            await BenchData.WriteParquetAsync(path, 0, rows);
            var batchId = $"memory-{mb}-{DateTime.UtcNow.Ticks}";
            var manifest = BenchData.WriteManifest(work, batchId, target.Dataset, [(path, rows)], DateTime.UtcNow.Ticks);
            await engine.PrepareAsync(manifest, null, null, default);
            var report = await RunProbeAsync(manifest, batchId, options.HeapLimitMb);
            Console.WriteLine($"  {Bench.Mb(new FileInfo(path).Length)} shard, {rows:N0} rows: {report}");
            await engine.CleanupAsync(manifest, batchId, null, default);
            File.Delete(path);
        }
    }

    private static async Task<string> RunProbeAsync(string manifest, string batchId, int heapLimitMb)
    {
        var host = Environment.ProcessPath!;
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (heapLimitMb > 0)
        {
            // A hard cap on the GC heap: the load must complete inside it whatever the shard size.
            start.Environment["DOTNET_GCHeapHardLimit"] = "0x" + ((long)heapLimitMb * 1048576).ToString("X", CultureInfo.InvariantCulture);
        }

        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(MemoryBench).Assembly.Location);
        }

        foreach (var argument in new[] { "--probe", manifest, batchId })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? output.Trim() : throw new InvalidOperationException("probe failed: " + error + output);
    }
}

internal static class Probe
{
    public static async Task<int> RunAsync(Options options)
    {
        var connectionString = Environment.GetEnvironmentVariable("WRITEBACK_PG")!;
        var engine = Bench.Engine(connectionString, BenchData.Target("memory_target", LoadMode.ReplacePartition));
        var elapsed = await Bench.TimeAsync(() => engine.LoadShardAsync(options.ProbeManifest!, options.ProbeBatch!, 0, default));
        var status = await File.ReadAllLinesAsync("/proc/self/status");
        string Field(string name) => status.First(l => l.StartsWith(name + ":", StringComparison.Ordinal)).Split(':')[1].Trim();
        Console.WriteLine($"peak RSS (VmHWM) {Field("VmHWM")}, GC heap peak-ish {Bench.Mb(GC.GetGCMemoryInfo().HeapSizeBytes)} after load, total allocated {Bench.Mb(GC.GetTotalAllocatedBytes())}, load {elapsed.TotalSeconds:0.0} s");
        return 0;
    }
}
