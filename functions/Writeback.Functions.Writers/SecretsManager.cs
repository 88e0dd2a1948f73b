using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Signing;

namespace Writeback.Functions.Writers;

/// <summary>The database login stored in Secrets Manager: the JSON shape of an RDS-managed secret.</summary>
public sealed record DatabaseLogin(
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("password")] string Password);

/// <summary>
/// GetSecretValue over the awsJson1.1 protocol, signed with AWSSDK.Core's SigV4 signer. The service SDK
/// (AWSSDK.SecretsManager) is not available here and the call is one POST per cold start.
/// </summary>
public sealed class SecretsManagerClient(HttpClient http, string region, AWSCredentials? credentials = null, Uri? endpoint = null)
{
    private const string ContentType = "application/x-amz-json-1.1";
    private const string Target = "secretsmanager.GetSecretValue";

    private readonly Uri _endpoint = endpoint ?? new Uri($"https://secretsmanager.{region}.amazonaws.com/");

    public async Task<string> GetSecretStringAsync(string secretId, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new GetSecretValueRequest(secretId), SecretsJson.Default.GetSecretValueRequest);
        var toSign = new AWSSigningRequest { HttpMethod = HttpMethod.Post, RequestUri = _endpoint, Content = body };
        toSign.Headers["Content-Type"] = ContentType;
        toSign.Headers["X-Amz-Target"] = Target;
        var signed = await AWSSigV4Signer.SignAsync(
            toSign,
            new AWSSigV4Parameters
            {
                // In Lambda the resolver reads the function role's temporary credentials from the environment.
                Credentials = credentials ?? DefaultAWSCredentialsIdentityResolver.GetCredentials(null),
                Region = RegionEndpoint.GetBySystemName(region),
                Service = "secretsmanager",
                SignPayload = true,
                SignedAt = DateTime.UtcNow,
            },
            cancellationToken);

        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(body) };
        // Exactly the value that was signed: no charset parameter.
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(ContentType);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", Target);
        foreach (var header in signed.Headers)
        {
            request.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        using var response = await http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            // The error body names the type (AccessDeniedException, ResourceNotFoundException) and never the secret.
            throw new InvalidOperationException($"Secrets Manager GetSecretValue answered {(int)response.StatusCode}: {text}");
        }

        var result = JsonSerializer.Deserialize(text, SecretsJson.Default.GetSecretValueResponse);
        return result?.SecretString
            ?? throw new InvalidOperationException($"Secret {secretId} has no SecretString (binary secrets are not supported).");
    }
}

internal sealed record GetSecretValueRequest([property: JsonPropertyName("SecretId")] string SecretId);

internal sealed record GetSecretValueResponse([property: JsonPropertyName("SecretString")] string? SecretString);

[JsonSerializable(typeof(GetSecretValueRequest))]
[JsonSerializable(typeof(GetSecretValueResponse))]
[JsonSerializable(typeof(DatabaseLogin))]
internal sealed partial class SecretsJson : JsonSerializerContext;
