using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Writeback.Core.Contracts;

/// <summary>
/// Reads the versioned contracts strictly: unknown, missing or mistyped fields and semantic violations are errors
/// that name the field (as a JSON path).
/// </summary>
public static partial class ContractReader
{
    public const int MaxIdentifierLength = 63;

    /// <summary>Parses and validates a manifest; problems are <see cref="InvalidBatchException"/>s.</summary>
    public static Manifest ReadManifest(ReadOnlySpan<byte> utf8Json, string source)
    {
        Manifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(utf8Json, ContractJson.Default.Manifest);
        }
        catch (JsonException e)
        {
            throw new InvalidBatchException($"manifest {source}: field '{e.Path ?? "$"}': {e.Message}", e);
        }

        if (manifest is null)
        {
            throw new InvalidBatchException($"manifest {source}: field '$': the manifest is null.");
        }

        var problem = ValidateManifest(manifest);
        return problem is null ? manifest : throw new InvalidBatchException($"manifest {source}: {problem}");
    }

    /// <summary>Parses and validates a target contract; problems are <see cref="ContractException"/>s.</summary>
    public static Target ReadTarget(ReadOnlySpan<byte> utf8Json, string source)
    {
        Target? target;
        try
        {
            target = JsonSerializer.Deserialize(utf8Json, ContractJson.Default.Target);
        }
        catch (JsonException e)
        {
            throw new ContractException($"target {source}: field '{e.Path ?? "$"}': {e.Message}", e);
        }

        if (target is null)
        {
            throw new ContractException($"target {source}: field '$': the target is null.");
        }

        var problem = ValidateTarget(target);
        return problem is null ? target : throw new ContractException($"target {source}: {problem}");
    }

    public static BatchReadyEvent ReadBatchReadyEvent(ReadOnlySpan<byte> utf8Json)
    {
        BatchReadyEvent? value;
        try
        {
            value = JsonSerializer.Deserialize(utf8Json, ContractJson.Default.BatchReadyEvent);
        }
        catch (JsonException e)
        {
            throw new InvalidBatchException($"batch-ready event: field '{e.Path ?? "$"}': {e.Message}", e);
        }

        if (value is null)
        {
            throw new InvalidBatchException("batch-ready event: field '$': the event is null.");
        }

        if (value.Version != BatchReadyEvent.CurrentVersion)
        {
            throw new InvalidBatchException($"batch-ready event: field 'version': unknown version {value.Version}; this writer understands version {BatchReadyEvent.CurrentVersion}.");
        }

        if (!IsBatchId(value.BatchId))
        {
            throw new InvalidBatchException($"batch-ready event: field 'batchId': '{value.BatchId}' must be 1-80 characters of [0-9A-Za-z_-].");
        }

        return value;
    }

    public static bool IsBatchId(string? value) => value is not null && BatchIdPattern().IsMatch(value);

    public static bool IsIdentifier(string? value) => value is not null && IdentifierPattern().IsMatch(value) && value.Length <= MaxIdentifierLength;

    /// <summary>Returns the first problem, naming its field, or null.</summary>
    public static string? ValidateManifest(Manifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.Version != Manifest.CurrentVersion)
        {
            return $"field 'version': unknown manifest version {manifest.Version}; this writer understands version {Manifest.CurrentVersion}.";
        }

        if (!IsBatchId(manifest.BatchId))
        {
            return $"field 'batchId': '{manifest.BatchId}' must be 1-80 characters of [0-9A-Za-z_-].";
        }

        if (string.IsNullOrWhiteSpace(manifest.Dataset))
        {
            return "field 'dataset': must not be empty.";
        }

        if (manifest.Sequence < 0)
        {
            return "field 'sequence': must not be negative.";
        }

        if (manifest.Schema.Count == 0)
        {
            return "field 'schema': must list at least one column.";
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < manifest.Schema.Count; i++)
        {
            var column = manifest.Schema[i];
            if (column is null || string.IsNullOrEmpty(column.Name))
            {
                return $"field 'schema[{i}].name': must not be empty.";
            }

            if (!names.Add(column.Name))
            {
                return $"field 'schema[{i}].name': column '{column.Name}' is listed twice.";
            }

            if (ColumnType.TryParse(column.Type) is null)
            {
                return $"field 'schema[{i}].type': '{column.Type}' is not a supported type (column '{column.Name}').";
            }
        }

        for (var i = 0; i < manifest.Shards.Count; i++)
        {
            var shard = manifest.Shards[i];
            if (shard is null || string.IsNullOrWhiteSpace(shard.Uri))
            {
                return $"field 'shards[{i}].uri': must not be empty.";
            }

            if (shard.Rows < 0)
            {
                return $"field 'shards[{i}].rows': must not be negative.";
            }

            if (shard.Bytes < 0)
            {
                return $"field 'shards[{i}].bytes': must not be negative.";
            }

            if (!Sha256Pattern().IsMatch(shard.Sha256))
            {
                return $"field 'shards[{i}].sha256': must be 64 lower-case hex digits.";
            }
        }

        return null;
    }

    /// <summary>Returns the first problem, naming its field, or null.</summary>
    public static string? ValidateTarget(Target target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (target.Version != Target.CurrentVersion)
        {
            return $"field 'version': unknown target version {target.Version}; this writer understands version {Target.CurrentVersion}.";
        }

        if (string.IsNullOrWhiteSpace(target.Dataset))
        {
            return "field 'dataset': must not be empty.";
        }

        var parts = target.Table.Split('.');
        if (parts.Length != 2 || !IsIdentifier(parts[0]) || !IsIdentifier(parts[1]))
        {
            return $"field 'table': '{target.Table}' must be schema.table of lower-case identifiers ([a-z_][a-z0-9_]*, at most 63).";
        }

        if (target.Columns.Count == 0)
        {
            return "field 'columns': must list at least one column.";
        }

        var columns = new Dictionary<string, TargetColumn>(StringComparer.Ordinal);
        for (var i = 0; i < target.Columns.Count; i++)
        {
            var column = target.Columns[i];
            if (!IsIdentifier(column.Name) || column.Name.StartsWith("_wb_", StringComparison.Ordinal))
            {
                return $"field 'columns[{i}].name': '{column.Name}' must be a lower-case identifier ([a-z_][a-z0-9_]*, at most 63, not starting with _wb_).";
            }

            if (!columns.TryAdd(column.Name, column))
            {
                return $"field 'columns[{i}].name': column '{column.Name}' is listed twice.";
            }

            if (ColumnType.TryParse(column.Type) is null)
            {
                return $"field 'columns[{i}].type': '{column.Type}' is not a supported type (column '{column.Name}').";
            }
        }

        for (var i = 0; i < target.Key.Count; i++)
        {
            if (!columns.TryGetValue(target.Key[i], out var keyColumn))
            {
                return $"field 'key[{i}]': '{target.Key[i]}' is not a column of the target.";
            }

            if (keyColumn.Nullable)
            {
                return $"field 'key[{i}]': key column '{keyColumn.Name}' must be declared nullable: false.";
            }
        }

        if (target.Key.Distinct(StringComparer.Ordinal).Count() != target.Key.Count)
        {
            return "field 'key': lists a column twice.";
        }

        if (target.LoadMode is LoadMode.Upsert or LoadMode.Mirror && target.Key.Count == 0)
        {
            return $"field 'key': load mode {target.LoadMode} needs a key.";
        }

        if (target.PartitionColumn is not null && !columns.ContainsKey(target.PartitionColumn))
        {
            return $"field 'partitionColumn': '{target.PartitionColumn}' is not a column of the target.";
        }

        if (target.LoadMode == LoadMode.ReplacePartition && target.PartitionColumn is null)
        {
            return "field 'partitionColumn': load mode replace_partition needs a partition column.";
        }

        if (target.Deadline is { } deadline)
        {
            if (!TimeOnly.TryParseExact(deadline.Time, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            {
                return $"field 'deadline.time': '{deadline.Time}' must be HH:mm.";
            }

            try
            {
                _ = TimeZoneInfo.FindSystemTimeZoneById(deadline.TimeZone);
            }
            catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                return $"field 'deadline.timeZone': '{deadline.TimeZone}' is not a known IANA time zone.";
            }
        }

        return null;
    }

    [GeneratedRegex("^[0-9A-Za-z_-]{1,80}$")]
    private static partial Regex BatchIdPattern();

    [GeneratedRegex("^[a-z_][a-z0-9_]*$")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();
}
