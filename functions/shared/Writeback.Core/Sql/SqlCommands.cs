using Npgsql;

namespace Writeback.Core.Sql;

/// <summary>
/// The one way Core talks SQL: positional parameters (<c>$1</c>, <c>$2</c>, …) passed in order after the text, null as
/// SQL NULL. Files that use it say <c>using static Writeback.Core.Sql.SqlCommands;</c>.
/// </summary>
internal static class SqlCommands
{
    /// <summary>
    /// Commands without a client-side timeout: a publish or verify on millions of rows outlives Npgsql's 30 s default,
    /// and a timeout there would be misread as transient and retried forever. The function's own deadline bounds them.
    /// </summary>
    /// <remarks>A single array argument must be cast to <see cref="object"/>, or C# passes it as the whole list.</remarks>
    public static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params object?[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter ?? DBNull.Value });
        }

        return command;
    }

    public static async Task<int> ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>A transaction-scoped advisory lock on a text key, hashed by the server (<c>hashtextextended</c>).</summary>
    public static Task LockAsync(NpgsqlConnection connection, string key, bool shared, CancellationToken cancellationToken) =>
        ExecuteAsync(
            connection,
            shared ? "SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))" : "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            cancellationToken, key);
}
