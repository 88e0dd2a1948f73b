using System.Globalization;
using Npgsql;
using Writeback.Core.Engine;
using static Writeback.Core.Sql.SqlCommands;

namespace Writeback.Core.Ledger;

/// <summary>A batch the sweep found prepared or verified for too long and marked failed.</summary>
public sealed record StuckBatch(string BatchId, string Dataset, string PartitionValue, string PreviousStatus, TimeSpan Age, string Reason, string? Traceparent);

/// <summary>
/// Finds batches left prepared or verified (their execution was killed, timed out, hit the history-event limit, or its
/// orchestrator died, so no Catch ran) and brings them to a final state: failed with a reason, staging dropped, shard
/// rows gone. A failed batch is what a redelivery retries through the front door.
/// </summary>
/// <remarks>
/// "Too long" is measured from <c>prepared_at</c>, which every attempt's Prepare stamps, and must exceed the state
/// machine's TimeoutSeconds: an execution that prepared the batch earlier than that has been closed by Step Functions,
/// so no live attempt is cut off. The batch lock makes the sweep and a new attempt's Prepare take turns: whichever comes
/// second sees the other's result.
/// </remarks>
public sealed class StuckBatchSweeper(NpgsqlDataSource dataSource)
{
    /// <summary>statemachines/writeback.asl.json's TimeoutSeconds (4 h) plus a margin for the Catch's cleanup.</summary>
    public static readonly TimeSpan DefaultStuckAfter = TimeSpan.FromHours(4) + TimeSpan.FromMinutes(15);

    public async Task<IReadOnlyList<StuckBatch>> SweepAsync(TimeSpan stuckAfter, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(stuckAfter, TimeSpan.Zero);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (await ScalarAsync(connection, "SELECT to_regclass('writeback.batches') IS NOT NULL", cancellationToken) is not true)
        {
            return [];
        }

        var candidates = new List<string>();
        await using (var find = Command(connection, Stuck("SELECT batch_id FROM writeback.batches", forUpdate: false), stuckAfter, null))
        {
            await using var reader = await find.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                candidates.Add(reader.GetString(0));
            }
        }

        var swept = new List<StuckBatch>();
        foreach (var batchId in candidates)
        {
            if (await FailAsync(connection, batchId, stuckAfter, cancellationToken) is { } stuck)
            {
                swept.Add(stuck);
            }
        }

        return swept;
    }

    private static async Task<StuckBatch?> FailAsync(NpgsqlConnection connection, string batchId, TimeSpan stuckAfter, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockAsync(connection, LedgerSchema.BatchLock(batchId), shared: false, cancellationToken);

        // Again under the lock: a new attempt may have prepared it (fresh prepared_at) or finished it meanwhile.
        StuckBatch? stuck = null;
        await using (var read = Command(
            connection, Stuck("SELECT batch_id, dataset, partition_value, status, now() - prepared_at, traceparent FROM writeback.batches", forUpdate: true), stuckAfter, batchId))
        {
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                var status = reader.GetString(3);
                var age = reader.GetFieldValue<TimeSpan>(4);
                var reason = $"stuck: still {status} {Whole(age)} after it was last prepared, longer than any execution may run ({Whole(stuckAfter)}); " +
                    "its execution ended without cleanup (killed, timed out or over the history limit). Marked failed; a redelivery of its event retries it.";
                stuck = new StuckBatch(reader.GetString(0), reader.GetString(1), reader.GetString(2), status, age, reason, reader.IsDBNull(5) ? null : reader.GetString(5));
            }
        }

        if (stuck is null)
        {
            await transaction.CommitAsync(cancellationToken);
            return null;
        }

        await LoadEngine.DropStagingAsync(connection, batchId, cancellationToken);
        // The shard rows vouch for rows in staging; with staging gone a retry must load every shard again.
        await ShardLedger.DeleteAsync(connection, batchId, cancellationToken);
        await ExecuteAsync(
            connection,
            "UPDATE writeback.batches SET status = 'failed', error = $2, failed_at = now(), verified_at = NULL WHERE batch_id = $1",
            cancellationToken, batchId, stuck.Reason);
        await transaction.CommitAsync(cancellationToken);
        return stuck;
    }

    /// <summary>$1 the bound, $2 one batch id or null for all.</summary>
    private static string Stuck(string select, bool forUpdate) =>
        select + " WHERE status IN ('prepared', 'verified') AND prepared_at < now() - $1::interval AND ($2::text IS NULL OR batch_id = $2)"
        + (forUpdate ? " FOR UPDATE" : " ORDER BY prepared_at");

    private static string Whole(TimeSpan span) => span.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes:00}m")
        : string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m");
}
