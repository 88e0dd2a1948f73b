using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Ledger;
using Writeback.Core.Sql;
using static Writeback.Core.Sql.SqlCommands;

namespace Writeback.Core.Engine;

/// <summary>Prepare: checks the manifest against its contract, records the batch, and stages it unless it is skipped or applied already.</summary>
public sealed partial class LoadEngine
{
    public Task<PrepareResult> PrepareAsync(string manifestUri, string? batchId, string? dataset, CancellationToken cancellationToken, bool dryRun = false) =>
        PrepareAsync(manifestUri, batchId, dataset, rollback: null, cancellationToken, dryRun);

    /// <param name="rollback">An operator's rollback (see <see cref="RollbackRequest"/>); null for every ordinary batch.</param>
    /// <param name="dryRun">Leaves no verdict in the ledger (skipped, applied as same content): a dry run only reports it.</param>
    public async Task<PrepareResult> PrepareAsync(string manifestUri, string? batchId, string? dataset, RollbackRequest? rollback, CancellationToken cancellationToken, bool dryRun = false)
    {
        var plan = await PlanAsync(manifestUri, cancellationToken);
        var manifest = plan.Manifest;
        if (batchId is not null && !string.Equals(batchId, manifest.BatchId, StringComparison.Ordinal))
        {
            throw new InvalidBatchException($"batch '{batchId}': field 'batchId': the manifest at {Echo.Location(manifestUri)} is for batch '{manifest.BatchId}'.");
        }

        if (dataset is not null && !string.Equals(dataset, manifest.Dataset, StringComparison.Ordinal))
        {
            throw new InvalidBatchException($"batch '{manifest.BatchId}': field 'dataset': the event says '{dataset}', the manifest says '{manifest.Dataset}'.");
        }

        await EnsureTargetTableAsync(Catalog.Get(manifest.Dataset, manifest.BatchId), cancellationToken);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockAsync(connection, LedgerSchema.BatchLock(plan.BatchId), shared: false, cancellationToken);
        await CheckPartitionValueAsync(connection, plan, cancellationToken);

        var existing = await BatchLedger.ReadAsync(connection, plan.BatchId, forUpdate: true, cancellationToken);
        if (rollback is not null)
        {
            var (action, reason) = await PrepareRollbackAsync(connection, manifestUri, plan, existing, rollback, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return Result(action, reason);
        }

        if (existing is not null)
        {
            EnsureSameContent(plan, existing);
            switch (existing.Status)
            {
                case BatchStatus.Applied:
                    await transaction.CommitAsync(cancellationToken);
                    return Result(PrepareAction.Applied, "this batch was applied already");
                case BatchStatus.Skipped:
                    await transaction.CommitAsync(cancellationToken);
                    return Result(PrepareAction.Skip, existing.Reason);
            }
        }

        var newer = await BatchLedger.NewerAppliedAsync(connection, plan, cancellationToken);
        if (newer is not null)
        {
            if (dryRun)
            {
                return Result(PrepareAction.Skip, newer);
            }

            if (existing is null)
            {
                await BatchLedger.InsertAsync(connection, plan, BatchStatus.Skipped, newer, cancellationToken);
            }
            else
            {
                await BatchLedger.UpdateStatusAsync(connection, plan.BatchId, BatchStatus.Skipped, newer, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return Result(PrepareAction.Skip, newer);
        }

        if (await SameContentAsAppliedAsync(connection, plan, existing is not null, dryRun, cancellationToken) is { } same)
        {
            await transaction.CommitAsync(cancellationToken);
            return Result(PrepareAction.Applied, same);
        }

        if (existing is null)
        {
            await BatchLedger.InsertAsync(connection, plan, BatchStatus.Prepared, reason: null, cancellationToken);
            await MarkDryRunAsync(connection, plan.BatchId, dryRun, cancellationToken);
        }
        else
        {
            // prepared_at is when an execution last prepared the batch: the stuck-batch sweep measures from it, so a
            // retry's fresh attempt is never mistaken for the one that died. A failed batch is being retried.
            await ExecuteAsync(
                connection,
                "UPDATE writeback.batches SET status = CASE WHEN status = 'failed' THEN 'prepared' ELSE status END, error = NULL, failed_at = NULL, prepared_at = now(), dry_run = dry_run AND $2 WHERE batch_id = $1",
                cancellationToken, plan.BatchId, dryRun);
        }

        await EnsureStagingAsync(connection, plan, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return Result(PrepareAction.Load, null);

        PrepareResult Result(PrepareAction action, string? reason) =>
            new(plan.BatchId, manifest.Dataset, plan.Target.Table, manifest.Shards.Count, action, reason, manifest.Traceparent);
    }

    /// <summary>
    /// A re-run of the aggregate exports the same content again as a new batch. When its content equals the batch
    /// applied last to the same target and partition, the table already holds it: the batch is recorded as applied
    /// (nothing inserted, updated or deleted) and becomes the watermark, so the ordering rule keeps counting from the
    /// newest export, without loading a row. Content equal to an older batch (A → B → A) is not this case: the applied
    /// batch is B, so A loads. Not for append targets. Returns the reason, or null when the batch must load.
    /// </summary>
    private static async Task<string?> SameContentAsAppliedAsync(NpgsqlConnection connection, BatchPlan plan, bool recorded, bool dryRun, CancellationToken cancellationToken)
    {
        // Append adds every batch's rows: equal content is new rows that happen to look alike, and it loads.
        if (plan.Target.Mode == LoadMode.Append)
        {
            return null;
        }

        string? applied = null;
        await using (var command = Command(
            connection,
            """
            SELECT w.batch_id FROM writeback.watermarks w JOIN writeback.batches b ON b.batch_id = w.batch_id
            WHERE w.target = $1 AND w.partition_value = $2 AND w.batch_id <> $3 AND b.content_digest = $4
            """,
            plan.Target.Table, plan.Scope, plan.BatchId, ContentDigest(plan.Manifest)))
        {
            applied = await command.ExecuteScalarAsync(cancellationToken) as string;
        }

        if (applied is null)
        {
            return null;
        }

        if (dryRun)
        {
            return $"same content as the applied batch '{applied}'; a real run records it as applied without loading";
        }

        var reason = $"same content as the applied batch '{applied}'; recorded as applied without loading";
        if (!recorded)
        {
            await BatchLedger.InsertAsync(connection, plan, BatchStatus.Applied, reason, cancellationToken);
        }
        else
        {
            // A batch prepared before (an attempt that died) leaves nothing behind: its staging and shard rows go.
            await DropStagingAsync(connection, plan.BatchId, cancellationToken);
            await ShardLedger.DeleteAsync(connection, plan.BatchId, cancellationToken);
        }

        await ExecuteAsync(
            connection,
            """
            UPDATE writeback.batches SET status = 'applied', reason = $2, applied_at = now(), error = NULL, failed_at = NULL,
                inserted = 0, updated = 0, deleted = 0, unchanged = total_rows
            WHERE batch_id = $1
            """,
            cancellationToken, plan.BatchId, reason);
        await ExecuteAsync(
            connection,
            "UPDATE writeback.watermarks SET batch_id = $3, sequence = $4, applied_at = now() WHERE target = $1 AND partition_value = $2",
            cancellationToken, plan.Target.Table, plan.Scope, plan.BatchId, plan.Manifest.Sequence);
        return reason;
    }

    private static async Task CheckPartitionValueAsync(NpgsqlConnection connection, BatchPlan plan, CancellationToken cancellationToken)
    {
        if (plan.Target.Mode != LoadMode.ReplacePartition)
        {
            return;
        }

        var partition = plan.Target.Partition!;
        await ExecuteAsync(connection, "SAVEPOINT partition_check", cancellationToken);
        try
        {
            await ScalarAsync(connection, $"SELECT CAST($1 AS {partition.Type.Sql})", cancellationToken, plan.Manifest.Partition!);
            await ExecuteAsync(connection, "RELEASE SAVEPOINT partition_check", cancellationToken);
        }
        catch (PostgresException e) when (SqlStates.InClass(e.SqlState, PostgresErrorCodes.DataException))
        {
            throw new InvalidBatchException($"batch '{plan.BatchId}': field 'partition': '{plan.Manifest.Partition}' is not a valid {partition.Type} for column '{partition.Name}': {e.MessageText}", e);
        }
    }
}
