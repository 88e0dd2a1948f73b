using Npgsql;
using Writeback.Core.Ledger;
using Writeback.Core.Sql;
using static Writeback.Core.Sql.SqlCommands;

namespace Writeback.Core.Engine;

/// <summary>Publish: the verified batch into the product table, the watermark and the batch ledger, in one transaction.</summary>
public sealed partial class LoadEngine
{
    public async Task<PublishResult> PublishAsync(string manifestUri, string batchId, CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(manifestUri, cancellationToken);
        EnsureBatchId(plan, batchId);
        var target = plan.Target;

        PublishResult result;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

            // One publisher per target at a time: the ordering check below and the write are one critical section.
            await LockAsync(connection, LedgerSchema.TargetLock(target.Table), shared: false, cancellationToken);
            await LockAsync(connection, LedgerSchema.BatchLock(batchId), shared: false, cancellationToken);
            var batch = await BatchLedger.ReadAsync(connection, batchId, forUpdate: true, cancellationToken)
                ?? throw new InvalidBatchException($"batch '{batchId}': the batch was not prepared.");
            EnsureSameContent(plan, batch);
            switch (batch.Status)
            {
                case BatchStatus.Applied:
                    return new PublishResult(batchId, PublishStatus.AlreadyApplied, batch.Inserted, batch.Updated, batch.Deleted, batch.Unchanged, null);
                case BatchStatus.Skipped:
                    return new PublishResult(batchId, PublishStatus.Skipped, 0, 0, 0, 0, batch.Reason);
                case BatchStatus.Prepared:
                    throw new ReloadRequiredException($"batch '{batchId}': the batch is not verified (its load was reset or never finished); load and verify it again.");
                case not BatchStatus.Verified:
                    throw new InvalidBatchException($"batch '{batchId}': cannot publish a batch in status '{batch.Status.Name()}'; verify it first.");
            }

            // Verify saw every row, but a crash since then would have emptied staging while the ledger still says
            // "verified": publishing that would delete the day. So the check is repeated here, under the same lock
            // and in the same transaction as the write.
            var lost = await StagingLossAsync(connection, plan, cancellationToken);
            if (lost is not null)
            {
                await transaction.RollbackAsync(cancellationToken);
                await using var reset = await connection.BeginTransactionAsync(cancellationToken);
                await LockAsync(connection, LedgerSchema.BatchLock(batchId), shared: false, cancellationToken);
                await ResetStagingAsync(connection, plan, cancellationToken);
                await reset.CommitAsync(cancellationToken);
                throw new ReloadRequiredException($"batch '{batchId}': nothing was published: {lost}; the shards must be loaded again.");
            }

            var newer = await BatchLedger.NewerAppliedAsync(connection, plan, cancellationToken);
            if (newer is not null && !await RollbackOverridesAsync(connection, plan, cancellationToken))
            {
                await BatchLedger.UpdateStatusAsync(connection, batchId, BatchStatus.Skipped, newer, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return new PublishResult(batchId, PublishStatus.Skipped, 0, 0, 0, 0, newer);
            }

            PublishCounts counts;
            try
            {
                counts = await PublishWriter.ApplyAsync(connection, plan, await ShardLedger.StagedRowsAsync(connection, batchId, cancellationToken), cancellationToken);
            }
            catch (PostgresException e) when (SqlStates.InClass(e.SqlState, PostgresErrorCodes.IntegrityConstraintViolation) || SqlStates.InClass(e.SqlState, PostgresErrorCodes.DataException))
            {
                // A constraint of the product table (a foreign key from a dependent table, a unique index, a check)
                // refuses the batch; the transaction rolls back and the table keeps the previous batch.
                throw new InvalidBatchException($"batch '{batchId}': publishing to {target.Table} violates {e.ConstraintName ?? e.SqlState}: {e.MessageText}", e);
            }
            await ExecuteAsync(
                connection,
                """
                INSERT INTO writeback.watermarks (target, partition_value, batch_id, sequence) VALUES ($1, $2, $3, $4)
                ON CONFLICT (target, partition_value) DO UPDATE SET batch_id = EXCLUDED.batch_id, sequence = EXCLUDED.sequence, applied_at = now()
                """,
                cancellationToken, target.Table, plan.Scope, batchId, plan.Manifest.Sequence);
            await ExecuteAsync(
                connection,
                """
                UPDATE writeback.batches SET status = 'applied', applied_at = now(), reason = NULL,
                    inserted = $2, updated = $3, deleted = $4, unchanged = $5
                WHERE batch_id = $1
                """,
                cancellationToken, batchId, counts.Inserted, counts.Updated, counts.Deleted, counts.Unchanged);
            await transaction.CommitAsync(cancellationToken);
            result = new PublishResult(batchId, PublishStatus.Applied, counts.Inserted, counts.Updated, counts.Deleted, counts.Unchanged, null);
        }

        // The staging table has served its purpose; cleanup drops it too if this fails.
        try
        {
            await DropStagingAsync(batchId, cancellationToken);
        }
        catch (NpgsqlException)
        {
            // Best effort: the publish is committed; the cleanup step retries the drop.
        }

        return result;
    }

    /// <summary>
    /// Why staging no longer holds the verified batch, or null when it does. The marker catches a crash; the total (one
    /// count, a fifth of Verify's per-shard grouping on a million rows) catches anything else that took rows away.
    /// </summary>
    private static async Task<string?> StagingLossAsync(NpgsqlConnection connection, BatchPlan plan, CancellationToken cancellationToken) =>
        await StagingIntactAsync(connection, plan.BatchId, cancellationToken)
            ? await CheckStagedTotalAsync(connection, plan, cancellationToken)
            : "staging was emptied (the database crash-restarted or failed over)";

    private static async Task<string?> CheckStagedTotalAsync(NpgsqlConnection connection, BatchPlan plan, CancellationToken cancellationToken)
    {
        var ledger = await ShardLedger.StagedRowsAsync(connection, plan.BatchId, cancellationToken);
        var rejected = (await ShardLedger.RejectedPerShardAsync(connection, plan.BatchId, cancellationToken)).Values.Sum();
        var staged = (long)(await ScalarAsync(connection, $"SELECT count(*) FROM {LedgerSchema.StagingTable(plan.BatchId)}", cancellationToken))!;
        return staged == ledger && ledger + rejected == plan.TotalRows
            ? null
            : $"staging holds {staged} rows, the shard ledger {ledger} (and {rejected} rejected), the manifest {plan.TotalRows}";
    }
}
