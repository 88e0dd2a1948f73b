using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Ledger;
using Writeback.Core.Sql;
using static Writeback.Core.Sql.SqlCommands;

namespace Writeback.Core.Engine;

/// <summary>
/// Publishes a new day into a product table that is declaratively partitioned by the contract's partition column: the
/// verified staging table itself becomes the day's partition (<c>ATTACH PARTITION</c>), so no row is copied. Inside
/// the publish transaction, under its locks: the attach takes SHARE UPDATE EXCLUSIVE on the parent, which readers'
/// ACCESS SHARE does not conflict with, and the day appears at the commit, whole, or not at all. Dependents of the
/// parent (views, grants, its indexes, row triggers) reach the new partition as they reach every other.
/// </summary>
internal static partial class PartitionAttach
{
    /// <summary>
    /// How staging for this batch is created. A new day of a partitioned table gets a logged table that can become the
    /// partition as it is, with the storage parameters of the table's newest other partition (an operator's fillfactor,
    /// autovacuum settings), which the parent cannot hold itself; a fillfactor below 100 is what lets a later re-apply
    /// of the day update rows in place (HOT) instead of writing each changed row and its index entry anew. A day that
    /// has rows already is re-applied by writing what changed, and its staging is rebuilt from the shards after a crash
    /// like any other, so WAL for it would be wasted: it is unlogged. Should the day be gone by the publish after all,
    /// the attach makes staging logged then.
    /// </summary>
    public static async Task<StagingStorage> StagingStorageAsync(NpgsqlConnection connection, BatchPlan plan, CancellationToken cancellationToken)
    {
        var target = plan.Target;
        if (target.Mode != LoadMode.ReplacePartition || await StrategyAsync(connection, target, cancellationToken) is null)
        {
            return StagingStorage.Unlogged;
        }

        var dayHasRows = await new PublishDiff(plan).ScopeHasRowsAsync(connection, cancellationToken);
        return dayHasRows ? StagingStorage.Unlogged : new StagingStorage(Logged: true, await SiblingParametersAsync(connection, target, cancellationToken));
    }

    /// <summary>
    /// The storage parameters of the partition created last (highest OID) among the table's plain partitions. Only
    /// <c>name=value</c> pairs of the shapes PostgreSQL's own options have are taken, because they enter DDL as text.
    /// TOAST parameters are left out: staging may have no TOAST table to carry them.
    /// </summary>
    private static async Task<IReadOnlyList<string>> SiblingParametersAsync(NpgsqlConnection connection, ResolvedTarget target, CancellationToken cancellationToken)
    {
        var options = await ScalarAsync(
            connection,
            """
            SELECT c.reloptions FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = to_regclass($1) AND c.relkind = 'r' AND c.reloptions IS NOT NULL
            ORDER BY c.oid DESC LIMIT 1
            """,
            cancellationToken, target.QualifiedTable);
        return options is string[] pairs ? [.. pairs.Where(p => StorageParameter().IsMatch(p))] : [];
    }

    [GeneratedRegex("^[a-z_]{1,63}=[A-Za-z0-9_.-]{1,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex StorageParameter();

    /// <summary>
    /// Attaches staging (<paramref name="stagedRows"/> rows: the batch's less those its load rejected) as the partition
    /// for the batch's value and returns the counts, or null when this table or day
    /// cannot take that path (not partitioned by the partition column alone, or a partition for the value exists
    /// already), in which case nothing was changed and the caller writes rows as for any table.
    /// </summary>
    public static async Task<PublishCounts?> TryAttachAsync(NpgsqlConnection connection, BatchPlan plan, long stagedRows, CancellationToken cancellationToken)
    {
        var target = plan.Target;
        var strategy = await StrategyAsync(connection, target, cancellationToken);
        var bound = strategy is null ? null : Bound(strategy.Value, target.Partition!, plan.Manifest.Partition!);
        if (bound is null)
        {
            return null;
        }

        var staging = LedgerSchema.StagingTable(plan.BatchId);
        var name = PartitionName(target, plan.Manifest.Partition!);
        var qualified = Identifiers.Quote(target.Schema) + "." + Identifiers.Quote(name);
        if (await ScalarAsync(connection, "SELECT to_regclass($1) IS NOT NULL", cancellationToken, qualified) is true)
        {
            // A table of that name that is not attached for this value (it would overlap otherwise, see below): the
            // operator's, not ours to replace.
            throw new InvalidBatchException($"batch '{plan.BatchId}': cannot attach the day as {target.Schema}.{name}: a table of that name exists and is not the partition of {target.Table} for {plan.Manifest.Partition}; rename or drop it, then retry the batch.");
        }

        await ExecuteAsync(connection, "SAVEPOINT partition_attach", cancellationToken);
        try
        {
            // Staging is logged already when the table was partitioned at Prepare; otherwise this rewrites it once,
            // because an unlogged partition would come back empty from a crash.
            if (await ScalarAsync(connection, "SELECT relpersistence = 'u' FROM pg_class WHERE oid = to_regclass($1)", cancellationToken, staging) is true)
            {
                await ExecuteAsync(connection, $"ALTER TABLE {staging} SET LOGGED", cancellationToken);
            }

            // A partition has the parent's columns and no more, the parent's NOT NULLs and CHECKs, and a constraint
            // that proves the bound, so that ATTACH need not scan it again: one ALTER validates all of them in one scan.
            var parentChecks = await ParentChecksAsync(connection, target, cancellationToken);
            var alterations = new List<string> { "DROP COLUMN _wb_shard", "DROP COLUMN _wb_row" };
            alterations.AddRange(target.Columns.Where(c => !c.Nullable).Select(c => $"ALTER COLUMN {c.Quoted} SET NOT NULL"));
            alterations.AddRange(parentChecks.Select(c => $"ADD CONSTRAINT {Identifiers.Quote(c.Name)} {c.Definition}"));
            alterations.Add($"ADD CONSTRAINT wb_partition_bound CHECK ({bound.Constraint})");
            await ExecuteAsync(connection, $"ALTER TABLE {staging} {string.Join(", ", alterations)}", cancellationToken);

            // Verify's unique index on the key becomes the partition's primary key, which ATTACH then takes as the
            // partition of the parent's: it is sorted once, in Verify, and never rebuilt.
            if (target.Key.Count > 0 && await ParentHasPrimaryKeyAsync(connection, target, cancellationToken))
            {
                await ExecuteAsync(
                    connection,
                    $"ALTER TABLE {staging} ADD CONSTRAINT {Identifiers.Quote(Limit(name + "_pkey"))} PRIMARY KEY USING INDEX {Identifiers.Quote(LedgerSchema.StagingKeyIndexName(plan.BatchId))}",
                    cancellationToken);
            }

            // Out of writeback_staging and under the table's own schema and a name that says which day it holds:
            // cleanup drops staging by its batch name, which must never again find the day's rows.
            await ExecuteAsync(connection, $"ALTER TABLE {staging} SET SCHEMA {Identifiers.Quote(target.Schema)}", cancellationToken);
            await ExecuteAsync(
                connection, $"ALTER TABLE {Identifiers.Quote(target.Schema)}.{Identifiers.Quote(LedgerSchema.StagingName(plan.BatchId))} RENAME TO {Identifiers.Quote(name)}", cancellationToken);
            await ExecuteAsync(connection, $"ALTER TABLE {target.QualifiedTable} ATTACH PARTITION {qualified} {bound.Clause}", cancellationToken);
            await ExecuteAsync(connection, $"ALTER TABLE {qualified} DROP CONSTRAINT wb_partition_bound", cancellationToken);
            await ExecuteAsync(connection, $"DELETE FROM {LedgerSchema.IntactTable} WHERE batch_id = $1", cancellationToken, plan.BatchId);
            await ExecuteAsync(connection, "RELEASE SAVEPOINT partition_attach", cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidObjectDefinition)
        {
            // "would overlap partition …": the day has a partition already, empty (the caller saw no rows for it).
            // Everything above is undone; rows are inserted into that partition the usual way.
            await ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT partition_attach", cancellationToken);
            return null;
        }

        return new PublishCounts(stagedRows, 0, 0, 0);
    }

    private sealed record PartitionBound(string Clause, string Constraint);

    private sealed record CheckConstraint(string Name, string Definition);

    /// <summary>
    /// The bound of the batch's day, for LIST and RANGE partitioning on a date or integer column. The value enters the
    /// DDL (which takes no parameters) only as a literal formatted here from a parsed date or integer, never as the
    /// manifest's text.
    /// </summary>
    private static PartitionBound? Bound(char strategy, ResolvedColumn column, string value)
    {
        string? literal = null;
        string? next = null;
        if (column.Type.Kind == ColumnKind.Date && DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            literal = $"'{day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}'::date";
            next = $"'{day.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}'::date";
        }
        else if (column.Type.Kind is ColumnKind.Smallint or ColumnKind.Integer or ColumnKind.Bigint
            && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) && number < long.MaxValue)
        {
            literal = number.ToString(CultureInfo.InvariantCulture);
            next = (number + 1).ToString(CultureInfo.InvariantCulture);
        }

        return (strategy, literal) switch
        {
            (_, null) => null,
            ('l', _) => new PartitionBound($"FOR VALUES IN ({literal})", $"{column.Quoted} IS NOT NULL AND {column.Quoted} = {literal}"),
            ('r', _) => new PartitionBound($"FOR VALUES FROM ({literal}) TO ({next})", $"{column.Quoted} IS NOT NULL AND {column.Quoted} >= {literal} AND {column.Quoted} < {next}"),
            _ => null,
        };
    }

    /// <summary>'l' or 'r' when the table is partitioned by LIST or RANGE on the contract's partition column alone.</summary>
    private static async Task<char?> StrategyAsync(NpgsqlConnection connection, ResolvedTarget target, CancellationToken cancellationToken)
    {
        if (target.Partition is null)
        {
            return null;
        }

        var strategy = await ScalarAsync(
            connection,
            """
            SELECT p.partstrat::text FROM pg_partitioned_table p
            JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
            WHERE p.partrelid = to_regclass($1) AND p.partnatts = 1 AND a.attname = $2 AND p.partstrat IN ('l', 'r')
            """,
            cancellationToken, target.QualifiedTable, target.Partition.Name);
        return strategy is string s ? s[0] : null;
    }

    private static async Task<bool> ParentHasPrimaryKeyAsync(NpgsqlConnection connection, ResolvedTarget target, CancellationToken cancellationToken) =>
        await ScalarAsync(connection, "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'p')", cancellationToken, target.QualifiedTable) is true;

    private static async Task<List<CheckConstraint>> ParentChecksAsync(NpgsqlConnection connection, ResolvedTarget target, CancellationToken cancellationToken)
    {
        var checks = new List<CheckConstraint>();
        await using var command = Command(
            connection, "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'c'", target.QualifiedTable);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            checks.Add(new CheckConstraint(reader.GetString(0), reader.GetString(1)));
        }

        return checks;
    }

    /// <summary><c>student_daily_20261130</c>: the table's name and the day, within PostgreSQL's 63-byte identifiers.</summary>
    internal static string PartitionName(ResolvedTarget target, string value)
    {
        var suffix = "_" + new string([.. value.Where(char.IsAsciiLetterOrDigit)]);
        return Limit(target.TableName[..Math.Min(target.TableName.Length, 63 - suffix.Length - 5)] + suffix);
    }

    private static string Limit(string name) => name.Length <= 63 ? name : name[..63];
}

/// <summary>Staging's persistence and the storage parameters (<c>name=value</c>) it is created with.</summary>
internal sealed record StagingStorage(bool Logged, IReadOnlyList<string> Parameters)
{
    public static readonly StagingStorage Unlogged = new(Logged: false, []);

    /// <summary><c> WITH (fillfactor=80)</c>, or nothing.</summary>
    public string WithClause => Parameters.Count == 0 ? string.Empty : $" WITH ({string.Join(", ", Parameters)})";
}
