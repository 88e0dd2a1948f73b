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

        var problem = ValidateBatchReadyEvent(value);
        return problem is null ? value : throw new InvalidBatchException($"batch-ready event: {problem}");
    }

    /// <summary>The event's rules, as its schema states them; returns the first problem, naming its field, or null.</summary>
    public static string? ValidateBatchReadyEvent(BatchReadyEvent value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Version != BatchReadyEvent.CurrentVersion)
        {
            return $"field 'version': unknown version {value.Version}; this writer understands version {BatchReadyEvent.CurrentVersion}.";
        }

        return BatchIdProblem(value.BatchId)
            ?? TextProblem("dataset", value.Dataset, 1, ContractLimits.MaxDatasetLength)
            ?? TextProblem("partition", value.Partition, 0, ContractLimits.MaxPartitionLength)
            ?? TextProblem("manifestUri", value.ManifestUri, 1, ContractLimits.MaxUriLength)
            ?? TextProblem("traceparent", value.Traceparent, 0, ContractLimits.MaxTraceparentLength)
            ?? (value.Sequence < 0 ? "field 'sequence': must not be negative." : null);
    }

    /// <summary>Null when <paramref name="value"/> is a batch id; otherwise the problem, repeating only a short piece of it.</summary>
    public static string? BatchIdProblem(string? value) => IsBatchId(value)
        ? null
        : $"field 'batchId': '{Echo.Brief(value, 40)}'{(value?.Length > ContractLimits.MaxBatchIdLength ? $" ({value.Length} characters)" : "")} must be 1-{ContractLimits.MaxBatchIdLength} characters of [0-9A-Za-z_-].";

    // Null (absent) passes when min is 0; the schema says the same with "type": ["string", "null"].
    private static string? TextProblem(string field, string? value, int min, int max) =>
        value is null
            ? (min > 0 ? $"field '{field}': is required." : null)
            : value.Length < min || (min > 0 && string.IsNullOrWhiteSpace(value))
                ? $"field '{field}': must not be empty."
                : value.Length > max
                    ? $"field '{field}': is {value.Length} characters long; at most {max} are accepted."
                    : null;

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

        if ((BatchIdProblem(manifest.BatchId) ?? TextProblem("dataset", manifest.Dataset, 1, ContractLimits.MaxDatasetLength)
            ?? TextProblem("partition", manifest.Partition, 0, ContractLimits.MaxPartitionLength)
            ?? TextProblem("traceparent", manifest.Traceparent, 0, ContractLimits.MaxTraceparentLength)) is { } text)
        {
            return text;
        }

        if (manifest.Sequence < 0)
        {
            return "field 'sequence': must not be negative.";
        }

        if (manifest.SchemaVersion < 1)
        {
            return "field 'schemaVersion': must be 1 or more.";
        }

        if (manifest.Schema.Count is 0 or > ContractLimits.MaxColumns)
        {
            return $"field 'schema': must list 1-{ContractLimits.MaxColumns} columns.";
        }

        if (manifest.Shards.Count > ContractLimits.MaxShards)
        {
            return $"field 'shards': lists {manifest.Shards.Count} shards; at most {ContractLimits.MaxShards} are accepted.";
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < manifest.Schema.Count; i++)
        {
            var column = manifest.Schema[i];
            if (column is null || string.IsNullOrEmpty(column.Name))
            {
                return $"field 'schema[{i}].name': must not be empty.";
            }

            if (column.Name.Length > MaxIdentifierLength)
            {
                return $"field 'schema[{i}].name': is {column.Name.Length} characters long; at most {MaxIdentifierLength} are accepted.";
            }

            if (!names.Add(column.Name))
            {
                return $"field 'schema[{i}].name': column '{column.Name}' is listed twice.";
            }

            if (ColumnType.TryParse(column.Type) is null)
            {
                return $"field 'schema[{i}].type': '{Echo.Brief(column.Type, 40)}' is not a supported type (column '{column.Name}').";
            }
        }

        for (var i = 0; i < manifest.Shards.Count; i++)
        {
            var shard = manifest.Shards[i];
            if (shard is null || string.IsNullOrWhiteSpace(shard.Uri))
            {
                return $"field 'shards[{i}].uri': must not be empty.";
            }

            if (shard.Uri.Length > ContractLimits.MaxUriLength)
            {
                return $"field 'shards[{i}].uri': is {shard.Uri.Length} characters long; at most {ContractLimits.MaxUriLength} are accepted.";
            }

            if (shard.Rows < 0)
            {
                return $"field 'shards[{i}].rows': must not be negative.";
            }

            if (shard.Bytes < 0)
            {
                return $"field 'shards[{i}].bytes': must not be negative.";
            }

            if (shard.Sha256 is null || !Sha256Pattern().IsMatch(shard.Sha256))
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

            if (ColumnType.TryParse(column.Type) is not { } type)
            {
                return $"field 'columns[{i}].type': '{column.Type}' is not a supported type (column '{column.Name}').";
            }

            if (column.Default is { } value && SchemaHistory.DefaultSql(type, value) is null)
            {
                return $"field 'columns[{i}].default': {Echo.Brief(value.GetRawText(), 40)} is not a value of type {type} (column '{column.Name}'; numbers and booleans as JSON, other types as strings, no default for bytea).";
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

        if (target.Partitioned && (target.LoadMode != LoadMode.ReplacePartition || (target.Key.Count > 0 && !target.Key.Contains(target.PartitionColumn!, StringComparer.Ordinal))))
        {
            // PostgreSQL's own rule: a partitioned table's primary key includes its partition column.
            return "field 'partitioned': a partitioned table needs load mode replace_partition and, when it has a key, the partition column in the key.";
        }

        if (SchemaHistory.Validate(target, columns) is { } history)
        {
            return history;
        }

        if (target.MaxRejectedRows < 0)
        {
            return $"field 'maxRejectedRows': {target.MaxRejectedRows} must be 0 or more.";
        }

        if (target.MaxRejectedPercent is < 0 or > 100 or double.NaN)
        {
            return $"field 'maxRejectedPercent': {target.MaxRejectedPercent} must be between 0 and 100.";
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

    [GeneratedRegex("^[0-9A-Za-z_-]{1,80}$")] // ContractLimits.MaxBatchIdLength
    private static partial Regex BatchIdPattern();

    [GeneratedRegex("^[a-z_][a-z0-9_]*$")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();
}
