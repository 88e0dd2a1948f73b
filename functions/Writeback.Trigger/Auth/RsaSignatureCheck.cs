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
        jwt.KeyId is not null && keys.All(k => k.KeyId is not null && k.KeyId != jwt.KeyId);

    public static IdTokenClaims Verify(Jwt jwt, IReadOnlyList<SigningKey> keys)
    {
        if (jwt.Algorithm != "RS256")
        {
            throw TriggerRejectedException.Unauthorized("token_bad_signature", $"The token is signed with '{jwt.Algorithm}'; only RS256 is accepted.");
        }

        // With a kid, only that key may verify it; without one, any trusted key.
        var candidates = jwt.KeyId is null ? keys : keys.Where(k => k.KeyId is null || k.KeyId == jwt.KeyId);
        if (!candidates.Any(k => k.Key.VerifyData(jwt.SigningInput, jwt.Signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)))
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
