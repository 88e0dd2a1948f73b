using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Writeback.Core.Contracts;

/// <summary>One schema version of a target: what changed from the version before, and why.</summary>
public sealed record TargetVersion
{
    /// <summary>2 for the first change, then 3, 4, … in order; version 1 is the table as first created.</summary>
    [JsonPropertyName("version")] public required int Version { get; init; }

    /// <summary>When the version was written, for the reader of the file; the ledger records when it was applied.</summary>
    [JsonPropertyName("date")] public DateOnly? Date { get; init; }

    [JsonPropertyName("description")] public required string Description { get; init; }

    [JsonPropertyName("changes")] public required IReadOnlyList<SchemaChange> Changes { get; init; }
}

/// <summary>
/// One change of a version. An added column's type, nullability and default are those <c>columns</c> declares; a
/// widening names both types, so the file reads as the history of the table.
/// </summary>
public sealed record SchemaChange
{
    [JsonPropertyName("change")] public required SchemaChangeKind Change { get; init; }

    [JsonPropertyName("column")] public required string Column { get; init; }

    /// <summary>For <c>widen</c>: the type before this version.</summary>
    [JsonPropertyName("from")] public string? From { get; init; }

    /// <summary>For <c>widen</c>: the type from this version on.</summary>
    [JsonPropertyName("to")] public string? To { get; init; }
}

[JsonConverter(typeof(SchemaChangeKindConverter))]
public enum SchemaChangeKind
{
    /// <summary>A new column, nullable or with a default: <c>ALTER TABLE … ADD COLUMN</c>, no table rewrite.</summary>
    AddColumn,

    /// <summary>varchar(n) to varchar(m &gt; n), numeric(p,s) to numeric(q &gt; p,s): a catalog change only.</summary>
    Widen,

    /// <summary>
    /// The contract stops declaring a column. Writeback never drops one: the version is refused until the column is
    /// gone from the table (dropped by hand, once no reader uses it).
    /// </summary>
    DropColumn,
}

/// <summary>The change names of the contract; a destructive change's name gets its migration path instead of "unknown".</summary>
public sealed class SchemaChangeKindConverter : JsonConverter<SchemaChangeKind>
{
    private static readonly (string Name, SchemaChangeKind Kind)[] Names =
        [("add_column", SchemaChangeKind.AddColumn), ("widen", SchemaChangeKind.Widen), ("drop_column", SchemaChangeKind.DropColumn)];

    private static readonly string[] Destructive = ["rename_column", "change_type", "alter_type", "narrow"];

    public static string NameOf(SchemaChangeKind kind) => Names.First(n => n.Kind == kind).Name;

    public override SchemaChangeKind Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var known = string.Join(", ", Names.Select(n => n.Name));
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"must be one of {known} (a string).");
        }

        foreach (var (name, kind) in Names)
        {
            if (reader.ValueTextEquals(name))
            {
                return kind;
            }
        }

        var text = reader.GetString();
        if (Destructive.Contains(text, StringComparer.Ordinal))
        {
            throw new JsonException($"'{text}' is a destructive change, which Writeback does not apply. {SchemaHistory.MigrationPath}");
        }

        throw new JsonException($"must be one of {known}.");
    }

    public override void Write(Utf8JsonWriter writer, SchemaChangeKind value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(NameOf(value));
    }
}

/// <summary>
/// Reads a target's history backwards from today's columns: which version added each column, the types a widened column
/// had before, which columns a version dropped, and the columns of any earlier version (what an older manifest carries).
/// </summary>
public static class SchemaHistory
{
    public const string MigrationPath =
        "Writeback applies additive changes only (add_column, nullable or with a default; widen varchar(n) or numeric precision). " +
        "Migrate by expand/contract: add the new column in a new version, backfill it, switch readers to it, then drop the old " +
        "column by hand and record drop_column (README, \"Changing a target's schema\").";

    /// <summary>
    /// True when PostgreSQL changes the type in the catalog alone, without rewriting the table or its indexes: a longer
    /// varchar, or more numeric precision at the same scale (the numeric typmod cast is a no-op then; a scale change
    /// rewrites every row).
    /// </summary>
    public static bool IsOnlineWidening(ColumnType from, ColumnType to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        return (from.Kind, to.Kind) switch
        {
            (ColumnKind.Varchar, ColumnKind.Varchar) => from.Length > 0 && to.Length > from.Length,
            (ColumnKind.Numeric, ColumnKind.Numeric) => from.Precision > 0 && to.Precision > from.Precision && to.Scale == from.Scale,
            _ => false,
        };
    }

    /// <summary>Names a type change that is not an online widening, for a refusal.</summary>
    public static string DescribeTypeChange(string column, ColumnType from, ColumnType to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        var narrower = from.Kind == to.Kind
            && ((to.Length > 0 && to.Length < from.Length) || (to.Precision > 0 && to.Precision < from.Precision) || to.Scale < from.Scale);
        var what = narrower ? "narrowing" : "type change";
        return $"{what} of column '{column}' from {from} to {to}";
    }

    /// <summary>Returns the first problem of the history against today's columns, naming its field, or null.</summary>
    internal static string? Validate(Target target, IReadOnlyDictionary<string, TargetColumn> columns)
    {
        for (var i = 0; i < target.History.Count; i++)
        {
            var version = target.History[i];
            if (version.Version != i + 2)
            {
                return $"field 'history[{i}].version': is {version.Version}; versions are numbered 2, 3, … in order (version 1 is the table as first created).";
            }

            if (string.IsNullOrWhiteSpace(version.Description))
            {
                return $"field 'history[{i}].description': must say why the version exists.";
            }

            if (version.Changes.Count == 0)
            {
                return $"field 'history[{i}].changes': must list at least one change.";
            }
        }

        return Fold(target, 1, columns).Problem;
    }

    /// <summary>The columns at <paramref name="version"/>, in today's order with that version's types; null when a later
    /// version dropped a column (its type is no longer known, and the table no longer has it).</summary>
    internal static IReadOnlyList<TargetColumn>? ColumnsAt(Target target, int version)
    {
        var columns = target.Columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var fold = Fold(target, version, columns);
        return fold.Dropped
            ? null
            : [.. target.Columns.Where(c => fold.Types.ContainsKey(c.Name)).Select(c => c with { Type = fold.Types[c.Name].Sql })];
    }

    /// <summary>The version that added <paramref name="column"/> (1 for a first column).</summary>
    internal static int AddedIn(Target target, string column) =>
        target.History.LastOrDefault(v => v.Changes.Any(c => c.Change == SchemaChangeKind.AddColumn && c.Column == column))?.Version ?? 1;

    /// <summary>The types <paramref name="column"/> had before its widenings, newest first.</summary>
    internal static IEnumerable<ColumnType> EarlierTypes(Target target, string column) =>
        target.History.Reverse().SelectMany(v => v.Changes.Reverse())
            .Where(c => c.Change == SchemaChangeKind.Widen && c.Column == column)
            .Select(c => ColumnType.TryParse(c.From)!);

    /// <summary>The version that dropped <paramref name="column"/>, or null.</summary>
    internal static int? DroppedIn(Target target, string column) =>
        target.History.LastOrDefault(v => v.Changes.Any(c => c.Change == SchemaChangeKind.DropColumn && c.Column == column))?.Version;

    private static (Dictionary<string, ColumnType> Types, bool Dropped, string? Problem) Fold(Target target, int downTo, IReadOnlyDictionary<string, TargetColumn> columns)
    {
        var types = columns.Values.ToDictionary(c => c.Name, c => ColumnType.TryParse(c.Type)!, StringComparer.Ordinal);
        var dropped = false;
        for (var v = target.History.Count - 1; v >= 0 && target.History[v].Version > downTo; v--)
        {
            var version = target.History[v];
            for (var j = version.Changes.Count - 1; j >= 0; j--)
            {
                var change = version.Changes[j];
                var field = $"history[{v}].changes[{j}]";
                var problem = Undo(target, change, version.Version, field, types, columns, ref dropped);
                if (problem is not null)
                {
                    return (types, dropped, problem);
                }
            }
        }

        return (types, dropped, null);
    }

    private static string? Undo(
        Target target, SchemaChange change, int version, string field, Dictionary<string, ColumnType> types, IReadOnlyDictionary<string, TargetColumn> columns, ref bool dropped)
    {
        var name = change.Column;
        if (!ContractReader.IsIdentifier(name))
        {
            return $"field '{field}.column': '{name}' must be a lower-case identifier ([a-z_][a-z0-9_]*, at most 63).";
        }

        switch (change.Change)
        {
            case SchemaChangeKind.AddColumn:
                if (!types.ContainsKey(name))
                {
                    return $"field '{field}.column': version {version} adds '{name}', which is not a column of the target at that version (declare it in 'columns'; add it once).";
                }

                if (target.Key.Contains(name) || target.PartitionColumn == name)
                {
                    return $"field '{field}.column': version {version} adds '{name}' to the key or as the partition column; that changes what identifies a row, which is not an additive change. {MigrationPath}";
                }

                if (!columns[name].Nullable && columns[name].Default is null)
                {
                    return $"field '{field}.column': version {version} adds '{name}' as nullable: false without a default; the rows already in the table need a value: declare a 'default' or make it nullable.";
                }

                types.Remove(name);
                return null;
            case SchemaChangeKind.Widen:
                if (!types.TryGetValue(name, out var type))
                {
                    return $"field '{field}.column': version {version} widens '{name}', which is not a column of the target at that version.";
                }

                var from = ColumnType.TryParse(change.From);
                var to = ColumnType.TryParse(change.To);
                if (from is null || to is null)
                {
                    return $"field '{field}': a widen names both types: 'from' and 'to' must be supported types (column '{name}').";
                }

                if (to != type)
                {
                    return $"field '{field}.to': is {to}, but column '{name}' is {type} from version {version} on (in 'columns' or the next widening).";
                }

                if (!IsOnlineWidening(from, to))
                {
                    return $"field '{field}': {DescribeTypeChange(name, from, to)} is not a widening PostgreSQL applies without rewriting the table. {MigrationPath}";
                }

                types[name] = from;
                return null;
            default:
                if (types.ContainsKey(name))
                {
                    return $"field '{field}.column': version {version} drops '{name}', which 'columns' still declares; remove it from 'columns'.";
                }

                dropped = true;
                return null;
        }
    }

    /// <summary>
    /// The default as SQL for DDL, or null when it does not fit the type. It comes from the contract (reviewed like code),
    /// never from a batch; it is still parsed for the type and quoted, so no text of the file reaches SQL verbatim.
    /// </summary>
    internal static string? DefaultSql(ColumnType type, JsonElement value)
    {
        string? text = type.Kind switch
        {
            ColumnKind.Smallint => value.ValueKind == JsonValueKind.Number && value.TryGetInt16(out var s) ? s.ToString(CultureInfo.InvariantCulture) : null,
            ColumnKind.Integer => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i) ? i.ToString(CultureInfo.InvariantCulture) : null,
            ColumnKind.Bigint => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var l) ? l.ToString(CultureInfo.InvariantCulture) : null,
            ColumnKind.Numeric => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var d) ? d.ToString(CultureInfo.InvariantCulture) : null,
            ColumnKind.Real or ColumnKind.DoublePrecision => value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var f) ? f.ToString("R", CultureInfo.InvariantCulture) : null,
            ColumnKind.Boolean => value.ValueKind is JsonValueKind.True or JsonValueKind.False ? (value.GetBoolean() ? "true" : "false") : null,
            ColumnKind.Jsonb => value.GetRawText(),
            ColumnKind.Bytea => null,
            ColumnKind.Varchar => value.ValueKind == JsonValueKind.String && (type.Length == 0 || value.GetString()!.Length <= type.Length) ? value.GetString() : null,
            ColumnKind.Date => value.ValueKind == JsonValueKind.String && DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _) ? value.GetString() : null,
            ColumnKind.Uuid => value.ValueKind == JsonValueKind.String && Guid.TryParse(value.GetString(), out var g) ? g.ToString() : null,
            _ => value.ValueKind == JsonValueKind.String ? value.GetString() : null,
        };
        return text is null || text.Contains('\0', StringComparison.Ordinal)
            ? null
            : $"CAST('{text.Replace("'", "''", StringComparison.Ordinal)}' AS {type.Sql})";
    }
}
