using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Ledger;
using static Writeback.Core.Sql.SqlCommands;

namespace Writeback.Core.Engine;

/// <summary>
/// An operator's request to put an earlier batch of a partition back. It travels only in execution input that an
/// operator starts (the trigger builds its input from the event's known fields, so a Pub/Sub event cannot carry it).
/// </summary>
/// <param name="Replaces">The batch the partition holds now, as the operator saw it: the override applies over that batch only.</param>
/// <param name="By">Who asked (an OS user or a name given on purpose).</param>
/// <param name="Reason">Why, in the operator's words; kept in the ledger and the alert.</param>
public sealed record RollbackRequest(string Replaces, string By, string Reason)
{
    public const int MaxByLength = 200;

    public const int MaxReasonLength = 2000;
}

/// <summary>The batch a partition holds now and the earlier one a rollback puts back.</summary>
public sealed record RollbackChoice(string Current, string To);

public sealed partial class LoadEngine
{
    /// <summary>Where the earlier batch's files go when they are no longer kept, for the refusal to point at.</summary>
    public const string RetentionHint =
        "the bucket deletes shards and manifests after shard_retention_days (infra/variables.tf); locally .writeback/exports keeps them until they are deleted by hand";

    /// <summary>
    /// Prepare for a rollback: instead of refusing the older batch as superseded, record the override and stage the batch
    /// again. Refuses, changing nothing, when the partition no longer holds the batch the operator meant to replace (it
    /// changed since they looked) or when a shard of the earlier batch is no longer retained.
    /// </summary>
    private async Task<(PrepareAction Action, string? Reason)> PrepareRollbackAsync(
        NpgsqlConnection connection, string manifestUri, BatchPlan plan, BatchRow? existing, RollbackRequest rollback, CancellationToken cancellationToken)
    {
        var describe = $"rollback of {plan.Manifest.Dataset} {Where(plan)} to batch '{plan.BatchId}'";
        CheckRequest(rollback, describe);
        if (existing is null)
        {
            throw new InvalidBatchException($"{describe}: the ledger has no such batch; a rollback re-applies a batch that was recorded before (see ./writeback status).");
        }

        EnsureSameContent(plan, existing);
        var current = await ScalarAsync(
            connection,
            "SELECT batch_id FROM writeback.watermarks WHERE target = $1 AND partition_value = $2 FOR UPDATE",
            cancellationToken, plan.Target.Table, plan.Scope) as string;
        if (current == plan.BatchId)
        {
            var done = await ScalarAsync(
                connection, "SELECT status FROM writeback.rollbacks WHERE batch_id = $1 AND replaces = $2", cancellationToken, plan.BatchId, rollback.Replaces) as string;
            return (PrepareAction.Applied, done == "applied"
                ? $"rolled back already: batch '{plan.BatchId}' replaced '{rollback.Replaces}'"
                : $"batch '{plan.BatchId}' is the one applied already; there is nothing to roll back");
        }

        if (current != rollback.Replaces)
        {
            throw new InvalidBatchException(
                $"{describe}: the partition holds batch '{current ?? "(none)"}', not '{rollback.Replaces}' that the rollback was asked to replace; it changed since. Look again (./writeback status) and start the rollback again.");
        }

        if (existing.Status is BatchStatus.Prepared or BatchStatus.Verified)
        {
            // The same rollback's Prepare retried after it committed: go on. Anything else is an ordinary execution of this batch in flight.
            var requested = await ScalarAsync(
                connection, "SELECT 1 FROM writeback.rollbacks WHERE batch_id = $1 AND replaces = $2 AND status = 'requested'", cancellationToken, plan.BatchId, rollback.Replaces);
            if (requested is null)
            {
                throw new InvalidBatchException($"{describe}: the batch is {existing.Status.Name()} by another execution; wait for it to finish.");
            }
        }

        var missing = await files.MissingShardsAsync(manifestUri, plan.Manifest, cancellationToken);
        if (missing.Count > 0)
        {
            throw new InvalidBatchException(
                $"{describe} refused, nothing was changed: no longer retained: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", …" : string.Empty)} ({RetentionHint}).");
        }

        await ExecuteAsync(
            connection,
            """
            INSERT INTO writeback.rollbacks (batch_id, replaces, target, partition_value, requested_by, reason, status)
            VALUES ($1, $2, $3, $4, $5, $6, 'requested')
            ON CONFLICT (batch_id, replaces) DO UPDATE SET requested_by = EXCLUDED.requested_by, reason = EXCLUDED.reason,
                status = 'requested', requested_at = now(), applied_at = NULL, alerted_at = NULL
            """,
            cancellationToken, plan.BatchId, rollback.Replaces, plan.Target.Table, plan.Scope, rollback.By, rollback.Reason);

        // The batch loads again from its shards; its old shard rows vouch for a staging table dropped long ago.
        await ExecuteAsync(
            connection,
            """
            UPDATE writeback.batches SET status = 'prepared', reason = NULL, error = NULL, failed_at = NULL, verified_at = NULL, prepared_at = now()
            WHERE batch_id = $1
            """,
            cancellationToken, plan.BatchId);
        await ResetStagingAsync(connection, plan, cancellationToken);
        return (PrepareAction.Load, $"rollback over '{rollback.Replaces}' requested by {rollback.By}: {rollback.Reason}");
    }

    /// <summary>
    /// What <c>./writeback rollback</c> would do to a dataset's partition: the batch it holds (the watermark) and the one
    /// to put back, <paramref name="to"/> or by default the latest applied before the current one whose content differs
    /// (an equal-content re-export would put back the same table).
    /// </summary>
    public async Task<RollbackChoice> ChooseRollbackAsync(string dataset, string partition, string? to, CancellationToken cancellationToken)
    {
        var target = Catalog.Targets.FirstOrDefault(t => t.Dataset == dataset)
            ?? throw new InvalidBatchException($"--dataset: no target contract for '{dataset}' (known: {string.Join(", ", Catalog.Targets.Select(t => t.Dataset))}).");
        await EnsureLedgerAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        string current;
        long sequence;
        string? digest;
        await using (var read = Command(
            connection,
            "SELECT w.batch_id, w.sequence, b.content_digest FROM writeback.watermarks w JOIN writeback.batches b ON b.batch_id = w.batch_id WHERE w.target = $1 AND w.partition_value = $2",
            target.Table, partition))
        {
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new InvalidBatchException($"nothing is applied to {dataset} {partition}; there is nothing to roll back.");
            }

            (current, sequence, digest) = (reader.GetString(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetString(2));
        }

        if (to is not null)
        {
            if (await ScalarAsync(connection, "SELECT 1 FROM writeback.batches WHERE batch_id = $1 AND target = $2 AND partition_value = $3", cancellationToken, to, target.Table, partition) is null)
            {
                throw new InvalidBatchException($"--to: the ledger has no batch '{to}' of {dataset} {partition} (./writeback status lists the batches).");
            }

            return to == current
                ? throw new InvalidBatchException($"--to: batch '{to}' is the one {dataset} {partition} holds now; there is nothing to roll back.")
                : new RollbackChoice(current, to);
        }

        var earlier = await ScalarAsync(
            connection,
            """
            SELECT batch_id FROM writeback.batches
            WHERE target = $1 AND partition_value = $2 AND status = 'applied' AND batch_id <> $3 AND sequence < $4 AND content_digest IS DISTINCT FROM $5
            ORDER BY sequence DESC LIMIT 1
            """,
            cancellationToken, target.Table, partition, current, sequence, digest) as string
            ?? throw new InvalidBatchException($"{dataset} {partition} has no batch applied before '{current}' with other content; name one with --to.");
        return new RollbackChoice(current, earlier);
    }

    /// <summary>The shards of the batch at <paramref name="manifestUri"/> that are no longer retained; empty when all are.</summary>
    public async Task<IReadOnlyList<string>> NotRetainedAsync(string manifestUri, CancellationToken cancellationToken) =>
        await files.MissingShardsAsync(manifestUri, await files.ReadManifestAsync(manifestUri, cancellationToken), cancellationToken);

    /// <summary>
    /// In Publish's transaction, under the target lock: true when this batch is a requested rollback over exactly the batch
    /// its partition holds, and marks that rollback applied (it overrides the ordering rule this once; a rollback
    /// retried after it applied finds itself applied and is no override).
    /// </summary>
    private static async Task<bool> RollbackOverridesAsync(NpgsqlConnection connection, BatchPlan plan, CancellationToken cancellationToken) =>
        await ExecuteAsync(
            connection,
            """
            UPDATE writeback.rollbacks r SET status = 'applied', applied_at = now()
            FROM writeback.watermarks w
            WHERE r.batch_id = $1 AND r.status = 'requested' AND w.target = r.target AND w.partition_value = r.partition_value AND w.batch_id = r.replaces
            """,
            cancellationToken, plan.BatchId) > 0;

    private static void CheckRequest(RollbackRequest rollback, string describe)
    {
        if (!ContractReader.IsBatchId(rollback.Replaces))
        {
            throw new InvalidBatchException($"{describe}: field 'rollback.replaces': must be the batch id the partition holds now (1-80 characters of [0-9A-Za-z_-]).");
        }

        if (string.IsNullOrWhiteSpace(rollback.By) || rollback.By.Length > RollbackRequest.MaxByLength)
        {
            throw new InvalidBatchException($"{describe}: field 'rollback.by': must say who asked, in at most {RollbackRequest.MaxByLength} characters.");
        }

        if (string.IsNullOrWhiteSpace(rollback.Reason) || rollback.Reason.Length > RollbackRequest.MaxReasonLength)
        {
            throw new InvalidBatchException($"{describe}: field 'rollback.reason': must say why, in at most {RollbackRequest.MaxReasonLength} characters.");
        }
    }

    private static string Where(BatchPlan plan) => plan.Scope.Length == 0 ? plan.Target.Table : $"{plan.Target.Table} partition {plan.Scope}";
}
