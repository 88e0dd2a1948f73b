using System.Net;
using Writeback.Core.Contracts;

namespace Writeback.Core.Storage;

public sealed partial class BatchFiles
{
    /// <summary>
    /// The shards of <paramref name="manifest"/> that are no longer where it says (deleted by the bucket's lifecycle or
    /// by hand), as short locations; empty when every one is still there. Reads one byte of each, because a signed URL
    /// is signed for GET, not HEAD.
    /// </summary>
    public async Task<IReadOnlyList<string>> MissingShardsAsync(string manifestUri, Manifest manifest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var folder = sources.Manifest(manifestUri);
        var missing = new List<string>();
        for (var i = 0; i < manifest.Shards.Count; i++)
        {
            var location = sources.Shard(folder, manifest.Shards[i].Uri, $"batch '{manifest.BatchId}', shard {i}");
            if (await AbsentAsync(location, cancellationToken) is { } why)
            {
                missing.Add($"shard {i} ({location.Describe}{why})");
            }
        }

        return missing;
    }

    /// <summary>Null when the object can be read; otherwise why not, for the message (empty for plainly gone).</summary>
    private async Task<string?> AbsentAsync(SourceLocation location, CancellationToken cancellationToken)
    {
        if (location.IsFile)
        {
            return File.Exists(location.LocalPath) ? null : string.Empty;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, location.Uri);
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 0);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.NotFound or HttpStatusCode.Gone => string.Empty,
            // A V4 signature past its lifetime (signed_url_ttl_hours) is refused like this, though the object may be there.
            HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                $": HTTP {(int)response.StatusCode}, its signed URL has expired (signed_url_ttl_hours) or is refused",
            _ when response.IsSuccessStatusCode => null,
            _ => throw new HttpRequestException($"{location.Describe}: HTTP {(int)response.StatusCode}", null, response.StatusCode),
        };
    }
}
