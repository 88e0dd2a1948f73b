using System.Text.Json.Serialization;

namespace Writeback.Core.Contracts;

/// <summary>
/// The completion event the warehouse side publishes (Pub/Sub message data, JSON) once a batch's shards and
/// manifest are written. It carries a reference to the manifest, never the data.
/// </summary>
public sealed record BatchReadyEvent
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("version")] public required int Version { get; init; }

    [JsonPropertyName("batchId")] public required string BatchId { get; init; }

    [JsonPropertyName("dataset")] public required string Dataset { get; init; }

    [JsonPropertyName("partition")] public string? Partition { get; init; }

    /// <summary>Where the manifest is: an https URL (V4 signed in the cloud) or a file URI locally.</summary>
    [JsonPropertyName("manifestUri")] public required string ManifestUri { get; init; }

    [JsonPropertyName("sequence")] public required long Sequence { get; init; }

    [JsonPropertyName("traceparent")] public string? Traceparent { get; init; }
}
