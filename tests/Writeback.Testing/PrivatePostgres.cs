using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Xunit;

namespace Writeback.Testing;

/// <summary>
/// A PostgreSQL server of its own, for the one kind of test that restarts the server: restarting the shared server
/// would break every other test class running at the same time. Built from the same binaries as the test server
/// (WRITEBACK_PG_CTL), run as WRITEBACK_PG_OS_USER when the tests run as root.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _binaries;
    private readonly string? _osUser;

    private PrivatePostgres(string directory, string binaries, string? osUser, int port)
    {
        _directory = directory;
        _binaries = binaries;
        _osUser = osUser;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "writeback",
        Database = "postgres",
        Pooling = true,
    }.ConnectionString;

    private string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>Why a test that needs this cannot run here, or null when it can.</summary>
    public static string? Unavailable =>
        string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(TestPostgres.PgCtlVariable))
            ? $"{TestPostgres.PgCtlVariable} is not set: the test script does not own the PostgreSQL binaries here, so no server may be restarted (run ./writeback test)."
            : null;

    public static async Task<PrivatePostgres> StartAsync()
    {
        var pgCtl = Environment.GetEnvironmentVariable(TestPostgres.PgCtlVariable) ?? throw new InvalidOperationException(Unavailable);
        var osUser = Environment.GetEnvironmentVariable("WRITEBACK_PG_OS_USER");
        if (string.IsNullOrWhiteSpace(osUser))
        {
            osUser = null;
        }

        var binaries = Path.GetDirectoryName(pgCtl)!;
        var directory = Directory.CreateTempSubdirectory("writeback-private-pg-").FullName;
        await RunAsync("chmod", ["755", directory]);
        Directory.CreateDirectory(Path.Combine(directory, "data"));
        if (osUser is not null)
        {
            await RunAsync("chown", [osUser, Path.Combine(directory, "data"), directory]);
        }

        var server = new PrivatePostgres(directory, binaries, osUser, FreePort());
        await server.RunAsOwnerAsync(Path.Combine(binaries, "initdb"), ["-D", server.DataDirectory, "-U", "writeback", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]);
        await server.StartServerAsync();
        return server;
    }

    /// <summary>
    /// A whole-server crash: <c>pg_ctl -m immediate</c> stops without a checkpoint (recovery replays WAL and empties
    /// every unlogged table, as after a power cut or a failover), then the server starts again.
    /// </summary>
    public async Task CrashAndRestartAsync()
    {
        await RunAsOwnerAsync(Path.Combine(_binaries, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
        await StartServerAsync();
    }

    /// <summary>
    /// SIGKILL of one backend: the postmaster treats it as a crash, ends every session and runs crash recovery (unlogged
    /// tables come back empty). Returns once the server accepts connections again.
    /// </summary>
    public async Task KillBackendAsync(int pid)
    {
        using (var backend = Process.GetProcessById(pid))
        {
            backend.Kill();
        }

        await WaitUntilAcceptingAsync();
    }

    /// <summary>Polls until a new session can run a query: recovery after a crash takes a moment.</summary>
    public async Task WaitUntilAcceptingAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 5 };
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync();
                return;
            }
            catch (Exception e) when ((e is NpgsqlException or IOException) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    public async Task RestartAsync()
    {
        await RunAsOwnerAsync(Path.Combine(_binaries, "pg_ctl"), ["-D", DataDirectory, "-m", "fast", "-w", "stop"]);
        await StartServerAsync();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunAsOwnerAsync(Path.Combine(_binaries, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"]);
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        Directory.Delete(_directory, recursive: true);
    }

    // client_connection_check_interval: a backend whose client was SIGKILLed notices within 100 ms even while it runs a
    // statement, for every session including those opened before a test began (RDS lets you set the same).
    private Task StartServerAsync() => RunAsOwnerAsync(
        Path.Combine(_binaries, "pg_ctl"),
        ["-D", DataDirectory, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60", "start",
         "-o", $"-c listen_addresses=127.0.0.1 -p {Port} -c unix_socket_directories={_directory} -c fsync=off -c client_connection_check_interval=100ms"]);

    private Task RunAsOwnerAsync(string program, IReadOnlyList<string> arguments) =>
        _osUser is null ? RunAsync(program, arguments) : RunAsync("runuser", ["-u", _osUser, "--", program, .. arguments]);

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited {process.ExitCode}: {await output}{await error}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A fact that needs <see cref="PrivatePostgres"/>; skipped, with the reason, where the binaries are not ours.</summary>
public sealed class PrivatePostgresFactAttribute : FactAttribute
{
    public PrivatePostgresFactAttribute()
    {
        if (PrivatePostgres.Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A theory that needs <see cref="PrivatePostgres"/>; skipped, with the reason, where the binaries are not ours.</summary>
public sealed class PrivatePostgresTheoryAttribute : TheoryAttribute
{
    public PrivatePostgresTheoryAttribute()
    {
        if (PrivatePostgres.Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}
