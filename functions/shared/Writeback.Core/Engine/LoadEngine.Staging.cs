using Npgsql;
using Writeback.Core.Ledger;
using static Writeback.Core.Sql.SqlCommands;

namespace Writeback.Core.Engine;

/// <summary>
/// The batch's staging table and its intact marker, created, reset, checked and dropped only here; the callers hold
/// the batch lock.
/// </summary>
public sealed partial class LoadEngine
{
    private static string CreateStagingSql(BatchPlan plan, StagingStorage storage)
    {
        var columns = string.Join(", ", plan.Target.Columns.Select(c => $"{c.Quoted} {c.Type.Sql}"));

        // Unlogged: staging is rebuilt from the shards after a crash, so WAL for it would be wasted — unless it is to
        // become a partition of the product table (PartitionAttach), whose rows must then survive a crash. The _wb_
        // columns let verify name the shard and row of a duplicate key or of a row outside the partition.
        return $"CREATE {(storage.Logged ? string.Empty : "UNLOGGED ")}TABLE IF NOT EXISTS {LedgerSchema.StagingTable(plan.BatchId)} ({columns}, _wb_shard integer NOT NULL, _wb_row bigint NOT NULL){storage.WithClause}";
    }

    /// <summary>In a transaction of its own, for Publish once its own has committed.</summary>
    private async Task DropStagingAsync(string batchId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockAsync(connection, LedgerSchema.BatchLock(batchId), shared: false, cancellationToken);
        await DropStagingAsync(connection, batchId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The one way staging goes: the table and its intact marker together, so a later prepare rebuilds both.</summary>
    internal static async Task DropStagingAsync(NpgsqlConnection connection, string batchId, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, $"DROP TABLE IF EXISTS {LedgerSchema.StagingTable(batchId)}", cancellationToken);
        await ExecuteAsync(connection, $"DELETE FROM {LedgerSchema.IntactTable} WHERE batch_id = $1", cancellationToken, batchId);
    }

    /// <summary>The marker survived (no crash since the batch was staged) and the table is still there (nobody dropped it).</summary>
    private static async Task<bool> StagingIntactAsync(NpgsqlConnection connection, string batchId, CancellationToken cancellationToken) =>
        await ScalarAsync(
            connection,
            $"SELECT EXISTS (SELECT 1 FROM {LedgerSchema.IntactTable} WHERE batch_id = $1) AND to_regclass($2) IS NOT NULL",
            cancellationToken, batchId, LedgerSchema.StagingTable(batchId)) is true;

    /// <summary>
    /// Under the exclusive batch lock: makes sure the batch has a staging table that holds exactly what its shard ledger
    /// lists. Returns true when it had to reset the batch to that state (staging emptied, ledger rows gone, back to
    /// prepared), which a caller past loading must report as a reload.
    /// </summary>
    private static async Task<bool> EnsureStagingAsync(NpgsqlConnection connection, BatchPlan plan, CancellationToken cancellationToken)
    {
        if (await StagingIntactAsync(connection, plan.BatchId, cancellationToken))
        {
            return false;
        }

        await ResetStagingAsync(connection, plan, cancellationToken);
        return true;
    }

    /// <summary>Empty staging, no shard in the ledger, status prepared, marked intact: a state a crash cannot contradict.</summary>
    private static async Task ResetStagingAsync(NpgsqlConnection connection, BatchPlan plan, CancellationToken cancellationToken)
    {
        var batchId = plan.BatchId;
        await ExecuteAsync(connection, CreateStagingSql(plan, await PartitionAttach.StagingStorageAsync(connection, plan, cancellationToken)), cancellationToken);
        await ExecuteAsync(connection, $"TRUNCATE {LedgerSchema.StagingTable(batchId)}", cancellationToken);

        // Verify builds the key index over all shards at once; while shards load, an index would only slow each COPY.
        await ExecuteAsync(connection, $"DROP INDEX IF EXISTS {LedgerSchema.StagingSchema}.{Sql.Identifiers.Quote(LedgerSchema.StagingKeyIndexName(batchId))}", cancellationToken);
        await ShardLedger.DeleteAsync(connection, batchId, cancellationToken);
        await ExecuteAsync(connection, "UPDATE writeback.batches SET status = 'prepared', verified_at = NULL WHERE batch_id = $1 AND status = 'verified'", cancellationToken, batchId);
        await ExecuteAsync(connection, $"INSERT INTO {LedgerSchema.IntactTable} (batch_id) VALUES ($1) ON CONFLICT DO NOTHING", cancellationToken, batchId);
    }
}
