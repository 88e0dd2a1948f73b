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
            if (!await ExistsAsync(location, cancellationToken))
            {
                missing.Add($"shard {i} ({location.Describe})");
            }
        }

        return missing;
    }

    private async Task<bool> ExistsAsync(SourceLocation location, CancellationToken cancellationToken)
    {
        if (location.IsFile)
        {
            return File.Exists(location.LocalPath);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, location.Uri);
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 0);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            return false;
        }

        response.EnsureSuccessStatusCode();
        return true;
    }
}
