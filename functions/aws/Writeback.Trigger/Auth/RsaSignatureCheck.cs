using System.Security.Cryptography;
using System.Text.Json;

namespace Writeback.Trigger.Auth;

/// <summary>An RSA public key as a key set lists it.</summary>
public sealed record SigningKey(string? KeyId, RSA Key);

/// <summary>The RS256 check shared by the local and the Google key sources: the framework's RSA, PKCS#1 v1.5, SHA-256.</summary>
internal static class RsaSignatureCheck
{
    /// <summary>True when the token's key id is not in <paramref name="keys"/> (the key set may have rotated).</summary>
    public static bool IsUnknownKey(Jwt jwt, IReadOnlyList<SigningKey> keys) =>
        jwt.KeyId is not null && keys.All(k => k.KeyId != jwt.KeyId);

    public static IdTokenClaims Verify(Jwt jwt, IReadOnlyList<SigningKey> keys)
    {
        if (jwt.Algorithm != "RS256")
        {
            throw TriggerRejectedException.Unauthorized("token_bad_signature", $"The token is signed with '{jwt.Algorithm}'; only RS256 is accepted.");
        }

        // Google's tokens and the local issuer's name their key; only the key of that id may verify a token, so a key
        // is never tried against tokens it was not published for.
        if (jwt.KeyId is null)
        {
            throw TriggerRejectedException.Unauthorized("token_bad_signature", "The token's header names no key (kid); it cannot be verified.");
        }

        var key = keys.FirstOrDefault(k => string.Equals(k.KeyId, jwt.KeyId, StringComparison.Ordinal));
        if (key is null || !key.Key.VerifyData(jwt.SigningInput, jwt.Signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            throw TriggerRejectedException.Unauthorized("token_bad_signature", "The token's signature does not verify against the trusted keys.");
        }

        try
        {
            return IdTokenClaims.Parse(jwt.Payload);
        }
        catch (JsonException ex)
        {
            throw TriggerRejectedException.Unauthorized("token_malformed", $"The token payload is not JSON: {ex.Message}", ex);
        }
    }
}
