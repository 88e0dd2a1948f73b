namespace Writeback.History;

/// <summary>
/// Run history lives in its own schema, <c>writeback_runs</c>, apart from the ledger: the ledger decides what gets
/// applied, history only describes what happened, so purging history can never change a load's outcome.
/// </summary>
public static class RunHistorySchema
{
    public const string Name = "writeback_runs";

    /// <summary>Serialises <see cref="Ddl"/> across writers.</summary>
    public const string DdlLock = "writeback_runs:ddl";

    /// <summary>Idempotent: every writer may run it on start, concurrently too (under <see cref="DdlLock"/>).</summary>
    public const string Ddl = """
        CREATE SCHEMA IF NOT EXISTS writeback_runs;
        CREATE TABLE IF NOT EXISTS writeback_runs.batches (
            batch_id        text PRIMARY KEY,
            dataset         text,
            partition_value text,
            execution_name  text,
            traceparent     text,
            trace_id        text,
            status          text NOT NULL CHECK (status IN ('triggered', 'running', 'applied', 'skipped', 'failed')),
            deliveries      integer NOT NULL DEFAULT 0,
            triggered_at    timestamptz,
            started_at      timestamptz NOT NULL,
            ended_at        timestamptz,
            rows            bigint,
            inserted        bigint,
            updated         bigint,
            deleted         bigint,
            unchanged       bigint,
            error           text,
            cause           text,
            updated_at      timestamptz NOT NULL);
        CREATE INDEX IF NOT EXISTS batches_dataset_started_idx ON writeback_runs.batches (dataset, started_at DESC);
        CREATE TABLE IF NOT EXISTS writeback_runs.steps (
            id          bigserial PRIMARY KEY,
            batch_id    text NOT NULL,
            step        text NOT NULL,
            shard_index integer NOT NULL DEFAULT -1,
            attempt     integer NOT NULL,
            request_id  text,
            status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
            started_at  timestamptz NOT NULL,
            ended_at    timestamptz,
            duration_ms double precision,
            rows        bigint,
            bytes       bigint,
            error       text,
            cause       text,
            trace_id    text,
            UNIQUE (batch_id, step, shard_index, attempt));
        CREATE INDEX IF NOT EXISTS steps_batch_idx ON writeback_runs.steps (batch_id);
        CREATE TABLE IF NOT EXISTS writeback_runs.slo_state (
            dataset       text PRIMARY KEY,
            state         text NOT NULL,
            business_date date,
            batch_id      text,
            changed_at    timestamptz NOT NULL,
            checked_at    timestamptz NOT NULL);
        CREATE TABLE IF NOT EXISTS writeback_runs.alerts (
            id             bigserial PRIMARY KEY,
            dataset        text NOT NULL,
            kind           text NOT NULL,
            state          text NOT NULL,
            previous_state text,
            business_date  date,
            batch_id       text,
            message        text NOT NULL,
            failed_sinks   text,
            raised_at      timestamptz NOT NULL);
        CREATE INDEX IF NOT EXISTS alerts_raised_idx ON writeback_runs.alerts (raised_at);
        -- Rows the batch's load set aside under its target's rejected-rows policy (writeback.rejects has them).
        ALTER TABLE writeback_runs.batches ADD COLUMN IF NOT EXISTS rejected bigint;
        """;
}
