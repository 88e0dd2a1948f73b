using System.Diagnostics;
using Npgsql;
using Writeback.Cli.Local;

namespace Writeback.Cli.Tests.Scripts;

/// <summary>
/// scripts/postgres.sh as the test command uses it: a private server on loopback that is gone, directory and all,
/// however the script ends.
/// </summary>
public sealed class ThrowawayPostgresTests
{
    private const string StartAndReport = """
        source scripts/postgres.sh
        trap pg_throwaway_cleanup EXIT
        pg_throwaway_start 2>/dev/null
        echo "$WRITEBACK_PG"
        echo "$PG_THROWAWAY_DIR"
        """;

    [Fact]
    public async Task The_throwaway_server_listens_on_loopback_and_is_removed_when_the_script_exits()
    {
        var (exitCode, lines) = await RunAsync(StartAndReport + "\npsql \"host=127.0.0.1 port=$PG_PORT user=writeback dbname=postgres password=$(cat $PG_THROWAWAY_DIR/password)\" -Atc 'show listen_addresses'\n");

        Assert.Equal(0, exitCode);
        var (connectionString, directory) = (lines[0], lines[1]);
        Assert.Equal("127.0.0.1", lines[2]);
        Assert.False(Directory.Exists(directory), $"{directory} was left behind");
        await AssertGoneAsync(connectionString);
    }

    [Fact]
    public async Task A_terminated_script_still_removes_its_server()
    {
        using var script = Start(StartAndReport + "\nsleep 300\n");
        var connectionString = await script.StandardOutput.ReadLineAsync();
        var directory = await script.StandardOutput.ReadLineAsync();
        Assert.NotNull(connectionString);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
        }

        Process.Start("kill", ["-TERM", script.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        await script.WaitForExitAsync();

        Assert.False(Directory.Exists(directory), $"{directory} was left behind");
        await AssertGoneAsync(connectionString);
    }

    private static async Task AssertGoneAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 3, Pooling = false }.ConnectionString);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => connection.OpenAsync());
    }

    private static async Task<(int ExitCode, string[] Lines)> RunAsync(string script)
    {
        using var process = Start(script);
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static Process Start(string script)
    {
        var info = new ProcessStartInfo("bash", ["-c", script])
        {
            WorkingDirectory = ProjectPaths.Root,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // The script under test must start its own server, not reuse the one this test run got.
        info.Environment.Remove("WRITEBACK_PG");
        return Process.Start(info)!;
    }
}
