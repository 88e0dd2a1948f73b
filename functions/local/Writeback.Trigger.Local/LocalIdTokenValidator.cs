using System.Security.Cryptography;
using Writeback.Trigger.Auth;

namespace Writeback.Trigger.Local;

/// <summary>
/// Verifies RS256 tokens minted by <see cref="LocalOidcIssuer"/> against its public key: the local twin of Google's keys.
/// The claims go through the same <see cref="PushTokenVerifier"/> rules as Google's tokens.
/// </summary>
public sealed class LocalIdTokenValidator : IIdTokenValidator, IDisposable
{
    private readonly RSA _publicKey;
    private readonly SigningKey[] _keys;

    /// <param name="publicKeyPem">The issuer's public key, PEM (SubjectPublicKeyInfo).</param>
    public LocalIdTokenValidator(string publicKeyPem)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(publicKeyPem);
        _publicKey = RSA.Create();
        _publicKey.ImportFromPem(publicKeyPem);
        // Bound to the key id the issuer derives from this key: a token naming any other kid does not verify.
        _keys = [new SigningKey(LocalOidcIssuer.KeyIdOf(_publicKey), _publicKey)];
    }

    public Task<IdTokenClaims> ValidateAsync(string token, CancellationToken cancellationToken) =>
        Task.FromResult(RsaSignatureCheck.Verify(Jwt.Parse(token), _keys));

    public void Dispose() => _publicKey.Dispose();
}
