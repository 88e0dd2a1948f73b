using System.Net;
using System.Text;
using Amazon.Runtime;
using Npgsql;
using Writeback.Writers.Host;

namespace Writeback.Deploy.Tests;

/// <summary>How a deployed writer gets its database login: Secrets Manager at init, TLS verified, one connection.</summary>
public sealed class DatabaseConnectionTests
{
    private const string SecretArn = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:writeback-db-AbCdEf";

    private static readonly Dictionary<string, string> CloudEnvironment = new()
    {
        [DatabaseConnection.HostVariable] = "writeback.proxy-abc.ap-northeast-1.rds.amazonaws.com",
        [DatabaseConnection.PortVariable] = "5432",
        [DatabaseConnection.NameVariable] = "product",
        [DatabaseConnection.SecretArnVariable] = SecretArn,
        [DatabaseConnection.RootCertificateVariable] = "",
        ["AWS_LAMBDA_FUNCTION_NAME"] = "writeback-prod-load-shard",
    };

    [Fact]
    public void The_connection_string_verifies_the_server_certificate_and_holds_one_connection()
    {
        var built = new NpgsqlConnectionStringBuilder(
            DatabaseConnection.Build(n => CloudEnvironment.GetValueOrDefault(n), new DatabaseLogin("writer", "s3cret;x=1")));
        Assert.Equal(SslMode.VerifyFull, built.SslMode);
        Assert.Equal(1, built.MaxPoolSize);
        Assert.Equal("writeback.proxy-abc.ap-northeast-1.rds.amazonaws.com", built.Host);
        Assert.Equal("product", built.Database);
        Assert.Equal("writer", built.Username);
        Assert.Equal("s3cret;x=1", built.Password);
        Assert.Equal("writeback-prod-load-shard", built.ApplicationName);
        Assert.Null(built.RootCertificate);
    }

    [Fact]
    public void A_bundled_ca_file_is_found_inside_the_artifact()
    {
        var environment = new Dictionary<string, string>(CloudEnvironment)
        {
            [DatabaseConnection.RootCertificateVariable] = "certs/rds-global-bundle.pem",
            ["LAMBDA_TASK_ROOT"] = "/var/task",
        };
        var built = new NpgsqlConnectionStringBuilder(DatabaseConnection.Build(n => environment.GetValueOrDefault(n), new DatabaseLogin("u", "p")));
        Assert.Equal("/var/task/certs/rds-global-bundle.pem", built.RootCertificate);
        Assert.Equal(SslMode.VerifyFull, built.SslMode);
    }

    [Fact]
    public async Task The_login_comes_from_a_sigv4_signed_GetSecretValue_call()
    {
        var handler = new SecretsManagerStub("""{"SecretString":"{\"username\":\"writer\",\"password\":\"pw\"}","Name":"writeback-db"}""");
        using var http = new HttpClient(handler);
        var client = new SecretsManagerClient(http, "ap-northeast-1", new BasicAWSCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"));
        var login = await client.GetSecretStringAsync(SecretArn, CancellationToken.None);

        Assert.Equal("""{"username":"writer","password":"pw"}""", login);
        var request = Assert.Single(handler.Requests);
        Assert.Equal(new Uri("https://secretsmanager.ap-northeast-1.amazonaws.com/"), request.Uri);
        Assert.Equal("secretsmanager.GetSecretValue", request.Target);
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", request.Authorization, StringComparison.Ordinal);
        Assert.Contains("/ap-northeast-1/secretsmanager/aws4_request", request.Authorization, StringComparison.Ordinal);
        Assert.Equal($$"""{"SecretId":"{{SecretArn}}"}""", request.Body);
    }

    [Fact]
    public async Task A_local_connection_string_is_used_as_it_is_and_no_secret_is_read()
    {
        var handler = new SecretsManagerStub("{}");
        using var http = new HttpClient(handler);
        var result = await DatabaseConnection.ResolveAsync(
            n => n == DatabaseConnection.ConnectionStringVariable ? "Host=127.0.0.1;Database=local" : null,
            new SecretsManagerClient(http, "us-east-1", new BasicAWSCredentials("a", "b")),
            CancellationToken.None);
        Assert.Equal("Host=127.0.0.1;Database=local", result);
        Assert.Empty(handler.Requests);
    }

    [Fact]
    public async Task A_refused_secret_read_fails_init_with_the_service_answer()
    {
        var handler = new SecretsManagerStub("""{"__type":"AccessDeniedException","message":"not authorized"}""", HttpStatusCode.BadRequest);
        using var http = new HttpClient(handler);
        var client = new SecretsManagerClient(http, "us-east-1", new BasicAWSCredentials("a", "b"));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetSecretStringAsync(SecretArn, CancellationToken.None));
        Assert.Contains("AccessDeniedException", error.Message, StringComparison.Ordinal);
    }

    private sealed class SecretsManagerStub(string answer, HttpStatusCode status = HttpStatusCode.OK) : HttpMessageHandler
    {
        public List<(Uri Uri, string? Target, string Authorization, string Body)> Requests { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add((
                request.RequestUri!,
                request.Headers.TryGetValues("X-Amz-Target", out var target) ? target.Single() : null,
                request.Headers.TryGetValues("Authorization", out var auth) ? auth.Single() : "",
                await request.Content!.ReadAsStringAsync(cancellationToken)));
            return new HttpResponseMessage(status) { Content = new StringContent(answer, Encoding.UTF8, "application/x-amz-json-1.1") };
        }
    }
}
