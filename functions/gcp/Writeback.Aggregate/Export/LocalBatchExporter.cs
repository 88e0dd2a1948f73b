using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using Writeback.Aggregate.Models;
using Writeback.Aggregate.Warehouse;
using Writeback.Core.Contracts;

namespace Writeback.Aggregate.Export;

/// <summary>Where the local exporter reads and writes.</summary>
public sealed record LocalExportOptions
{
    public const long DefaultMaxShardBytes = 64L * 1024 * 1024;

    /// <summary>The sample warehouse (a DuckDB file) the models run on.</summary>
    public required string WarehousePath { get; init; }

    /// <summary>Batches land in <c>{OutputRoot}/{dataset}/{yyyy-MM-dd}/{batchId}/</c>: shards, then manifest.json.</summary>
    public required string OutputRoot { get; init; }

    /// <summary>Upper bound on a shard file's size; shards are re-cut smaller when one comes out larger.</summary>
    public long MaxShardBytes { get; init; } = DefaultMaxShardBytes;

    public ISqlSource SqlSource { get; init; } = EmbeddedSqlSource.Instance;
}

/// <summary>
/// The local twin of BigQuery EXPORT DATA: runs the DuckDB model over the sample warehouse, writes Parquet
/// shards no larger than the bound into a folder, and writes manifest.json from the files actually written.
/// </summary>
public sealed class LocalBatchExporter(LocalExportOptions options, TimeProvider? timeProvider = null) : IBatchExporter
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    public async Task<ExportedBatch> ExportAsync(DatasetDefinition dataset, DateOnly businessDate, string traceparent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxShardBytes, 1024, nameof(options.MaxShardBytes));

        var info = SampleWarehouse.Describe(options.WarehousePath)
            ?? throw new FileNotFoundException($"no sample warehouse at {options.WarehousePath}; generate one first", options.WarehousePath);
        if (!info.Covers(businessDate))
        {
            throw new AggregateInputException(
                $"the warehouse holds {info.FirstDate:yyyy-MM-dd} to {info.LastDate:yyyy-MM-dd}; no data for {businessDate:yyyy-MM-dd}");
        }

        var compiled = new SqlModelCompiler(options.SqlSource).Compile(dataset.Model, SqlDialect.DuckDb, new ModelParameters(businessDate));
        var partition = BatchIdentity.Partition(businessDate);

        using var connection = DuckDb.OpenReadOnly(options.WarehousePath);
        var query = Stopwatch.StartNew();
        // Materialised once in key order: the fingerprint and every shard read it, and its rowid (insertion order,
        // which DuckDB keeps for an ordered insert) cuts shards without a window function over a million rows.
        DuckDb.Execute(connection, $"""
            CREATE TEMP TABLE batch AS
            SELECT * FROM (
            {compiled.Sql}
            ) AS model
            ORDER BY {string.Join(", ", dataset.Key)}
            """);
        CheckSchema(connection, dataset);
        var (rows, contentHash) = Fingerprint(connection);
        query.Stop();

        // The export's time is its sequence and part of its id: a later run is a later batch even with equal content.
        var generatedAt = _time.GetUtcNow();
        var sequence = generatedAt.ToUnixTimeMilliseconds();
        var batchId = BatchIdentity.BatchId(dataset.Name, businessDate, string.Create(CultureInfo.InvariantCulture,
            $"{dataset.Name}|{partition}|{string.Join(',', dataset.Columns.Select(c => c.Name + ' ' + c.Type))}|{rows}|{contentHash}"), sequence);
        var directory = Path.GetFullPath(Path.Combine(options.OutputRoot, dataset.Name, partition, batchId));
        var manifestPath = Path.Combine(directory, "manifest.json");

        if (await TryReadManifestAsync(manifestPath, batchId, cancellationToken) is { } existing)
        {
            return new ExportedBatch(existing, new Uri(manifestPath).AbsoluteUri, Reused: true, query.Elapsed, TimeSpan.Zero);
        }

        var write = Stopwatch.StartNew();

        // Shards and manifest are written into a scratch folder that is renamed into place at the end, so a
        // manifest is never visible next to missing or half-written shards, and overlapping runs cannot mix files.
        var scratch = directory + ".partial-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(scratch);
        try
        {
            var shards = await WriteShardsAsync(connection, scratch, rows, cancellationToken);
            var manifest = BatchIdentity.Manifest(dataset, batchId, partition, generatedAt, traceparent, shards);
            await File.WriteAllBytesAsync(
                Path.Combine(scratch, "manifest.json"),
                JsonSerializer.SerializeToUtf8Bytes(manifest, ContractJson.Default.Manifest),
                cancellationToken);

            try
            {
                if (Directory.Exists(directory))
                {
                    // A folder without a readable manifest is debris from a crashed run: shards without a manifest
                    // were never announced, so nobody can be reading them.
                    Directory.Delete(directory, recursive: true);
                }

                Directory.Move(scratch, directory);
            }
            catch (IOException) when (File.Exists(manifestPath))
            {
                // An overlapping run exported the same data in the same millisecond first; its batch is the batch.
                var raced = await TryReadManifestAsync(manifestPath, batchId, cancellationToken) ?? throw new InvalidOperationException(
                    $"{manifestPath} appeared during this run but does not describe batch {batchId}");
                return new ExportedBatch(raced, new Uri(manifestPath).AbsoluteUri, Reused: true, query.Elapsed, write.Elapsed);
            }

            return new ExportedBatch(manifest, new Uri(manifestPath).AbsoluteUri, Reused: false, query.Elapsed, write.Elapsed);
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    /// <summary>
    /// Writes rows in key order into files of at most <see cref="LocalExportOptions.MaxShardBytes"/>. Parquet's
    /// size cannot be known before writing, so the rows per shard are learnt from what was written: a file that
    /// came out too large is cut again with fewer rows.
    /// </summary>
    private async Task<List<ShardEntry>> WriteShardsAsync(DuckDBConnection connection, string folder, long rows, CancellationToken cancellationToken)
    {
        var bound = options.MaxShardBytes;
        var shards = new List<ShardEntry>();
        // A first guess that keeps a typical dashboard in one file under the default bound.
        long perShard = Math.Max(1000, bound / 16);
        long next = 0;
        while (next < rows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var take = Math.Min(perShard, rows - next);
            var name = string.Create(CultureInfo.InvariantCulture, $"shard-{shards.Count:D5}.parquet");
            var path = Path.Combine(folder, name);
            var rowGroup = Math.Clamp(take / 4, 1024, 122_880);
            DuckDb.Execute(connection, string.Create(CultureInfo.InvariantCulture, $"""
                COPY (SELECT * FROM batch WHERE rowid BETWEEN {next} AND {next + take - 1} ORDER BY rowid)
                TO {DuckDb.Literal(path)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {rowGroup})
                """));
            var bytes = new FileInfo(path).Length;
            if (bytes > bound)
            {
                if (take == 1)
                {
                    throw new InvalidOperationException($"a single row makes a {bytes}-byte shard, over the {bound}-byte bound");
                }

                File.Delete(path);
                perShard = Math.Max(1, (long)(take * (bound / (double)bytes) * 0.9));
                continue;
            }

            string sha256;
            await using (var stream = File.OpenRead(path))
            {
                sha256 = await BatchIdentity.Sha256Async(stream, cancellationToken);
            }

            shards.Add(new ShardEntry { Uri = name, Rows = take, Bytes = bytes, Sha256 = sha256 });
            next += take;
            // Aim the next shard at ~90% of the bound from the size per row just observed.
            perShard = Math.Max(1, (long)(bound * 0.9 / (bytes / (double)take)));
        }

        return shards;
    }

    /// <summary>Refuses to export a model whose result does not have exactly the contract's columns and types.</summary>
    private static void CheckSchema(DuckDBConnection connection, DatasetDefinition dataset)
    {
        var actual = new List<(string Name, string Type)>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "DESCRIBE batch";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                actual.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        var expected = dataset.Columns.Select(c => (Name: c.Name, Type: SqlDialects.TypeName(SqlDialect.DuckDb, c.Type))).ToList();
        var normalized = actual.Select(c => (Name: c.Name, Type: c.Type == "TIMESTAMP WITH TIME ZONE" ? "TIMESTAMPTZ" : c.Type)).ToList();
        if (!normalized.SequenceEqual(expected))
        {
            var describe = new StringBuilder();
            describe.Append(CultureInfo.InvariantCulture, $"model {dataset.Model} returns (")
                .AppendJoin(", ", normalized.Select(c => $"{c.Name} {c.Type}"))
                .Append(") but the contract says (")
                .AppendJoin(", ", expected.Select(c => $"{c.Name} {c.Type}"))
                .Append(')');
            throw new InvalidOperationException(describe.ToString());
        }
    }

    /// <summary>Row count and an order-independent hash of every row: the content part of the batch id.</summary>
    private static (long Rows, string Hash) Fingerprint(DuckDBConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*), coalesce(sum(hash(*COLUMNS(*))::HUGEINT), 0)::VARCHAR FROM batch";
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetString(1));
    }

    private static async Task<Manifest?> TryReadManifestAsync(string path, string batchId, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            await using var stream = File.OpenRead(path);
            var manifest = await JsonSerializer.DeserializeAsync(stream, ContractJson.Default.Manifest, cancellationToken);
            return manifest?.BatchId == batchId ? manifest : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
