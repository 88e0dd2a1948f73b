using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Writeback.Core.Contracts;

namespace Writeback.Aggregate.Export;

/// <summary>How batches are named and traced.</summary>
public static class BatchIdentity
{
    /// <summary>
    /// <c>{dataset}-{yyyyMMdd}-{12 hex of the content fingerprint}-{sequence}</c>: every export is its own batch, so
    /// content seen before (A → B → A after a correction is reverted) is a new batch that the ordering rule places,
    /// while a redelivery of one export's event carries one id. The load engine, not the id, recognises a re-run whose
    /// content equals what is applied. Dataset names are lower-case letters and underscores, so the id stays within
    /// Step Functions' 1–80 chars of [0-9A-Za-z_-] (44 + 1 + 8 + 1 + 12 + 1 + at most 13 digits of Unix ms).
    /// </summary>
    public static string BatchId(string dataset, DateOnly businessDate, string fingerprint, long sequence)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataset);
        ArgumentException.ThrowIfNullOrEmpty(fingerprint);
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fingerprint)));
        var head = dataset.Length > 44 ? dataset[..44] : dataset;
        return string.Create(CultureInfo.InvariantCulture, $"{head}-{businessDate:yyyyMMdd}-{digest[..12]}-{sequence}");
    }

    /// <summary>The partition value of a business date, as the manifest and the event carry it.</summary>
    public static string Partition(DateOnly businessDate) => businessDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A W3C traceparent for the run: the ambient trace when there is one, so the run joins it, else a new trace.</summary>
    public static string NewTraceparent()
    {
        // The run's own span, when one is being recorded, so the AWS side's spans hang under it; else a fresh trace.
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } current)
        {
            return $"00-{current.TraceId.ToHexString()}-{current.SpanId.ToHexString()}-01";
        }

        return $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01";
    }

    /// <summary>Lower-case hex SHA-256 of a file's bytes, read once as a stream.</summary>
    public static async Task<string> Sha256Async(Stream stream, CancellationToken cancellationToken)
    {
        var hash = await SHA256.HashDataAsync(stream, cancellationToken);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>
    /// The manifest of one export, as both exporters (the sample warehouse's and BigQuery's) write it: the dataset's
    /// schema and version, the batch's identity and order, the trace that carries on to AWS, and the shards written.
    /// </summary>
    public static Manifest Manifest(DatasetDefinition dataset, string batchId, string partition, DateTimeOffset generatedAt, string? traceparent, IReadOnlyList<ShardEntry> shards)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return new Manifest
        {
            Version = Core.Contracts.Manifest.CurrentVersion,
            BatchId = batchId,
            Dataset = dataset.Name,
            Partition = partition,
            GeneratedAt = generatedAt,
            Sequence = generatedAt.ToUnixTimeMilliseconds(),
            Traceparent = traceparent,
            SchemaVersion = dataset.SchemaVersion,
            Schema = dataset.Columns,
            Shards = shards,
        };
    }
}
