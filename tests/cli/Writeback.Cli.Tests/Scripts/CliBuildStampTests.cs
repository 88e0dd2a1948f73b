using System.Diagnostics;
using Writeback.Cli.Local;

namespace Writeback.Cli.Tests.Scripts;

/// <summary>
/// scripts/cli-build.sh, which ./writeback runs before every command, against a scratch project and a fake `dotnet` that
/// records each build: the build runs when a source changed and is skipped when nothing did.
/// </summary>
public sealed class CliBuildStampTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("writeback-stamp-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // A project tree an hour old that was built before (bin/ and obj/ exist, as after any first build), and a `dotnet`
    // that logs its arguments and writes the CLI's dll.
    private const string Setup = """
        set -euo pipefail
        mkdir -p functions/cli/Writeback.Cli/bin/Release functions/cli/Writeback.Cli/obj sql fake-bin
        echo 'class A {}' > functions/cli/Writeback.Cli/A.cs
        touch sql/model.sql Directory.Build.props Directory.Packages.props global.json
        touch -d '1 hour ago' functions/cli/Writeback.Cli/A.cs functions/cli/Writeback.Cli functions sql/model.sql sql Directory.Build.props Directory.Packages.props global.json
        cat > fake-bin/dotnet <<'FAKE'
        #!/usr/bin/env bash
        echo "dotnet $1" >> "$WRITEBACK_ROOT/builds.log"
        mkdir -p "$WRITEBACK_ROOT/functions/cli/Writeback.Cli/bin/Release/net10.0"
        touch "$WRITEBACK_ROOT/functions/cli/Writeback.Cli/bin/Release/net10.0/writeback.dll"
        FAKE
        chmod +x fake-bin/dotnet
        export PATH="$PWD/fake-bin:$PATH" WRITEBACK_ROOT="$PWD"
        source "$SCRIPT"
        builds() { if [[ -f builds.log ]]; then wc -l < builds.log; else echo 0; fi; }
        """;

    [Fact]
    public async Task The_first_command_builds_and_the_next_one_with_nothing_changed_does_not()
    {
        var lines = await RunAsync("""
            build_cli 2>/dev/null; builds
            build_cli 2>/dev/null; builds
            """);

        Assert.Equal(["1", "1"], lines);
    }

    [Fact]
    public async Task An_edited_added_or_deleted_source_file_triggers_a_rebuild()
    {
        var lines = await RunAsync("""
            build_cli 2>/dev/null
            echo 'class B {}' >> functions/cli/Writeback.Cli/A.cs; build_cli 2>/dev/null; builds
            build_cli 2>/dev/null; builds
            echo 'class C {}' > functions/cli/Writeback.Cli/C.cs; build_cli 2>/dev/null; builds
            rm functions/cli/Writeback.Cli/C.cs; build_cli 2>/dev/null; builds
            touch sql/model.sql; build_cli 2>/dev/null; builds
            """);

        Assert.Equal(["2", "2", "3", "4", "5"], lines);
    }

    [Fact]
    public async Task Build_output_in_bin_and_obj_does_not_count_as_a_change()
    {
        var lines = await RunAsync("""
            build_cli 2>/dev/null
            touch functions/cli/Writeback.Cli/obj/project.assets.json functions/cli/Writeback.Cli/bin/Release/net10.0/writeback.dll
            build_cli 2>/dev/null; builds
            """);

        Assert.Equal(["1"], lines);
    }

    [Fact]
    public async Task A_missing_dll_is_rebuilt_even_with_a_fresh_stamp()
    {
        var lines = await RunAsync("""
            build_cli 2>/dev/null
            rm functions/cli/Writeback.Cli/bin/Release/net10.0/writeback.dll
            build_cli 2>/dev/null; builds
            """);

        Assert.Equal(["2"], lines);
    }

    private async Task<string[]> RunAsync(string steps)
    {
        var info = new ProcessStartInfo("bash", ["-c", Setup + "\n" + steps])
        {
            WorkingDirectory = _root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["SCRIPT"] = Path.Combine(ProjectPaths.Root, "scripts", "cli-build.sh");
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await error);
        return (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
