using Writeback.Core.Contracts;

namespace Writeback.Core.Engine;

/// <summary>
/// Matches a manifest's schema with a version of its target contract. A manifest of an older version loads through the
/// target as it was then (the columns added since get their default or NULL: the contract only adds nullable or
/// defaulted columns); a manifest of a newer version than these writers know is refused before anything is written.
/// </summary>
internal static class ManifestSchema
{
    public static ResolvedTarget Resolve(Manifest manifest, ResolvedTarget target)
    {
        if (manifest.SchemaVersion is { } version)
        {
            if (version > target.SchemaVersion)
            {
                throw new InvalidBatchException(
                    $"batch '{manifest.BatchId}': field 'schemaVersion': the batch was exported for schema version {version} of {target.Table}, but these writers' " +
                    $"contract (targets/{target.Dataset}.json) is at version {target.SchemaVersion}. Deploy the writers with the newer contract first (they " +
                    "migrate the table before the batch loads), then retry the batch; nothing was written.");
            }

            var then = target.AtVersion(version)
                ?? throw new InvalidBatchException(
                    $"batch '{manifest.BatchId}': field 'schemaVersion': schema version {version} of {target.Table} had a column that a later version dropped, " +
                    $"and the table no longer has it; export the batch again for version {target.SchemaVersion}.");
            return Mismatch(manifest, then, target.SchemaVersion > 1) is { } problem ? throw new InvalidBatchException(problem) : then;
        }

        // A manifest from before versions existed: the newest version whose columns it carries.
        for (var v = target.SchemaVersion; v >= 1; v--)
        {
            if (target.AtVersion(v) is { } then && Mismatch(manifest, then, target.SchemaVersion > 1) is null)
            {
                return then;
            }
        }

        throw new InvalidBatchException(Mismatch(manifest, target, target.SchemaVersion > 1)!);
    }

    /// <summary>The first difference between the manifest's columns and the target's at its version, or null.</summary>
    private static string? Mismatch(Manifest manifest, ResolvedTarget target, bool versioned)
    {
        var at = versioned ? $" at schema version {target.SchemaVersion}" : string.Empty;
        var contract = $"the target contract for {target.Table}{at}";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < manifest.Schema.Count; i++)
        {
            var column = manifest.Schema[i];
            var declared = target.Find(column.Name);
            if (declared is null)
            {
                return $"batch '{manifest.BatchId}': field 'schema[{i}].name': column '{column.Name}' is not declared by {contract}.";
            }

            var type = ColumnType.TryParse(column.Type)!;
            if (type != declared.Type)
            {
                return $"batch '{manifest.BatchId}': field 'schema[{i}].type', column '{column.Name}': type mismatch: the manifest says {type}, the contract{at} says {declared.Type}.";
            }

            seen.Add(column.Name);
        }

        var missing = target.Columns.FirstOrDefault(c => !seen.Contains(c.Name));
        return missing is null ? null : $"batch '{manifest.BatchId}': field 'schema': column '{missing.Name}' of {contract} is missing.";
    }
}
