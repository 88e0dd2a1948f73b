using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;

namespace Writeback.Aws;

/// <summary>
/// A SigV4-signed POST to one of AWS's JSON or Query APIs, for <see cref="AwsServiceClient"/>. AWSSDK.Core's signer
/// does the cryptography; this only shapes the HTTP request.
/// </summary>
internal static class AwsSignedPost
{
    public static async Task<HttpRequestMessage> CreateAsync(AwsSignedPostRequest post, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(post);
        var toSign = new AWSSigningRequest { HttpMethod = HttpMethod.Post, RequestUri = post.Endpoint, Content = post.Body };
        toSign.Headers["Content-Type"] = post.ContentType;
        if (post.Target is not null)
        {
            toSign.Headers["X-Amz-Target"] = post.Target;
        }

        var signed = await AWSSigV4Signer.SignAsync(
            toSign,
            new AWSSigV4Parameters
            {
                Credentials = post.Credentials,
                Region = post.Region,
                Service = post.Service,
                SignPayload = true,
                SignedAt = post.SignedAt.UtcDateTime,
            },
            cancellationToken);

        var request = new HttpRequestMessage(HttpMethod.Post, post.Endpoint) { Content = new ByteArrayContent(post.Body) };
        // Exactly the values that were signed (HttpClient would otherwise add a charset to the content type).
        request.Content.Headers.TryAddWithoutValidation("Content-Type", post.ContentType);
        if (post.Target is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Amz-Target", post.Target);
        }

        foreach (var header in signed.Headers)
        {
            if (!string.Equals(header.Key, "Content-Type", StringComparison.OrdinalIgnoreCase)
                && !string.Equals(header.Key, "X-Amz-Target", StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        return request;
    }
}

internal sealed record AwsSignedPostRequest
{
    public required Uri Endpoint { get; init; }

    /// <summary>The signing name, e.g. <c>states</c>, <c>secretsmanager</c>, <c>sns</c>.</summary>
    public required string Service { get; init; }

    public required RegionEndpoint Region { get; init; }

    public required AWSCredentials Credentials { get; init; }

    public required string ContentType { get; init; }

    /// <summary>The JSON protocols' <c>X-Amz-Target</c>; null for the Query protocol.</summary>
    public string? Target { get; init; }

    public required byte[] Body { get; init; }

    public required DateTimeOffset SignedAt { get; init; }
}
