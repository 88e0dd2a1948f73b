using System.Text.Json.Serialization;

namespace Writeback.Core.Contracts;

/// <summary>
/// The contract of one dataset's destination: the only source of identifiers that ever reach SQL text.
/// Kept as <c>targets/&lt;dataset&gt;.json</c> and shipped with the writers.
/// </summary>
public sealed record Target
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("version")] public required int Version { get; init; }

    [JsonPropertyName("dataset")] public required string Dataset { get; init; }

    /// <summary><c>schema.table</c> of the product table.</summary>
    [JsonPropertyName("table")] public required string Table { get; init; }

    [JsonPropertyName("columns")] public required IReadOnlyList<TargetColumn> Columns { get; init; }

    [JsonPropertyName("key")] public IReadOnlyList<string> Key { get; init; } = [];

    [JsonPropertyName("loadMode")] public required LoadMode LoadMode { get; init; }

    [JsonPropertyName("partitionColumn")] public string? PartitionColumn { get; init; }

    [JsonPropertyName("deadline")] public Deadline? Deadline { get; init; }
}

public sealed record TargetColumn
{
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>A PostgreSQL type: smallint, integer, bigint, numeric(p,s), real, double precision, boolean, text,
    /// varchar(n), date, timestamp, timestamptz, uuid, jsonb, bytea.</summary>
    [JsonPropertyName("type")] public required string Type { get; init; }

    [JsonPropertyName("nullable")] public bool Nullable { get; init; } = true;
}

/// <summary>The SLO: the batch for a business date must be applied by this local time in this zone.</summary>
public sealed record Deadline
{
    /// <summary>Local time of day, <c>HH:mm</c>.</summary>
    [JsonPropertyName("time")] public required string Time { get; init; }

    /// <summary>IANA zone, e.g. <c>Asia/Tokyo</c>.</summary>
    [JsonPropertyName("timeZone")] public required string TimeZone { get; init; }
}

[JsonConverter(typeof(JsonStringEnumConverter<LoadMode>))]
public enum LoadMode
{
    [JsonStringEnumMemberName("replace")] Replace,
    [JsonStringEnumMemberName("replace_partition")] ReplacePartition,
    [JsonStringEnumMemberName("upsert")] Upsert,
    [JsonStringEnumMemberName("mirror")] Mirror,
    [JsonStringEnumMemberName("append")] Append,
}
