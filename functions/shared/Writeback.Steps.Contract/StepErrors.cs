namespace Writeback.Steps.Contract;

/// <summary>
/// The error types a step fails with, for the state machine's Retry and Catch to tell apart (a Lambda error's
/// <c>errorType</c> becomes the ASL error name).
/// </summary>
public static class StepErrors
{
    /// <summary>Worth retrying: the database or the network failed for now.</summary>
    public const string Transient = "Writeback.Transient";

    /// <summary>The batch itself is wrong; retrying cannot help.</summary>
    public const string InvalidBatch = "Writeback.InvalidBatch";

    /// <summary>The batch id was seen with other content; retrying cannot help.</summary>
    public const string Conflict = "Writeback.Conflict";

    /// <summary>Staging lost rows or a shard is missing: nothing was published; load the shards again.</summary>
    public const string Reload = "Writeback.Reload";

    public static IReadOnlyList<string> All { get; } = [Transient, InvalidBatch, Conflict, Reload];
}
