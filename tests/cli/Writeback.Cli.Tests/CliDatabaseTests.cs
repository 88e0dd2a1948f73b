using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Writeback.Cli.Local;
using Writeback.Testing;

namespace Writeback.Cli.Tests;

/// <summary>
/// The operator's first morning: every command that needs the database, run as the CLI process with a database it
/// cannot use, says in one line what is wrong and what to do, exits non-zero, and prints no stack trace and no password.
/// </summary>
public sealed class CliDatabaseTests
{
    private const string Password = "n0t-for-the-log";

    public static TheoryData<string[]> DatabaseCommands => new()
    {
        { new[] { "status" } },
        { new[] { "report", "--out", Path.Combine(Path.GetTempPath(), "writeback-report-never-written.html") } },
        { new[] { "slo", "check" } },
        { new[] { "sfn", "run", Path.Combine(ProjectPaths.Root, "statemachines", "writeback.asl.json"), "--input", """{"manifestUri":"file:///nowhere/manifest.json"}""" } },
    };

    [Theory]
    [MemberData(nameof(DatabaseCommands))]
    public async Task A_command_with_nothing_listening_at_the_database_says_so_in_one_line_and_what_to_do(string[] command)
    {
        var port = ClosedPort();
        var run = await RunAsync($"Host=127.0.0.1;Port={port};Username=writeback;Password={Password};Database=product", command);

        Assert.NotEqual(0, run.ExitCode);
        var line = Assert.Single(run.Problems);
        Assert.Contains($"cannot reach PostgreSQL at 127.0.0.1:{port}/product", line, StringComparison.Ordinal);
        Assert.Contains("./writeback db start", line, StringComparison.Ordinal);
        Assert.StartsWith($"writeback {string.Join(' ', command.TakeWhile(a => !a.StartsWith('-') && !a.Contains('/', StringComparison.Ordinal)))}:", line, StringComparison.Ordinal);
        run.AssertNoTraceNorPassword();
    }

    [Fact]
    public async Task A_wrong_password_is_a_refused_login_and_the_password_is_not_printed()
    {
        var builder = new NpgsqlConnectionStringBuilder(TestPostgres.ServerConnectionString) { Password = Password };
        var run = await RunAsync(builder.ConnectionString, "status");

        Assert.NotEqual(0, run.ExitCode);
        var line = Assert.Single(run.Problems);
        Assert.Contains("refused the login", line, StringComparison.Ordinal);
        Assert.Contains("check the user and password in WRITEBACK_PG", line, StringComparison.Ordinal);
        run.AssertNoTraceNorPassword();
    }

    [Fact]
    public async Task A_database_that_does_not_exist_is_named_as_missing()
    {
        var builder = new NpgsqlConnectionStringBuilder(TestPostgres.ServerConnectionString) { Database = "no_such_database_" + Guid.NewGuid().ToString("N")[..8] };
        var run = await RunAsync(builder.ConnectionString, "slo", "check");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("has no such database", Assert.Single(run.Problems), StringComparison.Ordinal);
        run.AssertNoTraceNorPassword();
    }

    [Fact]
    public async Task A_connection_string_that_is_not_one_says_how_to_write_it()
    {
        var run = await RunAsync($"postgres://writeback:{Password}@localhost/product", "report");

        Assert.NotEqual(0, run.ExitCode);
        var line = Assert.Single(run.Problems);
        Assert.Contains("WRITEBACK_PG is not a PostgreSQL connection string", line, StringComparison.Ordinal);
        Assert.Contains("Host=…;Port=…", line, StringComparison.Ordinal);
        run.AssertNoTraceNorPassword();
    }

    /// <summary>Every command that needs the database, including those that would start work at once.</summary>
    public static TheoryData<string[]> AllDatabaseCommands
    {
        get
        {
            var all = new TheoryData<string[]>
            {
                { new[] { "demo" } },
                { new[] { "serve" } },
                { new[] { "dry-run", "--dataset", "class_summary", "--date", "2026-11-20" } },
                { new[] { "backfill", "--dataset", "class_summary", "--from", "2026-11-20", "--to", "2026-11-21" } },
                { new[] { "rollback", "--dataset", "class_summary", "--date", "2026-11-20", "--reason", "test" } },
            };
            foreach (var command in DatabaseCommands)
            {
                all.Add(command);
            }

            return all;
        }
    }

    [Theory]
    [MemberData(nameof(AllDatabaseCommands))]
    public async Task Asked_by_the_script_a_command_that_needs_the_database_stops_with_75_before_doing_anything(string[] command)
    {
        var run = await RunAsync(connectionString: null, askForDatabase: true, command);

        Assert.Equal((75, "", ""), (run.ExitCode, run.Stdout, run.Stderr));
    }

    [Fact]
    public async Task Asked_by_the_script_a_command_that_needs_no_database_just_runs()
    {
        var help = await RunAsync(connectionString: null, askForDatabase: true, "sfn", "--help");
        var mocked = await RunAsync(connectionString: null, askForDatabase: true,
            "sfn", "run", Path.Combine(ProjectPaths.Root, "statemachines", "writeback.asl.json"), "--input", """{"manifestUri":"file:///tmp/writeback/orders/manifest.json"}""",
            "--mock-config", Path.Combine(ProjectPaths.Root, "tests", "local", "Writeback.StepFunctions.Tests", "mocks", "writeback.mock.json"), "--test-case", "AlreadyApplied", "--virtual-time");

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("run <definition>", help.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, mocked.ExitCode);
        Assert.Contains("SUCCEEDED", mocked.Stdout + mocked.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_directly_without_WRITEBACK_PG_a_command_says_how_to_give_it_a_database()
    {
        var run = await RunAsync(connectionString: null, askForDatabase: false, "status");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("WRITEBACK_PG is not set; run it as `./writeback status`", Assert.Single(run.Problems), StringComparison.Ordinal);
    }

    /// <summary>A port that was free a moment ago: bound, read and released, so nothing listens there.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The CLI as its own process with WRITEBACK_PG set, as an operator runs it.</summary>
    internal static Task<CliRun> RunAsync(string connectionString, params string[] args) => RunAsync(connectionString, askForDatabase: false, args);

    /// <summary>The CLI as its own process; without a connection string WRITEBACK_PG is unset, as in a fresh shell.</summary>
    private static async Task<CliRun> RunAsync(string? connectionString, bool askForDatabase, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "writeback.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("WRITEBACK_PG");
        if (connectionString is not null)
        {
            start.Environment["WRITEBACK_PG"] = connectionString;
        }

        start.Environment.Remove("WRITEBACK_ASK_FOR_DATABASE");
        if (askForDatabase)
        {
            start.Environment["WRITEBACK_ASK_FOR_DATABASE"] = "1";
        }

        start.Environment["WRITEBACK_ROOT"] = ProjectPaths.Root;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return new CliRun(process.ExitCode, await stdout, await stderr);
    }

    internal sealed record CliRun(int ExitCode, string Stdout, string Stderr)
    {
        /// <summary>What stderr says beyond the progress lines `sfn run` prints before it needs the database.</summary>
        public IReadOnlyList<string> Problems => [.. Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("sfn run: substitutions from", StringComparison.Ordinal))];

        public void AssertNoTraceNorPassword()
        {
            Assert.DoesNotContain("   at ", Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("Exception", Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(Password, Stdout + Stderr, StringComparison.Ordinal);
        }
    }
}
