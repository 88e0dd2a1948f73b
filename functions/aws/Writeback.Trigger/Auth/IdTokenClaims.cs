using System.Text.Json;

namespace Writeback.Trigger.Auth;

/// <summary>The claims of an OIDC ID token that the trigger checks, read after its signature has been verified.</summary>
public sealed record IdTokenClaims
{
    public string? Issuer { get; init; }

    public IReadOnlyList<string> Audiences { get; init; } = [];

    public DateTimeOffset? IssuedAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public DateTimeOffset? NotBefore { get; init; }

    public string? Email { get; init; }

    public bool EmailVerified { get; init; }

    public string? Subject { get; init; }

    /// <summary>
    /// Reads a JWT payload (JSON). <c>aud</c> may be a string or an array (an entry that is not a string is kept as "",
    /// which matches no audience); <c>email_verified</c> a bool or "true".
    /// </summary>
    public static IdTokenClaims Parse(ReadOnlySpan<byte> payloadJson)
    {
        using var document = JsonDocument.Parse(payloadJson.ToArray());
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("The token payload is not a JSON object.");
        }

        return new IdTokenClaims
        {
            Issuer = String(root, "iss"),
            Audiences = root.TryGetProperty("aud", out var aud)
                ? aud.ValueKind switch
                {
                    JsonValueKind.String => [aud.GetString()!],
                    JsonValueKind.Array => [.. aud.EnumerateArray().Select(a => a.ValueKind == JsonValueKind.String ? a.GetString()! : "")],
                    _ => [],
                }
                : [],
            IssuedAt = Time(root, "iat"),
            ExpiresAt = Time(root, "exp"),
            NotBefore = Time(root, "nbf"),
            Email = String(root, "email"),
            EmailVerified = root.TryGetProperty("email_verified", out var verified)
                && (verified.ValueKind == JsonValueKind.True
                    || (verified.ValueKind == JsonValueKind.String && string.Equals(verified.GetString(), "true", StringComparison.OrdinalIgnoreCase))),
            Subject = String(root, "sub"),
        };
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static DateTimeOffset? Time(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
}

/// <summary>Verifies a token's signature against a key source and returns its claims; claim rules are checked elsewhere.</summary>
public interface IIdTokenValidator
{
    /// <exception cref="TriggerRejectedException">The token is malformed or its signature does not verify.</exception>
    Task<IdTokenClaims> ValidateAsync(string token, CancellationToken cancellationToken);
}
