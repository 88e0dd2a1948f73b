using System.Text.Json;
using System.Text.Json.Serialization;

namespace Writeback.Aggregate.Cloud;

// The documented REST shapes, only the fields we send or read. Unknown fields in answers are ignored on purpose:
// Google adds fields to these resources over time.

/// <summary>BigQuery Job resource (jobs.insert request and jobs.insert / jobs.get response).</summary>
public sealed record BigQueryJob
{
    [JsonPropertyName("jobReference")] public BigQueryJobReference? JobReference { get; init; }

    [JsonPropertyName("configuration")] public BigQueryJobConfiguration? Configuration { get; init; }

    [JsonPropertyName("status")] public BigQueryJobStatus? Status { get; init; }
}

public sealed record BigQueryJobReference(
    [property: JsonPropertyName("projectId")] string ProjectId,
    [property: JsonPropertyName("jobId")] string JobId,
    [property: JsonPropertyName("location")] string? Location);

public sealed record BigQueryJobConfiguration(
    [property: JsonPropertyName("query")] BigQueryQueryConfiguration Query,
    [property: JsonPropertyName("labels")] IReadOnlyDictionary<string, string>? Labels = null);

public sealed record BigQueryQueryConfiguration(
    [property: JsonPropertyName("query")] string Query,
    [property: JsonPropertyName("useLegacySql")] bool UseLegacySql);

public sealed record BigQueryJobStatus
{
    /// <summary>PENDING, RUNNING or DONE.</summary>
    [JsonPropertyName("state")] public string? State { get; init; }

    /// <summary>Present when a DONE job failed.</summary>
    [JsonPropertyName("errorResult")] public BigQueryError? ErrorResult { get; init; }

    [JsonPropertyName("errors")] public IReadOnlyList<BigQueryError>? Errors { get; init; }
}

public sealed record BigQueryError(
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("location")] string? Location,
    [property: JsonPropertyName("message")] string? Message);

/// <summary>Cloud Storage objects.list response.</summary>
public sealed record GcsObjectList(
    [property: JsonPropertyName("items")] IReadOnlyList<GcsObject>? Items,
    [property: JsonPropertyName("nextPageToken")] string? NextPageToken);

/// <summary>A Cloud Storage object resource; size is a decimal string in the JSON API.</summary>
public sealed record GcsObject(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("size")] string? Size,
    [property: JsonPropertyName("md5Hash")] string? Md5Hash);

/// <summary>Pub/Sub topics.publish request and response.</summary>
public sealed record PubSubPublishRequest([property: JsonPropertyName("messages")] IReadOnlyList<PubSubOutgoingMessage> Messages);

public sealed record PubSubOutgoingMessage(
    [property: JsonPropertyName("data")] string Data,
    [property: JsonPropertyName("attributes")] IReadOnlyDictionary<string, string> Attributes);

public sealed record PubSubPublishResponse([property: JsonPropertyName("messageIds")] IReadOnlyList<string>? MessageIds);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BigQueryJob))]
[JsonSerializable(typeof(GcsObjectList))]
[JsonSerializable(typeof(PubSubPublishRequest))]
[JsonSerializable(typeof(PubSubPublishResponse))]
internal sealed partial class CloudJson : JsonSerializerContext;
