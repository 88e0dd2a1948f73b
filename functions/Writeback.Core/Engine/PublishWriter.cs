using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Ledger;

namespace Writeback.Core.Engine;

public sealed record PublishCounts(long Inserted, long Updated, long Deleted, long Unchanged);

/// <summary>
/// Applies a verified batch to the product table inside the caller's transaction. Only DELETE, UPDATE and INSERT of
/// what changed: the table is never dropped, renamed or truncated, so its views, grants, indexes, foreign keys and
/// triggers survive, and readers (who take no conflicting lock) see the old rows until the commit.
/// </summary>
internal static class PublishWriter
{
    public static async Task<PublishCounts> ApplyAsync(NpgsqlConnection connection, BatchPlan plan, CancellationToken cancellationToken)
    {
        var target = plan.Target;
        var live = target.QualifiedTable;
        var staging = LedgerSchema.StagingTable(plan.BatchId);
        var allColumns = string.Join(", ", target.Columns.Select(c => c.Quoted));
        var sourceColumns = string.Join(", ", target.Columns.Select(c => "s." + c.Quoted));
        var total = plan.TotalRows;
        object?[] scopeParameter = [];
        var scopeFilter = "TRUE";
        if (target.Mode == LoadMode.ReplacePartition)
        {
            scopeFilter = $"t.{target.Partition!.Quoted} = CAST($1 AS {target.Partition.Type.Sql})";
            scopeParameter = [plan.Manifest.Partition];
        }

        if (target.Mode == LoadMode.Append)
        {
            var appended = await LoadEngine.ExecuteAsync(connection, $"INSERT INTO {live} ({allColumns}) SELECT {sourceColumns} FROM {staging} AS s", cancellationToken);
            return new PublishCounts(appended, 0, 0, 0);
        }

        if (target.Key.Count == 0)
        {
            // Unkeyed replace: nothing identifies a row, so the scope is rewritten; still DELETE, never TRUNCATE,
            // which would take an ACCESS EXCLUSIVE lock and block readers.
            var removed = await LoadEngine.ExecuteAsync(connection, $"DELETE FROM {live} AS t WHERE {scopeFilter}", cancellationToken, scopeParameter);
            var added = await LoadEngine.ExecuteAsync(connection, $"INSERT INTO {live} ({allColumns}) SELECT {sourceColumns} FROM {staging} AS s", cancellationToken);
            return new PublishCounts(added, 0, removed, 0);
        }

        // A scope with no rows yet (a new day, an empty table) has nothing to compare with: every staged row is an
        // insert, and the diff below would only copy each row once more on its way in.
        if (await LoadEngine.ScalarAsync(connection, $"SELECT EXISTS (SELECT 1 FROM {live} AS t WHERE {scopeFilter})", cancellationToken, scopeParameter) is false)
        {
            var fresh = await LoadEngine.ExecuteAsync(connection, $"INSERT INTO {live} ({allColumns}) SELECT {sourceColumns} FROM {staging} AS s", cancellationToken);
            return new PublishCounts(fresh, 0, 0, 0);
        }

        var keys = target.Key.Select(k => target.Find(k)!).ToList();
        var values = target.Columns.Where(c => !target.Key.Contains(c.Name)).ToList();
        var deletes = target.Mode is LoadMode.Replace or LoadMode.ReplacePartition or LoadMode.Mirror;

        // Memory for the one hash join below; the default 4 MB would spill a day's batch to disk in many passes.
        await LoadEngine.ExecuteAsync(connection, "SET LOCAL work_mem = '256MB'", cancellationToken);

        // One pass over staging and the live scope classifies every key: I(nsert), U(pdate: some value differs, nulls
        // compared as values) or D(elete: live only). Unchanged rows are not carried, so on a day where 1% changed
        // the writes touch 1% of the rows. One statement: the diff stays in memory instead of a temporary table that
        // is written, analysed and read back, and the three writes touch disjoint keys, so none sees another's rows.
        var liveScope = $"(SELECT {allColumns} FROM {live} AS t WHERE {scopeFilter})";
        var keyMatch = string.Join(" AND ", keys.Select(k => $"t.{k.Quoted} = s.{k.Quoted}"));
        var firstKey = keys[0].Quoted;
        var changed = values.Count == 0
            ? "FALSE"
            : $"ROW({string.Join(", ", values.Select(c => "t." + c.Quoted))}) IS DISTINCT FROM ROW({string.Join(", ", values.Select(c => "s." + c.Quoted))})";
        var diffColumns = string.Join(", ", keys.Select(k => $"COALESCE(s.{k.Quoted}, t.{k.Quoted}) AS {k.Quoted}").Concat(values.Select(c => $"s.{c.Quoted}")));
        var diffMatch = string.Join(" AND ", keys.Select(k => $"t.{k.Quoted} = d.{k.Quoted}"));
        var update = values.Count == 0
            ? "SELECT 1 WHERE FALSE"
            : $"UPDATE {live} AS t SET {string.Join(", ", values.Select(c => $"{c.Quoted} = d.{c.Quoted}"))} FROM diff AS d WHERE d.wb_action = 'U' AND {diffMatch} RETURNING 1";
        long deleted, updated, inserted;
        await using (var command = LoadEngine.NewCommand(
            $"""
            WITH diff AS MATERIALIZED (
                SELECT CASE WHEN t.{firstKey} IS NULL THEN 'I' WHEN s.{firstKey} IS NULL THEN 'D' ELSE 'U' END AS wb_action, {diffColumns}
                FROM {staging} AS s {(deletes ? "FULL" : "LEFT")} JOIN {liveScope} AS t ON {keyMatch}
                WHERE t.{firstKey} IS NULL OR s.{firstKey} IS NULL OR {changed}),
            deleted AS (DELETE FROM {live} AS t USING diff AS d WHERE d.wb_action = 'D' AND {diffMatch} RETURNING 1),
            updated AS ({update}),
            inserted AS (INSERT INTO {live} ({allColumns}) SELECT {allColumns} FROM diff WHERE wb_action = 'I' RETURNING 1)
            SELECT (SELECT count(*) FROM deleted), (SELECT count(*) FROM updated), (SELECT count(*) FROM inserted)
            """,
            connection))
        {
            foreach (var parameter in scopeParameter)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = parameter });
            }

            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            (deleted, updated, inserted) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }

        return new PublishCounts(inserted, updated, deleted, total - inserted - updated);
    }
}
