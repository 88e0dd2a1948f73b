using System.Text;

namespace Writeback.StepFunctions;

/// <summary>
/// S3 as a Distributed Map sees it, on this machine: a root folder whose subfolders are buckets, so that
/// <c>s3://bucket/key</c> is <c>root/bucket/key</c>. Keys that climb out of their bucket are refused.
/// </summary>
internal sealed class LocalS3(string? root)
{
    public string PathOf(string bucket, string key)
    {
        if (root is null)
        {
            throw new InvalidOperationException("no local folder stands in for S3 (StepFunctionsEngineOptions.LocalS3Root is not set)");
        }

        if (bucket.Length == 0 || bucket.Contains('/', StringComparison.Ordinal) || bucket is "." or "..")
        {
            throw new InvalidOperationException($"'{bucket}' is not a bucket name");
        }

        if (key.Split('/').Any(part => part is ".." or "."))
        {
            throw new InvalidOperationException($"the key '{key}' has '.' or '..' segments");
        }

        var bucketFolder = Path.GetFullPath(Path.Combine(root, bucket));
        var path = Path.GetFullPath(Path.Combine(bucketFolder, key));
        return path.StartsWith(bucketFolder + Path.DirectorySeparatorChar, StringComparison.Ordinal) || path == bucketFolder
            ? path
            : throw new InvalidOperationException($"the key '{key}' is outside bucket '{bucket}'");
    }

    public async Task<string> ReadTextAsync(string bucket, string key, CancellationToken ct)
    {
        var path = PathOf(bucket, key);
        return File.Exists(path)
            ? await File.ReadAllTextAsync(path, Encoding.UTF8, ct).ConfigureAwait(false)
            : throw new InvalidOperationException($"NoSuchKey: s3://{bucket}/{key} does not exist");
    }

    public Stream OpenRead(string bucket, string key)
    {
        var path = PathOf(bucket, key);
        return File.Exists(path) ? File.OpenRead(path) : throw new InvalidOperationException($"NoSuchKey: s3://{bucket}/{key} does not exist");
    }

    /// <summary>The objects under a prefix in key order, as ListObjectsV2 lists them (folders are not objects).</summary>
    public IEnumerable<(string Key, FileInfo File)> List(string bucket, string prefix)
    {
        var bucketFolder = PathOf(bucket, "");
        if (!Directory.Exists(bucketFolder))
        {
            throw new InvalidOperationException($"NoSuchBucket: {bucket} does not exist");
        }

        return Directory.EnumerateFiles(bucketFolder, "*", SearchOption.AllDirectories)
            .Select(f => (Key: Path.GetRelativePath(bucketFolder, f).Replace(Path.DirectorySeparatorChar, '/'), File: new FileInfo(f)))
            .Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal))
            .OrderBy(o => o.Key, StringComparer.Ordinal);
    }

    public async Task<long> WriteTextAsync(string bucket, string key, string text, CancellationToken ct)
    {
        var path = PathOf(bucket, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var bytes = Encoding.UTF8.GetBytes(text);
        await File.WriteAllBytesAsync(path, bytes, ct).ConfigureAwait(false);
        return bytes.Length;
    }
}
