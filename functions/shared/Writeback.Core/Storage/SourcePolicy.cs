using System.Diagnostics.CodeAnalysis;
using Writeback.Core.Contracts;

namespace Writeback.Core.Storage;

/// <summary>A manifest or shard reference that passed <see cref="SourcePolicy"/>: where to read it, and what to call it.</summary>
public sealed record SourceLocation
{
    /// <summary>What to GET (a signed URL keeps its query here, and only here), or the file's URI.</summary>
    public required Uri Uri { get; init; }

    /// <summary>The file's real path (symbolic links resolved) when the source is a local file.</summary>
    public string? LocalPath { get; init; }

    /// <summary>The folder it sits in, canonical (<c>gs://bucket/a/b/</c>, <c>http://127.0.0.1:5000/a/</c>, <c>/real/dir/</c>):
    /// shards must share their manifest's.</summary>
    public required string Folder { get; init; }

    /// <summary>A short name for messages: no query string, truncated.</summary>
    public required string Describe { get; init; }

    [MemberNotNullWhen(true, nameof(LocalPath))]
    public bool IsFile => LocalPath is not null;
}

/// <summary>
/// Where manifests and shards may come from (invariant 9), decided once from configuration and asked by the trigger's
/// probe and by every step before anything is fetched. In the cloud: V4 signed URLs of one GCS bucket under one
/// prefix, over https to the storage endpoint only. Locally: files under one folder (the export folder), real paths
/// (symbolic links resolved), and, when asked for, plain http to this machine. Shards sit beside their manifest.
/// </summary>
public sealed partial class SourcePolicy
{
    public static readonly Uri GcsEndpoint = new("https://storage.googleapis.com/");

    private static readonly string[] SignedUrlParameters = ["X-Goog-Algorithm", "X-Goog-Credential", "X-Goog-Signature"];

    private readonly string? _bucket;
    private readonly string _prefix = "";
    private readonly Uri? _endpoint;
    private readonly string? _root;
    private readonly bool _loopbackHttp;

    private SourcePolicy(string? bucket, string prefix, Uri? endpoint, string? root, bool loopbackHttp)
    {
        _bucket = bucket;
        _prefix = prefix;
        _endpoint = endpoint;
        _root = root;
        _loopbackHttp = loopbackHttp;
    }

    /// <summary>Cloud mode: objects of <paramref name="bucket"/> under <paramref name="prefix"/>, as V4 signed URLs.</summary>
    /// <param name="endpoint">The storage origin; Google's unless a test stands one in. Deployed hosts never set it.</param>
    public static SourcePolicy Gcs(string bucket, string? prefix, Uri? endpoint = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bucket);
        if (bucket.Contains('/', StringComparison.Ordinal) || bucket.StartsWith("gs:", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{bucket}' is not a bucket name (give the name only, without gs:// or a path).", nameof(bucket));
        }

        var folder = (prefix ?? "").Trim('/');
        return new SourcePolicy(bucket, folder.Length == 0 ? "" : folder + "/", endpoint ?? GcsEndpoint, root: null, loopbackHttp: false);
    }

    /// <summary>Local mode: files under <paramref name="root"/>; plain http(s) to loopback only if <paramref name="allowLoopbackHttp"/>.</summary>
    public static SourcePolicy LocalFolder(string root, bool allowLoopbackHttp = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        var real = RealPath(Path.GetFullPath(root));
        return new SourcePolicy(null, "", null, Path.TrimEndingDirectorySeparator(real) + Path.DirectorySeparatorChar, allowLoopbackHttp);
    }

    public bool IsCloud => _bucket is not null;

    public int MaxManifestBytes { get; private init; } = ContractLimits.MaxManifestBytes;

    public int MaxShards { get; private init; } = ContractLimits.MaxShards;

    /// <summary>The same sources with other bounds (tests use small ones).</summary>
    public SourcePolicy WithLimits(int maxManifestBytes, int maxShards) =>
        new(_bucket, _prefix, _endpoint, _root, _loopbackHttp) { MaxManifestBytes = maxManifestBytes, MaxShards = maxShards };

    /// <summary>What is trusted, for messages and logs.</summary>
    public override string ToString() => IsCloud
        ? $"V4 signed URLs of gs://{_bucket}/{_prefix} through {_endpoint!.GetLeftPart(UriPartial.Authority)}"
        : $"files under {_root}{(_loopbackHttp ? " and http(s) to loopback" : "")}";

    /// <summary>Checks a manifest reference; the problem names what is wrong and repeats only a short identifier.</summary>
    public bool TryManifest(string? reference, [NotNullWhen(true)] out SourceLocation? location, [NotNullWhen(false)] out string? problem)
    {
        location = null;
        if (!TryCommon(reference, out problem))
        {
            return false;
        }

        if (!reference!.Contains("://", StringComparison.Ordinal) && !reference.StartsWith('/') && !reference.StartsWith("file:", StringComparison.Ordinal))
        {
            problem = IsCloud ? "must be a V4 signed https URL" : "must be an absolute path, a file URI or a loopback URL";
            return false;
        }

        return TryAbsolute(reference, out location, out problem);
    }

    /// <summary>Throws <see cref="InvalidBatchException"/> when the manifest reference is not trusted.</summary>
    public SourceLocation Manifest(string? reference) =>
        TryManifest(reference, out var location, out var problem)
            ? location
            : throw new InvalidBatchException($"manifest {Echo.Location(reference)}: {problem}");

    /// <summary>
    /// Checks a shard reference from a manifest read from <paramref name="manifest"/>: trusted like the manifest, and in
    /// the same folder (a bare file name resolves there).
    /// </summary>
    public bool TryShard(SourceLocation manifest, string? reference, [NotNullWhen(true)] out SourceLocation? location, [NotNullWhen(false)] out string? problem)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        location = null;
        if (!TryCommon(reference, out problem))
        {
            return false;
        }

        var absolute = reference!.Contains("://", StringComparison.Ordinal) || reference.StartsWith('/') || reference.StartsWith("file:", StringComparison.Ordinal);
        if (!absolute)
        {
            if (reference.IndexOfAny(['/', '\\', ':', '?', '#', '%']) >= 0)
            {
                problem = "a relative shard reference must be a bare file name beside the manifest";
                return false;
            }

            if (IsCloud)
            {
                problem = "in the cloud every shard is a V4 signed URL; a bare file name cannot be read";
                return false;
            }

            reference = manifest.IsFile
                ? Path.Combine(Path.GetDirectoryName(manifest.LocalPath)!, reference)
                : new Uri(manifest.Uri, reference).AbsoluteUri;
        }

        if (!TryAbsolute(reference, out location, out problem))
        {
            return false;
        }

        if (!string.Equals(location.Folder, manifest.Folder, StringComparison.Ordinal))
        {
            problem = $"is not beside its manifest (in {Echo.Location(location.Folder)}, the manifest is in {Echo.Location(manifest.Folder)})";
            location = null;
            return false;
        }

        return true;
    }

    public SourceLocation Shard(SourceLocation manifest, string? reference, string describe) =>
        TryShard(manifest, reference, out var location, out var problem)
            ? location
            : throw new InvalidBatchException($"{describe}: shard {Echo.Location(reference)}: {problem}");

    // Checks every reference gets before it is parsed: present, bounded, no relative steps.
    private static bool TryCommon(string? reference, [NotNullWhen(false)] out string? problem)
    {
        if (string.IsNullOrWhiteSpace(reference))
        {
            problem = "must not be empty";
            return false;
        }

        if (reference.Length > ContractLimits.MaxUriLength)
        {
            problem = $"is {reference.Length} characters long; at most {ContractLimits.MaxUriLength} are accepted";
            return false;
        }

        if (reference.Any(char.IsControl))
        {
            problem = "contains control characters";
            return false;
        }

        var end = reference.IndexOfAny(['?', '#']);
        var path = Uri.UnescapeDataString(end < 0 ? reference : reference[..end]);
        if (path.Split('/', '\\').Any(segment => segment is ".." or "."))
        {
            problem = "contains a relative step ('..' or '.'); references must name their file directly";
            return false;
        }

        problem = null;
        return true;
    }

    private bool TryAbsolute(string reference, [NotNullWhen(true)] out SourceLocation? location, [NotNullWhen(false)] out string? problem)
    {
        location = null;
        if (reference.StartsWith('/'))
        {
            if (IsCloud)
            {
                problem = "local files are never read here; only V4 signed https URLs of the configured bucket";
                return false;
            }

            return TryFile(reference, out location, out problem);
        }

        if (!Uri.TryCreate(reference, UriKind.Absolute, out var uri))
        {
            problem = "is not a well-formed URI";
            return false;
        }

        if (uri.Scheme == Uri.UriSchemeFile)
        {
            if (IsCloud)
            {
                problem = "file: sources are never read here; only V4 signed https URLs of the configured bucket";
                return false;
            }

            if (!string.IsNullOrEmpty(uri.Host) && !uri.IsLoopback)
            {
                problem = $"names the remote host '{Echo.Brief(uri.Host, 40)}'; only this machine's files are read";
                return false;
            }

            return TryFile(uri.LocalPath, out location, out problem);
        }

        if (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
        {
            problem = $"has the scheme '{Echo.Brief(uri.Scheme, 16)}'; only {(IsCloud ? "https" : "file, and http(s) to loopback")} is read";
            return false;
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            problem = "carries user information; storage URLs never do";
            return false;
        }

        return IsCloud ? TryGcs(uri, out location, out problem) : TryLoopback(uri, out location, out problem);
    }
}
