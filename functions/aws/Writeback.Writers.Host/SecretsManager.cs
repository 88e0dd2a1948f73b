using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.Runtime;
using Writeback.Aws;

namespace Writeback.Writers.Host;

/// <summary>The database login stored in Secrets Manager: the JSON shape of an RDS-managed secret.</summary>
public sealed record DatabaseLogin(
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("password")] string Password);

/// <summary>
/// GetSecretValue over the awsJson1.1 protocol, through <see cref="AwsServiceClient"/>. The service SDK
/// (AWSSDK.SecretsManager) is not available here and the call is one POST per cold start.
/// </summary>
public sealed class SecretsManagerClient(HttpClient http, string region, AWSCredentials? credentials = null, Uri? endpoint = null)
{
    private const string Target = "secretsmanager.GetSecretValue";

    private readonly AwsServiceClient _secrets = new(
        http,
        new AwsServiceOptions { Service = "secretsmanager", Region = region, Endpoint = endpoint, Credentials = credentials });

    public async Task<string> GetSecretStringAsync(string secretId, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new GetSecretValueRequest(secretId), SecretsJson.Default.GetSecretValueRequest);
        var response = await _secrets.PostAsync("Secrets Manager GetSecretValue", AwsRequest.Json11(Target, body), cancellationToken);
        if (!response.IsSuccess)
        {
            // The error names the type (AccessDeniedException, ResourceNotFoundException) and never the secret; init fails.
            throw new InvalidOperationException(response.Fault().Message);
        }

        var result = JsonSerializer.Deserialize(response.Text, SecretsJson.Default.GetSecretValueResponse);
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
