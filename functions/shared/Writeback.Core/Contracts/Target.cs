using System.Text.Json;
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

    /// <summary>Empty for a table without a key (append, or replace_partition of a keyless day).</summary>
    // A setter, not init, for the reason History gives.
    [JsonPropertyName("key")] public IReadOnlyList<string> Key { get; set; } = [];

    [JsonPropertyName("loadMode")] public required LoadMode LoadMode { get; init; }

    [JsonPropertyName("partitionColumn")] public string? PartitionColumn { get; init; }

    /// <summary>
    /// replace_partition only: when Prepare creates the table, create it partitioned by LIST on the partition column, so
    /// that each new day is published by attaching its staging table as the day's partition, copying nothing. A table
    /// that exists is used as it is, partitioned or not.
    /// </summary>
    // A setter, not init, for the reason History gives.
    [JsonPropertyName("partitioned")] public bool Partitioned { get; set; }

    [JsonPropertyName("deadline")] public Deadline? Deadline { get; init; }

    /// <summary>
    /// How the table got from its first columns to today's <see cref="Columns"/>: one entry per schema version, 2, 3, …
    /// (the first columns are version 1). Empty for a target that never changed.
    /// </summary>
    // A setter, not init: the source-generated reader sets every init-only property, an absent one to null.
    [JsonPropertyName("history")] public IReadOnlyList<TargetVersion> History { get; set; } = [];

    /// <summary>Rows that may fail type, null or key checks and be set aside while the rest is applied (see <c>RejectPolicy</c>).</summary>
    [JsonPropertyName("maxRejectedRows")] public long? MaxRejectedRows { get; init; }

    [JsonPropertyName("maxRejectedPercent")] public double? MaxRejectedPercent { get; init; }

    /// <summary>Keep a rejected row's value in the rejects table; by default only its column and the reason are kept.</summary>
    [JsonPropertyName("keepRejectedValues")] public bool KeepRejectedValues { get; init; }
}

public sealed record TargetColumn
{
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>A PostgreSQL type: smallint, integer, bigint, numeric(p,s), real, double precision, boolean, text,
    /// varchar(n), date, timestamp, timestamptz, uuid, jsonb, bytea.</summary>
    [JsonPropertyName("type")] public required string Type { get; init; }

    // A setter, not init: the source-generated reader sets every init-only property, an absent one to false, while it
    // leaves a settable one alone; "nullable" is optional and true when absent, as the schema says.
    [JsonPropertyName("nullable")] public bool Nullable { get; set; } = true;

    /// <summary>The column's default, a JSON number, boolean or string for the column's type; what rows loaded from a
    /// manifest without the column get. A column added by a later version needs one unless it is nullable.</summary>
    [JsonPropertyName("default")] public JsonElement? Default { get; init; }
}

/// <summary>The SLO: the batch for a business date must be applied by this local time in this zone.</summary>
public sealed record Deadline
{
    /// <summary>Local time of day, <c>HH:mm</c>.</summary>
    [JsonPropertyName("time")] public required string Time { get; init; }

    /// <summary>IANA zone, e.g. <c>Asia/Tokyo</c>.</summary>
    [JsonPropertyName("timeZone")] public required string TimeZone { get; init; }
}

[JsonConverter(typeof(LoadModeConverter))]
public enum LoadMode
{
    Replace,
    ReplacePartition,
    Upsert,
    Mirror,
    Append,
}

/// <summary>
/// Load modes by their exact contract names only: the framework's enum converter would also take numbers ("loadMode": 2)
/// and other casings, which the schema forbids.
/// </summary>
public sealed class LoadModeConverter : JsonConverter<LoadMode>
{
    private static readonly (string Name, LoadMode Mode)[] Names =
    [
        ("replace", LoadMode.Replace), ("replace_partition", LoadMode.ReplacePartition), ("upsert", LoadMode.Upsert),
        ("mirror", LoadMode.Mirror), ("append", LoadMode.Append),
    ];

    public static string NameOf(LoadMode mode) => Names.First(n => n.Mode == mode).Name;

    public override LoadMode Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"must be one of {string.Join(", ", Names.Select(n => n.Name))} (a string).");
        }

        foreach (var (name, mode) in Names)
        {
            if (reader.ValueTextEquals(name))
            {
                return mode;
            }
        }

        throw new JsonException($"must be one of {string.Join(", ", Names.Select(n => n.Name))}.");
    }

    public override void Write(Utf8JsonWriter writer, LoadMode value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(NameOf(value));
    }
}
