using System.Globalization;
using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Ledger;
using Writeback.Core.Sql;
using static Writeback.Core.Sql.SqlCommands;

namespace Writeback.Core.Engine;

/// <summary>
/// How long a schema change may wait for the table's lock, and how often it tries. While ALTER TABLE waits for its
/// ACCESS EXCLUSIVE lock behind a long reader, every new reader queues behind it: the lock timeout bounds that wait,
/// and the back-off between attempts lets the queued readers through.
/// </summary>
public sealed record SchemaMigrationOptions(TimeSpan LockTimeout, int MaxAttempts, TimeSpan FirstBackoff, TimeSpan MaxBackoff)
{
    /// <summary>2 s per attempt, six attempts, 0.5 s back-off doubling to 8 s: under half a minute, inside Prepare's timeout.</summary>
    public static SchemaMigrationOptions Default { get; } = new(TimeSpan.FromSeconds(2), 6, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(8));
}

/// <summary>
/// Brings a product table to its contract's schema version before a batch needs it. Only changes PostgreSQL makes in
/// the catalog alone (ADD COLUMN, nullable or with a constant default; a longer varchar; more numeric precision at the
/// same scale), all of a target's pending versions in one ALTER TABLE, in one transaction with the record of the
/// versions applied: a change is applied once and never half. Anything destructive is refused, naming the change.
/// </summary>
public sealed class SchemaMigrator(NpgsqlDataSource dataSource, SchemaMigrationOptions options)
{
    /// <summary>The ledger's record of the schema versions applied to each target.</summary>
    public const string Ddl = """
        CREATE SCHEMA IF NOT EXISTS writeback;
        CREATE TABLE IF NOT EXISTS writeback.target_versions (
            target     text NOT NULL,
            version    integer NOT NULL,
            columns    text[] NOT NULL,
            changes    text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (target, version));
        """;

    public async Task MigrateAsync(ResolvedTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);

        // Most batches find the table current: a read, without the target lock a publish of another partition holds.
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            var state = await ReadStateAsync(connection, target, cancellationToken);
            if (Plan(target, state).Count == 0 && state.Version == target.SchemaVersion)
            {
                return;
            }
        }

        var backoff = options.FirstBackoff;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await ApplyAsync(target, cancellationToken);
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
            {
                if (attempt >= options.MaxAttempts)
                {
                    // Transient (the inner 55P03): the state machine retries Prepare later.
                    throw new TimeoutException(
                        $"target {target.Table}: the change to schema version {target.SchemaVersion} tried {attempt} times to take the table's lock, waiting at most " +
                        $"{Ms(options.LockTimeout)} each time so as not to hold up its readers, and gave up; nothing was changed. A long transaction holds the table (see pg_stat_activity " +
                        "for sessions whose xact_start is old); the step is retried.", e);
                }

                await Task.Delay(backoff, cancellationToken);
                backoff = backoff * 2 < options.MaxBackoff ? backoff * 2 : options.MaxBackoff;
            }
        }
    }

    private async Task ApplyAsync(ResolvedTarget target, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // The target lock first and without a timeout: a publish of this target holds it, and waiting on an advisory
        // lock blocks no reader. Only the table's lock is bounded.
        await LockAsync(connection, LedgerSchema.TargetLock(target.Table), shared: false, cancellationToken);
        await ExecuteAsync(connection, "SELECT set_config('lock_timeout', $1, true)", cancellationToken, Ms(options.LockTimeout));
        var state = await ReadStateAsync(connection, target, cancellationToken);
        var steps = Plan(target, state);
        if (steps.Count > 0)
        {
            await RefuseWideningUnderViewsAsync(connection, target, steps, cancellationToken);
            var alter = $"ALTER TABLE {target.QualifiedTable} {string.Join(", ", steps.Select(s => s.Sql))}";
            try
            {
                await ExecuteAsync(connection, alter, cancellationToken);
            }
            catch (PostgresException e) when (SqlStates.InClass(e.SqlState, PostgresErrorCodes.DataException) || e.SqlState == PostgresErrorCodes.DatatypeMismatch)
            {
                throw new InvalidBatchException($"target {target.Table}: {string.Join("; ", steps.Select(s => s.Description))}: PostgreSQL refused it: {e.MessageText}; nothing was changed.", e);
            }
        }

        for (var version = (state.Version ?? 0) + 1; version <= target.SchemaVersion; version++)
        {
            await ExecuteAsync(
                connection,
                "INSERT INTO writeback.target_versions (target, version, columns, changes) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                cancellationToken, target.Table, version, (target.AtVersion(version)?.Columns.Select(c => c.Name) ?? []).ToArray(), Summary(target.Contract, version));
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The changes that bring the live table to the contract; refuses what is not additive.</summary>
    private static List<Step> Plan(ResolvedTarget target, TableState state)
    {
        var contract = target.Contract;
        if (state.Version > target.SchemaVersion)
        {
            throw new InvalidBatchException(
                $"target {target.Table}: the table is at schema version {state.Version} (writeback.target_versions), but these writers' contract " +
                $"(targets/{target.Dataset}.json) is at version {target.SchemaVersion}; deploy the writers with the current contract. Nothing was changed.");
        }

        var steps = new List<Step>();
        foreach (var column in target.Columns)
        {
            if (!state.Columns.TryGetValue(column.Name, out var liveType))
            {
                var added = SchemaHistory.AddedIn(contract, column.Name);
                if (added == 1 || added <= state.Version)
                {
                    var renamed = state.Recorded.FirstOrDefault(c => target.Find(c) is null && state.Columns.ContainsKey(c));
                    throw Refused(
                        target,
                        $"the table exists but has no column '{column.Name}' that the contract declares, and no version after {state.Version ?? 1} adds it" +
                        (renamed is null ? string.Empty : $" (a rename of '{renamed}' to '{column.Name}'? A rename is destructive)") +
                        ". Declare a new column with add_column in a new version.");
                }

                steps.Add(new($"ADD COLUMN {column.Definition}", $"version {added}: add column '{column.Name}' {column.Type}{(column.DefaultSql is null ? string.Empty : " with a default")}{(column.Nullable ? string.Empty : " not null")}"));
            }
            else if (!string.Equals(liveType, column.Type.CatalogSpelling, StringComparison.Ordinal))
            {
                var from = ColumnType.TryParse(liveType);
                if (from is not null && SchemaHistory.IsOnlineWidening(from, column.Type) && SchemaHistory.EarlierTypes(contract, column.Name).Contains(from))
                {
                    steps.Add(new($"ALTER COLUMN {column.Quoted} TYPE {column.Type.Sql}", $"widen column '{column.Name}' from {from} to {column.Type}", column.Name));
                    continue;
                }

                var change = from is null ? $"type change of column '{column.Name}'" : SchemaHistory.DescribeTypeChange(column.Name, from, column.Type);
                throw Refused(target, $"{change}: column '{column.Name}' is {liveType} in the database, the contract says {column.Type}");
            }
        }

        foreach (var name in state.Columns.Keys.Where(n => target.Find(n) is null))
        {
            if (SchemaHistory.DroppedIn(contract, name) is { } dropped && !(dropped <= state.Version))
            {
                throw Refused(
                    target,
                    $"drop of column '{name}' (version {dropped}): the table still has it, and Writeback never drops a column. Once no reader uses it, drop it " +
                    $"by hand (ALTER TABLE {target.QualifiedTable} DROP COLUMN {Sql.Identifiers.Quote(name)}); the next batch then records version {dropped}");
            }

            if (state.Recorded.Contains(name) && SchemaHistory.DroppedIn(contract, name) is null)
            {
                throw Refused(
                    target,
                    $"drop of column '{name}': the table has it (schema version {state.Version}), the contract no longer declares it and no version drops it");
            }
        }

        return steps;
    }

    /// <summary>
    /// PostgreSQL refuses to change the type of a column a view uses, even a widening that rewrites nothing; the views are
    /// named here, before the ALTER, because the server's own detail (which names them) is not passed on by the driver.
    /// </summary>
    private static async Task RefuseWideningUnderViewsAsync(NpgsqlConnection connection, ResolvedTarget target, List<Step> steps, CancellationToken cancellationToken)
    {
        var widened = steps.Where(s => s.Widened is not null).ToList();
        if (widened.Count == 0)
        {
            return;
        }

        await using var command = Command(
            connection,
            """
            SELECT string_agg(DISTINCT format('%s (column %s)', v.oid::regclass, a.attname), ', ')
            FROM pg_depend d
            JOIN pg_rewrite r ON r.oid = d.objid
            JOIN pg_class v ON v.oid = r.ev_class
            JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = to_regclass($1) AND v.oid <> d.refobjid AND a.attname = ANY($2)
            """,
            target.QualifiedTable, widened.Select(s => s.Widened!).ToArray());
        if (await command.ExecuteScalarAsync(cancellationToken) is string views)
        {
            throw new InvalidBatchException(
                $"target {target.Table}: {string.Join("; ", widened.Select(s => s.Description))}: PostgreSQL cannot change the type of a column a view or " +
                $"rule uses, and these do: {views}; nothing was changed. Drop the views, let the next batch apply the version, then create them again; " +
                "or add a new column instead (README, \"Changing a target's schema\").");
        }
    }

    private static InvalidBatchException Refused(ResolvedTarget target, string what) =>
        new($"target {target.Table}: refused: {what}. Nothing was changed. {SchemaHistory.MigrationPath}");

    private static async Task<TableState> ReadStateAsync(NpgsqlConnection connection, ResolvedTarget target, CancellationToken cancellationToken)
    {
        var columns = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var command = Command(
            connection,
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
            target.QualifiedTable))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                columns[reader.GetString(0)] = reader.GetString(1);
            }
        }

        await using (var command = Command(connection, "SELECT version, columns FROM writeback.target_versions WHERE target = $1 ORDER BY version DESC LIMIT 1", target.Table))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken)
                ? new TableState(columns, reader.GetInt32(0), reader.GetFieldValue<string[]>(1))
                : new TableState(columns, null, []);
        }
    }

    private static string Summary(Target contract, int version)
    {
        if (version == 1)
        {
            return "version 1: the table's first columns";
        }

        var entry = contract.History[version - 2];
        var changes = entry.Changes.Select(c => c.Change == SchemaChangeKind.Widen
            ? $"widen {c.Column} from {c.From} to {c.To}"
            : $"{SchemaChangeKindConverter.NameOf(c.Change)} {c.Column}");
        return $"version {version}: {entry.Description} ({string.Join(", ", changes)})";
    }

    private static string Ms(TimeSpan value) => ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";

    /// <param name="Widened">The column whose type the step changes, or null.</param>
    private sealed record Step(string Sql, string Description, string? Widened = null);

    /// <param name="Columns">The live table's columns and their <c>format_type</c>.</param>
    /// <param name="Version">The newest schema version recorded for the target, or null (none yet).</param>
    /// <param name="Recorded">The columns of that version.</param>
    private sealed record TableState(Dictionary<string, string> Columns, int? Version, string[] Recorded);
}
