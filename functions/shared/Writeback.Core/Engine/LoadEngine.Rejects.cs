using System.Globalization;
using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Ledger;
using Writeback.Core.Loading;
using static Writeback.Core.Sql.SqlCommands;

namespace Writeback.Core.Engine;

/// <summary>
/// A target's rejected-rows policy: how many rows of a batch may fail type, null or key checks and be set aside while
/// the rest is applied. Without either bound none may (all-or-nothing); with both, a batch must stay within both.
/// </summary>
public sealed record RejectPolicy(long? MaxRows, double? MaxPercent, bool KeepValues)
{
    public static RejectPolicy Of(ResolvedTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return new RejectPolicy(target.Contract.MaxRejectedRows, target.Contract.MaxRejectedPercent, target.Contract.KeepRejectedValues);
    }

    /// <summary>Rows a batch of <paramref name="totalRows"/> may reject and still be applied.</summary>
    public long Allowed(long totalRows)
    {
        if (MaxRows is null && MaxPercent is null)
        {
            return 0;
        }

        var byPercent = MaxPercent is { } percent ? (long)Math.Floor(totalRows * percent / 100) : long.MaxValue;
        return Math.Min(MaxRows ?? long.MaxValue, byPercent);
    }

    public override string ToString() => (MaxRows, MaxPercent) switch
    {
        (null, null) => "no rejected rows",
        ({ } rows, null) => string.Create(CultureInfo.InvariantCulture, $"maxRejectedRows {rows}"),
        (null, { } percent) => string.Create(CultureInfo.InvariantCulture, $"maxRejectedPercent {percent}"),
        ({ } rows, { } percent) => string.Create(CultureInfo.InvariantCulture, $"maxRejectedRows {rows}, maxRejectedPercent {percent}"),
    };
}

/// <summary>How many rows of a batch were rejected, and the first few of them.</summary>
public sealed record RejectSummary(long Count, IReadOnlyList<RejectedRow> First)
{
    public static RejectSummary None { get; } = new(0, []);
}

/// <summary>Rejected rows: recorded with their shard's load, counted and bounded at Verify, reported by Publish.</summary>
public sealed partial class LoadEngine
{
    /// <summary>The rejects of one batch, first in shard and row order (for status, the report and a failure's message).</summary>
    public async Task<RejectSummary> ReadRejectsAsync(string batchId, CancellationToken cancellationToken)
    {
        await EnsureLedgerAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadRejectsAsync(connection, batchId, cancellationToken);
    }

    /// <summary>The load's allowance for one shard: none (all-or-nothing, as without a policy) or the whole batch's.</summary>
    private static ShardRejects? RejectsFor(BatchPlan plan, int shardIndex, string describe)
    {
        var policy = RejectPolicy.Of(plan.Target);
        var allowed = policy.Allowed(plan.TotalRows);
        return allowed > 0 ? new ShardRejects(shardIndex, allowed, policy.KeepValues, describe) : null;
    }

    /// <summary>In the shard's own transaction: a retried load finds its shard row and adds nothing; the key would refuse a second copy anyway.</summary>
    private static async Task RecordRejectsAsync(NpgsqlConnection connection, string batchId, IReadOnlyList<RejectedRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        await ExecuteAsync(
            connection,
            """
            INSERT INTO writeback.rejects (batch_id, shard_index, row_number, column_name, reason, value)
            SELECT $1, * FROM unnest($2::integer[], $3::bigint[], $4::text[], $5::text[], $6::text[])
            ON CONFLICT DO NOTHING
            """,
            cancellationToken,
            batchId,
            rows.Select(r => r.ShardIndex).ToArray(),
            rows.Select(r => r.RowNumber).ToArray(),
            rows.Select(r => r.Column).ToArray(),
            rows.Select(r => r.Reason).ToArray(),
            rows.Select(r => r.Value).ToArray());
    }

    /// <summary>
    /// The count comes from the shard ledger (what the shards loaded now set aside; a reset after a crash clears it with
    /// them), the rows named from the rejects table.
    /// </summary>
    private static async Task<RejectSummary> ReadRejectsAsync(NpgsqlConnection connection, string batchId, CancellationToken cancellationToken)
    {
        var count = (long)(await ScalarAsync(connection, "SELECT coalesce(sum(rejected), 0)::bigint FROM writeback.shards WHERE batch_id = $1", cancellationToken, batchId))!;
        if (count == 0)
        {
            return RejectSummary.None;
        }

        var first = new List<RejectedRow>();
        await using var command = Command(
            connection,
            "SELECT shard_index, row_number, column_name, reason, value FROM writeback.rejects WHERE batch_id = $1 ORDER BY shard_index, row_number LIMIT 5",
            batchId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            first.Add(new RejectedRow(reader.GetInt32(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return new RejectSummary(count, first);
    }

    /// <summary>Fails the batch, naming its first rejects, when more rows were rejected than its target allows.</summary>
    private static async Task EnforceRejectPolicyAsync(NpgsqlConnection connection, BatchPlan plan, string describe, CancellationToken cancellationToken)
    {
        var rejects = await ReadRejectsAsync(connection, plan.BatchId, cancellationToken);
        var policy = RejectPolicy.Of(plan.Target);
        var allowed = policy.Allowed(plan.TotalRows);
        if (rejects.Count > allowed)
        {
            throw new InvalidBatchException(
                $"{describe}: {rejects.Count} of {plan.TotalRows} rows rejected, more than target {plan.Target.Table} allows ({policy}: {allowed}); first: {ShardRejects.Describe(rejects.First)}.");
        }
    }

    /// <summary>
    /// Under a policy that allows rejects, a key that occurs more than once is no row's to keep: every row of it is set
    /// aside (and counted against the allowance), in one statement that keeps staging and its shard ledger in step.
    /// </summary>
    private static async Task RejectDuplicateKeysAsync(NpgsqlConnection connection, BatchPlan plan, string keyList, CancellationToken cancellationToken)
    {
        var staging = LedgerSchema.StagingTable(plan.BatchId);
        var keyNames = string.Join(", ", plan.Target.Key);
        await ExecuteAsync(
            connection,
            $"""
            WITH duplicate AS (
                DELETE FROM {staging} WHERE ({keyList}) IN (SELECT {keyList} FROM {staging} GROUP BY {keyList} HAVING count(*) > 1)
                RETURNING _wb_shard, _wb_row),
            recorded AS (
                INSERT INTO writeback.rejects (batch_id, shard_index, row_number, column_name, reason)
                SELECT $1, _wb_shard, _wb_row + 1, $2, $3 FROM duplicate
                ON CONFLICT DO NOTHING)
            UPDATE writeback.shards AS sh SET rows = sh.rows - d.n, rejected = sh.rejected + d.n
            FROM (SELECT _wb_shard, count(*) AS n FROM duplicate GROUP BY _wb_shard) AS d
            WHERE sh.batch_id = $1 AND sh.shard_index = d._wb_shard
            """,
            cancellationToken, plan.BatchId, keyNames, $"duplicate key ({keyNames}): the key occurs more than once in the batch");
    }
}
