using System.Net.Http;
using System.Net.Sockets;
using Npgsql;
using Writeback.Core.Sql;

namespace Writeback.Core;

/// <summary>
/// The batch breaks its contract (bad manifest, type mismatch, checksum or row-count mismatch, bad Parquet, null or
/// duplicate key, an ordering or state violation). Retrying cannot help; the message names batch, shard, column and
/// row where they apply.
/// </summary>
public sealed class InvalidBatchException : Exception
{
    public InvalidBatchException() : this("The batch is invalid.") { }

    public InvalidBatchException(string message) : base(message) { }

    public InvalidBatchException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>The same batch id arrived with different content: never a silent overwrite.</summary>
public sealed class BatchConflictException : Exception
{
    public BatchConflictException() : this("The batch conflicts with one already recorded.") { }

    public BatchConflictException(string message) : base(message) { }

    public BatchConflictException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// The batch's staged rows are not all there (crash recovery empties unlogged staging; a shard was never loaded):
/// nothing was published, the ledger has been reset to match, and the shards must be loaded again. The state machine
/// answers this by running the load again; it is neither transient (a retry of the same step cannot help) nor invalid.
/// </summary>
public sealed class ReloadRequiredException : Exception
{
    public ReloadRequiredException() : this("The batch must be loaded again.") { }

    public ReloadRequiredException(string message) : base(message) { }

    public ReloadRequiredException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>A target contract file is malformed; a deployment error, not a property of any batch.</summary>
public sealed class ContractException : Exception
{
    public ContractException() : this("The contract is invalid.") { }

    public ContractException(string message) : base(message) { }

    public ContractException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>Which failures are worth retrying: lost connections, a restarting server, serialization failures.</summary>
public static class Failures
{
    public static bool IsTransient(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg:
                    return pg.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.LockNotAvailable
                            or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
                        || SqlStates.InClass(pg.SqlState, PostgresErrorCodes.ConnectionException)
                        || SqlStates.InClass(pg.SqlState, PostgresErrorCodes.InsufficientResources);
                case NpgsqlException npgsql when npgsql.IsTransient:
                    return true;
                case NpgsqlException { InnerException: IOException or SocketException or TimeoutException }:
                    return true;
                case HttpRequestException or TimeoutException or SocketException:
                    return true;
                case IOException when e.InnerException is SocketException:
                    return true;
            }
        }

        return false;
    }
}
