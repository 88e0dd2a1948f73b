using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Ledger;
using Writeback.Core.Loading;
using Writeback.Core.Storage;

namespace Writeback.Core.Engine;

/// <summary>
/// The load engine: prepare, load shard, verify, publish, cleanup. Every step is idempotent and safe to run
/// concurrently with itself; the ledger, written in the same transactions as the data, is what makes a repeat a no-op.
/// </summary>
public sealed partial class LoadEngine(NpgsqlDataSource dataSource, TargetCatalog catalog, BatchFiles files)
{
    private readonly HashSet<string> _ensured = new(StringComparer.Ordinal);

    public TargetCatalog Catalog { get; } = catalog;

    // ---------------------------------------------------------------------------------------------- prepare

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

        var existing = await ReadBatchAsync(connection, plan.BatchId, forUpdate: true, cancellationToken);
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
                case "applied":
                    await transaction.CommitAsync(cancellationToken);
                    return Result(PrepareAction.Applied, "this batch was applied already");
                case "skipped":
                    await transaction.CommitAsync(cancellationToken);
                    return Result(PrepareAction.Skip, existing.Reason);
            }
        }

        var newer = await NewerAppliedAsync(connection, plan, cancellationToken);
        if (newer is not null)
        {
            if (dryRun)
            {
                return Result(PrepareAction.Skip, newer);
            }

            if (existing is null)
            {
                await InsertBatchAsync(connection, plan, "skipped", newer, cancellationToken);
            }
            else
            {
                await UpdateStatusAsync(connection, plan.BatchId, "skipped", newer, cancellationToken);
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
            await InsertBatchAsync(connection, plan, "prepared", reason: null, cancellationToken);
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

    // ---------------------------------------------------------------------------------------------- load shard

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
            var batch = await ReadBatchAsync(connection, batchId, forUpdate: false, cancellationToken)
                ?? throw new InvalidBatchException($"{describe}: the batch was not prepared.");
            EnsureSameContent(plan, batch);
            var done = await ReadShardAsync(connection, batchId, shardIndex, cancellationToken);
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
            var done = await ReadShardAsync(connection, batchId, shardIndex, cancellationToken);
            if (done is not null)
            {
                await transaction.CommitAsync(cancellationToken);
                return done;
            }

            var batch = await ReadBatchAsync(connection, batchId, forUpdate: false, cancellationToken)
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
            catch (PostgresException e) when (e.SqlState.StartsWith("22", StringComparison.Ordinal) || e.SqlState.StartsWith("23", StringComparison.Ordinal))
            {
                throw new InvalidBatchException($"{describe}: PostgreSQL rejected a value: {e.MessageText} {e.Where}", e);
            }

            await ExecuteAsync(
                connection,
                "INSERT INTO writeback.shards (batch_id, shard_index, rows, bytes, sha256, rejected) VALUES ($1, $2, $3, $4, $5, $6)",
                cancellationToken, batchId, shardIndex, rows, local.Length, local.Sha256, (long)(rejects?.Rows.Count ?? 0));
            await RecordRejectsAsync(connection, batchId, rejects?.Rows ?? [], cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new ShardLoadResult(shardIndex, rows, local.Length, AlreadyLoaded: false);
        }
    }

    // ---------------------------------------------------------------------------------------------- verify

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
        var batch = await ReadBatchAsync(connection, batchId, forUpdate: true, cancellationToken)
            ?? throw new InvalidBatchException($"{describe}: the batch was not prepared.");
        EnsureSameContent(plan, batch);
        if (batch.Status == "applied")
        {
            return new VerifyResult(batchId, batch.TotalRows, plan.Manifest.Shards.Count);
        }

        EnsureLoadable(batch, describe);
        if (await EnsureStagingAsync(connection, plan, cancellationToken))
        {
            await transaction.CommitAsync(cancellationToken);
            throw new ReloadRequiredException($"{describe}: staging was emptied (the database crash-restarted or failed over); the shards must be loaded again.");
        }

        var loaded = await ReadLedgerShardsAsync(connection, batchId, cancellationToken);
        var missing = Enumerable.Range(0, plan.Manifest.Shards.Count).Where(i => !loaded.ContainsKey(i)).ToList();
        if (missing.Count > 0)
        {
            await transaction.CommitAsync(cancellationToken);
            throw new ReloadRequiredException($"{describe}: shards not loaded: {string.Join(", ", missing.Take(20))}{(missing.Count > 20 ? ", …" : string.Empty)}; they must be loaded again.");
        }

        var rejected = await ReadRejectedPerShardAsync(connection, batchId, cancellationToken);
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
            await using var command = NewCommand(first, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = plan.Manifest.Partition! });
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

    // ---------------------------------------------------------------------------------------------- publish

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
            var batch = await ReadBatchAsync(connection, batchId, forUpdate: true, cancellationToken)
                ?? throw new InvalidBatchException($"batch '{batchId}': the batch was not prepared.");
            EnsureSameContent(plan, batch);
            switch (batch.Status)
            {
                case "applied":
                    return new PublishResult(batchId, PublishStatus.AlreadyApplied, batch.Inserted, batch.Updated, batch.Deleted, batch.Unchanged, null);
                case "skipped":
                    return new PublishResult(batchId, PublishStatus.Skipped, 0, 0, 0, 0, batch.Reason);
                case "prepared":
                    throw new ReloadRequiredException($"batch '{batchId}': the batch is not verified (its load was reset or never finished); load and verify it again.");
                case not "verified":
                    throw new InvalidBatchException($"batch '{batchId}': cannot publish a batch in status '{batch.Status}'; verify it first.");
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

            var newer = await NewerAppliedAsync(connection, plan, cancellationToken);
            if (newer is not null && !await RollbackOverridesAsync(connection, plan, cancellationToken))
            {
                await UpdateStatusAsync(connection, batchId, "skipped", newer, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return new PublishResult(batchId, PublishStatus.Skipped, 0, 0, 0, 0, newer);
            }

            PublishCounts counts;
            try
            {
                counts = await PublishWriter.ApplyAsync(connection, plan, await StagedRowsAsync(connection, batchId, cancellationToken), cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState.StartsWith("23", StringComparison.Ordinal) || e.SqlState.StartsWith("22", StringComparison.Ordinal))
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

    // ---------------------------------------------------------------------------------------------- cleanup

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
        var batch = await ReadBatchAsync(connection, batchId, forUpdate: true, cancellationToken);

        // The shard rows vouch for rows in staging; with staging gone they must go too, or a re-run would skip shards,
        // and a verified batch is no longer verified.
        if (batch is not null && batch.Status != "applied")
        {
            await ExecuteAsync(connection, "DELETE FROM writeback.shards WHERE batch_id = $1", cancellationToken, batchId);
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
            if (batch is not null && batch.Status is not ("applied" or "skipped"))
            {
                await ExecuteAsync(
                    connection,
                    "UPDATE writeback.batches SET status = 'failed', error = $2, failed_at = now() WHERE batch_id = $1",
                    cancellationToken, batchId, Truncate(error, 4000));
                recorded = true;
            }
            else if (batch is null && plan is not null && plan.BatchId == batchId)
            {
                await InsertBatchAsync(connection, plan, "failed", reason: null, cancellationToken);
                await ExecuteAsync(
                    connection, "UPDATE writeback.batches SET error = $2, failed_at = now() WHERE batch_id = $1",
                    cancellationToken, batchId, Truncate(error, 4000));
                recorded = true;
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return new CleanupResult(batchId, dropped, recorded);
    }

    // ---------------------------------------------------------------------------------------------- helpers

    /// <summary>Reads the manifest and matches it against its target contract before anything is written.</summary>
    public async Task<BatchPlan> PlanAsync(string manifestUri, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(manifestUri))
        {
            throw new InvalidBatchException("field 'manifestUri': must not be empty.");
        }

        var manifest = await files.ReadManifestAsync(manifestUri, cancellationToken);
        var target = ManifestSchema.Resolve(manifest, Catalog.Get(manifest.Dataset, manifest.BatchId));
        string scope;
        if (target.Mode is LoadMode.Replace or LoadMode.Mirror)
        {
            // These modes rewrite the whole table: one ordering scope for the target.
            scope = string.Empty;
        }
        else if (target.Mode == LoadMode.ReplacePartition)
        {
            scope = manifest.Partition
                ?? throw new InvalidBatchException($"batch '{manifest.BatchId}': field 'partition': target {target.Table} is replace_partition on '{target.Partition!.Name}'; the manifest must name the partition value.");
        }
        else
        {
            scope = manifest.Partition ?? string.Empty;
        }

        await EnsureLedgerAsync(cancellationToken);
        return new BatchPlan(manifest, target, Fingerprint(manifest), scope);
    }

    /// <summary>
    /// The batch's content: dataset, partition, schema and every shard's rows, size and sha256. Not where the shards are
    /// (signed URLs change on every delivery), nor when or in which sequence the export ran: re-exporting the same data
    /// under the same batch id is the same batch, while different shard bytes under one batch id are a conflict.
    /// </summary>
    public static string Fingerprint(Manifest manifest) => Digest(manifest, withBatchId: true);

    /// <summary>The batch's data alone (<see cref="Fingerprint"/> without the batch id): equal for two exports of equal content.</summary>
    public static string ContentDigest(Manifest manifest) => Digest(manifest, withBatchId: false);

    private static string Digest(Manifest manifest, bool withBatchId)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"v{manifest.Version}\n{(withBatchId ? manifest.BatchId : string.Empty)}\n{manifest.Dataset}\n{manifest.Partition}\n");
        foreach (var column in manifest.Schema)
        {
            text.Append(CultureInfo.InvariantCulture, $"c {column.Name} {ColumnType.TryParse(column.Type)}\n");
        }

        foreach (var shard in manifest.Shards)
        {
            text.Append(CultureInfo.InvariantCulture, $"s {shard.Rows} {shard.Bytes} {shard.Sha256}\n");
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static void EnsureBatchId(BatchPlan plan, string batchId)
    {
        if (!string.Equals(plan.BatchId, batchId, StringComparison.Ordinal))
        {
            throw new InvalidBatchException($"batch '{batchId}': field 'batchId': the manifest is for batch '{plan.BatchId}'.");
        }
    }

    private static void EnsureSameContent(BatchPlan plan, BatchRow row)
    {
        if (!string.Equals(plan.Fingerprint, row.Fingerprint, StringComparison.Ordinal))
        {
            throw new BatchConflictException(
                $"batch '{plan.BatchId}': this batch id was recorded with different content (fingerprint {row.Fingerprint[..12]}…, now {plan.Fingerprint[..12]}…, status {row.Status}); a batch id is never reused for other data.");
        }
    }

    private static void EnsureLoadable(BatchRow batch, string describe)
    {
        if (batch.Status is "skipped" or "failed")
        {
            throw new InvalidBatchException($"{describe}: the batch is {batch.Status}{(batch.Reason is null ? string.Empty : ": " + batch.Reason)}.");
        }
    }

    /// <summary>The reason this batch must not overwrite the target/partition, or null when it is the newest.</summary>
    private static async Task<string?> NewerAppliedAsync(NpgsqlConnection connection, BatchPlan plan, CancellationToken cancellationToken)
    {
        await using var command = NewCommand(
            "SELECT batch_id, sequence FROM writeback.watermarks WHERE target = $1 AND partition_value = $2 FOR UPDATE", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = plan.Target.Table });
        command.Parameters.Add(new NpgsqlParameter { Value = plan.Scope });
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
        await using (var command = NewCommand(
            """
            SELECT w.batch_id FROM writeback.watermarks w JOIN writeback.batches b ON b.batch_id = w.batch_id
            WHERE w.target = $1 AND w.partition_value = $2 AND w.batch_id <> $3 AND b.content_digest = $4
            """, connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = plan.Target.Table });
            command.Parameters.Add(new NpgsqlParameter { Value = plan.Scope });
            command.Parameters.Add(new NpgsqlParameter { Value = plan.BatchId });
            command.Parameters.Add(new NpgsqlParameter { Value = ContentDigest(plan.Manifest) });
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
            await InsertBatchAsync(connection, plan, "applied", reason, cancellationToken);
        }
        else
        {
            // A batch prepared before (an attempt that died) leaves nothing behind: its staging and shard rows go.
            await DropStagingAsync(connection, plan.BatchId, cancellationToken);
            await ExecuteAsync(connection, "DELETE FROM writeback.shards WHERE batch_id = $1", cancellationToken, plan.BatchId);
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
        catch (PostgresException e) when (e.SqlState.StartsWith("22", StringComparison.Ordinal))
        {
            throw new InvalidBatchException($"batch '{plan.BatchId}': field 'partition': '{plan.Manifest.Partition}' is not a valid {partition.Type} for column '{partition.Name}': {e.MessageText}", e);
        }
    }

    private static string CreateStagingSql(BatchPlan plan, bool logged)
    {
        var columns = string.Join(", ", plan.Target.Columns.Select(c => $"{c.Quoted} {c.Type.Sql}"));

        // Unlogged: staging is rebuilt from the shards after a crash, so WAL for it would be wasted — unless it is to
        // become a partition of the product table (PartitionAttach), whose rows must then survive a crash. The _wb_
        // columns let verify name the shard and row of a duplicate key or of a row outside the partition.
        return $"CREATE {(logged ? string.Empty : "UNLOGGED ")}TABLE IF NOT EXISTS {LedgerSchema.StagingTable(plan.BatchId)} ({columns}, _wb_shard integer NOT NULL, _wb_row bigint NOT NULL)";
    }

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
        await ExecuteAsync(connection, CreateStagingSql(plan, await PartitionAttach.WantsLoggedStagingAsync(connection, plan, cancellationToken)), cancellationToken);
        await ExecuteAsync(connection, $"TRUNCATE {LedgerSchema.StagingTable(batchId)}", cancellationToken);

        // Verify builds the key index over all shards at once; while shards load, an index would only slow each COPY.
        await ExecuteAsync(connection, $"DROP INDEX IF EXISTS {LedgerSchema.StagingSchema}.{Sql.Identifiers.Quote(LedgerSchema.StagingKeyIndexName(batchId))}", cancellationToken);
        await ExecuteAsync(connection, "DELETE FROM writeback.shards WHERE batch_id = $1", cancellationToken, batchId);
        await ExecuteAsync(connection, "UPDATE writeback.batches SET status = 'prepared', verified_at = NULL WHERE batch_id = $1 AND status = 'verified'", cancellationToken, batchId);
        await ExecuteAsync(connection, $"INSERT INTO {LedgerSchema.IntactTable} (batch_id) VALUES ($1) ON CONFLICT DO NOTHING", cancellationToken, batchId);
    }

    private static Task<Dictionary<int, long>> ReadLedgerShardsAsync(NpgsqlConnection connection, string batchId, CancellationToken cancellationToken) =>
        ReadPerShardAsync(connection, batchId, "rows", cancellationToken);

    /// <summary>One count of the shard ledger per shard: <c>rows</c> (staged) or <c>rejected</c>.</summary>
    private static async Task<Dictionary<int, long>> ReadPerShardAsync(NpgsqlConnection connection, string batchId, string column, CancellationToken cancellationToken)
    {
        var loaded = new Dictionary<int, long>();
        await using var command = NewCommand($"SELECT shard_index, {column} FROM writeback.shards WHERE batch_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = batchId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            loaded[reader.GetInt32(0)] = reader.GetInt64(1);
        }

        return loaded;
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
        var ledger = await StagedRowsAsync(connection, plan.BatchId, cancellationToken);
        var rejected = (await ReadRejectedPerShardAsync(connection, plan.BatchId, cancellationToken)).Values.Sum();
        var staged = (long)(await ScalarAsync(connection, $"SELECT count(*) FROM {LedgerSchema.StagingTable(plan.BatchId)}", cancellationToken))!;
        return staged == ledger && ledger + rejected == plan.TotalRows
            ? null
            : $"staging holds {staged} rows, the shard ledger {ledger} (and {rejected} rejected), the manifest {plan.TotalRows}";
    }

    /// <summary>The rows the shard ledger vouches for in staging: the manifest's total less the rejected rows.</summary>
    private static async Task<long> StagedRowsAsync(NpgsqlConnection connection, string batchId, CancellationToken cancellationToken) =>
        (await ReadLedgerShardsAsync(connection, batchId, cancellationToken)).Values.Sum();

    /// <summary>
    /// Staging's row count and, for replace_partition, how many rows lie outside the batch's partition: one scan. The
    /// count is checked against the ledger, so rows a crash or anything else took away are found; a crash also drops
    /// the intact marker, which is checked first.
    /// </summary>
    private static async Task<(long Rows, long Outside)> ScanStagingAsync(NpgsqlConnection connection, BatchPlan plan, CancellationToken cancellationToken)
    {
        var partition = plan.Target.Mode == LoadMode.ReplacePartition ? plan.Target.Partition : null;
        var outside = partition is null ? "0::bigint" : $"count(*) FILTER (WHERE {partition.Quoted} IS DISTINCT FROM CAST($1 AS {partition.Type.Sql}))";
        await using var command = NewCommand($"SELECT count(*), {outside} FROM {LedgerSchema.StagingTable(plan.BatchId)}", connection);
        if (partition is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = plan.Manifest.Partition! });
        }

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
            await using var command = NewCommand(duplicates, connection);
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

    private static async Task InsertBatchAsync(NpgsqlConnection connection, BatchPlan plan, string status, string? reason, CancellationToken cancellationToken) =>
        await ExecuteAsync(
            connection,
            """
            INSERT INTO writeback.batches (batch_id, dataset, target, partition_value, sequence, fingerprint, content_digest, shard_count, total_rows, status, reason, traceparent)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            """,
            cancellationToken, plan.BatchId, plan.Manifest.Dataset, plan.Target.Table, plan.Scope, plan.Manifest.Sequence, plan.Fingerprint,
            ContentDigest(plan.Manifest), plan.Manifest.Shards.Count, plan.TotalRows, status, (object?)reason ?? DBNull.Value, (object?)plan.Manifest.Traceparent ?? DBNull.Value);

    private static async Task UpdateStatusAsync(NpgsqlConnection connection, string batchId, string status, string? reason, CancellationToken cancellationToken) =>
        await ExecuteAsync(connection, "UPDATE writeback.batches SET status = $2, reason = $3 WHERE batch_id = $1", cancellationToken, batchId, status, (object?)reason ?? DBNull.Value);

    private static async Task<BatchRow?> ReadBatchAsync(NpgsqlConnection connection, string batchId, bool forUpdate, CancellationToken cancellationToken)
    {
        await using var command = NewCommand(
            "SELECT status, fingerprint, reason, total_rows, coalesce(inserted, 0), coalesce(updated, 0), coalesce(deleted, 0), coalesce(unchanged, 0) " +
            "FROM writeback.batches WHERE batch_id = $1" + (forUpdate ? " FOR UPDATE" : string.Empty),
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = batchId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new BatchRow(
            reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt64(3),
            reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7));
    }

    private static async Task<ShardLoadResult?> ReadShardAsync(NpgsqlConnection connection, string batchId, int shardIndex, CancellationToken cancellationToken)
    {
        await using var command = NewCommand("SELECT rows, bytes FROM writeback.shards WHERE batch_id = $1 AND shard_index = $2", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = batchId });
        command.Parameters.Add(new NpgsqlParameter { Value = shardIndex });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new ShardLoadResult(shardIndex, reader.GetInt64(0), reader.GetInt64(1), AlreadyLoaded: true) : null;
    }

    /// <summary>
    /// Commands without a client-side timeout: a publish or verify on millions of rows outlives Npgsql's 30 s default,
    /// and a timeout there would be misread as transient and retried forever. The function's own deadline bounds them.
    /// </summary>
    internal static NpgsqlCommand NewCommand(string sql, NpgsqlConnection connection) => new(sql, connection) { CommandTimeout = 0 };

    internal static Task LockAsync(NpgsqlConnection connection, string key, bool shared, CancellationToken cancellationToken) =>
        ExecuteAsync(
            connection,
            shared ? "SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))" : "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            cancellationToken, key);

    internal static async Task<int> ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var command = NewCommand(sql, connection);
        AddParameters(command, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var command = NewCommand(sql, connection);
        AddParameters(command, parameters);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private static void AddParameters(NpgsqlCommand command, object?[] parameters)
    {
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter ?? DBNull.Value });
        }
    }

    private async Task EnsureLedgerAsync(CancellationToken cancellationToken) =>
        await EnsureOnceAsync("ledger", LedgerSchema.Ddl, cancellationToken);

    private async Task EnsureOnceAsync(string name, string ddl, CancellationToken cancellationToken)
    {
        lock (_ensured)
        {
            if (_ensured.Contains(name))
            {
                return;
            }
        }

        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

            // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog; serialise DDL across writers.
            await LockAsync(connection, LedgerSchema.DdlLock, shared: false, cancellationToken);
            await ExecuteAsync(connection, ddl, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        lock (_ensured)
        {
            _ensured.Add(name);
        }
    }

    private static string ShortUri(string uri) => Echo.Location(uri);

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];

    private sealed record BatchRow(string Status, string Fingerprint, string? Reason, long TotalRows, long Inserted, long Updated, long Deleted, long Unchanged);
}
