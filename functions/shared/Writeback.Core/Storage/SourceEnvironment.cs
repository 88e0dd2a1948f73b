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
    /// The local export folder, set only by the local Lambda service (functions/local/Writeback.Lambda.Local) when it runs the
    /// writers' bootstrap as a process. template.yaml sets <see cref="BucketVariable"/> on every function (Globals), and
    /// a host that sees both refuses to start, so no deployed function can be switched to local files by configuration.
    /// </summary>
    public const string LocalExportsVariable = "WRITEBACK_LOCAL_EXPORTS";

    /// <summary>
    /// The deployed hosts' policy: V4 signed URLs of the configured bucket and prefix, nothing else. There is no variable
    /// that turns on files or plain http here; local mode is built by the local hosts, from their own export folder.
    /// </summary>
    public static SourcePolicy Cloud(Func<string, string?> get)
        => CloudPolicy(get);

    /// <summary>
    /// The writers' policy: the cloud's (<see cref="Cloud"/>), or files under <see cref="LocalExportsVariable"/> when
    /// the local Lambda service runs the very same binary on this machine and no bucket is configured.
    /// </summary>
    public static SourcePolicy ForWriters(Func<string, string?> get)
    {
        ArgumentNullException.ThrowIfNull(get);
        if (get(LocalExportsVariable) is not { Length: > 0 } local)
        {
            return CloudPolicy(get);
        }

        if (get(BucketVariable) is { Length: > 0 })
        {
            throw new InvalidOperationException(
                $"{LocalExportsVariable} and {BucketVariable} are both set; a deployed function has a bucket and never reads local files.");
        }

        return SourcePolicy.LocalFolder(local);
    }

    private static SourcePolicy CloudPolicy(Func<string, string?> get)
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
