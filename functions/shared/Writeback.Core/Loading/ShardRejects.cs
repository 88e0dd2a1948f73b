using Writeback.Core.Loading.Columns;

namespace Writeback.Core.Loading;

/// <summary>A row a load set aside: where it is (row numbers count from 1 within the shard), which column failed, and why.</summary>
public sealed record RejectedRow(int ShardIndex, long RowNumber, string Column, string Reason, string? Value);

/// <summary>
/// The rows one shard's load sets aside under the target's rejected-rows policy. At most <paramref name="allowed"/> are
/// held (the whole batch's allowance: a shard over it alone fails the batch), so memory stays bounded by the policy.
/// </summary>
internal sealed class ShardRejects(int shardIndex, long allowed, bool keepValues, string describe)
{
    private readonly List<RejectedRow> _rows = [];

    public IReadOnlyList<RejectedRow> Rows => _rows;

    public void Add(ColumnLoader loader, long shardRow, ValueProblem problem)
    {
        _rows.Add(new RejectedRow(shardIndex, shardRow + 1, loader.Column.Name, problem.Reason, keepValues ? problem.Value : null));
        if (_rows.Count > allowed)
        {
            throw new InvalidBatchException($"{describe}: more than {allowed} rows rejected, more than the target's policy allows for the batch; first: {Describe(_rows)}.");
        }
    }

    /// <summary>The first few rejects, by place and reason only: no value reaches an error.</summary>
    public static string Describe(IEnumerable<RejectedRow> rows) =>
        string.Join("; ", rows.Take(3).Select(r => $"shard {r.ShardIndex} row {r.RowNumber} column '{r.Column}': {r.Reason}"));
}
