using Npgsql;
using Writeback.History;
using Writeback.Slo.Alerts;

namespace Writeback.Slo;

/// <summary>
/// Batches applied with rejected rows: one alert each, through the same sinks as the SLO's. The alert row and the
/// search for batches not yet alerted are one transaction under the dataset's lock, so concurrent checks alert once.
/// </summary>
public sealed partial class SloMonitor
{
    private async Task AlertRejectedRowsAsync(SloEvaluation evaluation, CancellationToken cancellationToken)
    {
        await history.EnsureSchemaAsync(cancellationToken);
        var raised = new List<(Alert Alert, long Id)>();
        await using (var connection = await history.DataSource.OpenConnectionAsync(cancellationToken))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('writeback_runs:slo:' || @dataset, 0))", connection, transaction))
            {
                lockCommand.Parameters.Add(RunHistory.Text("dataset", evaluation.Dataset));
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }

            var found = new List<(string BatchId, long Rejected, long? Rows, string? TraceId)>();
            await using (var find = new NpgsqlCommand(
                $"""
                SELECT b.batch_id, b.rejected, b.rows, b.trace_id FROM writeback_runs.batches b
                WHERE b.dataset = @dataset AND b.status = 'applied' AND b.rejected > 0
                  AND NOT EXISTS (SELECT 1 FROM writeback_runs.alerts a WHERE a.batch_id = b.batch_id AND a.kind = '{AlertKind.RejectedRows}')
                ORDER BY b.ended_at
                """, connection, transaction))
            {
                find.Parameters.Add(RunHistory.Text("dataset", evaluation.Dataset));
                await using var reader = await find.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    found.Add((reader.GetString(0), reader.GetInt64(1), RunHistory.NullableLong(reader, 2), RunHistory.NullableString(reader, 3)));
                }
            }

            foreach (var batch in found)
            {
                var alert = Alert.ForRejectedRows(evaluation, batch.BatchId, batch.Rejected, batch.Rows, batch.TraceId);
                raised.Add((alert, await InsertAlertAsync(connection, transaction, alert, cancellationToken)));
            }

            await transaction.CommitAsync(cancellationToken);
        }

        foreach (var (alert, id) in raised)
        {
            await DeliverAsync(alert, id, cancellationToken);
        }
    }

    private static async Task<long> InsertAlertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Alert alert, CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand("""
            INSERT INTO writeback_runs.alerts (dataset, kind, state, previous_state, business_date, batch_id, message, raised_at)
            VALUES (@dataset, @kind, @state, @previous, @date, @batch, @message, @now) RETURNING id
            """, connection, transaction);
        insert.Parameters.Add(RunHistory.Text("dataset", alert.Dataset));
        insert.Parameters.Add(RunHistory.Text("kind", alert.Kind));
        insert.Parameters.Add(RunHistory.Text("state", alert.State.Name()));
        insert.Parameters.Add(RunHistory.Text("previous", alert.PreviousState?.Name()));
        insert.Parameters.Add(new NpgsqlParameter("date", NpgsqlTypes.NpgsqlDbType.Date) { Value = alert.BusinessDate });
        insert.Parameters.Add(RunHistory.Text("batch", alert.BatchId));
        insert.Parameters.Add(RunHistory.Text("message", alert.Message));
        insert.Parameters.Add(RunHistory.Timestamp("now", alert.RaisedAt));
        return (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
    }
}
