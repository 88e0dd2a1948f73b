using Npgsql;
using Writeback.Core.Ledger;
using Writeback.Core.Loading;
using Writeback.Core.Sql;
using static Writeback.Core.Sql.SqlCommands;

namespace Writeback.Core.Engine;

/// <summary>Load shard: one shard's rows into staging and its ledger row, in one transaction.</summary>
public sealed partial class LoadEngine
{
    public async Task<ShardLoadResult> LoadShardAsync(string manifestUri, string batchId, int shardIndex, CancellationToken cancellationToken)
    {
        var plan = await ShardPlanAsync(manifestUri, cancellationToken);
        EnsureBatchId(plan, batchId);
        var manifest = plan.Manifest;
        if (shardIndex < 0 || shardIndex >= manifest.Shards.Count)
        {
            throw new InvalidBatchException($"batch '{batchId}': field 'shardIndex': {shardIndex} is outside 0..{manifest.Shards.Count - 1}.");
        }

        var entry = manifest.Shards[shardIndex];
        var describe = $"batch '{batchId}', shard {shardIndex} ({ShortUri(entry.Uri)})";

        // Fast path without downloading: a retry of a shard that committed.
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            var batch = await BatchLedger.ReadAsync(connection, batchId, forUpdate: false, cancellationToken)
                ?? throw new InvalidBatchException($"{describe}: the batch was not prepared.");
            EnsureSameContent(plan, batch);
            var done = await ShardLedger.ReadAsync(connection, batchId, shardIndex, cancellationToken);
            if (done is not null && await StagingIntactAsync(connection, batchId, cancellationToken))
            {
                return done;
            }

            EnsureLoadable(batch, describe);
        }

        using var local = await files.FetchShardAsync(manifestUri, entry, describe, cancellationToken);
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

            // Shared with other shards of the batch, exclusive against cleanup and publish; the shard lock makes a
            // concurrent duplicate wait and then find the ledger row.
            await LockAsync(connection, LedgerSchema.BatchLock(batchId), shared: true, cancellationToken);
            if (!await StagingIntactAsync(connection, batchId, cancellationToken))
            {
                // Crash recovery emptied staging: no shard the ledger lists is there any more. Reset the batch under
                // the exclusive lock (once, whoever comes first), then load this shard into the fresh staging; Verify
                // sends the shards loaded before the crash back to be loaded again.
                await transaction.RollbackAsync(cancellationToken);
                await using (var reset = await connection.BeginTransactionAsync(cancellationToken))
                {
                    await LockAsync(connection, LedgerSchema.BatchLock(batchId), shared: false, cancellationToken);
                    await EnsureStagingAsync(connection, plan, cancellationToken);
                    await reset.CommitAsync(cancellationToken);
                }

                return await LoadShardAsync(manifestUri, batchId, shardIndex, cancellationToken);
            }

            await LockAsync(connection, LedgerSchema.ShardLock(batchId, shardIndex), shared: false, cancellationToken);
            var done = await ShardLedger.ReadAsync(connection, batchId, shardIndex, cancellationToken);
            if (done is not null)
            {
                await transaction.CommitAsync(cancellationToken);
                return done;
            }

            var batch = await BatchLedger.ReadAsync(connection, batchId, forUpdate: false, cancellationToken)
                ?? throw new InvalidBatchException($"{describe}: the batch was not prepared.");
            EnsureLoadable(batch, describe);

            long rows;
            var rejects = RejectsFor(plan, shardIndex, describe);
            try
            {
                rows = await ShardCopier.CopyAsync(
                    connection, LedgerSchema.StagingTable(batchId), plan.Target, local.Path, shardIndex, entry.Rows, rejects, describe, cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
            {
                throw new InvalidBatchException($"{describe}: the batch's staging table is gone (cleaned up?); prepare the batch again.", e);
            }
            catch (PostgresException e) when (SqlStates.InClass(e.SqlState, PostgresErrorCodes.DataException) || SqlStates.InClass(e.SqlState, PostgresErrorCodes.IntegrityConstraintViolation))
            {
                throw new InvalidBatchException($"{describe}: PostgreSQL rejected a value: {e.MessageText} {e.Where}", e);
            }

            await ShardLedger.InsertAsync(connection, batchId, shardIndex, rows, local.Length, local.Sha256, rejects?.Rows.Count ?? 0, cancellationToken);
            await RecordRejectsAsync(connection, batchId, rejects?.Rows ?? [], cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new ShardLoadResult(shardIndex, rows, local.Length, AlreadyLoaded: false);
        }
    }
}
