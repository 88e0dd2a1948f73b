using Writeback.Telemetry;

namespace Writeback.Slo.Alerts;

public static class AlertSinks
{
    /// <summary>
    /// The sinks the environment configures: the log always; Slack when <c>WRITEBACK_SLACK_WEBHOOK</c> is set; then the
    /// host's own, null ones skipped (the AWS hosts pass SNS, which they read from <c>WRITEBACK_ALERT_TOPIC_ARN</c>):
    /// a cloud's sink stays with that cloud's code.
    /// </summary>
    public static IReadOnlyList<IAlertSink> FromEnvironment(HttpClient http, StructuredLog log, Func<string, string?> get, params ReadOnlySpan<IAlertSink?> hostSinks)
    {
        ArgumentNullException.ThrowIfNull(get);
        var sinks = new List<IAlertSink> { new LogAlertSink(log) };
        if (get(SlackWebhookSink.WebhookVariable) is { Length: > 0 } webhook)
        {
            sinks.Add(new SlackWebhookSink(http, new Uri(webhook)));
        }

        foreach (var sink in hostSinks)
        {
            if (sink is not null)
            {
                sinks.Add(sink);
            }
        }

        return sinks;
    }
}
