using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Npgsql;
using Writeback.Aggregate;
using Writeback.Aggregate.Export;
using Writeback.Aggregate.Warehouse;
using Writeback.Cli.Local;
using Writeback.Core.Storage;
using Writeback.StepFunctions;
using Writeback.Testing;
using Xunit;

namespace Writeback.Cli.Tests.Faults;

/// <summary>How a fault is injected: each is a real crash, none a clean shutdown.</summary>
public enum CrashKind
{
    /// <summary>SIGKILL of the PostgreSQL backend doing the work: the postmaster crash-restarts the whole server.</summary>
    KillBackend,

    /// <summary><c>pg_ctl -m immediate</c>: the whole server stops without a checkpoint, as at a power cut or failover.</summary>
    ImmediateShutdown,

    /// <summary>SIGKILL of the process running the step (here, the whole <c>writeback sfn run</c>): the server stays up.</summary>
    KillStepProcess,
}

/// <summary>Where in the batch the fault strikes.</summary>
public enum CrashPoint
{
    /// <summary>Inside a shard's COPY into staging (row 100 of shard 1).</summary>
    MidCopy,

    /// <summary>After shard 1's COPY, inside its transaction, as its ledger row is written.</summary>
    ShardCommit,

    /// <summary>Inside Verify's transaction, as the batch is marked verified.</summary>
    InsideVerify,

    /// <summary>Inside Publish's transaction, after it has updated the product table.</summary>
    InsidePublishWrite,

    /// <summary>Inside Publish's transaction, as the batch is marked applied (everything written, not committed).</summary>
    PublishCommit,

    /// <summary>Between steps: after shard 0 committed, before the other shards.</summary>
    AfterShardCommitted,

    /// <summary>Between steps: every shard loaded, Verify not yet run.</summary>
    BetweenLoadAndVerify,

    /// <summary>Between steps: verified, Publish not yet run (the crash that emptied a day before).</summary>
    BetweenVerifyAndPublish,
}

/// <summary>
/// What every crash scenario shares: one private server (it is crashed on purpose, so not the shared one), two exports
/// of the same day (A, then a corrected B, several shards each), and the fault-free result of applying A then B that
/// every faulted run must equal.
/// </summary>
public sealed class CrashSuite : IAsyncLifetime
{
    public static readonly DateOnly Day = new(2026, 11, 20);

    private string? _folder;

    public PrivatePostgres Server { get; private set; } = null!;

    /// <summary>
    /// A project root of the suite's own (targets, state machine and template copied in), whose export folder holds the
    /// batches: the only place the steps, in this process or in `writeback sfn run`, may read them from.
    /// </summary>
    public string Root { get; private set; } = "";

    public string Exports => Path.Combine(Root, ".writeback", "exports");

    public ExportedBatch BatchA { get; private set; } = null!;

    public ExportedBatch BatchB { get; private set; } = null!;

    /// <summary>The day as A leaves it and as B leaves it: a reader may see either, never anything else.</summary>
    public string DigestA { get; private set; } = "";

    public string DigestB { get; private set; } = "";

    /// <summary>One md5 per row of the fault-free end state, sorted: the multiset a faulted run is compared with.</summary>
    public IReadOnlyList<string> ExpectedRows { get; private set; } = [];

    public async Task InitializeAsync()
    {
        if (PrivatePostgres.Unavailable is not null)
        {
            return;
        }

        _folder = Directory.CreateTempSubdirectory("writeback-crash-suite-").FullName;
        Root = Path.Combine(_folder, "root");
        CopyProjectFiles(Root);
        Server = await PrivatePostgres.StartAsync();
        BatchA = await ExportAsync(SampleWarehouse.DefaultSeed, "a");
        BatchB = await ExportAsync(7, "b");
        if (BatchA.Manifest.Shards.Count < 3 || BatchB.Manifest.Shards.Count < 3)
        {
            throw new InvalidOperationException($"the crash suite needs several shards per batch; got {BatchA.Manifest.Shards.Count} and {BatchB.Manifest.Shards.Count}");
        }

        var reference = await CreateDatabaseAsync("crash_reference");
        await Workflow.RunToEndAsync(this, reference, BatchA);
        DigestA = await DayDigestAsync(reference);
        await Workflow.RunToEndAsync(this, reference, BatchB);
        DigestB = await DayDigestAsync(reference);
        ExpectedRows = await RowHashesAsync(reference);
        if (DigestA == DigestB || ExpectedRows.Count == 0)
        {
            throw new InvalidOperationException("batches A and B must differ and B must hold rows");
        }
    }

    public async Task DisposeAsync()
    {
        if (PrivatePostgres.Unavailable is not null)
        {
            return;
        }

        await Server.DisposeAsync();
        Directory.Delete(_folder!, recursive: true);
    }

    public async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(Server.ConnectionString))
        {
            await admin.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(Server.ConnectionString) { Database = name }.ConnectionString;
    }

    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(Server.ConnectionString);
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>An ordered digest of the day in the product table.</summary>
    public static async Task<string> DayDigestAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync();
        return await DayDigestAsync(connection);
    }

    public static async Task<string> DayDigestAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand(
            "SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.student_id)), '') FROM dashboard.student_daily t WHERE t.business_date = $1",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = Day });
        return (string)(await command.ExecuteScalarAsync())!;
    }

    public static async Task<IReadOnlyList<string>> RowHashesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT md5(t::text) FROM dashboard.student_daily t ORDER BY 1", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static void CopyProjectFiles(string root)
    {
        foreach (var folder in new[] { "targets", "statemachines" })
        {
            Directory.CreateDirectory(Path.Combine(root, folder));
            foreach (var file in Directory.GetFiles(Path.Combine(ProjectPaths.Root, folder)))
            {
                File.Copy(file, Path.Combine(root, folder, Path.GetFileName(file)));
            }
        }

        File.Copy(Path.Combine(ProjectPaths.Root, "template.yaml"), Path.Combine(root, "template.yaml"));
    }

    /// <summary>The test's own sessions are never pooled: a crash leaves every pooled connection broken.</summary>
    public static string Unpooled(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;

    private async Task<ExportedBatch> ExportAsync(long seed, string name)
    {
        var warehouse = Path.Combine(_folder!, $"warehouse-{name}.duckdb");
        SampleWarehouse.Ensure(warehouse, seed, WarehouseSize.Small, Day);

        // Small shards, so a batch has several and a crash can fall between them.
        var exporter = new LocalBatchExporter(new LocalExportOptions
        {
            WarehousePath = warehouse,
            OutputRoot = Exports,
            MaxShardBytes = 24 * 1024,
        });
        return await exporter.ExportAsync(Datasets.StudentDashboard, Day, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", CancellationToken.None);
    }
}

/// <summary>The real state machine and the real handlers, in this process or in a `writeback sfn run` process.</summary>
internal static class Workflow
{
    private static readonly Lazy<string> Definition = new(() =>
    {
        var (substitutions, _) = SfnSubstitutions.Resolve(ProjectPaths.Root, ProjectPaths.WorkflowDefinition);
        return DefinitionSubstitutions.Apply(File.ReadAllText(ProjectPaths.WorkflowDefinition), substitutions);
    });

    public static string Input(ExportedBatch batch) => new JsonObject { ["manifestUri"] = batch.ManifestUri }.ToJsonString();

    /// <summary>
    /// A delivery of the batch: a fresh orchestrator (as after a redelivery or a restarted process) starts an execution
    /// named after the batch id and runs it to its end.
    /// </summary>
    public static Execution Start(CrashSuite suite, string connectionString, ExportedBatch batch)
    {
        var engine = new StepFunctionsEngine(new StepFunctionsEngineOptions
        {
            LambdaInvoker = Invoker(suite, connectionString),
        });
        var machine = engine.CreateStateMachine("writeback", Definition.Value);
        return engine.StartExecution(machine, Input(batch), batch.Manifest.BatchId);
    }

    public static async Task<Execution> RunToEndAsync(CrashSuite suite, string connectionString, ExportedBatch batch)
    {
        var execution = Start(suite, connectionString, batch);
        await execution.Completion.WaitAsync(TimeSpan.FromMinutes(5));
        if (execution.Status != ExecutionStatus.Succeeded)
        {
            throw new InvalidOperationException($"the fault-free run of {batch.Manifest.BatchId} ended {execution.StatusName}: {execution.Error}: {execution.Cause}");
        }

        return execution;
    }

    public static SfnLocalInvoker Invoker(CrashSuite suite, string connectionString) =>
        new(LocalFunctions.Create(connectionString, SourcePolicy.LocalFolder(suite.Exports)), TimeSpan.FromMinutes(15));

    /// <summary>`writeback sfn run` of the batch in a process of its own, which a test can SIGKILL.</summary>
    public static Process StartProcess(CrashSuite suite, string connectionString, ExportedBatch batch)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "writeback.dll"), "sfn", "run", Path.Combine(suite.Root, "statemachines", "writeback.asl.json"),
            "--input", Input(batch), "--execution-name", batch.Manifest.BatchId,
        })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["WRITEBACK_PG"] = connectionString;
        start.Environment["WRITEBACK_ROOT"] = suite.Root;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}

/// <summary>
/// Traps that hold a backend at a crash point until the test has crashed it: a trigger loops on pg_sleep while the
/// point's counter (a logged row the test decrements after each fault) is above zero. Nothing in the product's code
/// knows of them; they sit on the tables the steps write, the staging ones installed as each is created.
/// </summary>
internal static class Traps
{
    public const string Sql = """
        CREATE SCHEMA wbtest;
        CREATE TABLE wbtest.traps (point text PRIMARY KEY, remaining integer NOT NULL);
        CREATE TABLE wbtest.released (pid integer PRIMARY KEY);
        CREATE FUNCTION wbtest.trap() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            WHILE coalesce((SELECT remaining FROM wbtest.traps WHERE point = TG_ARGV[0]), 0) > 0
                AND NOT EXISTS (SELECT FROM wbtest.released WHERE pid = pg_backend_pid()) LOOP
                PERFORM pg_sleep(0.02);
            END LOOP;
            IF TG_LEVEL = 'ROW' THEN
                RETURN NEW;
            END IF;
            RETURN NULL;
        END $$;
        CREATE FUNCTION wbtest.trap_new_staging() RETURNS event_trigger LANGUAGE plpgsql AS $$
        DECLARE created record;
        BEGIN
            FOR created IN SELECT object_identity FROM pg_event_trigger_ddl_commands()
                WHERE command_tag = 'CREATE TABLE' AND schema_name = 'writeback_staging' AND object_identity NOT LIKE '%.intact'
            LOOP
                EXECUTE format('CREATE TRIGGER wbtest_mid_copy BEFORE INSERT ON %s FOR EACH ROW WHEN (NEW._wb_shard = 1 AND NEW._wb_row = 100) EXECUTE FUNCTION wbtest.trap(%L)',
                    created.object_identity, 'MidCopy');
            END LOOP;
        END $$;
        CREATE EVENT TRIGGER wbtest_staging ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION wbtest.trap_new_staging();
        CREATE TRIGGER wbtest_shard_commit BEFORE INSERT ON writeback.shards FOR EACH ROW WHEN (NEW.shard_index = 1) EXECUTE FUNCTION wbtest.trap('ShardCommit');
        CREATE TRIGGER wbtest_verify BEFORE UPDATE ON writeback.batches FOR EACH ROW WHEN (NEW.status = 'verified' AND OLD.status <> 'verified') EXECUTE FUNCTION wbtest.trap('InsideVerify');
        CREATE TRIGGER wbtest_publish_commit BEFORE UPDATE ON writeback.batches FOR EACH ROW WHEN (NEW.status = 'applied' AND OLD.status <> 'applied') EXECUTE FUNCTION wbtest.trap('PublishCommit');
        CREATE TRIGGER wbtest_publish_write AFTER UPDATE ON dashboard.student_daily FOR EACH STATEMENT EXECUTE FUNCTION wbtest.trap('InsidePublishWrite');
        """;

    public static async Task InstallAsync(string connectionString)
    {
        await ExecuteAsync(connectionString, Sql);
        // A backend whose client was SIGKILLed then notices within 100 ms, not only when it next writes to the socket
        // (RDS lets you set the same); otherwise it would sit in its trap holding the batch's locks.
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await ExecuteAsync(connectionString, $"ALTER DATABASE {database} SET client_connection_check_interval = '100ms'");
    }

    public static Task ArmAsync(string connectionString, CrashPoint point, int faults) =>
        ExecuteAsync(connectionString, $"INSERT INTO wbtest.traps VALUES ('{point}', {faults.ToString(CultureInfo.InvariantCulture)})");

    /// <summary>
    /// Lets one trapped backend go on as a real one would once its client has died. A client killed mid-COPY leaves data it
    /// had not sent yet in its socket, and the kernel queues the FIN behind it; a backend paused in the trap reads nothing,
    /// so it would never see the end of the connection (the orphaned socket waits in FIN-WAIT-1 with a zero window).
    /// Released, it reads the rest, meets the end of the stream and rolls back, as on a server that was never paused.
    /// </summary>
    public static Task ReleaseAsync(string connectionString, int pid) =>
        ExecuteAsync(connectionString, $"INSERT INTO wbtest.released VALUES ({pid.ToString(CultureInfo.InvariantCulture)}) ON CONFLICT DO NOTHING");

    /// <summary>One fault done: the counter goes down; backends released before it are gone by now, so their pids are forgotten.</summary>
    public static Task DisarmOneAsync(string connectionString, CrashPoint point) =>
        ExecuteAsync(connectionString, $"UPDATE wbtest.traps SET remaining = remaining - 1 WHERE point = '{point}'; DELETE FROM wbtest.released");

    /// <summary>The backend held in a trap, once one is; null if <paramref name="finished"/> says the run ended first.</summary>
    public static async Task<int?> WaitForTrappedBackendAsync(string connectionString, Func<bool> finished)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await using var connection = new NpgsqlConnection(CrashSuite.Unpooled(connectionString));
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep' AND pid <> pg_backend_pid() LIMIT 1",
                    connection);
                if (await command.ExecuteScalarAsync() is int pid)
                {
                    return pid;
                }
            }
            catch (NpgsqlException)
            {
                // Recovering from the previous fault.
            }

            if (finished())
            {
                return null;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("no backend reached the trap within 3 minutes");
    }

    public static async Task WaitUntilGoneAsync(string connectionString, int pid)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            await using var connection = new NpgsqlConnection(CrashSuite.Unpooled(connectionString));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = pid });
            if ((long)(await command.ExecuteScalarAsync())! == 0)
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"backend {pid} outlived its killed client by a minute");
    }

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = new NpgsqlConnection(CrashSuite.Unpooled(connectionString));
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand(sql, connection);
                await command.ExecuteNonQueryAsync();
                return;
            }
            catch (NpgsqlException) when (attempt < 100)
            {
                // The server may still be recovering from the fault just injected.
                await Task.Delay(100);
            }
        }
    }
}

/// <summary>
/// A reader of the product table during the faulted run: every sample must be the day as A left it or as B leaves it.
/// Connection failures are the fault itself and are retried.
/// </summary>
internal sealed class ConcurrentReader : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly string _connectionString;
    private readonly HashSet<string> _allowed;

    public ConcurrentReader(string connectionString, params string[] allowed)
    {
        _connectionString = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 5 }.ConnectionString;
        _allowed = [.. allowed];
        _loop = Task.Run(LoopAsync);
    }

    public int Samples { get; private set; }

    public int Mixed { get; private set; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_connectionString);
                await connection.OpenAsync(_stop.Token);
                while (!_stop.IsCancellationRequested)
                {
                    var digest = await CrashSuite.DayDigestAsync(connection);
                    Samples++;
                    if (!_allowed.Contains(digest))
                    {
                        Mixed++;
                    }

                    await Task.Delay(25, _stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or InvalidOperationException)
            {
                await Task.Delay(50);
            }
        }
    }
}
