namespace Writeback.Core.Ledger;

/// <summary>
/// A batch's state in the ledger (<c>writeback.batches.status</c>). The wire names are the column's CHECK values, so
/// the steps compare states as this enum and SQL text spells them as the database does.
/// </summary>
internal enum BatchStatus
{
    Prepared,
    Verified,
    Applied,
    Skipped,
    Failed,
}

internal static class BatchStatuses
{
    public static string Name(this BatchStatus status) => status switch
    {
        BatchStatus.Prepared => "prepared",
        BatchStatus.Verified => "verified",
        BatchStatus.Applied => "applied",
        BatchStatus.Skipped => "skipped",
        BatchStatus.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static BatchStatus Parse(string name) => name switch
    {
        "prepared" => BatchStatus.Prepared,
        "verified" => BatchStatus.Verified,
        "applied" => BatchStatus.Applied,
        "skipped" => BatchStatus.Skipped,
        "failed" => BatchStatus.Failed,
        _ => throw new InvalidOperationException($"writeback.batches holds the status '{name}', which this version does not know."),
    };
}
