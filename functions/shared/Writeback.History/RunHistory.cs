using Npgsql;
using NpgsqlTypes;
using Writeback.Core.Sql;
using Writeback.Steps.Contract;
using Writeback.Telemetry;

namespace Writeback.History;

/// <summary>
/// The run history store (schema <c>writeback_runs</c>): the trigger and every step handler write here, the SLO
/// check, <c>status</c> and the report read here. Timestamps come from the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class RunHistory : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly SchemaOnce _schema;

    public RunHistory(string connectionString, TimeProvider? time = null)
        : this(NpgsqlDataSource.Create(connectionString), time, ownsDataSource: true)
    {
    }

    public RunHistory(NpgsqlDataSource dataSource, TimeProvider? time = null)
        : this(dataSource, time, ownsDataSource: false)
    {
    }

    private RunHistory(NpgsqlDataSource dataSource, TimeProvider? time, bool ownsDataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _schema = new SchemaOnce(dataSource);
        Time = time ?? TimeProvider.System;
    }

    public TimeProvider Time { get; }

    internal NpgsqlDataSource DataSource => _dataSource;

    /// <summary>Creates the schema once per instance; a failed attempt is retried by the next caller.</summary>
    public Task EnsureSchemaAsync(CancellationToken cancellationToken = default) =>
        _schema.EnsureAsync(RunHistorySchema.Name, RunHistorySchema.DdlLock, RunHistorySchema.Ddl, cancellationToken);

    /// <summary>
    /// The trigger saw a batch-ready event and asked for an execution. Every delivery counts; the first one fixes when
    /// the batch arrived. <paramref name="outcome"/> is the start's outcome (Started, AlreadyRunning, AlreadyExists).
    /// </summary>
    public async Task RecordTriggeredAsync(string batchId, string? dataset, string? partition, string executionName, string? traceparent, string outcome, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(batchId);
        _ = outcome;
        await EnsureSchemaAsync(cancellationToken);
        var now = Now();
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO writeback_runs.batches (batch_id, dataset, partition_value, execution_name, traceparent, trace_id, status, deliveries, triggered_at, started_at, updated_at)
            VALUES (@batch, @dataset, @partition, @execution, @traceparent, @trace, 'triggered', 1, @now, @now, @now)
            ON CONFLICT (batch_id) DO UPDATE SET
                dataset = coalesce(batches.dataset, EXCLUDED.dataset),
                partition_value = coalesce(batches.partition_value, EXCLUDED.partition_value),
                execution_name = coalesce(batches.execution_name, EXCLUDED.execution_name),
                traceparent = coalesce(batches.traceparent, EXCLUDED.traceparent),
                trace_id = coalesce(batches.trace_id, EXCLUDED.trace_id),
                triggered_at = coalesce(batches.triggered_at, EXCLUDED.triggered_at),
                started_at = least(batches.started_at, EXCLUDED.started_at),
                deliveries = batches.deliveries + 1,
                updated_at = EXCLUDED.updated_at
            """);
        command.Parameters.Add(Text("batch", batchId));
        command.Parameters.Add(Text("dataset", dataset));
        command.Parameters.Add(Text("partition", partition));
        command.Parameters.Add(Text("execution", executionName));
        command.Parameters.Add(Text("traceparent", traceparent));
        command.Parameters.Add(Text("trace", Traceparent.TraceId(traceparent)));
        command.Parameters.Add(Timestamp("now", now));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Records a step attempt's start (and the batch as running); returns the attempt to end later.</summary>
    public async Task<StepHandle> StepStartedAsync(StepStart start, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(start);
        await EnsureSchemaAsync(cancellationToken);
        var now = Now();
        // Prepare starting again after a failure is a new run of the batch (a redelivery after the failed execution).
        var restart = start.Step == StepNames.Prepare;
        for (var conflict = 0; ; conflict++)
        {
            try
            {
                await using var batch = _dataSource.CreateBatch();
                var upsert = new NpgsqlBatchCommand("""
                    INSERT INTO writeback_runs.batches (batch_id, dataset, traceparent, trace_id, status, started_at, updated_at)
                    VALUES (@batch, @dataset, @traceparent, @trace, 'running', @now, @now)
                    ON CONFLICT (batch_id) DO UPDATE SET
                        dataset = coalesce(EXCLUDED.dataset, batches.dataset),
                        traceparent = coalesce(batches.traceparent, EXCLUDED.traceparent),
                        trace_id = coalesce(batches.trace_id, EXCLUDED.trace_id),
                        status = CASE WHEN batches.status = 'triggered' OR (@restart AND batches.status = 'failed') THEN 'running' ELSE batches.status END,
                        ended_at = CASE WHEN @restart AND batches.status = 'failed' THEN NULL ELSE batches.ended_at END,
                        error = CASE WHEN @restart AND batches.status = 'failed' THEN NULL ELSE batches.error END,
                        cause = CASE WHEN @restart AND batches.status = 'failed' THEN NULL ELSE batches.cause END,
                        updated_at = EXCLUDED.updated_at
                    RETURNING traceparent
                    """);
                upsert.Parameters.Add(Text("batch", start.BatchId));
                upsert.Parameters.Add(Text("dataset", start.Dataset));
                upsert.Parameters.Add(Text("traceparent", start.Traceparent));
                upsert.Parameters.Add(Text("trace", Traceparent.TraceId(start.Traceparent)));
                upsert.Parameters.Add(Timestamp("now", now));
                upsert.Parameters.Add(new NpgsqlParameter<bool>("restart", restart));
                batch.BatchCommands.Add(upsert);

                var step = new NpgsqlBatchCommand("""
                    INSERT INTO writeback_runs.steps (batch_id, step, shard_index, attempt, request_id, status, started_at, trace_id)
                    SELECT @batch, @step, @shard, coalesce(max(attempt), 0) + 1, @request, 'running', @now,
                           (SELECT trace_id FROM writeback_runs.batches WHERE batch_id = @batch)
                    FROM writeback_runs.steps WHERE batch_id = @batch AND step = @step AND shard_index = @shard
                    RETURNING id, attempt
                    """);
                step.Parameters.Add(Text("batch", start.BatchId));
                step.Parameters.Add(Text("step", start.Step));
                step.Parameters.Add(new NpgsqlParameter<int>("shard", start.ShardIndex));
                step.Parameters.Add(Text("request", start.RequestId));
                step.Parameters.Add(Timestamp("now", now));
                batch.BatchCommands.Add(step);

                await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                var traceparent = reader.IsDBNull(0) ? null : reader.GetString(0);
                await reader.NextResultAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                return new StepHandle(reader.GetInt64(0), reader.GetInt32(1), traceparent);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && conflict < 5)
            {
                // Two attempts of the same step started at once and picked the same attempt number: count again.
            }
        }
    }

    public async Task StepEndedAsync(StepHandle handle, StepEnd end, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(end);
        var now = Now();
        await using var command = _dataSource.CreateCommand("""
            UPDATE writeback_runs.steps
            SET status = @status, ended_at = @now, duration_ms = @duration, rows = @rows, bytes = @bytes, error = @error, cause = @cause
            WHERE id = @id
            """);
        command.Parameters.Add(new NpgsqlParameter<long>("id", handle.Id));
        command.Parameters.Add(Text("status", end.Succeeded ? StepStatus.Succeeded : StepStatus.Failed));
        command.Parameters.Add(Timestamp("now", now));
        command.Parameters.Add(new NpgsqlParameter<double>("duration", end.Duration.TotalMilliseconds));
        command.Parameters.Add(Bigint("rows", end.Rows));
        command.Parameters.Add(Bigint("bytes", end.Bytes));
        command.Parameters.Add(Text("error", end.Error));
        command.Parameters.Add(Text("cause", Truncate(end.Cause)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task UpdateBatchAsync(BatchUpdate update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        await EnsureSchemaAsync(cancellationToken);
        var now = Now();
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO writeback_runs.batches (batch_id, dataset, partition_value, traceparent, trace_id, status, started_at, ended_at, rows,
                                                inserted, updated, deleted, unchanged, rejected, error, cause, updated_at)
            VALUES (@batch, @dataset, @partition, @traceparent, @trace, coalesce(@status, 'running'), @now, CASE WHEN @ended THEN @now END, @rows,
                    @inserted, @updated, @deleted, @unchanged, @rejected, @error, @cause, @now)
            ON CONFLICT (batch_id) DO UPDATE SET
                status = coalesce(EXCLUDED.status, batches.status),
                dataset = coalesce(EXCLUDED.dataset, batches.dataset),
                partition_value = coalesce(EXCLUDED.partition_value, batches.partition_value),
                traceparent = coalesce(batches.traceparent, EXCLUDED.traceparent),
                trace_id = coalesce(batches.trace_id, EXCLUDED.trace_id),
                ended_at = CASE WHEN @ended THEN @now ELSE batches.ended_at END,
                rows = coalesce(EXCLUDED.rows, batches.rows),
                inserted = coalesce(EXCLUDED.inserted, batches.inserted),
                updated = coalesce(EXCLUDED.updated, batches.updated),
                deleted = coalesce(EXCLUDED.deleted, batches.deleted),
                unchanged = coalesce(EXCLUDED.unchanged, batches.unchanged),
                rejected = coalesce(EXCLUDED.rejected, batches.rejected),
                error = coalesce(EXCLUDED.error, batches.error),
                cause = coalesce(EXCLUDED.cause, batches.cause),
                updated_at = EXCLUDED.updated_at
            """);
        command.Parameters.Add(Text("batch", update.BatchId));
        command.Parameters.Add(Text("status", update.Status));
        command.Parameters.Add(Text("dataset", update.Dataset));
        command.Parameters.Add(Text("partition", update.Partition));
        command.Parameters.Add(Text("traceparent", update.Traceparent));
        command.Parameters.Add(Text("trace", Traceparent.TraceId(update.Traceparent)));
        command.Parameters.Add(new NpgsqlParameter<bool>("ended", update.Ended));
        command.Parameters.Add(Timestamp("now", now));
        command.Parameters.Add(Bigint("rows", update.Rows));
        command.Parameters.Add(Bigint("inserted", update.Inserted));
        command.Parameters.Add(Bigint("updated", update.Updated));
        command.Parameters.Add(Bigint("deleted", update.Deleted));
        command.Parameters.Add(Bigint("unchanged", update.Unchanged));
        command.Parameters.Add(Bigint("rejected", update.Rejected));
        command.Parameters.Add(Text("error", update.Error));
        command.Parameters.Add(Text("cause", Truncate(update.Cause)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Copies the batch's partition from the ledger (<c>writeback.batches</c>) when the ledger exists.</summary>
    public async Task CopyPartitionFromLedgerAsync(string batchId, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('writeback.batches') IS NOT NULL", connection))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return;
            }
        }

        await using var command = new NpgsqlCommand("""
            UPDATE writeback_runs.batches r SET partition_value = l.partition_value
            FROM writeback.batches l
            WHERE r.batch_id = @batch AND l.batch_id = @batch AND r.partition_value IS DISTINCT FROM l.partition_value
            """, connection);
        command.Parameters.Add(Text("batch", batchId));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The newest <paramref name="perDataset"/> batches of each dataset (or of one), newest first.</summary>
    public Task<IReadOnlyList<BatchRun>> RecentBatchesAsync(int perDataset, string? dataset = null, CancellationToken cancellationToken = default) =>
        BatchesAsync(perDataset, dataset, null, cancellationToken);

    /// <summary>One batch, or null when history has not seen it.</summary>
    public async Task<BatchRun?> FindBatchAsync(string batchId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        return (await BatchesAsync(1, null, batchId, cancellationToken)).SingleOrDefault();
    }

    private async Task<IReadOnlyList<BatchRun>> BatchesAsync(int perDataset, string? dataset, string? batchId, CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand("""
            SELECT b.batch_id, b.dataset, b.partition_value, b.execution_name, b.traceparent, b.trace_id, b.status, b.deliveries,
                   b.triggered_at, b.started_at, b.ended_at, b.rows,
                   (SELECT sum(s.bytes) FROM writeback_runs.steps s WHERE s.batch_id = b.batch_id AND s.step = 'writeback-load-shard' AND s.status = 'succeeded')::bigint,
                   b.inserted, b.updated, b.deleted, b.unchanged,
                   (SELECT coalesce(sum(a.attempts - 1), 0) FROM (SELECT max(s.attempt) AS attempts FROM writeback_runs.steps s
                        WHERE s.batch_id = b.batch_id GROUP BY s.step, s.shard_index) a)::bigint,
                   b.error, b.cause, b.rejected
            FROM (SELECT *, row_number() OVER (PARTITION BY dataset ORDER BY started_at DESC, batch_id DESC) AS n
                  FROM writeback_runs.batches WHERE (@dataset::text IS NULL OR dataset = @dataset) AND (@batch::text IS NULL OR batch_id = @batch)) b
            WHERE b.n <= @limit
            ORDER BY b.dataset NULLS LAST, b.started_at DESC, b.batch_id DESC
            """);
        command.Parameters.Add(Text("dataset", dataset));
        command.Parameters.Add(Text("batch", batchId));
        command.Parameters.Add(new NpgsqlParameter<int>("limit", Math.Max(1, perDataset)));
        var runs = new List<BatchRun>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(new BatchRun
            {
                BatchId = reader.GetString(0),
                Dataset = NullableString(reader, 1),
                Partition = NullableString(reader, 2),
                ExecutionName = NullableString(reader, 3),
                Traceparent = NullableString(reader, 4),
                TraceId = NullableString(reader, 5),
                Status = reader.GetString(6),
                Deliveries = reader.GetInt32(7),
                TriggeredAt = NullableTime(reader, 8),
                StartedAt = reader.GetFieldValue<DateTimeOffset>(9),
                EndedAt = NullableTime(reader, 10),
                Rows = NullableLong(reader, 11),
                Bytes = NullableLong(reader, 12),
                Inserted = NullableLong(reader, 13),
                Updated = NullableLong(reader, 14),
                Deleted = NullableLong(reader, 15),
                Unchanged = NullableLong(reader, 16),
                Retries = (int)reader.GetInt64(17),
                Error = NullableString(reader, 18),
                Cause = NullableString(reader, 19),
                Rejected = NullableLong(reader, 20),
            });
        }

        return runs;
    }

    /// <summary>Every recorded step attempt of these batches, in the order they started.</summary>
    public async Task<IReadOnlyList<StepRun>> StepsAsync(IReadOnlyCollection<string> batchIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batchIds);
        if (batchIds.Count == 0)
        {
            return [];
        }

        await EnsureSchemaAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand("""
            SELECT batch_id, step, shard_index, attempt, status, started_at, ended_at, duration_ms, rows, bytes, error, cause, trace_id
            FROM writeback_runs.steps WHERE batch_id = ANY(@batches)
            ORDER BY batch_id, started_at, step, shard_index, attempt
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]>("batches", [.. batchIds]));
        var steps = new List<StepRun>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            steps.Add(new StepRun
            {
                BatchId = reader.GetString(0),
                Step = reader.GetString(1),
                ShardIndex = reader.GetInt32(2),
                Attempt = reader.GetInt32(3),
                Status = reader.GetString(4),
                StartedAt = reader.GetFieldValue<DateTimeOffset>(5),
                EndedAt = NullableTime(reader, 6),
                DurationMs = reader.IsDBNull(7) ? null : reader.GetDouble(7),
                Rows = NullableLong(reader, 8),
                Bytes = NullableLong(reader, 9),
                Error = NullableString(reader, 10),
                Cause = NullableString(reader, 11),
                TraceId = NullableString(reader, 12),
            });
        }

        return steps;
    }

    /// <summary>
    /// Each step's typical wall time (first start to last end, retries and all shards included): the median over the
    /// dataset's last <paramref name="runs"/> applied batches that went through publish.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, TimeSpan>> TypicalDurationsAsync(string dataset, int runs, CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken);
        await using var command = _dataSource.CreateCommand("""
            WITH recent AS (
                SELECT b.batch_id FROM writeback_runs.batches b
                WHERE b.dataset = @dataset AND b.status = 'applied' AND b.ended_at IS NOT NULL
                  AND EXISTS (SELECT 1 FROM writeback_runs.steps p WHERE p.batch_id = b.batch_id AND p.step = 'writeback-publish' AND p.status = 'succeeded')
                ORDER BY b.ended_at DESC LIMIT @runs),
            phase AS (
                SELECT s.batch_id, s.step, extract(epoch FROM max(s.ended_at) - min(s.started_at)) * 1000 AS ms
                FROM writeback_runs.steps s JOIN recent r ON r.batch_id = s.batch_id
                GROUP BY s.batch_id, s.step
                HAVING bool_and(s.ended_at IS NOT NULL) AND bool_or(s.status = 'succeeded'))
            SELECT step, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::double precision FROM phase GROUP BY step
            """);
        command.Parameters.Add(Text("dataset", dataset));
        command.Parameters.Add(new NpgsqlParameter<int>("runs", Math.Max(1, runs)));
        var typical = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            typical[reader.GetString(0)] = TimeSpan.FromMilliseconds(reader.GetDouble(1));
        }

        return typical;
    }

    /// <summary>Deletes batches (with their steps) and alerts last touched before now − retention; returns the batches deleted.</summary>
    public async Task<int> PurgeAsync(TimeSpan retention, CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken);
        var cutoff = Now() - retention;
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            WITH old AS (
                DELETE FROM writeback_runs.batches WHERE coalesce(ended_at, updated_at) < @cutoff RETURNING batch_id),
            steps AS (
                DELETE FROM writeback_runs.steps s USING old WHERE s.batch_id = old.batch_id)
            SELECT count(*) FROM old
            """, connection, transaction);
        command.Parameters.Add(Timestamp("cutoff", cutoff));
        var deleted = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        await using (var alerts = new NpgsqlCommand("DELETE FROM writeback_runs.alerts WHERE raised_at < @cutoff", connection, transaction))
        {
            alerts.Parameters.Add(Timestamp("cutoff", cutoff));
            await alerts.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync();
        }
    }

    internal DateTimeOffset Now() => Time.GetUtcNow().ToUniversalTime();

    internal static NpgsqlParameter Text(string name, string? value) =>
        new(name, NpgsqlDbType.Text) { Value = (object?)value ?? DBNull.Value };

    internal static NpgsqlParameter Bigint(string name, long? value) =>
        new(name, NpgsqlDbType.Bigint) { Value = value is { } v ? v : DBNull.Value };

    internal static NpgsqlParameter Timestamp(string name, DateTimeOffset value) =>
        new(name, NpgsqlDbType.TimestampTz) { Value = value.ToUniversalTime() };

    internal static string? NullableString(NpgsqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    internal static long? NullableLong(NpgsqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetInt64(i);

    internal static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetFieldValue<DateTimeOffset>(i);

    /// <summary>Causes can carry whole stack traces; history keeps enough to act on.</summary>
    private static string? Truncate(string? text) => text is { Length: > 4000 } ? text[..4000] + "…" : text;
}
