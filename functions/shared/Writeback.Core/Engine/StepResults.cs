using Writeback.Core.Contracts;

namespace Writeback.Core.Engine;

public enum PrepareAction
{
    /// <summary>Load the shards, verify, publish.</summary>
    Load,

    /// <summary>Older than (or as old as) the newest applied batch for the same target and partition.</summary>
    Skip,

    /// <summary>This batch id was applied already, or its content equals the batch applied last to its target and partition; nothing to do.</summary>
    Applied,
}

public sealed record PrepareResult(
    string BatchId, string Dataset, string Target, int ShardCount, PrepareAction Action, string? Reason, string? Traceparent);

public sealed record ShardLoadResult(int ShardIndex, long Rows, long Bytes, bool AlreadyLoaded);

public sealed record VerifyResult(string BatchId, long Rows, int Shards);

public enum PublishStatus
{
    Applied,
    AlreadyApplied,
    Skipped,
}

public sealed record PublishResult(
    string BatchId, PublishStatus Status, long Inserted, long Updated, long Deleted, long Unchanged, string? Reason);

public sealed record CleanupResult(string BatchId, bool Dropped, bool RecordedFailure);

/// <summary>A manifest matched to its target contract.</summary>
public sealed record BatchPlan(Manifest Manifest, ResolvedTarget Target, string Fingerprint, string Scope)
{
    public string BatchId => Manifest.BatchId;

    public long TotalRows => Manifest.Shards.Sum(s => s.Rows);
}
