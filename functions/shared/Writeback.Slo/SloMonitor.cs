using Npgsql;
using NpgsqlTypes;
using Writeback.Core.Ledger;
using Writeback.History;
using Writeback.Slo.Alerts;
using Writeback.Telemetry;

namespace Writeback.Slo;

/// <summary>One dataset's result of a check: its state and the alert the check raised for it, if any.</summary>
public sealed record SloCheckResult(SloEvaluation Evaluation, Alert? Alert, IReadOnlyList<string> FailedSinks);

/// <summary>
/// The SLO check: evaluates each dataset and compares the result with the state it last alerted on
/// (<c>writeback_runs.slo_state</c>). Only a change raises an alert, so a check every five minutes never floods; a
/// move from a state that needs attention back to on-time or met raises one recovery message. The comparison and
/// the new state are committed under a per-dataset lock before the sinks are called, so concurrent checks raise an
/// alert once (a sink that is down then misses it; it is logged and kept in <c>writeback_runs.alerts</c>).
/// </summary>
/// <remarks>
/// With <paramref name="sweepStuckBatches"/>, a check of all datasets first brings batches left prepared or verified
/// past <see cref="SloOptions.StuckAfter"/> to failed (see <see cref="StuckBatchSweeper"/>) and records that in run
/// history, so the evaluation that follows sees the failure and alerts on it, naming the batch and why.
/// </remarks>
public sealed partial class SloMonitor(RunHistory history, SloEvaluator evaluator, IReadOnlyList<IAlertSink> sinks, StructuredLog? log = null, bool sweepStuckBatches = false)
{
    /// <summary>The error name run history and the alert carry for a batch the sweep failed.</summary>
    public const string StuckError = "Writeback.Stuck";

    private readonly StructuredLog _log = log ?? StructuredLog.None;
    private readonly StuckBatchSweeper? _sweeper = sweepStuckBatches ? new StuckBatchSweeper(history.DataSource) : null;

    public async Task<IReadOnlyList<SloCheckResult>> CheckAsync(IEnumerable<SloTarget> targets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var all = targets.ToList();
        await SweepStuckAsync(cancellationToken);
        await AlertRollbacksAsync(all, cancellationToken);
        var results = new List<SloCheckResult>();
        foreach (var target in all)
        {
            results.Add(await CheckAsync(target, cancellationToken));
        }

        return results;
    }

    /// <summary>Fails the batches stuck in a non-final state and records each in run history; empty without a sweeper.</summary>
    public async Task<IReadOnlyList<StuckBatch>> SweepStuckAsync(CancellationToken cancellationToken = default)
    {
        if (_sweeper is null)
        {
            return [];
        }

        var swept = await _sweeper.SweepAsync(evaluator.Options.StuckAfter, cancellationToken);
        foreach (var stuck in swept)
        {
            _log.Error("stuck batch marked failed", stuck.BatchId, Traceparent.TraceId(stuck.Traceparent), new("dataset", stuck.Dataset), new("cause", stuck.Reason));
            await history.UpdateBatchAsync(
                new BatchUpdate(stuck.BatchId)
                {
                    Status = RunStatus.Failed,
                    Dataset = stuck.Dataset,
                    Partition = stuck.PartitionValue.Length == 0 ? null : stuck.PartitionValue,
                    Traceparent = stuck.Traceparent,
                    Ended = true,
                    Error = StuckError,
                    Cause = stuck.Reason,
                },
                cancellationToken);
        }

        return swept;
    }

    public async Task<SloCheckResult> CheckAsync(SloTarget target, CancellationToken cancellationToken = default)
    {
        var evaluation = await evaluator.EvaluateAsync(target, cancellationToken);
        await AlertRejectedRowsAsync(evaluation, cancellationToken);
        var (alert, alertId) = await TransitionAsync(evaluation, cancellationToken);
        if (alert is null)
        {
            return new SloCheckResult(evaluation, null, []);
        }

        return new SloCheckResult(evaluation, alert, await DeliverAsync(alert, alertId, cancellationToken));
    }

    /// <summary>Sends an alert recorded in <c>writeback_runs.alerts</c> to every sink; returns the sinks that failed (kept with it).</summary>
    private async Task<IReadOnlyList<string>> DeliverAsync(Alert alert, long alertId, CancellationToken cancellationToken)
    {
        var failed = new List<string>();
        foreach (var sink in sinks)
        {
            try
            {
                await sink.SendAsync(alert, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                failed.Add(sink.Name);
                _log.Error("alert delivery failed", alert.BatchId, alert.TraceId, new("sink", sink.Name), new("dataset", alert.Dataset), new("cause", e.Message));
            }
        }

        if (failed.Count > 0)
        {
            await using var command = history.DataSource.CreateCommand("UPDATE writeback_runs.alerts SET failed_sinks = @failed WHERE id = @id");
            command.Parameters.Add(RunHistory.Text("failed", string.Join(',', failed)));
            command.Parameters.Add(new NpgsqlParameter<long>("id", alertId));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return failed;
    }

    /// <summary>Records the evaluation as the dataset's state; returns the alert when the state changed in a way worth one.</summary>
    private async Task<(Alert? Alert, long Id)> TransitionAsync(SloEvaluation evaluation, CancellationToken cancellationToken)
    {
        await history.EnsureSchemaAsync(cancellationToken);
        await using var connection = await history.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('writeback_runs:slo:' || @dataset, 0))", connection, transaction))
        {
            lockCommand.Parameters.Add(RunHistory.Text("dataset", evaluation.Dataset));
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        StoredState? previous = null;
        await using (var read = new NpgsqlCommand("SELECT state, business_date, batch_id FROM writeback_runs.slo_state WHERE dataset = @dataset", connection, transaction))
        {
            read.Parameters.Add(RunHistory.Text("dataset", evaluation.Dataset));
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                previous = new StoredState(
                    SloStates.Parse(reader.GetString(0)),
                    reader.IsDBNull(1) ? null : reader.GetFieldValue<DateOnly>(1),
                    RunHistory.NullableString(reader, 2));
            }
        }

        var current = new StoredState(evaluation.State, evaluation.BusinessDate, evaluation.State == SloState.Failed ? evaluation.BatchId : null);
        var alert = Decide(previous, current) ? Alert.From(evaluation, previous?.State) : null;
        var changed = previous is null || previous.State != current.State;

        await using (var upsert = new NpgsqlCommand("""
            INSERT INTO writeback_runs.slo_state (dataset, state, business_date, batch_id, changed_at, checked_at)
            VALUES (@dataset, @state, @date, @batch, @now, @now)
            ON CONFLICT (dataset) DO UPDATE SET
                state = EXCLUDED.state, business_date = EXCLUDED.business_date, batch_id = EXCLUDED.batch_id,
                changed_at = CASE WHEN @changed THEN EXCLUDED.changed_at ELSE slo_state.changed_at END,
                checked_at = EXCLUDED.checked_at
            """, connection, transaction))
        {
            upsert.Parameters.Add(RunHistory.Text("dataset", evaluation.Dataset));
            upsert.Parameters.Add(RunHistory.Text("state", current.State.Name()));
            upsert.Parameters.Add(new NpgsqlParameter("date", NpgsqlDbType.Date) { Value = evaluation.BusinessDate });
            upsert.Parameters.Add(RunHistory.Text("batch", current.BatchId));
            upsert.Parameters.Add(RunHistory.Timestamp("now", evaluation.EvaluatedAt));
            upsert.Parameters.Add(new NpgsqlParameter<bool>("changed", changed));
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        var id = alert is null ? 0 : await InsertAlertAsync(connection, transaction, alert, cancellationToken);

        await transaction.CommitAsync(cancellationToken);
        return (alert, id);
    }

    /// <summary>
    /// The alert rule. A state needing attention alerts when it is new, or is about another business date, or (for a
    /// failure) another batch; leaving such states for on-time or met alerts once as a recovery; the rest is quiet.
    /// </summary>
    internal static bool Decide(StoredState? previous, StoredState current)
    {
        if (current.State.NeedsAttention())
        {
            return previous is null || previous != current;
        }

        return previous is not null && previous.State.NeedsAttention();
    }

    internal sealed record StoredState(SloState State, DateOnly? BusinessDate, string? BatchId);

    /// <summary>The latest alerts, newest first (for <c>status</c> and the report).</summary>
    public static async Task<IReadOnlyList<(string Dataset, string Kind, string Message, DateTimeOffset RaisedAt)>> RecentAlertsAsync(
        RunHistory history, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(history);
        await history.EnsureSchemaAsync(cancellationToken);
        await using var command = history.DataSource.CreateCommand(
            "SELECT dataset, kind, message, raised_at FROM writeback_runs.alerts ORDER BY raised_at DESC, id DESC LIMIT @limit");
        command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        var alerts = new List<(string, string, string, DateTimeOffset)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            alerts.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }

        return alerts;
    }
}
