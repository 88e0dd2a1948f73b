using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
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
public sealed class SourcePolicy
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

    private bool TryGcs(Uri uri, [NotNullWhen(true)] out SourceLocation? location, [NotNullWhen(false)] out string? problem)
    {
        location = null;
        var endpoint = _endpoint!;
        if (!string.Equals(uri.Scheme, endpoint.Scheme, StringComparison.Ordinal)
            || !string.Equals(uri.IdnHost, endpoint.IdnHost, StringComparison.OrdinalIgnoreCase)
            || uri.Port != endpoint.Port)
        {
            problem = IsInternal(uri)
                ? $"names '{Echo.Brief(uri.Host, 40)}', a loopback, link-local or private address (instance metadata lives there); never a storage host"
                : $"is on '{Echo.Brief(uri.Authority, 60)}', not the storage endpoint {endpoint.GetLeftPart(UriPartial.Authority)}";
            return false;
        }

        // Path-style only, as Google's signer writes them: /<bucket>/<object name, percent-encoded>.
        var path = uri.AbsolutePath;
        var slash = path.IndexOf('/', 1);
        var bucket = slash < 0 ? path[1..] : path[1..slash];
        if (!string.Equals(bucket, _bucket, StringComparison.Ordinal))
        {
            problem = $"is in the bucket '{Echo.Brief(Uri.UnescapeDataString(bucket), 63)}', not the configured '{_bucket}'";
            return false;
        }

        var name = slash < 0 ? "" : Uri.UnescapeDataString(path[(slash + 1)..]);
        if (name.Length == 0 || name.EndsWith('/') || name.Split('/').Any(s => s.Length == 0) || name.Any(char.IsControl))
        {
            problem = "does not name an object (empty segments or a folder)";
            return false;
        }

        if (!name.StartsWith(_prefix, StringComparison.Ordinal))
        {
            problem = $"is outside the configured prefix '{_prefix}' of gs://{_bucket}";
            return false;
        }

        var parameters = uri.Query.TrimStart('?').Split('&').Select(p => p.Split('=')[0]).ToHashSet(StringComparer.Ordinal);
        if (SignedUrlParameters.FirstOrDefault(p => !parameters.Contains(p)) is { } missing)
        {
            problem = $"is not a V4 signed URL (it has no {missing})";
            return false;
        }

        var describe = Echo.Location($"gs://{bucket}/{name}");
        location = new SourceLocation { Uri = uri, Folder = $"gs://{bucket}/{name[..(name.LastIndexOf('/') + 1)]}", Describe = describe };
        problem = null;
        return true;
    }

    private bool TryLoopback(Uri uri, [NotNullWhen(true)] out SourceLocation? location, [NotNullWhen(false)] out string? problem)
    {
        location = null;
        if (!_loopbackHttp)
        {
            problem = $"is a URL; this host reads only files under {_root}";
            return false;
        }

        if (!uri.IsLoopback)
        {
            problem = $"is on '{Echo.Brief(uri.Host, 40)}'; local runs read URLs on loopback only";
            return false;
        }

        var path = uri.AbsolutePath;
        location = new SourceLocation
        {
            Uri = uri,
            Folder = $"{uri.GetLeftPart(UriPartial.Authority)}{path[..(path.LastIndexOf('/') + 1)]}",
            Describe = Echo.Location(uri.GetLeftPart(UriPartial.Path)),
        };
        problem = null;
        return true;
    }

    private bool TryFile(string path, [NotNullWhen(true)] out SourceLocation? location, [NotNullWhen(false)] out string? problem)
    {
        location = null;
        string real;
        try
        {
            real = RealPath(Path.GetFullPath(path));
        }
        catch (IOException e)
        {
            problem = $"cannot be resolved ({e.GetType().Name})";
            return false;
        }

        if (!real.StartsWith(_root!, StringComparison.Ordinal))
        {
            problem = $"is outside the export folder {_root}{(real == Path.GetFullPath(path) ? "" : " once its links are resolved")}";
            return false;
        }

        location = new SourceLocation
        {
            Uri = new Uri(real),
            LocalPath = real,
            Folder = Path.GetDirectoryName(real)! + Path.DirectorySeparatorChar,
            Describe = Echo.Location(real),
        };
        problem = null;
        return true;
    }

    /// <summary>
    /// The path with every symbolic link resolved, component by component (a link to a folder anywhere on the way
    /// counts, not only at the end), so a link inside the export folder cannot reach outside it. Missing parts stay as
    /// they are: they cannot be links.
    /// </summary>
    internal static string RealPath(string fullPath)
    {
        var root = Path.GetPathRoot(fullPath)!;
        var pending = new Stack<string>(fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = root;
        var links = 0;
        while (pending.TryPop(out var part))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var next = Path.Combine(current, part);
            if (new FileInfo(next).LinkTarget is not { } target)
            {
                current = next;
                continue;
            }

            if (++links > 40)
            {
                throw new IOException("Too many levels of symbolic links.");
            }

            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target)!;
                target = target[current.Length..];
            }

            foreach (var step in target.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.Push(step);
            }
        }

        return current;
    }

    // An IP literal that is loopback, link-local (169.254/16, fe80::/10: instance metadata), private or unspecified,
    // or a name that is loopback by definition.
    private static bool IsInternal(Uri uri)
    {
        if (uri.IsLoopback || uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (!IPAddress.TryParse(uri.DnsSafeHost, out var address))
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.Equals(IPAddress.IPv6Any);
        }

        var b = address.GetAddressBytes();
        return b[0] is 10 or 127 or 0 || (b[0] == 169 && b[1] == 254) || (b[0] == 172 && b[1] is >= 16 and <= 31) || (b[0] == 192 && b[1] == 168)
            || (b[0] == 100 && b[1] is >= 64 and <= 127);
    }
}
