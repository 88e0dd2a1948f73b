using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Ledger;
using Writeback.Core.Sql;
using Writeback.Core.Storage;

namespace Writeback.Core.Engine;

/// <summary>
/// The load engine: prepare, load shard, verify, publish, cleanup. Every step is idempotent and safe to run
/// concurrently with itself; the ledger, written in the same transactions as the data, is what makes a repeat a no-op.
/// </summary>
public sealed partial class LoadEngine(NpgsqlDataSource dataSource, TargetCatalog catalog, BatchFiles files)
{
    private readonly SchemaOnce _schemas = new(dataSource);

    public TargetCatalog Catalog { get; } = catalog;

    /// <summary>Reads the manifest and matches it against its target contract before anything is written.</summary>
    public async Task<BatchPlan> PlanAsync(string manifestUri, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(manifestUri))
        {
            throw new InvalidBatchException("field 'manifestUri': must not be empty.");
        }

        var manifest = await files.ReadManifestAsync(manifestUri, cancellationToken);
        var target = ManifestSchema.Resolve(manifest, Catalog.Get(manifest.Dataset, manifest.BatchId));
        string scope;
        if (target.Mode is LoadMode.Replace or LoadMode.Mirror)
        {
            // These modes rewrite the whole table: one ordering scope for the target.
            scope = string.Empty;
        }
        else if (target.Mode == LoadMode.ReplacePartition)
        {
            scope = manifest.Partition
                ?? throw new InvalidBatchException($"batch '{manifest.BatchId}': field 'partition': target {target.Table} is replace_partition on '{target.Partition!.Name}'; the manifest must name the partition value.");
        }
        else
        {
            scope = manifest.Partition ?? string.Empty;
        }

        await EnsureLedgerAsync(cancellationToken);
        return new BatchPlan(manifest, target, Fingerprint(manifest), scope);
    }

    /// <summary>
    /// The batch's content: dataset, partition, schema and every shard's rows, size and sha256. Not where the shards are
    /// (signed URLs change on every delivery), nor when or in which sequence the export ran: re-exporting the same data
    /// under the same batch id is the same batch, while different shard bytes under one batch id are a conflict.
    /// </summary>
    public static string Fingerprint(Manifest manifest) => Digest(manifest, withBatchId: true);

    /// <summary>The batch's data alone (<see cref="Fingerprint"/> without the batch id): equal for two exports of equal content.</summary>
    public static string ContentDigest(Manifest manifest) => Digest(manifest, withBatchId: false);

    private static string Digest(Manifest manifest, bool withBatchId)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"v{manifest.Version}\n{(withBatchId ? manifest.BatchId : string.Empty)}\n{manifest.Dataset}\n{manifest.Partition}\n");
        foreach (var column in manifest.Schema)
        {
            text.Append(CultureInfo.InvariantCulture, $"c {column.Name} {ColumnType.TryParse(column.Type)}\n");
        }

        foreach (var shard in manifest.Shards)
        {
            text.Append(CultureInfo.InvariantCulture, $"s {shard.Rows} {shard.Bytes} {shard.Sha256}\n");
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static void EnsureBatchId(BatchPlan plan, string batchId)
    {
        if (!string.Equals(plan.BatchId, batchId, StringComparison.Ordinal))
        {
            throw new InvalidBatchException($"batch '{batchId}': field 'batchId': the manifest is for batch '{plan.BatchId}'.");
        }
    }

    private static void EnsureSameContent(BatchPlan plan, BatchRow row)
    {
        if (!string.Equals(plan.Fingerprint, row.Fingerprint, StringComparison.Ordinal))
        {
            throw new BatchConflictException(
                $"batch '{plan.BatchId}': this batch id was recorded with different content (fingerprint {row.Fingerprint[..12]}…, now {plan.Fingerprint[..12]}…, status {row.Status.Name()}); a batch id is never reused for other data.");
        }
    }

    private static void EnsureLoadable(BatchRow batch, string describe)
    {
        if (batch.Status is BatchStatus.Skipped or BatchStatus.Failed)
        {
            throw new InvalidBatchException($"{describe}: the batch is {batch.Status.Name()}{(batch.Reason is null ? string.Empty : ": " + batch.Reason)}.");
        }
    }

    private async Task EnsureLedgerAsync(CancellationToken cancellationToken) =>
        await EnsureOnceAsync("ledger", LedgerSchema.Ddl, cancellationToken);

    private Task EnsureOnceAsync(string name, string ddl, CancellationToken cancellationToken) =>
        _schemas.EnsureAsync(name, LedgerSchema.DdlLock, ddl, cancellationToken);

    private static string ShortUri(string uri) => Echo.Location(uri);

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
