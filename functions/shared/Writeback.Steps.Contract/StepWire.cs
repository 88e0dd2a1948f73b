using System.Text.Json.Serialization;

namespace Writeback.Steps.Contract;

// The steps' inputs and outputs as the state machine passes them. Property names are the wire names; the state
// machine selects fields by them (StateMachineContractTests ties the two together).

public sealed record PrepareInput
{
    [JsonPropertyName("manifestUri")] public required string ManifestUri { get; init; }

    [JsonPropertyName("batchId")] public string? BatchId { get; init; }

    [JsonPropertyName("dataset")] public string? Dataset { get; init; }

    [JsonPropertyName("traceparent")] public string? Traceparent { get; init; }

    /// <summary>The ready event's partition, as the trigger passes it; Prepare goes by the manifest's own.</summary>
    [JsonPropertyName("partition")] public string? Partition { get; init; }

    /// <summary>The execution input's flag: load, verify and report what Publish would do, writing nothing.</summary>
    [JsonPropertyName("dryRun")] public bool DryRun { get; init; }

    /// <summary>Only in input an operator starts (<c>./writeback rollback</c> or the console); the trigger never writes it.</summary>
    [JsonPropertyName("rollback")] public RollbackInput? Rollback { get; init; }
}

public sealed record RollbackInput
{
    [JsonPropertyName("replaces")] public required string Replaces { get; init; }

    [JsonPropertyName("by")] public required string By { get; init; }

    [JsonPropertyName("reason")] public required string Reason { get; init; }
}

public sealed record PrepareOutput(
    [property: JsonPropertyName("batchId")] string BatchId,
    [property: JsonPropertyName("dataset")] string Dataset,
    [property: JsonPropertyName("target")] string Target,
    [property: JsonPropertyName("manifestUri")] string ManifestUri,
    [property: JsonPropertyName("shardCount")] int ShardCount,
    [property: JsonPropertyName("shardIndices")] IReadOnlyList<int> ShardIndices,
    [property: JsonPropertyName("action")] StepAction Action,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("traceparent")] string? Traceparent);

public sealed record LoadShardInput
{
    [JsonPropertyName("batchId")] public required string BatchId { get; init; }

    [JsonPropertyName("manifestUri")] public required string ManifestUri { get; init; }

    [JsonPropertyName("shardIndex")] public required int ShardIndex { get; init; }

    /// <summary>Passed along by the state machine; the load is the same, but run history leaves a dry run out.</summary>
    [JsonPropertyName("dryRun")] public bool DryRun { get; init; }
}

public sealed record LoadShardOutput(
    [property: JsonPropertyName("shardIndex")] int ShardIndex,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("status")] ShardStatus Status);

public sealed record BatchInput
{
    [JsonPropertyName("batchId")] public required string BatchId { get; init; }

    [JsonPropertyName("manifestUri")] public required string ManifestUri { get; init; }

    /// <summary>Passed along by the state machine; Verify is the same, but run history leaves a dry run out.</summary>
    [JsonPropertyName("dryRun")] public bool DryRun { get; init; }
}

public sealed record PublishInput
{
    [JsonPropertyName("batchId")] public required string BatchId { get; init; }

    [JsonPropertyName("manifestUri")] public required string ManifestUri { get; init; }

    [JsonPropertyName("dryRun")] public bool DryRun { get; init; }
}

public sealed record VerifyOutput(
    [property: JsonPropertyName("batchId")] string BatchId,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("shards")] int Shards);

/// <param name="Rejected">Rows the load set aside under the target's rejected-rows policy.</param>
/// <param name="Samples">A dry run's sample rows of each kind; null for a real publish.</param>
public sealed record PublishOutput(
    [property: JsonPropertyName("batchId")] string BatchId,
    [property: JsonPropertyName("status")] PublishVerdict Status,
    [property: JsonPropertyName("inserted")] long Inserted,
    [property: JsonPropertyName("updated")] long Updated,
    [property: JsonPropertyName("deleted")] long Deleted,
    [property: JsonPropertyName("unchanged")] long Unchanged,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("rejected")] long Rejected,
    [property: JsonPropertyName("firstRejects")] IReadOnlyList<RejectOutput> FirstRejects,
    [property: JsonPropertyName("samples")] SamplesOutput? Samples);

public sealed record RejectOutput(
    [property: JsonPropertyName("shardIndex")] int ShardIndex,
    [property: JsonPropertyName("row")] long Row,
    [property: JsonPropertyName("column")] string Column,
    [property: JsonPropertyName("reason")] string Reason);

public sealed record SamplesOutput(
    [property: JsonPropertyName("inserted")] IReadOnlyList<SampleOutput> Inserted,
    [property: JsonPropertyName("updated")] IReadOnlyList<SampleOutput> Updated,
    [property: JsonPropertyName("deleted")] IReadOnlyList<SampleOutput> Deleted,
    [property: JsonPropertyName("unchanged")] IReadOnlyList<SampleOutput> Unchanged);

/// <param name="Columns">Inserted: new values; deleted: old values; updated: only the columns that change, old and new.</param>
public sealed record SampleOutput(
    [property: JsonPropertyName("key")] IReadOnlyDictionary<string, string?> Key,
    [property: JsonPropertyName("columns")] IReadOnlyList<ChangeOutput> Columns);

public sealed record ChangeOutput(
    [property: JsonPropertyName("column")] string Column,
    [property: JsonPropertyName("old")] string? Old,
    [property: JsonPropertyName("new")] string? New);

/// <summary>The Catch output of a failed state: Step Functions spells these fields with capitals.</summary>
public sealed record StepError
{
    [JsonPropertyName("Error")] public string? Error { get; init; }

    [JsonPropertyName("Cause")] public string? Cause { get; init; }
}

public sealed record CleanupInput
{
    [JsonPropertyName("batchId")] public required string BatchId { get; init; }

    [JsonPropertyName("manifestUri")] public string? ManifestUri { get; init; }

    [JsonPropertyName("error")] public StepError? Error { get; init; }

    [JsonPropertyName("dryRun")] public bool DryRun { get; init; }
}

public sealed record CleanupOutput(
    [property: JsonPropertyName("batchId")] string BatchId,
    [property: JsonPropertyName("dropped")] bool Dropped,
    [property: JsonPropertyName("recordedFailure")] bool RecordedFailure);
