using System.Text.Json;

namespace Writeback.History.Recording;

/// <summary>
/// The few fields recording needs from a step's input and output JSON, read without knowing the step's types so
/// the decorator wraps any handler. Unreadable JSON yields nulls: recording must never fail a step.
/// </summary>
internal sealed record StepPayload
{
    public string? BatchId { get; init; }

    public string? Dataset { get; init; }

    public string? Traceparent { get; init; }

    public int ShardIndex { get; init; } = -1;

    public string? Action { get; init; }

    public string? Status { get; init; }

    public string? Partition { get; init; }

    public long? Rows { get; init; }

    public long? Bytes { get; init; }

    public long? Inserted { get; init; }

    public long? Updated { get; init; }

    public long? Deleted { get; init; }

    public long? Unchanged { get; init; }

    public long? Rejected { get; init; }

    /// <summary>The Catch output handed to cleanup after a failure: <c>{"Error": …, "Cause": …}</c>.</summary>
    public string? Error { get; init; }

    public string? Cause { get; init; }

    public bool HasError { get; init; }

    /// <summary>A dry run's step: it changes no batch's outcome, so history leaves it out.</summary>
    public bool DryRun { get; init; }

    public static StepPayload Read(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return new StepPayload();
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new StepPayload();
            }

            var error = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : default;
            return new StepPayload
            {
                BatchId = String(root, "batchId"),
                Dataset = String(root, "dataset"),
                Traceparent = String(root, "traceparent"),
                ShardIndex = (int?)Number(root, "shardIndex") ?? -1,
                Action = String(root, "action"),
                Status = String(root, "status"),
                Partition = String(root, "partition"),
                Rows = Number(root, "rows"),
                Bytes = Number(root, "bytes"),
                Inserted = Number(root, "inserted"),
                Updated = Number(root, "updated"),
                Deleted = Number(root, "deleted"),
                Unchanged = Number(root, "unchanged"),
                Rejected = Number(root, "rejected"),
                HasError = error.ValueKind == JsonValueKind.Object,
                DryRun = root.TryGetProperty("dryRun", out var dry) && dry.ValueKind == JsonValueKind.True,
                Error = error.ValueKind == JsonValueKind.Object ? String(error, "Error") : null,
                Cause = error.ValueKind == JsonValueKind.Object ? String(error, "Cause") : null,
            };
        }
        catch (JsonException)
        {
            return new StepPayload();
        }
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;
}
