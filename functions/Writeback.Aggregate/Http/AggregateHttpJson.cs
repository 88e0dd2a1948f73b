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

public sealed record ErrorResponse([property: JsonPropertyName("error")] string Error);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AggregateRequest))]
[JsonSerializable(typeof(AggregateResponse))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class AggregateHttpJson : JsonSerializerContext;
