using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace Writeback.Trigger.Auth;

/// <summary>The compact JWS form, <c>base64url(header).base64url(payload).base64url(signature)</c>, taken apart.</summary>
internal sealed record Jwt(string Algorithm, string? KeyId, byte[] SigningInput, byte[] Payload, byte[] Signature)
{
    public static Jwt Parse(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3 || parts.Any(p => p.Length == 0))
        {
            throw TriggerRejectedException.Unauthorized("token_malformed", "The bearer token is not a signed JWT (header.payload.signature).");
        }

        try
        {
            using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
            var algorithm = header.RootElement.TryGetProperty("alg", out var alg) && alg.ValueKind == JsonValueKind.String ? alg.GetString()! : "";
            var keyId = header.RootElement.TryGetProperty("kid", out var kid) && kid.ValueKind == JsonValueKind.String ? kid.GetString() : null;
            return new Jwt(
                algorithm,
                keyId,
                Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"),
                Base64Url.DecodeFromChars(parts[1]),
                Base64Url.DecodeFromChars(parts[2]));
        }
        catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException)
        {
            throw TriggerRejectedException.Unauthorized("token_malformed", $"The bearer token is not a well-formed JWT: {ex.Message}", ex);
        }
    }
}
