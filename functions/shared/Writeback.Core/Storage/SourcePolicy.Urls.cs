using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace Writeback.Core.Storage;

/// <summary>URL references: V4 signed URLs of the one bucket in the cloud, plain http to this machine locally.</summary>
public sealed partial class SourcePolicy
{
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
