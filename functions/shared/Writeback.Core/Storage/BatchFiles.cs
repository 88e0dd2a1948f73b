using System.Net;
using System.Security.Cryptography;
using Writeback.Core.Contracts;

namespace Writeback.Core.Storage;

/// <summary>
/// Reads manifests and shards from where the exporter put them, and only from where <see cref="SourcePolicy"/> trusts:
/// every reference is checked before anything is fetched, and every read is bounded (a manifest by its cap, a shard by
/// the size its manifest declares), so an endless source fails fast instead of filling memory or disk.
/// </summary>
public sealed partial class BatchFiles(HttpClient http, SourcePolicy sources)
{
    private const int ChunkBytes = 1 << 20;

    public SourcePolicy Sources => sources;

    /// <summary>
    /// An HttpClient for storage reads: redirects are not followed, because a trusted URL that redirects would lead to an
    /// untrusted one that was never checked.
    /// </summary>
    public static HttpClient CreateHttpClient(TimeSpan timeout) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = timeout };

    /// <summary>Fetches and strictly parses a manifest, and checks that every shard it lists is trusted and beside it.</summary>
    public async Task<Manifest> ReadManifestAsync(string manifestUri, CancellationToken cancellationToken)
    {
        var location = sources.Manifest(manifestUri);
        var describe = $"manifest {location.Describe}";
        using var buffer = new MemoryStream();
        // One byte more than the cap, to tell "exactly at the cap" from "over it".
        await ReadAsync(location, buffer, sources.MaxManifestBytes + 1L, describe, cancellationToken);
        if (buffer.Length > sources.MaxManifestBytes)
        {
            throw new InvalidBatchException($"{describe}: larger than {sources.MaxManifestBytes} bytes; manifests are bounded.");
        }

        var manifest = ContractReader.ReadManifest(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), location.Describe);
        if (manifest.Shards.Count > sources.MaxShards)
        {
            throw new InvalidBatchException($"{describe}: field 'shards': lists {manifest.Shards.Count} shards; at most {sources.MaxShards} are accepted.");
        }

        for (var i = 0; i < manifest.Shards.Count; i++)
        {
            if (!sources.TryShard(location, manifest.Shards[i].Uri, out _, out var problem))
            {
                throw new InvalidBatchException($"{describe}: field 'shards[{i}].uri': {Echo.Location(manifest.Shards[i].Uri)} {problem}.");
            }
        }

        return manifest;
    }

    /// <summary>
    /// Makes one shard available as a local file and checks its size and SHA-256 against the manifest while reading
    /// it once. Downloads stream to a temp file (memory stays bounded whatever the shard size); no more than one byte
    /// past the declared size is ever read.
    /// </summary>
    public async Task<LocalShard> FetchShardAsync(string manifestUri, ShardEntry shard, string describe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(shard);
        var location = sources.Shard(sources.Manifest(manifestUri), shard.Uri, describe);
        var limit = shard.Bytes + 1;
        string path;
        string? temporary = null;
        using var hash = new HashingStream();
        if (location.IsFile)
        {
            path = location.LocalPath;
            await ReadAsync(location, hash, limit, describe, cancellationToken);
        }
        else
        {
            temporary = Path.Combine(Path.GetTempPath(), $"writeback-shard-{Guid.NewGuid():N}.parquet");
            path = temporary;
            try
            {
                await using var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                hash.Copy = file;
                await ReadAsync(location, hash, limit, describe, cancellationToken);
            }
            catch
            {
                File.Delete(temporary);
                throw;
            }
        }

        var sha = hash.Sha256();
        var local = new LocalShard(path, hash.Length, sha, temporary);
        if (hash.Length != shard.Bytes)
        {
            local.Dispose();
            var size = hash.Length > shard.Bytes ? "more than" : $"{hash.Length}, not";
            throw new InvalidBatchException($"{describe}: the shard has {size} the {shard.Bytes} bytes the manifest says (truncated or replaced file).");
        }

        if (!string.Equals(sha, shard.Sha256, StringComparison.Ordinal))
        {
            local.Dispose();
            throw new InvalidBatchException($"{describe}: checksum mismatch: the shard's sha256 is {sha}, the manifest says {shard.Sha256}.");
        }

        return local;
    }

    /// <summary>Copies at most <paramref name="limit"/> bytes of the source into <paramref name="into"/>.</summary>
    private async Task ReadAsync(SourceLocation location, Stream into, long limit, string describe, CancellationToken cancellationToken)
    {
        if (location.IsFile)
        {
            FileStream file;
            try
            {
                file = new FileStream(location.LocalPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
            {
                throw new InvalidBatchException($"{describe}: not found or not readable.", e);
            }

            await using (file)
            {
                await CopyBoundedAsync(file, into, limit, cancellationToken);
            }

            return;
        }

        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(location.Uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.SecureConnectionError)
        {
            // https to something that does not speak TLS will not start to by itself: not worth a retry.
            throw new InvalidBatchException($"{describe}: no TLS connection could be made (the URL does not point at a storage service).", e);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400)
            {
                throw new InvalidBatchException($"{describe}: HTTP {status}: redirects are not followed.");
            }

            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden or HttpStatusCode.BadRequest or HttpStatusCode.Gone or HttpStatusCode.Unauthorized)
            {
                throw new InvalidBatchException($"{describe}: HTTP {status}.");
            }

            response.EnsureSuccessStatusCode();
            if (response.Content.Headers.ContentLength is { } declared && declared >= limit)
            {
                throw new InvalidBatchException($"{describe}: the source declares {declared} bytes; at most {limit - 1} are expected.");
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await CopyBoundedAsync(body, into, limit, cancellationToken);
        }
    }

    private static async Task CopyBoundedAsync(Stream from, Stream into, long limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[(int)Math.Min(ChunkBytes, Math.Max(limit, 1))];
        long total = 0;
        int read;
        while (total < limit && (read = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, limit - total)), cancellationToken)) > 0)
        {
            await into.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            total += read;
        }
    }

    /// <summary>Counts and hashes what passes through, optionally writing it on to a file.</summary>
    private sealed class HashingStream : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public Stream? Copy { get; set; }

        public override long Length => _length;

        private long _length;

        public string Sha256() => Convert.ToHexStringLower(_hash.GetHashAndReset());

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _hash.AppendData(buffer.Span);
            _length += buffer.Length;
            if (Copy is not null)
            {
                await Copy.WriteAsync(buffer, cancellationToken);
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
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
