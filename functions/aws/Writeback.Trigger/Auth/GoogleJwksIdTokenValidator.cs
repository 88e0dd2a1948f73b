using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;

namespace Writeback.Trigger.Auth;

/// <summary>
/// Verifies Google-signed ID tokens against Google's published JWKS, with the framework's HttpClient, JSON reader and
/// RSA only, so it runs in a Native AOT Lambda — Google.Apis.Auth's validator does not (in a Native AOT binary its
/// Newtonsoft.Json cannot construct the trimmed token types). The key set is cached for its
/// Cache-Control max-age and fetched again when a token names a key id it does not hold (Google rotates keys).
/// </summary>
public sealed class GoogleJwksIdTokenValidator(HttpClient http, Uri? jwksUri = null, TimeProvider? time = null) : IIdTokenValidator, IDisposable
{
    public static readonly Uri GoogleJwksUri = new("https://www.googleapis.com/oauth2/v3/certs");

    private static readonly TimeSpan DefaultCacheFor = TimeSpan.FromHours(1);

    /// <summary>A token with an unknown kid may trigger a refetch at most this often, so forged kids cannot hammer Google.</summary>
    private static readonly TimeSpan MinimumRefetchInterval = TimeSpan.FromMinutes(1);

    private readonly Uri _jwksUri = jwksUri ?? GoogleJwksUri;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private KeySet? _keys;

    public async Task<IdTokenClaims> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var jwt = Jwt.Parse(token);
        var keys = await KeysAsync(jwt, cancellationToken);
        return RsaSignatureCheck.Verify(jwt, keys.Keys);
    }

    private async Task<KeySet> KeysAsync(Jwt jwt, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var current = _keys;
        if (current is not null && now < current.ExpiresAt && !NeedsRefetch(current, jwt, now))
        {
            return current;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            current = _keys;
            if (current is not null && now < current.ExpiresAt && !NeedsRefetch(current, jwt, now))
            {
                return current;
            }

            var fetched = await FetchAsync(now, cancellationToken);
            current?.Dispose();
            _keys = fetched;
            return fetched;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static bool NeedsRefetch(KeySet keys, Jwt jwt, DateTimeOffset now) =>
        RsaSignatureCheck.IsUnknownKey(jwt, keys.Keys) && now - keys.FetchedAt >= MinimumRefetchInterval;

    private async Task<KeySet> FetchAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(_jwksUri, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            // Not the sender's fault: surfaces as a 5xx through the runtime, and Pub/Sub retries.
            throw new InvalidOperationException($"Google's signing keys ({_jwksUri}) could not be fetched: {ex.Message}", ex);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"Google's signing keys ({_jwksUri}) answered {(int)response.StatusCode}.");
            }

            var cacheFor = response.Headers.CacheControl?.MaxAge is { } maxAge && maxAge > TimeSpan.Zero ? maxAge : DefaultCacheFor;
            using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
            return new KeySet(ReadJwks(document.RootElement), now, now + cacheFor);
        }
    }

    /// <summary>The RSA keys of a JWKS document (<c>{"keys":[{"kty":"RSA","kid","n","e"}]}</c>); other key types are skipped.</summary>
    internal static List<SigningKey> ReadJwks(JsonElement root)
    {
        var keys = new List<SigningKey>();
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("keys", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidOperationException("The key set is not a JWKS document (no \"keys\" array).");
        }

        foreach (var key in list.EnumerateArray())
        {
            if (Text(key, "kty") != "RSA" || Text(key, "n") is not { } n || Text(key, "e") is not { } e)
            {
                continue;
            }

            var rsa = RSA.Create();
            rsa.ImportParameters(new RSAParameters { Modulus = Base64Url.DecodeFromChars(n), Exponent = Base64Url.DecodeFromChars(e) });
            keys.Add(new SigningKey(Text(key, "kid"), rsa));
        }

        return keys.Count > 0 ? keys : throw new InvalidOperationException("The key set holds no RSA keys.");
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public void Dispose()
    {
        _keys?.Dispose();
        _gate.Dispose();
    }

    private sealed record KeySet(List<SigningKey> Keys, DateTimeOffset FetchedAt, DateTimeOffset ExpiresAt) : IDisposable
    {
        public void Dispose()
        {
            foreach (var key in Keys)
            {
                key.Key.Dispose();
            }
        }
    }
}
