using System.Globalization;
using Writeback.Telemetry;

namespace Writeback.Slo.Alerts;

/// <summary>Alerts as structured log lines: always on, so every alert is on record even when no other sink is set.</summary>
public sealed class LogAlertSink(StructuredLog log) : IAlertSink
{
    public string Name => "log";

    public Task SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        log.Write(
            alert.Kind == AlertKind.Recovery ? "info" : "warn",
            alert.Message,
            alert.BatchId,
            alert.TraceId,
            [
                new("alert", alert.Kind),
                new("dataset", alert.Dataset),
                new("state", alert.State.Name()),
                new("previousState", alert.PreviousState?.Name()),
                new("businessDate", alert.BusinessDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
                new("deadline", alert.Deadline),
                new("cause", alert.Cause),
            ]);
        return Task.CompletedTask;
    }
}
