using System.Text.Json;
using System.Text.Json.Serialization;

namespace Writeback.Steps.Contract;

/// <summary>
/// The input every execution of the writeback state machine starts with (the trigger writes it; Prepare reads it as
/// <see cref="PrepareInput"/>). Written with every field present and in a fixed order, so a redelivered event produces
/// byte-identical input and Step Functions recognises it as the same request.
/// </summary>
public sealed record ExecutionInput(
    [property: JsonPropertyName("manifestUri")] string ManifestUri,
    [property: JsonPropertyName("batchId")] string BatchId,
    [property: JsonPropertyName("dataset")] string Dataset,
    [property: JsonPropertyName("traceparent")] string? Traceparent,
    [property: JsonPropertyName("partition")] string? Partition = null)
{
    public string ToJson() => JsonSerializer.Serialize(this, StepJson.Default.ExecutionInput);
}

/// <summary>
/// A succeeded execution's output, as the state machine's Report state (a loaded batch) or Report no-op state (skip,
/// applied) builds it.
/// </summary>
/// <param name="Reason">Why a no-op batch ends early; a loaded batch's reasons are in <see cref="Published"/>.</param>
/// <param name="Verified">Verify's <c>rows</c> and <c>shards</c>; null for a no-op.</param>
/// <param name="Published">Publish's whole output; null for a no-op.</param>
/// <param name="Cleanup">Cleanup's <c>dropped</c>, or the error cleanup failed with (which does not fail a published batch).</param>
public sealed record ExecutionOutput(
    [property: JsonPropertyName("batchId")] string BatchId,
    [property: JsonPropertyName("dataset")] string Dataset,
    [property: JsonPropertyName("action")] StepAction Action,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("dryRun")] bool DryRun,
    [property: JsonPropertyName("shardCount")] int? ShardCount,
    [property: JsonPropertyName("verified")] VerifyOutput? Verified,
    [property: JsonPropertyName("published")] PublishOutput? Published,
    [property: JsonPropertyName("cleanup")] JsonElement? Cleanup);
