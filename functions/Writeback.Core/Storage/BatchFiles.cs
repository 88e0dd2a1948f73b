using System.Security.Cryptography;
using Writeback.Core.Contracts;

namespace Writeback.Core.Storage;

/// <summary>
/// Reads manifests and shards from where the exporter put them: an https URL (a V4 signed URL in the cloud), a
/// file URI, an absolute path, or (for shards) a path relative to the manifest.
/// </summary>
public sealed class BatchFiles(HttpClient http)
{
    private const int MaxManifestBytes = 16 * 1024 * 1024;

    /// <summary>Fetches and strictly parses a manifest; also returns the raw bytes' location for resolving shards.</summary>
    public async Task<Manifest> ReadManifestAsync(string manifestUri, CancellationToken cancellationToken)
    {
        var location = Resolve(manifestUri, baseUri: null);
        byte[] bytes;
        if (location.IsFile)
        {
            try
            {
                bytes = await File.ReadAllBytesAsync(location.LocalPath, cancellationToken);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new InvalidBatchException($"manifest {manifestUri}: not found.", e);
            }
        }
        else
        {
            using var response = await http.GetAsync(location, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if ((int)response.StatusCode is 404 or 403 or 400 or 410)
            {
                throw new InvalidBatchException($"manifest {Redact(location)}: HTTP {(int)response.StatusCode}.");
            }

            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > MaxManifestBytes)
                {
                    throw new InvalidBatchException($"manifest {Redact(location)}: larger than {MaxManifestBytes} bytes.");
                }

                buffer.Write(chunk, 0, read);
            }

            bytes = buffer.ToArray();
        }

        return ContractReader.ReadManifest(bytes, location.IsFile ? location.LocalPath : Redact(location));
    }

    /// <summary>
    /// Makes one shard available as a local file and checks its size and SHA-256 against the manifest while reading
    /// it once. Downloads stream to a temp file (memory stays bounded whatever the shard size).
    /// </summary>
    public async Task<LocalShard> FetchShardAsync(string manifestUri, ShardEntry shard, string describe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(shard);
        var location = Resolve(shard.Uri, Resolve(manifestUri, baseUri: null));
        string path;
        string? temporary = null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long length = 0;
        var buffer = new byte[1 << 20];
        if (location.IsFile)
        {
            path = location.LocalPath;
            FileStream file;
            try
            {
                file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new InvalidBatchException($"{describe}: shard file not found.", e);
            }

            await using (file)
            {
                int read;
                while ((read = await file.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    length += read;
                }
            }
        }
        else
        {
            temporary = Path.Combine(Path.GetTempPath(), $"writeback-shard-{Guid.NewGuid():N}.parquet");
            path = temporary;
            try
            {
                using var response = await http.GetAsync(location, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if ((int)response.StatusCode is 404 or 403 or 400 or 410)
                {
                    throw new InvalidBatchException($"{describe}: HTTP {(int)response.StatusCode} fetching the shard.");
                }

                response.EnsureSuccessStatusCode();
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                await using var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    length += read;
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }
            catch
            {
                File.Delete(temporary);
                throw;
            }
        }

        var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
        var local = new LocalShard(path, length, sha, temporary);
        if (length != shard.Bytes)
        {
            local.Dispose();
            throw new InvalidBatchException($"{describe}: the shard has {length} bytes, the manifest says {shard.Bytes} (truncated or replaced file).");
        }

        if (!string.Equals(sha, shard.Sha256, StringComparison.Ordinal))
        {
            local.Dispose();
            throw new InvalidBatchException($"{describe}: checksum mismatch: the shard's sha256 is {sha}, the manifest says {shard.Sha256}.");
        }

        return local;
    }

    /// <summary>Resolves a manifest or shard reference to an absolute file or https URI.</summary>
    public static Uri Resolve(string reference, Uri? baseUri)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (Uri.TryCreate(reference, UriKind.Absolute, out var absolute) && absolute.Scheme is "https" or "http" or "file")
        {
            return absolute;
        }

        if (Path.IsPathRooted(reference))
        {
            return new Uri(Path.GetFullPath(reference));
        }

        if (baseUri is null)
        {
            throw new InvalidBatchException($"'{reference}' is neither an https URL, a file URI nor an absolute path.");
        }

        if (reference.Contains("..", StringComparison.Ordinal))
        {
            throw new InvalidBatchException($"shard uri '{reference}': relative references may not leave the manifest's folder.");
        }

        return new Uri(baseUri, reference);
    }

    /// <summary>Signed URLs carry credentials in the query string; never put them in an error message.</summary>
    public static string Redact(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return uri.IsFile ? uri.LocalPath : uri.GetLeftPart(UriPartial.Path);
    }
}

/// <summary>A shard as a local file; a downloaded temp copy is deleted on dispose.</summary>
public sealed class LocalShard(string path, long length, string sha256, string? temporaryPath) : IDisposable
{
    public string Path { get; } = path;

    public long Length { get; } = length;

    public string Sha256 { get; } = sha256;

    public void Dispose()
    {
        if (temporaryPath is not null)
        {
            try
            {
                File.Delete(temporaryPath);
            }
            catch (IOException)
            {
                // A temp file we could not delete is not worth failing the load for.
            }
        }
    }
}
