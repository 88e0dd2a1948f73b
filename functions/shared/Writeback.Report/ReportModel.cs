using System.Text.Json.Serialization;

namespace Writeback.Report;

/// <summary>What the report page shows, embedded in it as JSON for its inline script to draw.</summary>
public sealed record ReportModel(
    [property: JsonPropertyName("generatedAt")] DateTimeOffset GeneratedAt,
    [property: JsonPropertyName("datasets")] IReadOnlyList<ReportDataset> Datasets);

public sealed record ReportDataset(
    [property: JsonPropertyName("dataset")] string Dataset,
    [property: JsonPropertyName("deadline")] string Deadline,
    [property: JsonPropertyName("slo")] string Slo,
    [property: JsonPropertyName("sloDetail")] string SloDetail,
    [property: JsonPropertyName("runs")] IReadOnlyList<ReportRun> Runs)
{
    /// <summary>How many of the runs shown have each verdict ("met", "late", "failed", …), in the table's order of concern.</summary>
    [JsonPropertyName("counts")]
    public IReadOnlyDictionary<string, int> Counts => Runs.GroupBy(r => r.Verdict).OrderBy(g => Timeliness.Rank(g.Key)).ToDictionary(g => g.Key, g => g.Count());
}

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
    [property: JsonPropertyName("steps")] IReadOnlyList<ReportStep> Steps)
{
    /// <summary>Against the deadline: met, late, failed, running, late-running (still running past it) or skipped.</summary>
    [JsonPropertyName("verdict")]
    public string Verdict { get; init; } = Timeliness.Running;

    /// <summary>How far from the deadline the run ended (negative: before it), or now for one still running.</summary>
    [JsonPropertyName("marginMinutes")]
    public double? MarginMinutes { get; init; }

    [JsonPropertyName("inserted")] public long? Inserted { get; init; }

    [JsonPropertyName("updated")] public long? Updated { get; init; }

    [JsonPropertyName("deleted")] public long? Deleted { get; init; }

    [JsonPropertyName("unchanged")] public long? Unchanged { get; init; }

    [JsonPropertyName("rejected")] public long? Rejected { get; init; }

    /// <summary>Where the run's execution history is (a local history file, the console or the AWS console); null when unknown.</summary>
    [JsonPropertyName("historyLink")]
    public string? HistoryLink { get; init; }
}

/// <summary>A run's verdict against its deadline, as the report's text and colours say it.</summary>
public static class Timeliness
{
    public const string Failed = "failed";
    public const string Late = "late";
    public const string LateRunning = "late-running";
    public const string Running = "running";
    public const string Met = "met";
    public const string Skipped = "skipped";

    public static string Of(string status, DateTimeOffset? end, DateTimeOffset deadline, DateTimeOffset now) => status switch
    {
        "failed" => Failed,
        "skipped" => Skipped,
        _ when end is null => now > deadline ? LateRunning : Running,
        _ => end > deadline ? Late : Met,
    };

    /// <summary>What needs looking at first comes first.</summary>
    public static int Rank(string verdict) => verdict switch
    {
        Failed => 0,
        Late => 1,
        LateRunning => 2,
        Running => 3,
        Met => 4,
        _ => 5,
    };
}

public sealed record ReportStep(
    [property: JsonPropertyName("step")] string Step,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("start")] DateTimeOffset Start,
    [property: JsonPropertyName("end")] DateTimeOffset? End);

[JsonSerializable(typeof(ReportModel))]
internal sealed partial class ReportJson : JsonSerializerContext;
