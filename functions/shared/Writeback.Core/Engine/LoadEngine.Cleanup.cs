using Writeback.Core.Contracts;
using Writeback.Core.Ledger;
using static Writeback.Core.Sql.SqlCommands;

namespace Writeback.Core.Engine;

/// <summary>Cleanup: drops staging, and records a failure in the ledger.</summary>
public sealed partial class LoadEngine
{
    /// <param name="dryRun">Records no failure, and removes the batch's ledger row when only the dry run had prepared it.</param>
    public async Task<CleanupResult> CleanupAsync(string? manifestUri, string batchId, string? error, CancellationToken cancellationToken, bool dryRun = false)
    {
        if (!ContractReader.IsBatchId(batchId))
        {
            throw new InvalidBatchException($"batch '{batchId}': field 'batchId': must be 1-80 characters of [0-9A-Za-z_-].");
        }

        await EnsureLedgerAsync(cancellationToken);
        BatchPlan? plan = null;
        if (error is not null && manifestUri is not null && !dryRun)
        {
            try
            {
                plan = await PlanAsync(manifestUri, cancellationToken);
            }
            catch (Exception e) when (e is InvalidBatchException or BatchConflictException)
            {
                // A batch that failed because its manifest is bad still gets its staging dropped.
            }
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockAsync(connection, LedgerSchema.BatchLock(batchId), shared: false, cancellationToken);
        var dropped = await ScalarAsync(connection, "SELECT to_regclass($1) IS NOT NULL", cancellationToken, LedgerSchema.StagingTable(batchId)) is true;
        await DropStagingAsync(connection, batchId, cancellationToken);
        var batch = await BatchLedger.ReadAsync(connection, batchId, forUpdate: true, cancellationToken);

        // The shard rows vouch for rows in staging; with staging gone they must go too, or a re-run would skip shards,
        // and a verified batch is no longer verified.
        if (batch is not null && batch.Status != BatchStatus.Applied)
        {
            await ShardLedger.DeleteAsync(connection, batchId, cancellationToken);
            await ExecuteAsync(connection, "UPDATE writeback.batches SET status = 'prepared', verified_at = NULL WHERE batch_id = $1 AND status = 'verified'", cancellationToken, batchId);
        }

        if (dryRun)
        {
            await ForgetDryRunAsync(connection, batchId, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new CleanupResult(batchId, dropped, RecordedFailure: false);
        }

        var recorded = false;
        if (error is not null)
        {
            if (batch is not null && batch.Status is not (BatchStatus.Applied or BatchStatus.Skipped))
            {
                await ExecuteAsync(
                    connection,
                    "UPDATE writeback.batches SET status = 'failed', error = $2, failed_at = now() WHERE batch_id = $1",
                    cancellationToken, batchId, Truncate(error, 4000));
                recorded = true;
            }
            else if (batch is null && plan is not null && plan.BatchId == batchId)
            {
                await BatchLedger.InsertAsync(connection, plan, BatchStatus.Failed, reason: null, cancellationToken);
                await ExecuteAsync(
                    connection, "UPDATE writeback.batches SET error = $2, failed_at = now() WHERE batch_id = $1",
                    cancellationToken, batchId, Truncate(error, 4000));
                recorded = true;
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return new CleanupResult(batchId, dropped, recorded);
    }
}
