using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Writeback.Aggregate.Export;

/// <summary>How batches are named and traced.</summary>
public static class BatchIdentity
{
    /// <summary>
    /// <c>{dataset}-{yyyyMMdd}-{16 hex of the content fingerprint}</c>: the same data for the same date always
    /// gets the same id (so a re-run is a duplicate the trigger ignores), changed data a new one. Dataset names
    /// are lower-case letters and underscores, so the id stays within Step Functions' 1–80 chars of [0-9A-Za-z_-].
    /// </summary>
    public static string BatchId(string dataset, DateOnly businessDate, string fingerprint)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataset);
        ArgumentException.ThrowIfNullOrEmpty(fingerprint);
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fingerprint)));
        var head = dataset.Length > 45 ? dataset[..45] : dataset;
        return $"{head}-{businessDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}-{digest[..16]}";
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
}
