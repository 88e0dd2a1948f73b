using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;

using Writeback.Lambda.Aws;

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
        using var request = await AwsSignedPost.CreateAsync(
            new AwsSignedPostRequest
            {
                Endpoint = _endpoint,
                Service = "secretsmanager",
                Region = RegionEndpoint.GetBySystemName(region),
                // In Lambda the resolver reads the function role's temporary credentials from the environment.
                Credentials = credentials ?? DefaultAWSCredentialsIdentityResolver.GetCredentials(null),
                ContentType = ContentType,
                Target = Target,
                Body = body,
                SignedAt = DateTimeOffset.UtcNow,
            },
            cancellationToken);

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
