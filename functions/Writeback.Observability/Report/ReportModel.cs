using System.Text.Json.Serialization;

namespace Writeback.Observability.Report;

/// <summary>What the report page shows, embedded in it as JSON for its inline script to draw.</summary>
public sealed record ReportModel(
    [property: JsonPropertyName("generatedAt")] DateTimeOffset GeneratedAt,
    [property: JsonPropertyName("datasets")] IReadOnlyList<ReportDataset> Datasets);

public sealed record ReportDataset(
    [property: JsonPropertyName("dataset")] string Dataset,
    [property: JsonPropertyName("deadline")] string Deadline,
    [property: JsonPropertyName("slo")] string Slo,
    [property: JsonPropertyName("sloDetail")] string SloDetail,
    [property: JsonPropertyName("runs")] IReadOnlyList<ReportRun> Runs);

public sealed record ReportRun(
    [property: JsonPropertyName("batchId")] string BatchId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("businessDate")] string BusinessDate,
    [property: JsonPropertyName("deadline")] DateTimeOffset Deadline,
    [property: JsonPropertyName("start")] DateTimeOffset Start,
    [property: JsonPropertyName("end")] DateTimeOffset? End,
    [property: JsonPropertyName("rows")] long? Rows,
    [property: JsonPropertyName("bytes")] long? Bytes,
    [property: JsonPropertyName("retries")] int Retries,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("traceId")] string? TraceId,
    [property: JsonPropertyName("steps")] IReadOnlyList<ReportStep> Steps);

public sealed record ReportStep(
    [property: JsonPropertyName("step")] string Step,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("start")] DateTimeOffset Start,
    [property: JsonPropertyName("end")] DateTimeOffset? End);

[JsonSerializable(typeof(ReportModel))]
internal sealed partial class ReportJson : JsonSerializerContext;
