using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Ledger;
using static Writeback.Core.Sql.SqlCommands;

namespace Writeback.Core.Engine;

/// <summary>A value of a sample row: old and new for an update, only new for an insert, only old for a delete.</summary>
public sealed record ColumnChange(string Column, string? Old, string? New);

/// <summary>One row a publish would touch (or leave alone), by its key; <see cref="Columns"/> holds what it shows.</summary>
public sealed record SampleRow(IReadOnlyDictionary<string, string?> Key, IReadOnlyList<ColumnChange> Columns);

public sealed record PreviewSamples(IReadOnlyList<SampleRow> Inserted, IReadOnlyList<SampleRow> Updated, IReadOnlyList<SampleRow> Deleted, IReadOnlyList<SampleRow> Unchanged)
{
    public static PreviewSamples None { get; } = new([], [], [], []);
}

/// <summary>What Publish would do with a verified batch, and the rows its load rejected.</summary>
public sealed record PublishPreview(
    string BatchId, PublishStatus Status, long Inserted, long Updated, long Deleted, long Unchanged, string? Reason, PreviewSamples Samples, RejectSummary Rejects);

/// <summary>The dry run: the same batch, ledger and staging as a real run, and a publish that only reports.</summary>
public sealed partial class LoadEngine
{
    /// <summary>Sample rows per kind: enough to see what a change looks like, few enough for a state's payload.</summary>
    public const int SampleRows = 3;

    /// <summary>Characters of a sample value shown; a long text or bytea is cut, so samples stay far below 256 KiB.</summary>
    public const int SampleValueLength = 80;

    /// <summary>
    /// What <see cref="PublishAsync"/> would do, computed from the same comparison of staging with the live scope, in a
    /// transaction that is rolled back: nothing is written to the product table, the watermarks or the batch's status.
    /// </summary>
    public async Task<PublishPreview> PreviewPublishAsync(string manifestUri, string batchId, CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(manifestUri, cancellationToken);
        EnsureBatchId(plan, batchId);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockAsync(connection, LedgerSchema.BatchLock(batchId), shared: false, cancellationToken);
        var batch = await BatchLedger.ReadAsync(connection, batchId, forUpdate: false, cancellationToken)
            ?? throw new InvalidBatchException($"batch '{batchId}': the batch was not prepared.");
        EnsureSameContent(plan, batch);
        switch (batch.Status)
        {
            case BatchStatus.Applied:
                return new PublishPreview(batchId, PublishStatus.AlreadyApplied, batch.Inserted, batch.Updated, batch.Deleted, batch.Unchanged, null, PreviewSamples.None, RejectSummary.None);
            case BatchStatus.Skipped:
                return new PublishPreview(batchId, PublishStatus.Skipped, 0, 0, 0, 0, batch.Reason, PreviewSamples.None, RejectSummary.None);
            case BatchStatus.Prepared:
                throw new ReloadRequiredException($"batch '{batchId}': the batch is not verified (its load was reset or never finished); load and verify it again.");
            case not BatchStatus.Verified:
                throw new InvalidBatchException($"batch '{batchId}': cannot preview a batch in status '{batch.Status.Name()}'; verify it first.");
        }

        if (await StagingLossAsync(connection, plan, cancellationToken) is { } lost)
        {
            throw new ReloadRequiredException($"batch '{batchId}': nothing to preview: {lost}; the shards must be loaded again.");
        }

        var rejects = await ReadRejectsAsync(connection, batchId, cancellationToken);
        if (await BatchLedger.NewerAppliedAsync(connection, plan, cancellationToken) is { } newer)
        {
            return new PublishPreview(batchId, PublishStatus.Skipped, 0, 0, 0, 0, newer, PreviewSamples.None, rejects);
        }

        var diff = new PublishDiff(plan);
        var staged = await ShardLedger.StagedRowsAsync(connection, batchId, cancellationToken);
        var (counts, samples) = plan.Target.Key.Count > 0 && plan.Target.Mode != LoadMode.Append
            ? await PreviewKeyedAsync(connection, plan, diff, staged, cancellationToken)
            : await PreviewUnkeyedAsync(connection, plan, diff, staged, cancellationToken);
        return new PublishPreview(batchId, PublishStatus.Applied, counts.Inserted, counts.Updated, counts.Deleted, counts.Unchanged, null, samples, rejects);
    }

    private static async Task<(PublishCounts, PreviewSamples)> PreviewKeyedAsync(NpgsqlConnection connection, BatchPlan plan, PublishDiff diff, long staged, CancellationToken cancellationToken)
    {
        var s = diff.FirstKey;
        await ExecuteAsync(connection, "SET LOCAL work_mem = '256MB'", cancellationToken);
        long inserted, updated, deleted;
        await using (var command = Command(
            connection,
            $"SELECT count(*) FILTER (WHERE t.{s} IS NULL), count(*) FILTER (WHERE t.{s} IS NOT NULL AND s.{s} IS NOT NULL AND {diff.Changed}), count(*) FILTER (WHERE s.{s} IS NULL) FROM {diff.Join}",
            diff.ScopeParameter))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            (inserted, updated, deleted) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }

        // Each kind's first rows in key order (the same rows on every run), values as text and cut short.
        var keys = diff.Keys;
        var values = diff.Values;
        var keyColumns = string.Join(", ", keys.Select((k, i) => $"COALESCE(s.{k.Quoted}, t.{k.Quoted}) AS k{i}"));
        var newValues = string.Join(string.Empty, values.Select((c, i) => $", left(s.{c.Quoted}::text, {SampleValueLength}) AS s{i}"));
        var oldValues = string.Join(string.Empty, values.Select((c, i) => $", left(t.{c.Quoted}::text, {SampleValueLength}) AS t{i}"));
        var keyOrder = string.Join(", ", keys.Select((_, i) => $"k{i}"));
        var sql = $"""
            SELECT wb_kind, {string.Join(", ", keys.Select((_, i) => $"k{i}::text"))}{string.Join(string.Empty, values.Select((_, i) => $", s{i}, t{i}"))}
            FROM (SELECT x.*, row_number() OVER (PARTITION BY wb_kind ORDER BY {keyOrder}) AS wb_n FROM (
                SELECT CASE WHEN t.{s} IS NULL THEN 'I' WHEN s.{s} IS NULL THEN 'D' WHEN {diff.Changed} THEN 'U' ELSE 'N' END AS wb_kind,
                       {keyColumns}{newValues}{oldValues}
                FROM {diff.Join}) AS x) AS y
            WHERE wb_n <= {SampleRows}
            ORDER BY wb_kind, wb_n
            """;
        var byKind = new Dictionary<string, List<SampleRow>>(StringComparer.Ordinal) { ["I"] = [], ["U"] = [], ["D"] = [], ["N"] = [] };
        await using (var command = Command(connection, sql, diff.ScopeParameter))
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var kind = reader.GetString(0);
                var key = new Dictionary<string, string?>(StringComparer.Ordinal);
                for (var i = 0; i < keys.Count; i++)
                {
                    key[keys[i].Name] = Text(reader, 1 + i);
                }

                var columns = new List<ColumnChange>();
                for (var i = 0; i < values.Count; i++)
                {
                    var (now, before) = (Text(reader, 1 + keys.Count + (2 * i)), Text(reader, 2 + keys.Count + (2 * i)));
                    var change = kind switch
                    {
                        "I" => new ColumnChange(values[i].Name, null, now),
                        "D" => new ColumnChange(values[i].Name, before, null),
                        "U" when !string.Equals(now, before, StringComparison.Ordinal) => new ColumnChange(values[i].Name, before, now),
                        _ => null,
                    };
                    if (change is not null)
                    {
                        columns.Add(change);
                    }
                }

                byKind[kind].Add(new SampleRow(key, columns));
            }
        }

        var counts = new PublishCounts(inserted, updated, plan.Target.Mode == LoadMode.Upsert ? 0 : deleted, staged - inserted - updated);
        return (counts, new PreviewSamples(byKind["I"], byKind["U"], byKind["D"], byKind["N"]));
    }

    /// <summary>Append adds every staged row; an unkeyed replace deletes its scope and inserts every staged row.</summary>
    private static async Task<(PublishCounts, PreviewSamples)> PreviewUnkeyedAsync(NpgsqlConnection connection, BatchPlan plan, PublishDiff diff, long staged, CancellationToken cancellationToken)
    {
        var columns = plan.Target.Columns;
        var asText = string.Join(", ", columns.Select(c => $"left({c.Quoted}::text, {SampleValueLength})"));
        var inserted = await ReadSamplesAsync($"SELECT {asText} FROM {diff.Staging} ORDER BY _wb_shard, _wb_row LIMIT {SampleRows}", [], old: false);
        if (plan.Target.Mode == LoadMode.Append)
        {
            return (new PublishCounts(staged, 0, 0, 0), PreviewSamples.None with { Inserted = inserted });
        }

        var deleted = (long)(await ScalarAsync(connection, $"SELECT count(*) FROM {diff.Live} AS t WHERE {diff.ScopeFilter}", cancellationToken, diff.ScopeParameter))!;
        var gone = await ReadSamplesAsync($"SELECT {asText} FROM {diff.Live} AS t WHERE {diff.ScopeFilter} ORDER BY {diff.AllColumns} LIMIT {SampleRows}", diff.ScopeParameter, old: true);
        return (new PublishCounts(staged, 0, deleted, 0), PreviewSamples.None with { Inserted = inserted, Deleted = gone });

        async Task<IReadOnlyList<SampleRow>> ReadSamplesAsync(string sql, object?[] parameters, bool old)
        {
            var rows = new List<SampleRow>();
            await using var command = Command(connection, sql, parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new SampleRow(
                    new Dictionary<string, string?>(),
                    [.. columns.Select((c, i) => old ? new ColumnChange(c.Name, Text(reader, i), null) : new ColumnChange(c.Name, null, Text(reader, i)))]));
            }

            return rows;
        }
    }

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>A batch row the dry run created is marked, so its cleanup can remove it; a real run's Prepare clears the mark.</summary>
    private static async Task MarkDryRunAsync(NpgsqlConnection connection, string batchId, bool dryRun, CancellationToken cancellationToken)
    {
        if (dryRun)
        {
            await ExecuteAsync(connection, "UPDATE writeback.batches SET dry_run = true WHERE batch_id = $1", cancellationToken, batchId);
        }
    }

    /// <summary>
    /// Under the batch lock, after staging and shard rows are gone: a batch only a dry run has prepared leaves no row (so
    /// no stuck-batch sweep fails it later and the real run starts from nothing); one a real run prepared too stays.
    /// </summary>
    private static async Task ForgetDryRunAsync(NpgsqlConnection connection, string batchId, CancellationToken cancellationToken)
    {
        const string dryOnly = "SELECT 1 FROM writeback.batches WHERE batch_id = $1 AND dry_run AND status IN ('prepared', 'verified', 'failed')";
        await ExecuteAsync(connection, $"DELETE FROM writeback.rejects WHERE batch_id = $1 AND EXISTS ({dryOnly})", cancellationToken, batchId);
        await ExecuteAsync(connection, $"DELETE FROM writeback.batches WHERE batch_id = $1 AND EXISTS ({dryOnly})", cancellationToken, batchId);
    }
}
