using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

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
    Task<ManifestProbeResult> ProbeAsync(Uri manifestUri, CancellationToken cancellationToken);
}

/// <summary>
/// Reads the first byte of the manifest: a GET with <c>Range: bytes=0-0</c> rather than a HEAD, because a V4 signed
/// URL is signed for GET and would refuse a HEAD. File URIs are checked on the file system.
/// </summary>
public sealed class HttpManifestProbe(HttpClient http, TimeSpan? timeout = null) : IManifestProbe
{
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(5);

    public async Task<ManifestProbeResult> ProbeAsync(Uri manifestUri, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifestUri);
        if (manifestUri.IsFile)
        {
            return File.Exists(manifestUri.LocalPath)
                ? new ManifestProbeResult(ManifestReachability.Reachable, "file exists")
                : new ManifestProbeResult(ManifestReachability.Missing, $"no file at {manifestUri.LocalPath}");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, manifestUri);
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
                _ => new(ManifestReachability.Missing, $"HTTP {status}"),
            };
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException
        {
            SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable,
        })
        {
            return new(ManifestReachability.Missing, ex.Message);
        }
        catch (HttpRequestException ex)
        {
            return new(ManifestReachability.Unavailable, ex.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(ManifestReachability.Unavailable, $"no answer within {_timeout.TotalSeconds:0.#} s");
        }
    }
}
