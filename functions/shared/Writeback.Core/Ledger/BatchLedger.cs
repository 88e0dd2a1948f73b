using Npgsql;
using Writeback.Core.Engine;
using static Writeback.Core.Sql.SqlCommands;

namespace Writeback.Core.Ledger;

/// <summary>A batch's row in <c>writeback.batches</c>, as the steps read it.</summary>
internal sealed record BatchRow(BatchStatus Status, string Fingerprint, string? Reason, long TotalRows, long Inserted, long Updated, long Deleted, long Unchanged);

/// <summary>
/// Reads and writes of the batch ledger (<c>writeback.batches</c>) and of the ordering watermark
/// (<c>writeback.watermarks</c>). Every call runs in the caller's transaction, under the caller's locks.
/// </summary>
internal static class BatchLedger
{
    public static async Task<BatchRow?> ReadAsync(NpgsqlConnection connection, string batchId, bool forUpdate, CancellationToken cancellationToken)
    {
        await using var command = Command(
            connection,
            "SELECT status, fingerprint, reason, total_rows, coalesce(inserted, 0), coalesce(updated, 0), coalesce(deleted, 0), coalesce(unchanged, 0) " +
            "FROM writeback.batches WHERE batch_id = $1" + (forUpdate ? " FOR UPDATE" : string.Empty),
            batchId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new BatchRow(
            BatchStatuses.Parse(reader.GetString(0)), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt64(3),
            reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7));
    }

    public static async Task InsertAsync(NpgsqlConnection connection, BatchPlan plan, BatchStatus status, string? reason, CancellationToken cancellationToken) =>
        await ExecuteAsync(
            connection,
            """
            INSERT INTO writeback.batches (batch_id, dataset, target, partition_value, sequence, fingerprint, content_digest, shard_count, total_rows, status, reason, traceparent)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            """,
            cancellationToken, plan.BatchId, plan.Manifest.Dataset, plan.Target.Table, plan.Scope, plan.Manifest.Sequence, plan.Fingerprint,
            LoadEngine.ContentDigest(plan.Manifest), plan.Manifest.Shards.Count, plan.TotalRows, status.Name(), reason, plan.Manifest.Traceparent);

    public static async Task UpdateStatusAsync(NpgsqlConnection connection, string batchId, BatchStatus status, string? reason, CancellationToken cancellationToken) =>
        await ExecuteAsync(connection, "UPDATE writeback.batches SET status = $2, reason = $3 WHERE batch_id = $1", cancellationToken, batchId, status.Name(), reason);

    /// <summary>The reason this batch must not overwrite the target/partition, or null when it is the newest.</summary>
    public static async Task<string?> NewerAppliedAsync(NpgsqlConnection connection, BatchPlan plan, CancellationToken cancellationToken)
    {
        await using var command = Command(
            connection, "SELECT batch_id, sequence FROM writeback.watermarks WHERE target = $1 AND partition_value = $2 FOR UPDATE", plan.Target.Table, plan.Scope);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var appliedBatch = reader.GetString(0);
        var appliedSequence = reader.GetInt64(1);
        if (appliedBatch == plan.BatchId || appliedSequence < plan.Manifest.Sequence)
        {
            return null;
        }

        var where = plan.Scope.Length == 0 ? plan.Target.Table : $"{plan.Target.Table} partition {plan.Scope}";
        return $"batch '{plan.BatchId}' (sequence {plan.Manifest.Sequence}) is not newer than batch '{appliedBatch}' (sequence {appliedSequence}) already applied to {where}";
    }
}
