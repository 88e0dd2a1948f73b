namespace Writeback.Core.Contracts;

/// <summary>
/// The bounds of the contracts, checked before anything is read or echoed. contracts/schemas/*.json state the same
/// numbers (a test compares them), so a producer validating against the schema is never surprised by a reader.
/// </summary>
public static class ContractLimits
{
    /// <summary>Step Functions' execution-name limit; the batch id is the execution name.</summary>
    public const int MaxBatchIdLength = 80;

    /// <summary>A V4 signed URL for a deep object name is about 1,000 characters; four times that is plenty.</summary>
    public const int MaxUriLength = 4096;

    public const int MaxDatasetLength = 128;

    public const int MaxPartitionLength = 64;

    /// <summary>W3C traceparent version 00 is 55 characters; later versions may append fields.</summary>
    public const int MaxTraceparentLength = 128;

    /// <summary>
    /// The most shards one manifest may list: Prepare passes their indices to the Map state, and 25,000 of them (about
    /// 140 KB) stay inside Step Functions' 256 KiB payload limit. Batches over 800 shards load through the workflow's
    /// Distributed Map, so the history limit does not bound them.
    /// </summary>
    public const int MaxShards = 25_000;

    /// <summary>PostgreSQL's own limit on a table's columns.</summary>
    public const int MaxColumns = 1600;

    /// <summary>A manifest of <see cref="MaxShards"/> signed URLs (about 1,000 characters each) is about 30 MB.</summary>
    public const int MaxManifestBytes = 40 * 1024 * 1024;
}
