using System.Net.Http.Headers;
using System.Text.Json;

namespace Writeback.Slo.Alerts;

/// <summary>A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, Teams workflows): POST <c>{"text": …}</c>.</summary>
public sealed class SlackWebhookSink(HttpClient http, Uri webhook) : IAlertSink
{
    public const string WebhookVariable = "WRITEBACK_SLACK_WEBHOOK";

    public string Name => "slack";

    public async Task SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var body = JsonSerializer.SerializeToUtf8Bytes(new SlackMessage(alert.Message), AlertJson.Default.SlackMessage);
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        try
        {
            using var response = await http.PostAsync(webhook, content, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                // The URL is a secret (it is the credential): never echo it.
                throw new AlertDeliveryException($"the webhook answered {(int)response.StatusCode} {response.ReasonPhrase}.");
            }
        }
        catch (HttpRequestException e)
        {
            throw new AlertDeliveryException($"the webhook could not be reached: {e.Message}", e);
        }
    }
}
