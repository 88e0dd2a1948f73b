using Writeback.Observability.Telemetry;

namespace Writeback.Observability.Alerts;

public static class AlertSinks
{
    /// <summary>
    /// The sinks the environment configures: the log always; Slack when <c>WRITEBACK_SLACK_WEBHOOK</c> is set;
    /// SNS when <c>WRITEBACK_ALERT_TOPIC_ARN</c> is set.
    /// </summary>
    public static IReadOnlyList<IAlertSink> FromEnvironment(HttpClient http, StructuredLog log, TimeProvider? time = null)
    {
        var sinks = new List<IAlertSink> { new LogAlertSink(log) };
        if (Environment.GetEnvironmentVariable(SlackWebhookSink.WebhookVariable) is { Length: > 0 } webhook)
        {
            sinks.Add(new SlackWebhookSink(http, new Uri(webhook)));
        }

        if (Environment.GetEnvironmentVariable(SnsOptions.TopicArnVariable) is { Length: > 0 } topic)
        {
            sinks.Add(new SnsAlertSink(http, new SnsOptions { TopicArn = topic }, time));
        }

        return sinks;
    }
}
