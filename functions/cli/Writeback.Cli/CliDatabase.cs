using System.Net.Sockets;
using Npgsql;

namespace Writeback.Cli;

/// <summary>
/// The product database as the CLI's commands reach it: WRITEBACK_PG, checked once before a command does any work, and
/// every way of not reaching it said in one line with what to do next. Nothing it prints carries the password.
/// </summary>
internal static class CliDatabase
{
    private const string NextStep = "start the project's server with `./writeback db start`, or point WRITEBACK_PG at yours";

    /// <summary>
    /// Exit status that asks the `./writeback` script for the project's PostgreSQL: the script runs a command with
    /// <see cref="AskVariable"/> set while WRITEBACK_PG is unset, and a command that needs the database stops with this
    /// status before doing any work; the script then starts (or finds) its kept server and runs the command again. So
    /// which commands need the database is known here alone, not also in a list in the script. 75 is EX_TEMPFAIL.
    /// </summary>
    public const int AskForDatabaseExitCode = 75;

    public const string AskVariable = "WRITEBACK_ASK_FOR_DATABASE";

    /// <summary>
    /// The connection string once a connection has opened; otherwise null, after one line on stderr.
    /// </summary>
    public static async Task<string?> RequireAsync(string command, CancellationToken cancellationToken)
    {
        if (Environment.GetEnvironmentVariable("WRITEBACK_PG") is not { Length: > 0 } connectionString)
        {
            if (Environment.GetEnvironmentVariable(AskVariable) == "1")
            {
                // Nothing has been done yet (every command calls this first), so ending the process here loses nothing.
                Environment.Exit(AskForDatabaseExitCode);
            }

            await Console.Error.WriteLineAsync($"writeback {command}: WRITEBACK_PG is not set; run it as `./writeback {command}`, which starts the project's PostgreSQL, or set WRITEBACK_PG to a connection string.");
            return null;
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 5 };
        }
        catch (ArgumentException e)
        {
            // The message names the keyword it did not understand, never a value.
            await Console.Error.WriteLineAsync($"writeback {command}: WRITEBACK_PG is not a PostgreSQL connection string ({e.Message}); write it as Host=…;Port=…;Username=…;Password=…;Database=….");
            return null;
        }

        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            return connectionString;
        }
        catch (Exception e) when (Describe(e, connectionString) is { } problem)
        {
            await Console.Error.WriteLineAsync($"writeback {command}: {problem}");
            return null;
        }
    }

    /// <summary>
    /// One line for a failure to reach or use the database that an operator can fix; null for anything else (a bug,
    /// whose stack trace is worth showing).
    /// </summary>
    public static string? Describe(Exception exception, string? connectionString)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var where = Where(connectionString);
        return exception switch
        {
            PostgresException { SqlState: PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification } => $"PostgreSQL at {where} refused the login ({Reason(exception)}); check the user and password in WRITEBACK_PG.",
            PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } => $"PostgreSQL at {where} has no such database; create it or name another in WRITEBACK_PG.",
            PostgresException { SqlState: PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.TooManyConnections } => $"PostgreSQL at {where} is not accepting connections now ({Reason(exception)}); try again in a moment.",
            PostgresException => null,
            NpgsqlException { InnerException: SocketException socket } => $"cannot reach PostgreSQL at {where} ({Reason(socket)}); {NextStep}.",
            NpgsqlException { InnerException: TimeoutException } => $"PostgreSQL at {where} did not answer in time; {NextStep}.",
            NpgsqlException { InnerException: IOException or EndOfStreamException } => $"the connection to PostgreSQL at {where} was lost ({Reason(exception.InnerException!)}); check the server and run the command again.",
            NpgsqlException when exception.Message.StartsWith("Failed to connect", StringComparison.Ordinal) => $"cannot reach PostgreSQL at {where}; {NextStep}.",
            _ => null,
        };
    }

    private static string Reason(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.MessageText,
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "connection refused: nothing listens there",
        SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData } => "the host name does not resolve",
        SocketException socket => socket.SocketErrorCode.ToString(),
        _ => exception.Message,
    };

    /// <summary>host:port/database, which is what a reader needs to find the server; never the password.</summary>
    private static string Where(string? connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString ?? "");
            return $"{builder.Host ?? "localhost"}:{builder.Port}/{builder.Database ?? builder.Username ?? "?"}";
        }
        catch (ArgumentException)
        {
            return "WRITEBACK_PG";
        }
    }
}
