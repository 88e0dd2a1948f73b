using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;

namespace Writeback.Aggregate.Cloud;

/// <summary>The Cloud Storage JSON API calls the exporter and the manifest re-signer need: list, read (whole, hashed or the tail), upload.</summary>
public sealed class GcsClient(HttpClient http, IAccessTokenSource tokens, Uri? baseUri = null)
{
    public static readonly Uri DefaultBaseUri = new("https://storage.googleapis.com/");

    private readonly Uri _base = baseUri ?? DefaultBaseUri;

    /// <summary>objects.list under a prefix, following nextPageToken.</summary>
    public async Task<IReadOnlyList<GcsObject>> ListAsync(string bucket, string prefix, CancellationToken cancellationToken)
    {
        var objects = new List<GcsObject>();
        string? page = null;
        do
        {
            var query = $"prefix={Uri.EscapeDataString(prefix)}" + (page is null ? "" : $"&pageToken={Uri.EscapeDataString(page)}");
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, $"storage/v1/b/{Uri.EscapeDataString(bucket)}/o?{query}"));
            using var response = await GoogleRest.SendAsync(http, tokens, request, "Cloud Storage objects.list", cancellationToken);
            var list = await response.Content.ReadFromJsonAsync(CloudJson.Default.GcsObjectList, cancellationToken);
            objects.AddRange(list?.Items ?? []);
            page = list?.NextPageToken;
        }
        while (page is not null);

        return objects;
    }

    /// <summary>Streams an object once and returns its lower-case hex SHA-256 and length (GCS itself only keeps MD5 and CRC32C).</summary>
    public async Task<(string Sha256, long Bytes)> Sha256Async(string bucket, string name, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, MediaUri(bucket, name));
        using var response = await GoogleRest.SendAsync(http, tokens, request, $"Cloud Storage read of {name}", cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            total += read;
        }

        return (Convert.ToHexStringLower(sha.GetHashAndReset()), total);
    }

    /// <summary>A small object (a manifest) whole.</summary>
    public async Task<byte[]> ReadAsync(string bucket, string name, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, MediaUri(bucket, name));
        using var response = await GoogleRest.SendAsync(http, tokens, request, $"Cloud Storage read of {name}", cancellationToken);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    /// <summary>The last <paramref name="count"/> bytes of an object (an HTTP suffix range).</summary>
    public async Task<byte[]> ReadTailAsync(string bucket, string name, long count, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, MediaUri(bucket, name));
        request.Headers.Range = new RangeHeaderValue(null, count);
        using var response = await GoogleRest.SendAsync(http, tokens, request, $"Cloud Storage ranged read of {name}", cancellationToken);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    /// <summary>A simple (uploadType=media) upload; fine for a manifest of a few kilobytes.</summary>
    public async Task UploadAsync(string bucket, string name, byte[] content, string contentType, CancellationToken cancellationToken)
    {
        var uri = new Uri(_base, $"upload/storage/v1/b/{Uri.EscapeDataString(bucket)}/o?uploadType=media&name={Uri.EscapeDataString(name)}");
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(content) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await GoogleRest.SendAsync(http, tokens, request, $"Cloud Storage upload of {name}", cancellationToken);
    }

    private Uri MediaUri(string bucket, string name) =>
        new(_base, string.Create(CultureInfo.InvariantCulture, $"storage/v1/b/{Uri.EscapeDataString(bucket)}/o/{Uri.EscapeDataString(name)}?alt=media"));
}
