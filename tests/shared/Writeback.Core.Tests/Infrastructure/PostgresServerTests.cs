using Npgsql;
using Writeback.Testing;

namespace Writeback.Core.Tests.Infrastructure;

public sealed class PostgresServerTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task The_test_server_round_trips_a_value()
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT $1::text || ' from ' || current_database()", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = "hello" });

        var result = (string?)await command.ExecuteScalarAsync();

        Assert.Equal($"hello from {new NpgsqlConnectionStringBuilder(database.ConnectionString).Database}", result);
    }

    [Fact]
    public async Task The_test_server_is_a_real_postgresql_15_or_newer()
    {
        await using var connection = await database.OpenAsync();
        Assert.True(connection.PostgreSqlVersion.Major >= 15, $"server version {connection.PostgreSqlVersion}");
    }
}
