using System.Text.Json;
using System.Text.Json.Serialization;
using Writeback.Trigger.Executions;

namespace Writeback.Trigger.Http;

/// <summary>
/// The Lambda Function URL event, payload format 2.0. Only the fields the trigger reads are declared; AWS sends many
/// more (cookies, requestContext.*), so unknown fields are ignored here, unlike in our own contracts.
/// </summary>
public sealed record FunctionUrlRequest
{
    [JsonPropertyName("version")] public string? Version { get; init; }

    [JsonPropertyName("rawPath")] public string? RawPath { get; init; }

    /// <summary>Header names arrive lower-cased; several values of one header arrive comma-joined.</summary>
    [JsonPropertyName("headers")] public Dictionary<string, string>? Headers { get; init; }

    [JsonPropertyName("body")] public string? Body { get; init; }

    [JsonPropertyName("isBase64Encoded")] public bool IsBase64Encoded { get; init; }

    [JsonPropertyName("requestContext")] public FunctionUrlRequestContext? RequestContext { get; init; }
}

public sealed record FunctionUrlRequestContext
{
    [JsonPropertyName("http")] public FunctionUrlHttp? Http { get; init; }
}

public sealed record FunctionUrlHttp
{
    [JsonPropertyName("method")] public string? Method { get; init; }
}

/// <summary>What a Function URL handler returns: Lambda turns it into the HTTP response.</summary>
public sealed record FunctionUrlResponse
{
    [JsonPropertyName("statusCode")] public required int StatusCode { get; init; }

    [JsonPropertyName("headers")] public required Dictionary<string, string> Headers { get; init; }

    [JsonPropertyName("body")] public required string Body { get; init; }
}

/// <summary>The Pub/Sub push request body. Pub/Sub also sends snake_case twins (message_id, publish_time); they are ignored.</summary>
public sealed record PushEnvelope
{
    [JsonPropertyName("message")] public PushMessage? Message { get; init; }

    [JsonPropertyName("subscription")] public string? Subscription { get; init; }

    /// <summary>Present only when the subscription has a dead-letter policy.</summary>
    [JsonPropertyName("deliveryAttempt")] public int? DeliveryAttempt { get; init; }
}

public sealed record PushMessage
{
    /// <summary>The message payload, base64.</summary>
    [JsonPropertyName("data")] public string? Data { get; init; }

    [JsonPropertyName("attributes")] public Dictionary<string, string>? Attributes { get; init; }

    [JsonPropertyName("messageId")] public string? MessageId { get; init; }

    [JsonPropertyName("publishTime")] public string? PublishTime { get; init; }
}

/// <summary>The body of every trigger response: what happened, in words a person reading Pub/Sub's logs can act on.</summary>
public sealed record TriggerResponseBody
{
    /// <summary><c>started</c>, <c>retried</c> (a new attempt after a failed one), <c>already_running</c>, <c>already_processed</c>, <c>rejected</c> or <c>failed</c>.</summary>
    [JsonPropertyName("outcome")] public required string Outcome { get; init; }

    /// <summary>A stable code on every non-2xx answer, e.g. <c>token_expired</c>.</summary>
    [JsonPropertyName("error")] public string? Error { get; init; }

    [JsonPropertyName("message")] public required string Message { get; init; }

    [JsonPropertyName("batchId")] public string? BatchId { get; init; }

    [JsonPropertyName("executionName")] public string? ExecutionName { get; init; }

    [JsonPropertyName("executionArn")] public string? ExecutionArn { get; init; }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FunctionUrlRequest))]
[JsonSerializable(typeof(FunctionUrlResponse))]
[JsonSerializable(typeof(PushEnvelope))]
[JsonSerializable(typeof(TriggerResponseBody))]
public sealed partial class TriggerJson : JsonSerializerContext;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StartExecutionRequest))]
[JsonSerializable(typeof(StartExecutionResponse))]
[JsonSerializable(typeof(DescribeExecutionRequest))]
[JsonSerializable(typeof(DescribeExecutionResponse))]
internal sealed partial class StepFunctionsJson : JsonSerializerContext;
