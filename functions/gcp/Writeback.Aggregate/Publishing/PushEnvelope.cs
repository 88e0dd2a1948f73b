using System.Text.Json;
using System.Text.Json.Serialization;

namespace Writeback.Aggregate.Publishing;

/// <summary>The body of a Pub/Sub push request: <c>{message:{data, attributes, messageId, publishTime}, subscription}</c>.</summary>
public sealed record PushEnvelope(
    [property: JsonPropertyName("message")] PushMessage Message,
    [property: JsonPropertyName("subscription")] string Subscription);

public sealed record PushMessage(
    [property: JsonPropertyName("data")] string Data,
    [property: JsonPropertyName("attributes")] IReadOnlyDictionary<string, string> Attributes,
    [property: JsonPropertyName("messageId")] string MessageId,
    [property: JsonPropertyName("publishTime")] string PublishTime);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PushEnvelope))]
internal sealed partial class PublishingJson : JsonSerializerContext;
