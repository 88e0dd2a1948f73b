using System.Net;
using System.Net.Http.Headers;
using Writeback.Core.Storage;

namespace Writeback.Trigger.Events;

public enum ManifestReachability
{
    Reachable,

    /// <summary>It is not there (404, 403, DNS failure, connection refused): a bad event, answered 422.</summary>
    Missing,

    /// <summary>The storage did not answer properly (5xx, throttled, timeout): try again later, answered 503.</summary>
    Unavailable,
}

public sealed record ManifestProbeResult(ManifestReachability Reachability, string Detail);

/// <summary>Checks that a manifest can be read before an execution is started for it.</summary>
public interface IManifestProbe
{
    /// <param name="manifest">A location <see cref="SourcePolicy"/> already trusts; nothing else is ever probed.</param>
    Task<ManifestProbeResult> ProbeAsync(SourceLocation manifest, CancellationToken cancellationToken);
}

/// <summary>
/// Reads the first byte of the manifest: a GET with <c>Range: bytes=0-0</c> rather than a HEAD, because a V4 signed
/// URL is signed for GET and would refuse a HEAD. File URIs are checked on the file system. Details name a status or a
/// kind of failure, never the URL.
/// </summary>
public sealed class HttpManifestProbe(HttpClient http, TimeSpan? timeout = null) : IManifestProbe
{
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(5);

    public async Task<ManifestProbeResult> ProbeAsync(SourceLocation manifest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.IsFile)
        {
            return File.Exists(manifest.LocalPath)
                ? new ManifestProbeResult(ManifestReachability.Reachable, "file exists")
                : new ManifestProbeResult(ManifestReachability.Missing, "no such file");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, manifest.Uri);
        request.Headers.Range = new RangeHeaderValue(0, 0);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            return response.StatusCode switch
            {
                _ when response.IsSuccessStatusCode => new(ManifestReachability.Reachable, $"HTTP {status}"),
                // An empty object cannot satisfy bytes=0-0, but it exists.
                HttpStatusCode.RequestedRangeNotSatisfiable => new(ManifestReachability.Reachable, $"HTTP {status}"),
                HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout => new(ManifestReachability.Unavailable, $"HTTP {status}"),
                _ when status >= 500 => new(ManifestReachability.Unavailable, $"HTTP {status}"),
                // Redirects are not followed (the client is built without them): where they lead was never checked.
                _ => new(ManifestReachability.Missing, $"HTTP {status}"),
            };
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError is HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError
            or HttpRequestError.SecureConnectionError)
        {
            // No name, nobody listening, or no TLS where https was asked for: retrying the same URL cannot help, so this is
            // the sender's problem (4xx), and Pub/Sub must not redeliver it forever.
            return new(ManifestReachability.Missing, Describe(ex.HttpRequestError));
        }
        catch (HttpRequestException ex)
        {
            return new(ManifestReachability.Unavailable, Describe(ex.HttpRequestError));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(ManifestReachability.Unavailable, $"no answer within {_timeout.TotalSeconds:0.#} s");
        }
    }

    private static string Describe(HttpRequestError error) => error switch
    {
        HttpRequestError.NameResolutionError => "the host name does not resolve",
        HttpRequestError.ConnectionError => "no connection could be made",
        HttpRequestError.SecureConnectionError => "no TLS connection could be made (is it https on a plain-http port?)",
        _ => $"the request failed ({error})",
    };
}
