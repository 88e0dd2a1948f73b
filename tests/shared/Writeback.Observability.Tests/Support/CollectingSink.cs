using Writeback.Slo.Alerts;

namespace Writeback.Observability.Tests.Support;

internal sealed class CollectingSink : IAlertSink
{
    public List<Alert> Alerts { get; } = [];

    public string Name => "collect";

    public Task SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        Alerts.Add(alert);
        return Task.CompletedTask;
    }
}
