using System.Security.Cryptography;
using System.Text;
using Writeback.Core.Sql;

namespace Writeback.Core.Ledger;

/// <summary>
/// The ledger (schema <c>writeback</c>): what each batch and shard did, and the newest applied sequence per target
/// and partition. Staging tables live in <c>writeback_staging</c>, one per batch, named from a hash of the batch id.
/// </summary>
public static class LedgerSchema
{
    public const string StagingSchema = "writeback_staging";

    public const string Ddl = """
        CREATE SCHEMA IF NOT EXISTS writeback;
        CREATE SCHEMA IF NOT EXISTS writeback_staging;
        CREATE TABLE IF NOT EXISTS writeback.batches (
            batch_id        text PRIMARY KEY,
            dataset         text NOT NULL,
            target          text NOT NULL,
            partition_value text NOT NULL,
            sequence        bigint NOT NULL,
            fingerprint     text NOT NULL,
            shard_count     integer NOT NULL,
            total_rows      bigint NOT NULL,
            status          text NOT NULL CHECK (status IN ('prepared', 'verified', 'applied', 'skipped', 'failed')),
            reason          text,
            inserted        bigint,
            updated         bigint,
            deleted         bigint,
            unchanged       bigint,
            traceparent     text,
            error           text,
            prepared_at     timestamptz NOT NULL DEFAULT now(),
            verified_at     timestamptz,
            applied_at      timestamptz,
            failed_at       timestamptz);
        -- The data alone, without the batch id: a re-run with the content already applied is recognised (added after
        -- the first release, hence ALTER; null for batches recorded before it, which then simply load).
        ALTER TABLE writeback.batches ADD COLUMN IF NOT EXISTS content_digest text;
        CREATE INDEX IF NOT EXISTS batches_target_idx ON writeback.batches (target, partition_value, sequence);
        CREATE TABLE IF NOT EXISTS writeback.shards (
            batch_id    text NOT NULL REFERENCES writeback.batches (batch_id),
            shard_index integer NOT NULL,
            rows        bigint NOT NULL,
            bytes       bigint NOT NULL,
            sha256      text NOT NULL,
            loaded_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (batch_id, shard_index));
        CREATE TABLE IF NOT EXISTS writeback.watermarks (
            target          text NOT NULL,
            partition_value text NOT NULL,
            batch_id        text NOT NULL,
            sequence        bigint NOT NULL,
            applied_at      timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (target, partition_value));
        -- An operator's rollback: batch_id is re-applied over replaces, the batch its partition held when it was asked
        -- for, overriding the ordering rule that once (see LoadEngine.Rollback.cs). alerted_at: the SLO check's alert.
        CREATE TABLE IF NOT EXISTS writeback.rollbacks (
            batch_id        text NOT NULL REFERENCES writeback.batches (batch_id),
            replaces        text NOT NULL,
            target          text NOT NULL,
            partition_value text NOT NULL,
            requested_by    text NOT NULL,
            reason          text NOT NULL,
            status          text NOT NULL CHECK (status IN ('requested', 'applied')),
            requested_at    timestamptz NOT NULL DEFAULT now(),
            applied_at      timestamptz,
            alerted_at      timestamptz,
            PRIMARY KEY (batch_id, replaces));
        CREATE UNLOGGED TABLE IF NOT EXISTS writeback_staging.intact (
            batch_id   text PRIMARY KEY,
            created_at timestamptz NOT NULL DEFAULT now());
        -- A batch row a dry run created (no real run prepared it since): the dry run's cleanup removes it again.
        ALTER TABLE writeback.batches ADD COLUMN IF NOT EXISTS dry_run boolean NOT NULL DEFAULT false;
        -- Rows a shard's load set aside under the target's rejected-rows policy; rows counts only what was staged.
        ALTER TABLE writeback.shards ADD COLUMN IF NOT EXISTS rejected bigint NOT NULL DEFAULT 0;
        -- One row per rejected row, keyed by where it is, so a shard loaded again cannot record its rejects twice.
        -- value only when the target opts in (keepRejectedValues); otherwise the reason names no value.
        CREATE TABLE IF NOT EXISTS writeback.rejects (
            batch_id    text NOT NULL REFERENCES writeback.batches (batch_id),
            shard_index integer NOT NULL,
            row_number  bigint NOT NULL,
            column_name text NOT NULL,
            reason      text NOT NULL,
            value       text,
            rejected_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (batch_id, shard_index, row_number));
        """;

    /// <summary>
    /// One row per batch whose staging table holds what the shard ledger says it holds. Unlogged like the staging
    /// tables, so crash recovery (a killed backend, an immediate shutdown, a failover) empties it together with them:
    /// a batch without its row here has lost its staged rows, however many shards the (logged) ledger lists.
    /// </summary>
    public const string IntactTable = "writeback_staging.intact";

    /// <summary><c>writeback_staging."b_…"</c>: a hash keeps any batch id a short, safe identifier.</summary>
    public static string StagingTable(string batchId) =>
        StagingSchema + "." + Identifiers.Quote(StagingName(batchId));

    public static string StagingName(string batchId)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        return "b_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(batchId)))[..40];
    }

    /// <summary>The unique index Verify builds on a staging table's key (unqualified: it lives in the table's schema).</summary>
    public static string StagingKeyIndexName(string batchId) => StagingName(batchId) + "_key";

    /// <summary>Advisory lock keys are text hashed by the server (<c>hashtextextended</c>), namespaced by purpose.</summary>
    public static string BatchLock(string batchId) => "writeback:batch:" + batchId;

    public static string ShardLock(string batchId, int shardIndex) => FormattableString.Invariant($"writeback:shard:{batchId}:{shardIndex}");

    public static string TargetLock(string table) => "writeback:target:" + table;

    public const string DdlLock = "writeback:ddl";
}
