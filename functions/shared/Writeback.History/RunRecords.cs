namespace Writeback.History;

/// <summary>A batch's status in run history (the text stored in <c>writeback_runs.batches.status</c>).</summary>
public static class RunStatus
{
    public const string Triggered = "triggered";
    public const string Running = "running";
    public const string Applied = "applied";
    public const string Skipped = "skipped";
    public const string Failed = "failed";

    /// <summary>The batch's business date is served: applied now, or applied before / superseded (skipped).</summary>
    public static bool IsDone(string status) => status is Applied or Skipped;

    public static bool IsInFlight(string status) => status is Triggered or Running;
}

/// <summary>A step's status (<c>writeback_runs.steps.status</c>).</summary>
public static class StepStatus
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}

/// <summary>One batch as run history saw it.</summary>
public sealed record BatchRun
{
    public required string BatchId { get; init; }

    public string? Dataset { get; init; }

    /// <summary>The manifest's partition (the business date for daily datasets), copied from the ledger after Prepare.</summary>
    public string? Partition { get; init; }

    public string? ExecutionName { get; init; }

    public string? Traceparent { get; init; }

    public string? TraceId { get; init; }

    public required string Status { get; init; }

    /// <summary>How many times the trigger saw this batch's event (redeliveries included).</summary>
    public int Deliveries { get; init; }

    public DateTimeOffset? TriggeredAt { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    public long? Rows { get; init; }

    public long? Bytes { get; init; }

    public long? Inserted { get; init; }

    public long? Updated { get; init; }

    public long? Deleted { get; init; }

    public long? Unchanged { get; init; }

    /// <summary>Rows set aside under the target's rejected-rows policy; the batch was applied without them.</summary>
    public long? Rejected { get; init; }

    /// <summary>Attempts beyond the first, over every step and shard.</summary>
    public int Retries { get; init; }

    public string? Error { get; init; }

    public string? Cause { get; init; }

    public TimeSpan? Duration => EndedAt is { } end ? end - (TriggeredAt ?? StartedAt) : null;
}

/// <summary>One attempt of one step (one shard for load-shard).</summary>
public sealed record StepRun
{
    public required string BatchId { get; init; }

    public required string Step { get; init; }

    /// <summary>-1 for steps that are not per shard.</summary>
    public int ShardIndex { get; init; } = -1;

    public int Attempt { get; init; } = 1;

    public required string Status { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    public double? DurationMs { get; init; }

    public long? Rows { get; init; }

    public long? Bytes { get; init; }

    public string? Error { get; init; }

    public string? Cause { get; init; }

    public string? TraceId { get; init; }
}

/// <summary>What a step's start tells history; the fields the payload does not carry are null.</summary>
public sealed record StepStart(string BatchId, string Step, int ShardIndex = -1)
{
    public string? RequestId { get; init; }

    public string? Dataset { get; init; }

    public string? Traceparent { get; init; }
}

/// <summary>A started step attempt: its row, its attempt number, and the trace the batch belongs to.</summary>
public sealed record StepHandle(long Id, int Attempt, string? Traceparent);

/// <summary>What a step's end tells history.</summary>
public sealed record StepEnd(bool Succeeded, TimeSpan Duration)
{
    public long? Rows { get; init; }

    public long? Bytes { get; init; }

    public string? Error { get; init; }

    public string? Cause { get; init; }
}

/// <summary>Changes to a batch row; null fields are left as they are.</summary>
public sealed record BatchUpdate(string BatchId)
{
    public string? Status { get; init; }

    public string? Dataset { get; init; }

    public string? Partition { get; init; }

    public string? Traceparent { get; init; }

    public bool Ended { get; init; }

    public long? Rows { get; init; }

    public long? Inserted { get; init; }

    public long? Updated { get; init; }

    public long? Deleted { get; init; }

    public long? Unchanged { get; init; }

    public long? Rejected { get; init; }

    public string? Error { get; init; }

    public string? Cause { get; init; }
}
