using System.Text.Json;
using System.Text.Json.Serialization;

namespace Writeback.Aggregate.Http;

/// <summary>The function's plain JSON request: <c>{"dataset":"student_dashboard","businessDate":"2026-11-25"}</c>.</summary>
public sealed record AggregateRequest(
    [property: JsonPropertyName("dataset")] string? Dataset,
    [property: JsonPropertyName("businessDate")] string? BusinessDate);

public sealed record AggregateResponse(
    [property: JsonPropertyName("batchId")] string BatchId,
    [property: JsonPropertyName("manifestUri")] string ManifestUri,
    [property: JsonPropertyName("shards")] int Shards,
    [property: JsonPropertyName("rows")] long Rows);

/// <summary>
/// <c>POST /resign</c>: a batch's manifest, by its gs:// path or by dataset, business date and batch id.
/// </summary>
public sealed record ResignRequest(
    [property: JsonPropertyName("manifest")] string? Manifest,
    [property: JsonPropertyName("dataset")] string? Dataset,
    [property: JsonPropertyName("businessDate")] string? BusinessDate,
    [property: JsonPropertyName("batchId")] string? BatchId);

/// <summary>The re-signed copy; <c>manifestUri</c> goes into the rollback's execution input as it is.</summary>
public sealed record ResignResponse(
    [property: JsonPropertyName("batchId")] string BatchId,
    [property: JsonPropertyName("manifestUri")] string ManifestUri,
    [property: JsonPropertyName("expiresAt")] DateTimeOffset ExpiresAt,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("copy")] string Copy,
    [property: JsonPropertyName("shards")] int Shards);

public sealed record ErrorResponse([property: JsonPropertyName("error")] string Error);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AggregateRequest))]
[JsonSerializable(typeof(AggregateResponse))]
[JsonSerializable(typeof(ResignRequest))]
[JsonSerializable(typeof(ResignResponse))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class AggregateHttpJson : JsonSerializerContext;
