using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Npgsql;

namespace Writeback.StepFunctions.Local.Journal;

/// <summary>
/// The local Step Functions' memory across restarts, in PostgreSQL (schema <c>writeback_sfn</c>): state machines,
/// executions, their history and their checkpoints. Every change goes through one ordered queue that a single writer
/// drains in batches, one transaction per batch, so history ids land in order and the engine's locks never wait on the
/// network; <see cref="DurableAsync"/> is how a caller waits for what it has said so far to be committed.
/// </summary>
public sealed partial class PostgresJournal : IExecutionJournal, IAsyncDisposable
{
    /// <summary>As many changes as one transaction carries; a Map of 40 shards produces a few hundred events at once.</summary>
    private const int MaxBatch = 512;

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    /// <summary>How long disposal waits for the queue to drain before it gives up on it, as a crash would.</summary>
    private static readonly TimeSpan DrainWait = TimeSpan.FromSeconds(10);

    /// <summary>What a caller waiting on a closed journal gets: the process is going away, so nothing after this is kept.</summary>
    private static readonly Task Never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously).Task;

    private readonly NpgsqlDataSource _dataSource;
    private readonly Action<string> _log;
    private readonly Channel<Change> _changes = Channel.CreateUnbounded<Change>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _writer;
    private NpgsqlConnection? _owner;
    private string _ownerName = "";
    private string _connectionString = "";

    /// <summary>The advisory lock the owner holds: "wbsfn" in ASCII, so no other application's key is likely to collide.</summary>
    private const long OwnerLockKey = 0x7762_7366_6E;

    private PostgresJournal(NpgsqlDataSource dataSource, Action<string> log)
    {
        _dataSource = dataSource;
        _log = log;
        _writer = Task.Run(WriteAsync);
    }

    /// <summary>Batches committed so far (the cost a reader of the numbers wants: one round trip and one commit each).</summary>
    public long BatchesWritten { get; private set; }

    /// <summary>
    /// Creates the schema if needed (retrying while the server is unreachable), makes this process the journal's one
    /// owner, and starts the writer.
    /// </summary>
    /// <param name="owner">Who holds the journal, as another host that finds it taken is told (e.g. "writeback serve, pid 4242").</param>
    /// <param name="log">Receives one line when PostgreSQL becomes unreachable and one when it is back.</param>
    /// <exception cref="JournalInUseException">Another live process owns the executions kept in this database.</exception>
    public static async Task<PostgresJournal> OpenAsync(string connectionString, string owner, Action<string>? log, CancellationToken cancellationToken)
    {
        var dataSource = NpgsqlDataSource.Create(connectionString);
        var journal = new PostgresJournal(dataSource, log ?? (_ => { }));
        try
        {
            await journal.WithRetryAsync(async connection =>
            {
                await using var command = new NpgsqlCommand(Schema, connection);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }, cancellationToken);
            journal._owner = await TakeOwnershipAsync(connectionString, owner, cancellationToken);
            journal._ownerName = owner;
            journal._connectionString = connectionString;
        }
        catch
        {
            await journal.DisposeAsync();
            throw;
        }

        return journal;
    }

    /// <summary>
    /// Two hosts on one journal would both resume every RUNNING execution and run its steps twice. The owner holds a
    /// session advisory lock on a connection of its own for as long as it lives; the server releases it when the
    /// process dies, so a SIGKILLed host never blocks the next one.
    /// </summary>
    private static async Task<NpgsqlConnection> TakeOwnershipAsync(string connectionString, string owner, CancellationToken cancellationToken)
    {
        // Keepalive: an idle connection learns of a server restart (and reports Broken) within seconds, not at its next use.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, KeepAlive = 5, ApplicationName = owner[..Math.Min(owner.Length, 63)] };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var take = new NpgsqlCommand($"SELECT pg_try_advisory_lock({OwnerLockKey})", connection);
            if ((bool)(await take.ExecuteScalarAsync(cancellationToken))!)
            {
                return connection;
            }

            await using var holder = new NpgsqlCommand(
                $"""
                SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND ((l.classid::bigint << 32) | l.objid::bigint) = {OwnerLockKey}
                """, connection);
            var name = await holder.ExecuteScalarAsync(cancellationToken) as string;
            throw new JournalInUseException(
                $"another process ({(string.IsNullOrEmpty(name) ? "unnamed" : name)}) keeps its Step Functions executions in this database (schema writeback_sfn); stop it first, or give this one another database");
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public void Created(JournaledExecution execution)
    {
        ArgumentNullException.ThrowIfNull(execution);
        // A definition is kept once however many executions ran it (the workflow's is 14 KB).
        var sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(execution.DefinitionJson)));
        Enqueue(new Change(
            "INSERT INTO writeback_sfn.definitions (sha256, definition) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [sha, execution.DefinitionJson]));
        Enqueue(new Change(
            """
            INSERT INTO writeback_sfn.executions (arn, name, state_machine_arn, state_machine_name, definition_sha256, input, start_date, sequence)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING
            """,
            [execution.Arn, execution.Name, execution.StateMachineArn, execution.StateMachineName, sha, execution.InputJson, execution.StartDate.ToUniversalTime(), execution.Sequence]));
    }

    public void Appended(string executionArn, HistoryEvent historyEvent)
    {
        ArgumentNullException.ThrowIfNull(historyEvent);
        Enqueue(new Change(
            "INSERT INTO writeback_sfn.events (execution_arn, id, previous_event_id, timestamp, type, details) VALUES ($1, $2, $3, $4, $5, $6::json) ON CONFLICT DO NOTHING",
            [executionArn, historyEvent.Id, historyEvent.PreviousEventId, historyEvent.Timestamp.ToUniversalTime(), historyEvent.Type, historyEvent.Details?.ToJsonString()]));
    }

    public void Checkpointed(string executionArn, ResumePoint checkpoint) => Enqueue(new Change(
        "UPDATE writeback_sfn.executions SET checkpoint = $2::json WHERE arn = $1",
        [executionArn, CheckpointJson.Write(checkpoint)]));

    public void Closed(string executionArn, ExecutionStatus status, string? outputJson, string? errorName, string? cause, DateTimeOffset stopDate) => Enqueue(new Change(
        "UPDATE writeback_sfn.executions SET status = $2, output = $3, error = $4, cause = $5, stop_date = $6 WHERE arn = $1",
        [executionArn, ExecutionStatusNames.Of(status), outputJson, errorName, cause, stopDate.ToUniversalTime()]));

    public void Redriven(string executionArn, int redriveCount, DateTimeOffset redriveDate) => Enqueue(new Change(
        "UPDATE writeback_sfn.executions SET status = 'RUNNING', output = NULL, error = NULL, cause = NULL, stop_date = NULL, redrive_count = $2, redrive_date = $3 WHERE arn = $1",
        [executionArn, redriveCount, redriveDate.ToUniversalTime()]));

    /// <summary>A state machine created or updated through the API (upserted: the latest definition and role win).</summary>
    public void StateMachineSaved(string arn, string name, string definitionJson, string roleArn, DateTimeOffset created, DateTimeOffset? updated) => Enqueue(new Change(
        """
        INSERT INTO writeback_sfn.state_machines (arn, name, definition, role_arn, created, updated) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (arn) DO UPDATE SET definition = excluded.definition, role_arn = excluded.role_arn, updated = excluded.updated
        """,
        [arn, name, definitionJson, roleArn, created.ToUniversalTime(), updated?.ToUniversalTime()]));

    public void StateMachineDeleted(string arn) => Enqueue(new Change("DELETE FROM writeback_sfn.state_machines WHERE arn = $1", [arn]));

    public Task DurableAsync()
    {
        var barrier = new Change(null, [], new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        return _changes.Writer.TryWrite(barrier) ? barrier.Done!.Task : Never;
    }

    public async ValueTask DisposeAsync()
    {
        _changes.Writer.TryComplete();
        if (await Task.WhenAny(_writer, Task.Delay(DrainWait)) != _writer)
        {
            _log($"the execution journal could not write its last changes within {DrainWait.TotalSeconds:0} s; executions resume from their last durable checkpoint");
        }

        await _stopping.CancelAsync();
        await _writer.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _stopping.Dispose();
        await _dataSource.DisposeAsync();
        if (_owner is not null)
        {
            await _owner.DisposeAsync();
        }
    }

    /// <summary>After disposal changes are dropped, as they would be by a process that has gone.</summary>
    private void Enqueue(Change change) => _changes.Writer.TryWrite(change);

    private async Task WriteAsync()
    {
        var reader = _changes.Reader;
        var batch = new List<Change>(MaxBatch);
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token))
            {
                while (batch.Count < MaxBatch && reader.TryRead(out var change))
                {
                    batch.Add(change);
                }

                if (batch.Any(c => c.Sql is not null))
                {
                    await WithRetryAsync(async connection =>
                    {
                        await KeepOwnershipAsync();
                        await CommitAsync(connection, batch);
                    }, _stopping.Token);
                    BatchesWritten++;
                }

                foreach (var change in batch)
                {
                    change.Done?.TrySetResult();
                }

                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Disposed while PostgreSQL was away: what was not written is lost, as in a crash.
        }
    }

    /// <summary>
    /// A server crash ends every session, the owner's lock with it: the writer takes it again before it writes on. Should
    /// another host have taken it in between, both now run the same executions, which is said rather than hidden.
    /// </summary>
    private async Task KeepOwnershipAsync()
    {
        if (_owner is null || _owner.FullState == System.Data.ConnectionState.Open)
        {
            return;
        }

        await _owner.DisposeAsync();
        _owner = null;
        try
        {
            _owner = await TakeOwnershipAsync(_connectionString, _ownerName, _stopping.Token);
        }
        catch (JournalInUseException e)
        {
            _log($"the execution journal lost its ownership in a server restart: {e.Message}");
        }
    }

    /// <summary>One transaction and one round trip for the whole batch; every statement is idempotent, so a batch
    /// whose commit was lost with the connection can be written again.</summary>
    private async Task CommitAsync(NpgsqlConnection connection, List<Change> batch)
    {
        await using var transaction = await connection.BeginTransactionAsync(_stopping.Token);
        await using var command = new NpgsqlBatch(connection, transaction);
        foreach (var change in batch.Where(c => c.Sql is not null))
        {
            var statement = new NpgsqlBatchCommand(change.Sql!);
            foreach (var value in change.Values)
            {
                statement.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
            }

            command.BatchCommands.Add(statement);
        }

        await command.ExecuteNonQueryAsync(_stopping.Token);
        await transaction.CommitAsync(_stopping.Token);
    }

    /// <summary>
    /// Runs the work until it succeeds: a PostgreSQL restart or crash (the crash suite's <c>pg_ctl -m immediate</c>,
    /// a killed backend) must delay the journal, never fail it or lose an execution. Back-off doubles to 5 s.
    /// </summary>
    private async Task WithRetryAsync(Func<NpgsqlConnection, Task> work, CancellationToken cancellationToken)
    {
        var delay = FirstRetryDelay;
        var started = DateTime.UtcNow;
        var lastSaid = started;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
                await work(connection);
                if (attempt > 1)
                {
                    _log(string.Create(CultureInfo.InvariantCulture, $"the execution journal reached PostgreSQL again after {attempt - 1} failed attempts ({(DateTime.UtcNow - started).TotalSeconds:0.0} s)"));
                }

                return;
            }
            catch (Exception e) when ((e is NpgsqlException or IOException or SocketException or TimeoutException) && !cancellationToken.IsCancellationRequested)
            {
                // Every failure is retried, not only the transient kinds: dropping a batch would lose an execution, and an
                // outage longer than a blip is said again every half minute so that a stuck journal is not a silent one.
                if (attempt == 1 || DateTime.UtcNow - lastSaid > TimeSpan.FromSeconds(30))
                {
                    lastSaid = DateTime.UtcNow;
                    _log($"the execution journal cannot write to PostgreSQL ({e.GetType().Name}: {e.Message}); retrying with back-off up to {MaxRetryDelay.TotalSeconds:0} s, executions wait");
                }

                // Connections the pool holds died with the server: drop them rather than meet each one broken.
                _dataSource.Clear();
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    /// <summary>One statement to run in order, or (with <see cref="Done"/>) a barrier completed once all before it are committed.</summary>
    private sealed record Change(string? Sql, object?[] Values, TaskCompletionSource? Done = null);
}

/// <summary>The journal is owned by another live process: resuming its executions here would run their steps twice.</summary>
public sealed class JournalInUseException(string message) : Exception(message);
