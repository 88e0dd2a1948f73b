using System.Diagnostics;
using Writeback.Cli.Local;

namespace Writeback.Cli.Tests.Scripts;

/// <summary>
/// The ./writeback script gives a command the project's PostgreSQL only when the CLI says the command needs it (exit 75
/// when asked), so the script keeps no list of its own. Run against a copy of the script with a fake `dotnet` (a CLI
/// whose `needs` command needs the database) and a fake server start that only records itself.
/// </summary>
public sealed class ScriptDatabaseTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("writeback-script-").FullName;

    public ScriptDatabaseTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "scripts"));
        Directory.CreateDirectory(Path.Combine(_root, "fake-bin"));
        File.Copy(Path.Combine(ProjectPaths.Root, "writeback"), Path.Combine(_root, "writeback"));
        File.WriteAllText(Path.Combine(_root, "scripts", "postgres.sh"), """
            pg_project_ensure() { echo "server started" >> "$WRITEBACK_ROOT/calls.log"; export WRITEBACK_PG="Host=kept"; }
            """);
        File.WriteAllText(Path.Combine(_root, "scripts", "cli-build.sh"), """
            cli_dll="$WRITEBACK_ROOT/writeback.dll"
            require_dotnet() { :; }
            build_cli() { :; }
            """);
        File.WriteAllText(Path.Combine(_root, "fake-bin", "dotnet"), """
            #!/usr/bin/env bash
            echo "cli ${2:-} ask=${WRITEBACK_ASK_FOR_DATABASE:-} pg=${WRITEBACK_PG:-}" >> "$WRITEBACK_ROOT/calls.log"
            case "${2:-}" in
                needs) [[ -n "${WRITEBACK_PG:-}" ]] && exit 0; [[ "${WRITEBACK_ASK_FOR_DATABASE:-}" == 1 ]] && exit 75; exit 2 ;;
                broken) exit 3 ;;
                *) exit 0 ;;
            esac
            """);
        using var chmod = Process.Start("chmod", ["+x", Path.Combine(_root, "writeback"), Path.Combine(_root, "fake-bin", "dotnet")]);
        chmod.WaitForExit();
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_command_the_cli_says_needs_the_database_gets_the_kept_server_and_runs_once_with_it()
    {
        var (exit, calls) = await RunAsync(pg: null, "needs");

        Assert.Equal(0, exit);
        Assert.Equal(["cli needs ask=1 pg=", "server started", "cli needs ask= pg=Host=kept"], calls);
    }

    [Fact]
    public async Task A_command_that_needs_no_database_runs_once_and_starts_no_server()
    {
        var (exit, calls) = await RunAsync(pg: null, "free");

        Assert.Equal(0, exit);
        Assert.Equal(["cli free ask=1 pg="], calls);
    }

    [Fact]
    public async Task With_WRITEBACK_PG_set_the_command_runs_once_against_that_server()
    {
        var (exit, calls) = await RunAsync(pg: "Host=mine", "needs");

        Assert.Equal(0, exit);
        Assert.Equal(["cli needs ask= pg=Host=mine"], calls);
    }

    [Fact]
    public async Task A_failing_command_keeps_its_exit_status_and_starts_no_server()
    {
        var (exit, calls) = await RunAsync(pg: null, "broken");

        Assert.Equal(3, exit);
        Assert.Equal(["cli broken ask=1 pg="], calls);
    }

    private async Task<(int Exit, string[] Calls)> RunAsync(string? pg, string command)
    {
        var info = new ProcessStartInfo(Path.Combine(_root, "writeback"), [command])
        {
            WorkingDirectory = _root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["PATH"] = Path.Combine(_root, "fake-bin") + ":" + Environment.GetEnvironmentVariable("PATH");
        info.Environment.Remove("WRITEBACK_ASK_FOR_DATABASE");
        info.Environment.Remove("WRITEBACK_PG");
        if (pg is not null)
        {
            info.Environment["WRITEBACK_PG"] = pg;
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        _ = await output;
        _ = await error;
        var log = Path.Combine(_root, "calls.log");
        return (process.ExitCode, File.Exists(log) ? await File.ReadAllLinesAsync(log) : []);
    }
}
