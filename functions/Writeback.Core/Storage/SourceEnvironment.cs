namespace Writeback.Core.Storage;

/// <summary>
/// The environment variables that say where batches may be read from, in one place. They are the ones the GCP side's
/// aggregate function writes to (<c>gs://{WRITEBACK_BUCKET}/{WRITEBACK_PREFIX}/…</c>), so both clouds name one bucket the
/// same way.
/// </summary>
public static class SourceEnvironment
{
    /// <summary>The GCS bucket the exports land in; required by every deployed host that reads batches.</summary>
    public const string BucketVariable = "WRITEBACK_BUCKET";

    /// <summary>The folder inside the bucket; every batch lies below it.</summary>
    public const string PrefixVariable = "WRITEBACK_PREFIX";

    public const string DefaultPrefix = "writeback";

    /// <summary>
    /// The deployed hosts' policy: V4 signed URLs of the configured bucket and prefix, nothing else. There is no variable
    /// that turns on files or plain http here; local mode is built by the local hosts, from their own export folder.
    /// </summary>
    public static SourcePolicy Cloud(Func<string, string?> get)
    {
        ArgumentNullException.ThrowIfNull(get);
        var bucket = get(BucketVariable);
        if (string.IsNullOrWhiteSpace(bucket))
        {
            throw new InvalidOperationException(
                $"{BucketVariable} is not set; it must name the GCS bucket batches are exported to (only its signed URLs are read).");
        }

        return SourcePolicy.Gcs(bucket, get(PrefixVariable) is { Length: > 0 } prefix ? prefix : DefaultPrefix);
    }
}
