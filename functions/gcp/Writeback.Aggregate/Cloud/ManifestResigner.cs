using System.Globalization;
using System.Text.Json;
using Writeback.Aggregate.Export;
using Writeback.Core;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;

namespace Writeback.Aggregate.Cloud;

/// <summary>What a re-signing wrote: the copy's object, and its signed URL to paste as <c>manifestUri</c>.</summary>
public sealed record ResignedManifest(string BatchId, string Source, string Copy, string ManifestUri, DateTimeOffset ExpiresAt, int Shards);

/// <summary>
/// Re-signs an exported batch's manifest, so a rollback can read a batch older than the signed URLs' lifetime but still
/// inside the bucket's retention. The copy is the same manifest — batch id, sequence, schema, every shard's rows, size
/// and sha256 — with fresh shard URLs, so Prepare's fingerprint (which leaves out where the shards are) knows it as the
/// batch the ledger recorded. Only objects of the configured bucket under the configured prefix are read or signed.
/// </summary>
public sealed class ManifestResigner(GcsClient storage, IObjectUrlSigner signer, CloudExportOptions options, TimeProvider? timeProvider = null)
{
    /// <summary>Beside the export's <c>manifest.json</c>; written again by each re-signing (the content never changes).</summary>
    public const string CopyName = "manifest.resigned.json";

    private const string ManifestName = "manifest.json";
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    private string Root => options.Prefix.Trim('/') + "/";

    /// <summary>Re-signs <c>gs://{bucket}/{prefix}/…/manifest.json</c> (or an earlier copy).</summary>
    public async Task<ResignedManifest> ResignAsync(string gsPath, CancellationToken cancellationToken)
    {
        var objectName = ObjectNameOf(gsPath);
        var folder = objectName[..(objectName.LastIndexOf('/') + 1)];
        var manifest = await ReadAsync(objectName, cancellationToken);
        var retained = (await storage.ListAsync(options.Bucket, folder, cancellationToken)).Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var names = manifest.Shards.Select(s => ShardObjectName(s.Uri, folder)).ToList();
        var missing = names.Where(n => !retained.Contains(n)).ToList();
        if (missing.Count > 0)
        {
            throw new AggregateInputException(
                $"batch '{manifest.BatchId}': no longer retained: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", …" : string.Empty)}; it cannot be rolled back to ({LoadEngine.RetentionHint}).");
        }

        var shards = new List<ShardEntry>(names.Count);
        foreach (var (shard, name) in manifest.Shards.Zip(names))
        {
            shards.Add(shard with { Uri = await signer.SignGetAsync(options.Bucket, name, options.SignedUrlLifetime, cancellationToken) });
        }

        var copy = folder + CopyName;
        var expiresAt = _time.GetUtcNow() + options.SignedUrlLifetime;
        await storage.UploadAsync(options.Bucket, copy, JsonSerializer.SerializeToUtf8Bytes(manifest with { Shards = shards }, ContractJson.Default.Manifest), "application/json", cancellationToken);
        var uri = await signer.SignGetAsync(options.Bucket, copy, options.SignedUrlLifetime, cancellationToken);
        return new ResignedManifest(manifest.BatchId, $"gs://{options.Bucket}/{objectName}", $"gs://{options.Bucket}/{copy}", uri, expiresAt, shards.Count);
    }

    /// <summary>Finds the export of <paramref name="batchId"/> among the date's runs and re-signs its manifest.</summary>
    public async Task<ResignedManifest> ResignAsync(string dataset, DateOnly businessDate, string batchId, CancellationToken cancellationToken)
    {
        var day = $"{Root}{dataset}/{BatchIdentity.Partition(businessDate)}/";
        var manifests = (await storage.ListAsync(options.Bucket, day, cancellationToken))
            .Select(o => o.Name)
            .Where(n => n.EndsWith("/" + ManifestName, StringComparison.Ordinal))
            .ToList();
        var seen = new List<string>(manifests.Count);
        foreach (var name in manifests)
        {
            var manifest = await ReadAsync(name, cancellationToken);
            if (manifest.BatchId == batchId)
            {
                return await ResignAsync($"gs://{options.Bucket}/{name}", cancellationToken);
            }

            seen.Add(manifest.BatchId);
        }

        throw new AggregateInputException(
            $"no manifest of batch '{batchId}' under gs://{options.Bucket}/{day} (retained there: {(seen.Count == 0 ? "none" : string.Join(", ", seen))}); check the batch id (./writeback status, or the ledger) or whether it is older than the retention ({LoadEngine.RetentionHint}).");
    }

    private async Task<Manifest> ReadAsync(string objectName, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await storage.ReadAsync(options.Bucket, objectName, cancellationToken);
        }
        catch (GoogleApiException e) when (e.StatusCode == 404)
        {
            throw new AggregateInputException($"gs://{options.Bucket}/{objectName} does not exist (any more: {LoadEngine.RetentionHint}).", e);
        }

        try
        {
            return ContractReader.ReadManifest(bytes, $"gs://{options.Bucket}/{objectName}");
        }
        catch (InvalidBatchException e)
        {
            throw new AggregateInputException(e.Message, e);
        }
    }

    /// <summary>The object name of a gs:// path inside the configured bucket and prefix; anything else is refused.</summary>
    private string ObjectNameOf(string gsPath)
    {
        var bucketRoot = $"gs://{options.Bucket}/";
        var name = gsPath.StartsWith(bucketRoot, StringComparison.Ordinal) ? gsPath[bucketRoot.Length..] : null;
        if (name is null || !name.StartsWith(Root, StringComparison.Ordinal) || name.Split('/').Any(s => s is "" or "." or "..") || name.Any(char.IsControl)
            || !(name.EndsWith("/" + ManifestName, StringComparison.Ordinal) || name.EndsWith("/" + CopyName, StringComparison.Ordinal)))
        {
            throw new AggregateInputException(
                $"\"manifest\" must be a batch's manifest in this function's bucket, like {bucketRoot}{Root}<dataset>/<yyyy-MM-dd>/<run>/{ManifestName}; other buckets and paths are not signed.");
        }

        return name;
    }

    /// <summary>A shard's object name from its signed URL (path style, as the exporter signs), which must lie in the manifest's folder.</summary>
    private string ShardObjectName(string uri, string folder)
    {
        var bucketPath = $"/{options.Bucket}/";
        var path = Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.Scheme == Uri.UriSchemeHttps ? Uri.UnescapeDataString(parsed.AbsolutePath) : null;
        var name = path is not null && path.StartsWith(bucketPath, StringComparison.Ordinal) ? path[bucketPath.Length..] : null;
        if (name is null || !name.StartsWith(folder, StringComparison.Ordinal) || name[folder.Length..].Contains('/', StringComparison.Ordinal))
        {
            throw new AggregateInputException(
                string.Create(CultureInfo.InvariantCulture, $"the manifest in gs://{options.Bucket}/{folder} lists a shard outside its folder ({(parsed is null ? "not a URL" : parsed.GetLeftPart(UriPartial.Path))}); only the export's own shards are re-signed."));
        }

        return name;
    }
}
