using Writeback.Core.Contracts;

namespace Writeback.Core.Engine;

public sealed partial class LoadEngine
{
    /// <summary>How long a schema change in Prepare may wait for the product table's lock; tests shorten it.</summary>
    public SchemaMigrationOptions SchemaMigration { get; init; } = SchemaMigrationOptions.Default;

    /// <summary>
    /// Creates the product table from the contract when it does not exist, and otherwise brings it to the contract's
    /// schema version (additive changes only) before the batch's rows go anywhere.
    /// </summary>
    private async Task EnsureTargetTableAsync(ResolvedTarget target, CancellationToken cancellationToken)
    {
        var columns = target.Columns.Select(c => c.Definition).ToList();
        if (target.Key.Count > 0)
        {
            columns.Add($"PRIMARY KEY ({string.Join(", ", target.Key.Select(k => target.Find(k)!.Quoted))})");
        }

        var ddl = $"CREATE SCHEMA IF NOT EXISTS {Sql.Identifiers.Quote(target.Schema)};\nCREATE TABLE IF NOT EXISTS {target.QualifiedTable} ({string.Join(", ", columns)}){(target.Contract.Partitioned ? $" PARTITION BY LIST ({target.Partition!.Quoted})" : string.Empty)};";
        await EnsureOnceAsync("target:" + target.Table, ddl, cancellationToken);
        await EnsureOnceAsync("target-versions", SchemaMigrator.Ddl, cancellationToken);
        await new SchemaMigrator(dataSource, SchemaMigration).MigrateAsync(target, cancellationToken);
    }
}
