using System.Text.Json;
using Npgsql;

namespace Writeback.Writers.Host;

/// <summary>
/// Builds the writers' PostgreSQL connection string in the cloud. Locally the step handlers get a full connection string
/// in WRITEBACK_PG; in Lambda nobody puts a password in an environment variable, so at init this reads the login from
/// Secrets Manager and composes the connection string from the template's parameters. The host hands the result to the
/// handlers; it is never written back to the process environment.
/// </summary>
public static class DatabaseConnection
{
    public const string ConnectionStringVariable = "WRITEBACK_PG";
    public const string HostVariable = "WRITEBACK_DB_HOST";
    public const string PortVariable = "WRITEBACK_DB_PORT";
    public const string NameVariable = "WRITEBACK_DB_NAME";
    public const string SecretArnVariable = "WRITEBACK_DB_SECRET_ARN";
    public const string RootCertificateVariable = "WRITEBACK_DB_ROOT_CERTIFICATE";

    /// <summary>
    /// WRITEBACK_PG when it is set (a local run, or a test); otherwise the connection string composed from the secret.
    /// </summary>
    public static async Task<string> ResolveAsync(Func<string, string?> environment, SecretsManagerClient secrets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(secrets);
        if (environment(ConnectionStringVariable) is { Length: > 0 } given)
        {
            return given;
        }

        var secretArn = Required(environment, SecretArnVariable);
        var login = JsonSerializer.Deserialize(await secrets.GetSecretStringAsync(secretArn, cancellationToken), SecretsJson.Default.DatabaseLogin)
            ?? throw new InvalidOperationException($"The secret in {SecretArnVariable} is not JSON with username and password.");
        return Build(environment, login);
    }

    /// <summary>The connection string for a login: TLS with full verification, one connection per instance.</summary>
    public static string Build(Func<string, string?> environment, DatabaseLogin login)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(login);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Required(environment, HostVariable),
            Port = environment(PortVariable) is { Length: > 0 } port ? int.Parse(port, System.Globalization.CultureInfo.InvariantCulture) : 5432,
            Database = Required(environment, NameVariable),
            Username = login.Username,
            Password = login.Password,
            // Encrypted and the server's name checked against its certificate: no downgrade, no impostor.
            SslMode = SslMode.VerifyFull,
            // A Lambda instance runs one invocation at a time, so one connection is all it can use; reserved
            // concurrency then equals the connections the stack can hold (the DbConnectionBudget parameter).
            MaxPoolSize = 1,
            Timeout = 15,
            ApplicationName = environment("AWS_LAMBDA_FUNCTION_NAME") ?? "writeback",
        };
        if (environment(RootCertificateVariable) is { Length: > 0 } certificate)
        {
            // A path inside the artifact, e.g. certs/rds-global-bundle.pem for a direct RDS endpoint.
            var root = environment("LAMBDA_TASK_ROOT") ?? AppContext.BaseDirectory;
            builder.RootCertificate = Path.IsPathRooted(certificate) ? certificate : Path.Combine(root, certificate);
        }

        return builder.ConnectionString;
    }

    private static string Required(Func<string, string?> environment, string name) =>
        environment(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set; template.yaml sets it on every writer function.");
}
