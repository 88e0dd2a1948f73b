using System.Net.Http.Headers;
using Google.Apis.Auth.OAuth2;

namespace Writeback.Aggregate.Cloud;

/// <summary>An OAuth access token for Google's REST APIs.</summary>
public interface IAccessTokenSource
{
    Task<string> GetAccessTokenAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Application Default Credentials scoped to cloud-platform: the Cloud Run service account when deployed,
/// <c>gcloud auth application-default login</c> on a workstation. Google.Apis.Auth caches and refreshes the token.
/// </summary>
public sealed class GoogleAccessTokenSource : IAccessTokenSource
{
    public const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

    // Resolved once: finding ADC may hit the metadata server, and the credential refreshes its own token.
    private readonly Lazy<Task<ITokenAccess>> _access = new(async () =>
    {
        var credential = await GoogleCredential.GetApplicationDefaultAsync();
        return (ITokenAccess)credential.CreateScoped(CloudPlatformScope).UnderlyingCredential;
    });

    public async Task<string> GetAccessTokenAsync(CancellationToken cancellationToken)
    {
        var access = await _access.Value.WaitAsync(cancellationToken);
        return await access.GetAccessTokenForRequestAsync(authUri: null, cancellationToken);
    }
}

/// <summary>A fixed token: tests, or a token obtained elsewhere (e.g. <c>gcloud auth print-access-token</c>).</summary>
public sealed class StaticAccessTokenSource(string token) : IAccessTokenSource
{
    public Task<string> GetAccessTokenAsync(CancellationToken cancellationToken) => Task.FromResult(token);
}

/// <summary>A Google REST call answered with an error status; the body carries Google's error JSON.</summary>
public sealed class GoogleApiException : Exception
{
    public GoogleApiException()
    {
    }

    public GoogleApiException(string message) : base(message)
    {
    }

    public GoogleApiException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public GoogleApiException(string message, int statusCode) : base(message) => StatusCode = statusCode;

    public int? StatusCode { get; }
}

/// <summary>Sends authorized requests and turns error statuses into <see cref="GoogleApiException"/>.</summary>
internal static class GoogleRest
{
    /// <param name="tokens">Null sends no credentials: an emulator checks none.</param>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, IAccessTokenSource? tokens, HttpRequestMessage request, string what, CancellationToken cancellationToken)
    {
        if (tokens is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.GetAccessTokenAsync(cancellationToken));
        }

        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new GoogleApiException($"{what} answered {(int)response.StatusCode}: {(body.Length <= 1000 ? body : body[..1000])}", (int)response.StatusCode);
        }
    }
}
