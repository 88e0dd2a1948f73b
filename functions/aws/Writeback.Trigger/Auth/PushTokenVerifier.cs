using Writeback.Core;

namespace Writeback.Trigger.Auth;

public sealed record PushAuthOptions
{
    /// <summary>Google's two spellings of its issuer.</summary>
    public static readonly IReadOnlyList<string> GoogleIssuers = ["https://accounts.google.com", "accounts.google.com"];

    /// <summary>The audience the push subscription puts in its tokens: this trigger's URL.</summary>
    public required string Audience { get; init; }

    /// <summary>The push subscription's service account; only its tokens may start executions.</summary>
    public required string ServiceAccountEmail { get; init; }

    public IReadOnlyList<string> Issuers { get; init; } = GoogleIssuers;

    /// <summary>Tolerated clock difference for exp, iat and nbf.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The OIDC check of a Pub/Sub push (invariant 7): a bearer token whose signature verifies (<see cref="IIdTokenValidator"/>)
/// and whose iss, aud, exp, email and email_verified are what this trigger expects. The same rules run for Google's
/// tokens in the cloud and for locally minted ones.
/// </summary>
public sealed class PushTokenVerifier(IIdTokenValidator validator, PushAuthOptions options, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<IdTokenClaims> VerifyAsync(string? authorizationHeader, CancellationToken cancellationToken)
    {
        var token = BearerToken(authorizationHeader);
        var claims = await validator.ValidateAsync(token, cancellationToken);
        var now = _time.GetUtcNow();

        if (claims.Issuer is null || !options.Issuers.Contains(claims.Issuer, StringComparer.Ordinal))
        {
            throw TriggerRejectedException.Unauthorized("token_wrong_issuer",
                $"The token's issuer '{Echo.Brief(claims.Issuer, 80)}' is not trusted; expected one of {string.Join(", ", options.Issuers)}.");
        }

        // Every audience must be this trigger: a token also meant for someone else could be replayed by that someone.
        if (claims.Audiences.Count == 0 || !claims.Audiences.All(a => SameAudience(a, options.Audience)))
        {
            throw TriggerRejectedException.Unauthorized("token_wrong_audience",
                $"The token's audience '{Echo.Brief(string.Join(", ", claims.Audiences), 200)}' is not only this trigger ('{options.Audience}').");
        }

        if (claims.ExpiresAt is not { } expiresAt || expiresAt + options.ClockSkew < now)
        {
            throw TriggerRejectedException.Unauthorized("token_expired", $"The token expired at {claims.ExpiresAt:O} (now {now:O}).");
        }

        if (claims.IssuedAt is { } issuedAt && issuedAt - options.ClockSkew > now)
        {
            throw TriggerRejectedException.Unauthorized("token_not_yet_valid", $"The token is issued in the future ({issuedAt:O}).");
        }

        if (claims.NotBefore is { } notBefore && notBefore - options.ClockSkew > now)
        {
            throw TriggerRejectedException.Unauthorized("token_not_yet_valid", $"The token is not valid before {notBefore:O} (now {now:O}).");
        }

        if (!string.Equals(claims.Email, options.ServiceAccountEmail, StringComparison.OrdinalIgnoreCase))
        {
            throw TriggerRejectedException.Forbidden("token_wrong_email",
                $"The token belongs to '{Echo.Brief(claims.Email, 120)}', not to the push service account '{options.ServiceAccountEmail}'.");
        }

        if (!claims.EmailVerified)
        {
            throw TriggerRejectedException.Forbidden("token_email_unverified", $"The token's email '{Echo.Brief(claims.Email, 120)}' is not verified (email_verified is not true).");
        }

        return claims;
    }

    private static string BearerToken(string? header)
    {
        const string scheme = "Bearer ";
        if (string.IsNullOrWhiteSpace(header))
        {
            throw TriggerRejectedException.Unauthorized("token_missing", "The push carries no Authorization header; an OIDC bearer token is required.");
        }

        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || header.Length == scheme.Length)
        {
            throw TriggerRejectedException.Unauthorized("token_missing", "The Authorization header is not 'Bearer <token>'.");
        }

        return header[scheme.Length..].Trim();
    }

    // Function URLs end in '/', and a subscription's audience may or may not: the same URL either way.
    private static bool SameAudience(string a, string b) => string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.Ordinal);
}
