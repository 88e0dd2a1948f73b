using System.Net.Http.Json;
using Writeback.Aggregate.Publishing;

namespace Writeback.Aggregate.Cloud;

/// <summary>Pub/Sub topics.publish over REST: <c>POST v1/projects/{p}/topics/{t}:publish</c> → <c>{messageIds}</c>.</summary>
/// <param name="tokens">Google's credentials; null sends none, as Google's libraries do against the emulator.</param>
public sealed class PubSubRestPublisher(HttpClient http, IAccessTokenSource? tokens, string projectId, string topic, Uri? baseUri = null) : IBatchPublisher
{
    public static readonly Uri DefaultBaseUri = new("https://pubsub.googleapis.com/");

    private readonly Uri _base = baseUri ?? DefaultBaseUri;

    /// <summary>The same publisher, pointed at a topic on the emulator.</summary>
    public static PubSubRestPublisher ForEmulator(HttpClient http, PubSubEmulatorTopic topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        return new PubSubRestPublisher(http, tokens: null, topic.ProjectId, topic.Topic, topic.Emulator);
    }

    public async Task<string> PublishAsync(PubSubMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var body = new PubSubPublishRequest([new PubSubOutgoingMessage(message.Data, message.Attributes)]);
        var uri = new Uri(_base, $"v1/projects/{Uri.EscapeDataString(projectId)}/topics/{Uri.EscapeDataString(topic)}:publish");
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = JsonContent.Create(body, CloudJson.Default.PubSubPublishRequest) };
        using var response = await GoogleRest.SendAsync(http, tokens, request, "Pub/Sub publish", cancellationToken);
        var answer = await response.Content.ReadFromJsonAsync(CloudJson.Default.PubSubPublishResponse, cancellationToken);
        return answer?.MessageIds is [var id, ..] ? id : throw new GoogleApiException("Pub/Sub publish answered no message id");
    }
}
