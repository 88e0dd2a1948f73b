using Npgsql;
using Xunit;

namespace Writeback.Testing;

/// <summary>
/// The PostgreSQL server that <c>./writeback test</c> started (or the one named by WRITEBACK_PG).
/// Each fixture gets its own database so test classes can run in parallel without seeing each other's tables.
/// </summary>
public static class TestPostgres
{
    public const string ConnectionVariable = "WRITEBACK_PG";

    /// <summary>Set only when the test script owns the server, so fault tests may restart it.</summary>
    public const string DataDirectoryVariable = "WRITEBACK_PG_DATADIR";

    public const string PgCtlVariable = "WRITEBACK_PG_CTL";

    public static string ServerConnectionString
    {
        get
        {
            var value = Environment.GetEnvironmentVariable(ConnectionVariable);
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new InvalidOperationException(
                    $"{ConnectionVariable} is not set. Run the tests with `./writeback test`, which starts a throwaway " +
                    $"PostgreSQL server, or set {ConnectionVariable} to a connection string for a server you own.");
            }

            return value;
        }
    }

    /// <summary>Creates a fresh, uniquely named database and returns a connection string for it.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}".ToLowerInvariant();
        await using (var admin = new NpgsqlConnection(ServerConnectionString))
        {
            await admin.OpenAsync();
            await using var create = admin.CreateCommand();
            create.CommandText = $"CREATE DATABASE \"{name}\"";
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(ServerConnectionString);
        await admin.OpenAsync();
        await using var drop = admin.CreateCommand();
        drop.CommandText = $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)";
        await drop.ExecuteNonQueryAsync();
    }
}

/// <summary>An xunit class fixture: one private database for the test class, dropped afterwards.</summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    private string? _connectionString;

    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("The fixture has not been initialised.");

    public async Task InitializeAsync() => _connectionString = await TestPostgres.CreateDatabaseAsync("wbtest");

    public async Task DisposeAsync()
    {
        if (_connectionString is not null)
        {
            await TestPostgres.DropDatabaseAsync(_connectionString);
        }
    }

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}
