using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using Writeback.History;
using Writeback.Slo.Alerts;
using Writeback.Telemetry;

namespace Writeback.Slo;

/// <summary>A rollback that was applied, as its alert told it.</summary>
public sealed record RollbackAlert(Alert Alert, IReadOnlyList<string> FailedSinks);

public sealed partial class SloMonitor
{
    /// <summary>
    /// Alerts once on every rollback applied since the last check (the ledger's <c>writeback.rollbacks</c>), naming the
    /// partition, both batches, who and why, and records it in <c>writeback_runs.alerts</c>. The scheduled check does
    /// this every five minutes, so a rollback started from the AWS console is announced as well; <c>./writeback
    /// rollback</c> calls it at once. Rows are claimed under <c>SKIP LOCKED</c>, so concurrent checks alert once.
    /// </summary>
    public async Task<IReadOnlyList<RollbackAlert>> AlertRollbacksAsync(IReadOnlyList<SloTarget> targets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(targets);
        await history.EnsureSchemaAsync(cancellationToken);
        var raised = new List<(Alert Alert, long Id)>();
        await using (var connection = await history.DataSource.OpenConnectionAsync(cancellationToken))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var exists = new NpgsqlCommand("SELECT to_regclass('writeback.rollbacks') IS NOT NULL", connection, transaction))
            {
                if (await exists.ExecuteScalarAsync(cancellationToken) is not true)
                {
                    return [];
                }
            }

            var pending = new List<(string BatchId, string Replaces, string Dataset, string Partition, string By, string Reason, string? Traceparent)>();
            await using (var claim = new NpgsqlCommand("""
                SELECT r.batch_id, r.replaces, b.dataset, r.partition_value, r.requested_by, r.reason, b.traceparent
                FROM writeback.rollbacks r JOIN writeback.batches b ON b.batch_id = r.batch_id
                WHERE r.status = 'applied' AND r.alerted_at IS NULL
                ORDER BY r.applied_at
                FOR UPDATE OF r SKIP LOCKED
                """, connection, transaction))
            {
                await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    pending.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), RunHistory.NullableString(reader, 6)));
                }
            }

            var now = history.Time.GetUtcNow();
            foreach (var p in pending)
            {
                var date = DateOnly.TryParseExact(p.Partition, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : DateOnly.FromDateTime(now.UtcDateTime);
                var deadline = targets.FirstOrDefault(t => t.Dataset == p.Dataset) is { } target ? new DeadlineCalendar(target.Deadline).DeadlineFor(date) : now;
                var where = p.Partition.Length == 0 ? p.Dataset : $"{p.Dataset} {p.Partition}";
                var alert = new Alert
                {
                    Kind = AlertKind.Rollback,
                    Dataset = p.Dataset,
                    State = SloState.Met,
                    BusinessDate = date,
                    Deadline = deadline,
                    BatchId = p.BatchId,
                    TraceId = Traceparent.TraceId(p.Traceparent),
                    Message = $"ROLLED BACK: {where} holds batch {p.BatchId} again, replacing {p.Replaces}; by {p.By}: {p.Reason}",
                    RaisedAt = now,
                };
                await using (var insert = new NpgsqlCommand("""
                    INSERT INTO writeback_runs.alerts (dataset, kind, state, business_date, batch_id, message, raised_at)
                    VALUES (@dataset, @kind, @state, @date, @batch, @message, @now) RETURNING id
                    """, connection, transaction))
                {
                    insert.Parameters.Add(RunHistory.Text("dataset", alert.Dataset));
                    insert.Parameters.Add(RunHistory.Text("kind", alert.Kind));
                    insert.Parameters.Add(RunHistory.Text("state", alert.State.Name()));
                    insert.Parameters.Add(new NpgsqlParameter("date", NpgsqlDbType.Date) { Value = alert.BusinessDate });
                    insert.Parameters.Add(RunHistory.Text("batch", alert.BatchId));
                    insert.Parameters.Add(RunHistory.Text("message", alert.Message));
                    insert.Parameters.Add(RunHistory.Timestamp("now", now));
                    raised.Add((alert, (long)(await insert.ExecuteScalarAsync(cancellationToken))!));
                }

                await using var mark = new NpgsqlCommand("UPDATE writeback.rollbacks SET alerted_at = @now WHERE batch_id = @batch AND replaces = @replaces", connection, transaction);
                mark.Parameters.Add(RunHistory.Timestamp("now", now));
                mark.Parameters.Add(RunHistory.Text("batch", p.BatchId));
                mark.Parameters.Add(RunHistory.Text("replaces", p.Replaces));
                await mark.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        var alerts = new List<RollbackAlert>();
        foreach (var (alert, id) in raised)
        {
            _log.Warn("rollback applied", alert.BatchId, alert.TraceId, new("dataset", alert.Dataset), new("cause", alert.Message));
            alerts.Add(new RollbackAlert(alert, await DeliverAsync(alert, id, cancellationToken)));
        }

        return alerts;
    }
}
