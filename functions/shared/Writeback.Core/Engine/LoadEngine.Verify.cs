using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Ledger;
using static Writeback.Core.Sql.SqlCommands;

namespace Writeback.Core.Engine;

/// <summary>Verify: staging against the ledger and the manifest, the partition, the key and the rejected-rows policy.</summary>
public sealed partial class LoadEngine
{
    public async Task<VerifyResult> VerifyAsync(string manifestUri, string batchId, CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(manifestUri, cancellationToken);
        EnsureBatchId(plan, batchId);
        var target = plan.Target;
        var staging = LedgerSchema.StagingTable(batchId);
        var describe = $"batch '{batchId}'";

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockAsync(connection, LedgerSchema.BatchLock(batchId), shared: false, cancellationToken);
        var batch = await BatchLedger.ReadAsync(connection, batchId, forUpdate: true, cancellationToken)
            ?? throw new InvalidBatchException($"{describe}: the batch was not prepared.");
        EnsureSameContent(plan, batch);
        if (batch.Status == BatchStatus.Applied)
        {
            return new VerifyResult(batchId, batch.TotalRows, plan.Manifest.Shards.Count);
        }

        EnsureLoadable(batch, describe);
        if (await EnsureStagingAsync(connection, plan, cancellationToken))
        {
            await transaction.CommitAsync(cancellationToken);
            throw new ReloadRequiredException($"{describe}: staging was emptied (the database crash-restarted or failed over); the shards must be loaded again.");
        }

        var loaded = await ShardLedger.RowsPerShardAsync(connection, batchId, cancellationToken);
        var missing = Enumerable.Range(0, plan.Manifest.Shards.Count).Where(i => !loaded.ContainsKey(i)).ToList();
        if (missing.Count > 0)
        {
            await transaction.CommitAsync(cancellationToken);
            throw new ReloadRequiredException($"{describe}: shards not loaded: {string.Join(", ", missing.Take(20))}{(missing.Count > 20 ? ", …" : string.Empty)}; they must be loaded again.");
        }

        var rejected = await ShardLedger.RejectedPerShardAsync(connection, batchId, cancellationToken);
        for (var i = 0; i < plan.Manifest.Shards.Count; i++)
        {
            if (loaded[i] + rejected.GetValueOrDefault(i) != plan.Manifest.Shards[i].Rows)
            {
                throw new InvalidBatchException($"{describe}, shard {i}: {loaded[i]} rows loaded and {rejected.GetValueOrDefault(i)} rejected, the manifest says {plan.Manifest.Shards[i].Rows}.");
            }
        }

        // One scan of staging against the ledger. Keys need no scan of their own: the loader refuses a null in a key
        // column (a contract's key columns are declared not null), and the unique index below refuses duplicates.
        var (stagedRows, outside) = await ScanStagingAsync(connection, plan, cancellationToken);
        var ledgerRows = loaded.Values.Sum();
        if (stagedRows != ledgerRows)
        {
            await ResetStagingAsync(connection, plan, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            throw new ReloadRequiredException($"{describe}: staging holds {stagedRows} rows, the shard ledger {ledgerRows}; the shards must be loaded again.");
        }

        if (outside > 0)
        {
            var partition = target.Partition!;
            var first = $"SELECT _wb_shard, _wb_row, {partition.Quoted}::text FROM {staging} WHERE {partition.Quoted} IS DISTINCT FROM CAST($1 AS {partition.Type.Sql}) ORDER BY _wb_shard, _wb_row LIMIT 1";
            await using var command = Command(connection, first, plan.Manifest.Partition!);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            throw new InvalidBatchException(
                $"{describe}, shard {reader.GetInt32(0)}, column '{partition.Name}', row {reader.GetInt64(1) + 1}: value {(reader.IsDBNull(2) ? "null" : reader.GetString(2))} is outside the batch's partition {plan.Manifest.Partition}.");
        }

        if (target.Key.Count > 0)
        {
            await IndexStagedKeyAsync(connection, plan, describe, cancellationToken);
        }

        await EnforceRejectPolicyAsync(connection, plan, describe, cancellationToken);
        await ExecuteAsync(connection, "UPDATE writeback.batches SET status = 'verified', verified_at = now() WHERE batch_id = $1", cancellationToken, batchId);
        await transaction.CommitAsync(cancellationToken);
        return new VerifyResult(batchId, plan.TotalRows, plan.Manifest.Shards.Count);
    }

    /// <summary>
    /// Staging's row count and, for replace_partition, how many rows lie outside the batch's partition: one scan. The
    /// count is checked against the ledger, so rows a crash or anything else took away are found; a crash also drops
    /// the intact marker, which is checked first.
    /// </summary>
    private static async Task<(long Rows, long Outside)> ScanStagingAsync(NpgsqlConnection connection, BatchPlan plan, CancellationToken cancellationToken)
    {
        var partition = plan.Target.Mode == LoadMode.ReplacePartition ? plan.Target.Partition : null;
        var outside = partition is null ? "0::bigint" : $"count(*) FILTER (WHERE {partition.Quoted} IS DISTINCT FROM CAST($1 AS {partition.Type.Sql}))";
        var sql = $"SELECT count(*), {outside} FROM {LedgerSchema.StagingTable(plan.BatchId)}";
        await using var command = partition is null ? Command(connection, sql) : Command(connection, sql, plan.Manifest.Partition!);

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>
    /// Builds a unique index on the staged key: one sort, several times cheaper than grouping a million rows to find
    /// duplicates. Only when it fails does the grouping run, to name the duplicate key and where its rows are.
    /// </summary>
    private static async Task IndexStagedKeyAsync(NpgsqlConnection connection, BatchPlan plan, string describe, CancellationToken cancellationToken)
    {
        var target = plan.Target;
        var staging = LedgerSchema.StagingTable(plan.BatchId);
        var keyList = string.Join(", ", target.Key.Select(k => target.Find(k)!.Quoted));

        // The sort for a day's batch fits in memory with this, instead of spilling in many runs under the 64 MB default.
        await ExecuteAsync(connection, "SET LOCAL maintenance_work_mem = '256MB'", cancellationToken);
        await ExecuteAsync(connection, "SAVEPOINT key_check", cancellationToken);
        try
        {
            await ExecuteAsync(connection, $"CREATE UNIQUE INDEX IF NOT EXISTS {Sql.Identifiers.Quote(LedgerSchema.StagingKeyIndexName(plan.BatchId))} ON {staging} ({keyList})", cancellationToken);
            await ExecuteAsync(connection, "RELEASE SAVEPOINT key_check", cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && RejectPolicy.Of(target).Allowed(plan.TotalRows) > 0)
        {
            await ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT key_check", cancellationToken);
            await RejectDuplicateKeysAsync(connection, plan, keyList, cancellationToken);
            await ExecuteAsync(connection, $"CREATE UNIQUE INDEX IF NOT EXISTS {Sql.Identifiers.Quote(LedgerSchema.StagingKeyIndexName(plan.BatchId))} ON {staging} ({keyList})", cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            await ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT key_check", cancellationToken);
            var duplicates = $"""
                SELECT ROW({keyList})::text, array_agg(_wb_shard ORDER BY _wb_shard, _wb_row), array_agg(_wb_row ORDER BY _wb_shard, _wb_row)
                FROM {staging} GROUP BY {keyList} HAVING count(*) > 1 LIMIT 1
                """;
            await using var command = Command(connection, duplicates);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw;
            }

            var shards = reader.GetFieldValue<int[]>(1);
            var rows = reader.GetFieldValue<long[]>(2);
            var places = string.Join(" and ", shards.Zip(rows).Take(3).Select(p => $"shard {p.First} row {p.Second + 1}"));
            throw new InvalidBatchException($"{describe}: duplicate key ({string.Join(", ", target.Key)}) = {reader.GetString(0)} at {places}.", e);
        }
    }
}
