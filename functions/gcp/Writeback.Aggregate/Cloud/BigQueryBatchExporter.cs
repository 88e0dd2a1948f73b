using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Writeback.Aggregate.Export;
using Writeback.Aggregate.Models;
using Writeback.Core.Contracts;

namespace Writeback.Aggregate.Cloud;

/// <summary>Where the cloud exporter runs the model and puts the batch.</summary>
public sealed record CloudExportOptions
{
    public required string ProjectId { get; init; }

    /// <summary>The BigQuery dataset holding the warehouse tables (students, classes, study_sessions, test_results).</summary>
    public required string WarehouseDataset { get; init; }

    /// <summary>BigQuery job location; must match the dataset's.</summary>
    public string Location { get; init; } = "US";

    public required string Bucket { get; init; }

    /// <summary>Batches land in <c>gs://{Bucket}/{Prefix}/{dataset}/{yyyy-MM-dd}/{run}/</c>.</summary>
    public string Prefix { get; init; } = "writeback";

    /// <summary>How long the manifest's and shards' signed URLs stay valid (V4 allows at most 7 days).</summary>
    public TimeSpan SignedUrlLifetime { get; init; } = DefaultSignedUrlLifetime;

    /// <summary>Infra's <c>signed_url_ttl_hours</c> default: a few hours covers the load and its retries.</summary>
    public static readonly TimeSpan DefaultSignedUrlLifetime = TimeSpan.FromHours(6);

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    public ISqlSource SqlSource { get; init; } = EmbeddedSqlSource.Instance;
}

/// <summary>
/// The cloud exporter: BigQuery <c>EXPORT DATA … format='PARQUET'</c> of the compiled BigQuery model into GCS,
/// then a manifest of what was actually written (BigQuery picks the number and size of files). Each shard is
/// read once to compute its SHA-256 (GCS keeps only MD5/CRC32C) and its footer read for its row count; shard
/// and manifest URIs are V4 signed URLs.
/// </summary>
/// <remarks>
/// BigQuery has no option to bound file size below its ~1 GB, so the local shard bound does not apply here.
/// BigQuery has one integer type, so Parquet integers are INT64 and NUMERIC is DECIMAL(38,9); the manifest keeps
/// the contract types and the loader narrows. The batch id fingerprints the shards' checksums and row counts.
/// </remarks>
public sealed class BigQueryBatchExporter(
    BigQueryClient bigQuery,
    GcsClient storage,
    IObjectUrlSigner signer,
    CloudExportOptions options,
    TimeProvider? timeProvider = null) : IBatchExporter
{
    private const int TailGuess = 64 * 1024;
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    public async Task<ExportedBatch> ExportAsync(DatasetDefinition dataset, DateOnly businessDate, string traceparent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentException.ThrowIfNullOrEmpty(traceparent);
        var partition = BatchIdentity.Partition(businessDate);
        var run = TraceId(traceparent);
        var folder = $"{options.Prefix.Trim('/')}/{dataset.Name}/{partition}/{run}/";
        var compiled = new SqlModelCompiler(options.SqlSource).Compile(
            dataset.Model, SqlDialect.BigQuery, new ModelParameters(businessDate, $"{options.ProjectId}.{options.WarehouseDataset}"));
        var sql = ExportStatement(options.Bucket, folder, compiled.Sql);
        var jobId = string.Create(CultureInfo.InvariantCulture, $"writeback_{dataset.Name}_{businessDate:yyyyMMdd}_{run}");

        var query = Stopwatch.StartNew();
        var job = await bigQuery.InsertQueryJobAsync(options.ProjectId, options.Location, jobId, sql, cancellationToken);
        await bigQuery.WaitForJobAsync(options.ProjectId, options.Location, job, options.PollInterval, cancellationToken);
        query.Stop();

        var write = Stopwatch.StartNew();
        var objects = (await storage.ListAsync(options.Bucket, folder, cancellationToken))
            .Where(o => o.Name.EndsWith(".parquet", StringComparison.Ordinal))
            .OrderBy(o => o.Name, StringComparer.Ordinal)
            .ToList();
        var shards = new List<ShardEntry>(objects.Count);
        var fingerprint = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{dataset.Name}|{partition}|")
            .AppendJoin(',', dataset.Columns.Select(c => c.Name + ' ' + c.Type));
        foreach (var item in objects)
        {
            var (sha256, bytes) = await storage.Sha256Async(options.Bucket, item.Name, cancellationToken);
            var rows = await RowCountAsync(item.Name, bytes, cancellationToken);
            fingerprint.Append(CultureInfo.InvariantCulture, $"|{rows}:{sha256}");
            shards.Add(new ShardEntry
            {
                Uri = await signer.SignGetAsync(options.Bucket, item.Name, options.SignedUrlLifetime, cancellationToken),
                Rows = rows,
                Bytes = bytes,
                Sha256 = sha256,
            });
        }

        var generatedAt = _time.GetUtcNow();
        var manifest = BatchIdentity.Manifest(
            dataset, BatchIdentity.BatchId(dataset.Name, businessDate, fingerprint.ToString(), generatedAt.ToUnixTimeMilliseconds()), partition, generatedAt, traceparent, shards);
        var manifestName = folder + "manifest.json";
        await storage.UploadAsync(options.Bucket, manifestName, JsonSerializer.SerializeToUtf8Bytes(manifest, ContractJson.Default.Manifest), "application/json", cancellationToken);
        var manifestUri = await signer.SignGetAsync(options.Bucket, manifestName, options.SignedUrlLifetime, cancellationToken);
        write.Stop();
        return new ExportedBatch(manifest, manifestUri, Reused: false, query.Elapsed, write.Elapsed);
    }

    /// <summary>The EXPORT DATA statement; bucket and folder are ours (config and validated names), never request data.</summary>
    public static string ExportStatement(string bucket, string folder, string modelSql)
    {
        if (!bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.') || bucket.Length is < 3 or > 222)
        {
            throw new ArgumentException($"\"{bucket}\" is not a bucket name", nameof(bucket));
        }

        if (folder.Any(c => c is '\'' or '\\' or '*' || char.IsControl(c)))
        {
            throw new ArgumentException($"\"{folder}\" cannot be used in an export URI", nameof(folder));
        }

        return $"EXPORT DATA OPTIONS(uri='gs://{bucket}/{folder}shard-*.parquet', format='PARQUET', overwrite=true) AS\n{modelSql}";
    }

    private async Task<long> RowCountAsync(string name, long bytes, CancellationToken cancellationToken)
    {
        var tail = await storage.ReadTailAsync(options.Bucket, name, Math.Min(bytes, TailGuess), cancellationToken);
        var needed = ParquetFooter.RequiredTail(tail);
        if (needed > tail.Length)
        {
            tail = await storage.ReadTailAsync(options.Bucket, name, needed, cancellationToken);
        }

        return await ParquetFooter.RowCountAsync(tail, bytes, cancellationToken);
    }

    private static string TraceId(string traceparent)
    {
        var parts = traceparent.Split('-');
        return parts.Length == 4 && parts[1].Length == 32 && parts[1].All(char.IsAsciiHexDigitLower)
            ? parts[1]
            : throw new ArgumentException($"\"{traceparent}\" is not a W3C traceparent", nameof(traceparent));
    }
}
