using System.Diagnostics.CodeAnalysis;
using Google.Apis.Auth;

namespace Writeback.Trigger.Auth;

/// <summary>
/// Verifies a Google-signed ID token (Pub/Sub push) with Google.Apis.Auth: Google's published keys (cached), RS256,
/// Google's issuers, the audience and expiry. The email rules are applied afterwards by <see cref="PushTokenVerifier"/>.
/// For hosts running on the JIT only: in a Native AOT binary Google.Apis.Auth's Newtonsoft.Json cannot build its token
/// types (checked: "Unable to find a constructor ... GoogleJsonWebSignature+Header"), so the Lambda uses
/// <see cref="GoogleJwksIdTokenValidator"/>.
/// </summary>
public sealed class GoogleIdTokenValidator : IIdTokenValidator
{
    private readonly string _audience;

    [RequiresUnreferencedCode("Google.Apis.Auth deserializes tokens with Newtonsoft.Json reflection.")]
    [RequiresDynamicCode("Google.Apis.Auth deserializes tokens with Newtonsoft.Json reflection.")]
    public GoogleIdTokenValidator(string audience) => _audience = audience;

    public async Task<IdTokenClaims> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        GoogleJsonWebSignature.Payload payload;
        try
        {
            payload = await GoogleJsonWebSignature.ValidateAsync(token, new GoogleJsonWebSignature.ValidationSettings
            {
                // The subscription's audience may be written with or without the Function URL's trailing slash.
                Audience = [_audience, _audience.TrimEnd('/'), _audience.TrimEnd('/') + "/"],
                // Pub/Sub and Lambda clocks are both NTP-synchronised; a little tolerance absorbs the rest.
                ExpirationTimeClockTolerance = TimeSpan.FromSeconds(30),
            });
        }
        catch (InvalidJwtException ex)
        {
            throw TriggerRejectedException.Unauthorized("token_invalid", $"The bearer token is not a valid Google ID token: {ex.Message}", ex);
        }

        return new IdTokenClaims
        {
            Issuer = payload.Issuer,
            Audiences = [.. payload.AudienceAsList],
            IssuedAt = payload.IssuedAtTimeSeconds is { } iat ? DateTimeOffset.FromUnixTimeSeconds(iat) : null,
            ExpiresAt = payload.ExpirationTimeSeconds is { } exp ? DateTimeOffset.FromUnixTimeSeconds(exp) : null,
            Email = payload.Email,
            EmailVerified = payload.EmailVerified,
            Subject = payload.Subject,
        };
    }
}
