using Writeback.Steps.Contract;

namespace Writeback.History.Recording;

/// <summary>
/// What recording needs from a step's input, read through the step contract of the step the handler is named after.
/// Recording must never fail a step: an input that does not fit its step's type is read for the fields every step
/// input shares, and unreadable JSON yields nothing.
/// </summary>
internal sealed record StepInputView
{
    public string? BatchId { get; init; }

    public string? Dataset { get; init; }

    public string? Traceparent { get; init; }

    /// <summary>The partition the trigger passed in the execution input (Prepare's input).</summary>
    public string? Partition { get; init; }

    public int ShardIndex { get; init; } = -1;

    /// <summary>A dry run's step: it changes no batch's outcome, so history leaves it out.</summary>
    public bool DryRun { get; init; }

    /// <summary>The Catch output handed to cleanup after a failure.</summary>
    public StepError? Error { get; init; }

    public static StepInputView Read(string step, string? json) => step switch
    {
        StepNames.Prepare when StepJson.Observe<PrepareInput>(json) is { } p =>
            new() { BatchId = p.BatchId, Dataset = p.Dataset, Traceparent = p.Traceparent, Partition = p.Partition, DryRun = p.DryRun },
        StepNames.LoadShard when StepJson.Observe<LoadShardInput>(json) is { } l => new() { BatchId = l.BatchId, ShardIndex = l.ShardIndex, DryRun = l.DryRun },
        StepNames.Publish when StepJson.Observe<PublishInput>(json) is { } p => new() { BatchId = p.BatchId, DryRun = p.DryRun },
        StepNames.Cleanup when StepJson.Observe<CleanupInput>(json) is { } c => new() { BatchId = c.BatchId, DryRun = c.DryRun, Error = c.Error },
        // Verify's own input, and the fields every step input shares.
        _ => StepJson.Observe<BatchInput>(json) is { } b ? new() { BatchId = b.BatchId, DryRun = b.DryRun } : new(),
    };
}

/// <summary>What a step's success means: its counts and verdict for the step's record, and its effect on the batch as a whole.</summary>
/// <param name="Status">The step's verdict by its wire name (LoadShard's and Publish's status, Prepare's action), for the log.</param>
/// <param name="Batch">How the batch's run changes; null when the step says nothing about it.</param>
internal sealed record StepOutcomeView(long? Rows, long? Bytes, string? Status, BatchUpdate? Batch)
{
    public static StepOutcomeView Read(string step, string batchId, StepInputView input, string? json)
    {
        switch (step)
        {
            case StepNames.Prepare:
                var prepared = StepJson.Observe<PrepareOutput>(json);
                return new(null, null, Wire(prepared?.Action), new BatchUpdate(batchId)
                {
                    Dataset = prepared?.Dataset,
                    Traceparent = prepared?.Traceparent,
                    Partition = input.Partition,
                    // skip: a newer batch already covers this partition; applied: this one already was. Either way it ends here.
                    Status = prepared?.Action switch { StepAction.Skip => RunStatus.Skipped, StepAction.Applied => RunStatus.Applied, _ => null },
                    Ended = prepared?.Action is StepAction.Skip or StepAction.Applied,
                });
            case StepNames.LoadShard:
                var loaded = StepJson.Observe<LoadShardOutput>(json);
                return new(loaded?.Rows, loaded?.Bytes, Wire(loaded?.Status), null);
            case StepNames.Verify:
                var verified = StepJson.Observe<VerifyOutput>(json);
                return new(verified?.Rows, null, null, new BatchUpdate(batchId) { Rows = verified?.Rows });
            case StepNames.Publish:
                var published = StepJson.Observe<PublishOutput>(json);
                return new(null, null, Wire(published?.Status), new BatchUpdate(batchId)
                {
                    Status = published?.Status == PublishVerdict.Applied ? RunStatus.Applied : RunStatus.Skipped,
                    Ended = true,
                    Inserted = published?.Inserted,
                    Updated = published?.Updated,
                    Deleted = published?.Deleted,
                    Unchanged = published?.Unchanged,
                    Rejected = published?.Rejected,
                });
            case StepNames.Cleanup when input.Error is { } error:
                return new(null, null, null, new BatchUpdate(batchId) { Status = RunStatus.Failed, Ended = true, Error = error.Error ?? "Unknown", Cause = error.Cause ?? "" });
            default:
                return new(null, null, null, null);
        }
    }

    private static string? Wire<T>(T? value)
        where T : struct, Enum => value is { } v ? StepJson.WireName(v) : null;
}
