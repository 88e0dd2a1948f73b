namespace Writeback.StepFunctions.Local.Journal;

public sealed partial class PostgresJournal
{
    /// <summary>
    /// Idempotent, serialised by an advisory lock so that two processes opening one database cannot race on it.
    /// Plain (logged) tables: a PostgreSQL crash must not take executions with it. Details and checkpoints are json,
    /// not jsonb, so that events read back exactly as they were written.
    /// </summary>
    private const string Schema = """
        SELECT pg_advisory_xact_lock(hashtextextended('writeback_sfn:ddl', 0));
        CREATE SCHEMA IF NOT EXISTS writeback_sfn;
        CREATE TABLE IF NOT EXISTS writeback_sfn.state_machines (
            arn text PRIMARY KEY,
            name text NOT NULL,
            definition text NOT NULL,
            role_arn text NOT NULL,
            created timestamptz NOT NULL,
            updated timestamptz);
        CREATE TABLE IF NOT EXISTS writeback_sfn.definitions (
            sha256 text PRIMARY KEY,
            definition text NOT NULL);
        CREATE TABLE IF NOT EXISTS writeback_sfn.executions (
            arn text PRIMARY KEY,
            name text NOT NULL,
            state_machine_arn text NOT NULL,
            state_machine_name text NOT NULL,
            definition_sha256 text NOT NULL REFERENCES writeback_sfn.definitions,
            input text NOT NULL,
            start_date timestamptz NOT NULL,
            sequence bigint NOT NULL,
            status text NOT NULL DEFAULT 'RUNNING',
            output text,
            error text,
            cause text,
            stop_date timestamptz,
            redrive_count integer NOT NULL DEFAULT 0,
            redrive_date timestamptz,
            checkpoint json);
        CREATE TABLE IF NOT EXISTS writeback_sfn.events (
            execution_arn text NOT NULL REFERENCES writeback_sfn.executions ON DELETE CASCADE,
            id bigint NOT NULL,
            previous_event_id bigint NOT NULL,
            timestamp timestamptz NOT NULL,
            type text NOT NULL,
            details json,
            PRIMARY KEY (execution_arn, id));
        """;
}
