using Npgsql;

namespace Writeback.Core.Sql;

/// <summary>
/// The one "create schema once" idiom: idempotent DDL, run per name at most once successfully in this process, each
/// time in its own transaction under an advisory lock. A failed or cancelled attempt is simply tried again by the next
/// caller; concurrent first callers each run it (harmless: serialised by the lock, and the DDL is idempotent), so one
/// caller's cancellation never fails another.
/// </summary>
public sealed class SchemaOnce(NpgsqlDataSource dataSource)
{
    private readonly HashSet<string> _done = new(StringComparer.Ordinal);

    /// <param name="name">What the DDL creates; once it succeeded, later calls with this name return at once.</param>
    /// <param name="lockKey">The advisory lock that serialises the DDL across writers.</param>
    public async Task EnsureAsync(string name, string lockKey, string ddl, CancellationToken cancellationToken)
    {
        lock (_done)
        {
            if (_done.Contains(name))
            {
                return;
            }
        }

        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

            // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog; serialise DDL across writers.
            await SqlCommands.LockAsync(connection, lockKey, shared: false, cancellationToken);
            await SqlCommands.ExecuteAsync(connection, ddl, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        lock (_done)
        {
            _done.Add(name);
        }
    }
}
