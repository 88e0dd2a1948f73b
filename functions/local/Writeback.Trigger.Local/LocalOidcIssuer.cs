using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Writeback.Trigger.Local;

/// <summary>The claims of a locally minted token; every field settable so tests can mint the bad ones too.</summary>
public sealed record LocalTokenClaims
{
    public string Issuer { get; init; } = "https://accounts.google.com";

    public required string Audience { get; init; }

    public required string Email { get; init; }

    public bool EmailVerified { get; init; } = true;

    public required DateTimeOffset IssuedAt { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public string? Subject { get; init; }

    /// <summary>When set, <c>aud</c> is written as this array instead of <see cref="Audience"/>.</summary>
    public IReadOnlyList<string>? Audiences { get; init; }

    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>The header's <c>kid</c>: the issuer's own unless set; empty writes none.</summary>
    public string? KeyId { get; init; }
}

/// <summary>
/// Google's role on one machine: an RSA key pair and RS256 ID tokens with the claims a Pub/Sub push token carries
/// (iss, aud, iat, exp, sub, email, email_verified). The local publisher mints with it; the local trigger verifies
/// with <see cref="CreateValidator"/>. The key is generated locally and never leaves the machine.
/// </summary>
public sealed class LocalOidcIssuer : IDisposable
{
    /// <summary>One hour, like Google's ID tokens.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(1);

    private readonly RSA _key;
    private readonly TimeProvider _time;

    private LocalOidcIssuer(RSA key, TimeProvider? time)
    {
        _key = key;
        _time = time ?? TimeProvider.System;
        KeyId = KeyIdOf(key);
    }

    /// <summary>The key id of a key: a digest of its public half, so a validator holding the public key knows it too.</summary>
    public static string KeyIdOf(RSA key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Base64Url.EncodeToString(SHA256.HashData(key.ExportSubjectPublicKeyInfo()).AsSpan(0, 12));
    }

    /// <summary>A key id derived from the public key, sent as the token header's <c>kid</c>.</summary>
    public string KeyId { get; }

    /// <summary>A fresh 2048-bit key pair, kept in memory.</summary>
    public static LocalOidcIssuer Create(TimeProvider? time = null) => new(RSA.Create(2048), time);

    public static LocalOidcIssuer FromPrivateKeyPem(string privateKeyPem, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(privateKeyPem);
        var key = RSA.Create();
        key.ImportFromPem(privateKeyPem);
        return new LocalOidcIssuer(key, time);
    }

    /// <summary>
    /// Reads the key pair from <paramref name="privateKeyPath"/> (PKCS#8 PEM), creating it on first use, so the publisher
    /// and the trigger — separate processes — share one key. The file is readable by its owner only.
    /// </summary>
    public static LocalOidcIssuer LoadOrCreate(string privateKeyPath, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(privateKeyPath);
        if (File.Exists(privateKeyPath))
        {
            return FromPrivateKeyPem(File.ReadAllText(privateKeyPath), time);
        }

        var issuer = Create(time);
        var directory = Path.GetDirectoryName(Path.GetFullPath(privateKeyPath))!;
        Directory.CreateDirectory(directory);
        // Write to a temporary file and move it into place, so a concurrent reader never sees half a key.
        var temporary = Path.Combine(directory, $".{Path.GetFileName(privateKeyPath)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(issuer.ExportPrivateKeyPem());
        }

        try
        {
            File.Move(temporary, privateKeyPath, overwrite: false);
        }
        catch (IOException) when (File.Exists(privateKeyPath))
        {
            // Another process created it first: use theirs so both sides agree.
            File.Delete(temporary);
            issuer.Dispose();
            return FromPrivateKeyPem(File.ReadAllText(privateKeyPath), time);
        }

        return issuer;
    }

    public string ExportPrivateKeyPem() => _key.ExportPkcs8PrivateKeyPem();

    public string ExportPublicKeyPem() => _key.ExportSubjectPublicKeyInfoPem();

    /// <summary>The public key as a JWKS document, the format Google publishes its keys in.</summary>
    public string ExportJwks()
    {
        var parameters = _key.ExportParameters(includePrivateParameters: false);
        return Encoding.UTF8.GetString(Json(writer =>
        {
            writer.WriteStartArray("keys");
            writer.WriteStartObject();
            writer.WriteString("kty", "RSA");
            writer.WriteString("alg", "RS256");
            writer.WriteString("use", "sig");
            writer.WriteString("kid", KeyId);
            writer.WriteString("n", Base64Url.EncodeToString(parameters.Modulus));
            writer.WriteString("e", Base64Url.EncodeToString(parameters.Exponent));
            writer.WriteEndObject();
            writer.WriteEndArray();
        }));
    }

    /// <summary>The validator the local trigger uses: this issuer's public key.</summary>
    public LocalIdTokenValidator CreateValidator() => new(ExportPublicKeyPem());

    /// <summary>A token as a Pub/Sub push subscription would send it: Google's issuer, verified email, valid for an hour.</summary>
    public string MintToken(string audience, string email, TimeSpan? lifetime = null)
    {
        var now = _time.GetUtcNow();
        return MintToken(new LocalTokenClaims
        {
            Audience = audience,
            Email = email,
            IssuedAt = now,
            ExpiresAt = now + (lifetime ?? DefaultLifetime),
        });
    }

    public string MintToken(LocalTokenClaims claims)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var header = Json(writer =>
        {
            writer.WriteString("alg", "RS256");
            if ((claims.KeyId ?? KeyId) is { Length: > 0 } kid)
            {
                writer.WriteString("kid", kid);
            }

            writer.WriteString("typ", "JWT");
        });
        var payload = Json(writer =>
        {
            writer.WriteString("iss", claims.Issuer);
            if (claims.Audiences is { } audiences)
            {
                writer.WriteStartArray("aud");
                foreach (var audience in audiences)
                {
                    writer.WriteStringValue(audience);
                }

                writer.WriteEndArray();
            }
            else
            {
                writer.WriteString("aud", claims.Audience);
            }

            if (claims.NotBefore is { } notBefore)
            {
                writer.WriteNumber("nbf", notBefore.ToUnixTimeSeconds());
            }

            writer.WriteNumber("iat", claims.IssuedAt.ToUnixTimeSeconds());
            writer.WriteNumber("exp", claims.ExpiresAt.ToUnixTimeSeconds());
            writer.WriteString("sub", claims.Subject ?? SubjectFor(claims.Email));
            writer.WriteString("email", claims.Email);
            writer.WriteBoolean("email_verified", claims.EmailVerified);
        });
        var signingInput = $"{Base64Url.EncodeToString(header)}.{Base64Url.EncodeToString(payload)}";
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{signingInput}.{Base64Url.EncodeToString(signature)}";
    }

    public void Dispose() => _key.Dispose();

    // Google's sub is a stable numeric id per account; a hash of the email plays that part here.
    private static string SubjectFor(string email) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email.ToUpperInvariant())).AsSpan(0, 10));

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
