using System.Text.Json.Serialization;

namespace Writeback.Core.Contracts;

/// <summary>
/// What the warehouse side actually exported for one batch: the shards as written (sizes are not predictable
/// in advance), their checksums, and the schema they carry. Written next to the shards as <c>manifest.json</c>.
/// </summary>
public sealed record Manifest
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("version")] public required int Version { get; init; }

    /// <summary>Unique per batch; also the Step Functions execution name, so 1–80 chars of [0-9A-Za-z_-].</summary>
    [JsonPropertyName("batchId")] public required string BatchId { get; init; }

    [JsonPropertyName("dataset")] public required string Dataset { get; init; }

    /// <summary>The partition (business date) value this batch holds, as text; null for unpartitioned targets.</summary>
    [JsonPropertyName("partition")] public string? Partition { get; init; }

    [JsonPropertyName("generatedAt")] public required DateTimeOffset GeneratedAt { get; init; }

    /// <summary>Orders batches of one dataset and partition: a lower sequence never overwrites a higher one.</summary>
    [JsonPropertyName("sequence")] public required long Sequence { get; init; }

    /// <summary>W3C traceparent of the run that produced the batch, carried into every step.</summary>
    [JsonPropertyName("traceparent")] public string? Traceparent { get; init; }

    /// <summary>
    /// The target contract's schema version the shards were exported for (<c>history</c> in targets/&lt;dataset&gt;.json).
    /// Absent in manifests written before versions existed: the writer then finds the version whose columns match.
    /// </summary>
    [JsonPropertyName("schemaVersion")] public int? SchemaVersion { get; init; }

    [JsonPropertyName("schema")] public required IReadOnlyList<ShardColumn> Schema { get; init; }

    [JsonPropertyName("shards")] public required IReadOnlyList<ShardEntry> Shards { get; init; }
}

/// <summary>A column as the shards carry it; the name and type are checked against the target contract.</summary>
public sealed record ShardColumn
{
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>The PostgreSQL type the exporter meant, in the contract's spelling (e.g. <c>numeric(5,2)</c>).</summary>
    [JsonPropertyName("type")] public required string Type { get; init; }
}

public sealed record ShardEntry
{
    /// <summary>An https URL (e.g. a V4 signed URL), a file URI or path, or a path relative to the manifest.</summary>
    [JsonPropertyName("uri")] public required string Uri { get; init; }

    [JsonPropertyName("rows")] public required long Rows { get; init; }

    [JsonPropertyName("bytes")] public required long Bytes { get; init; }

    /// <summary>Lower-case hex SHA-256 of the shard file's bytes.</summary>
    [JsonPropertyName("sha256")] public required string Sha256 { get; init; }
}
