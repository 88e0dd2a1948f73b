using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Writeback.Deploy.Tests;

/// <summary>The repository the tests check, and a way to run the tools they check it with.</summary>
internal static class Repo
{
    public static string Root => Writeback.Testing.RepositoryRoot.Path;

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>Debug or Release: the configuration this test assembly (and so the solution) was built in.</summary>
    public static string Configuration { get; } =
        typeof(Repo).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    public static string NodeTools => PathOf("tests", "tools", "node_modules");

    /// <summary>Runs a tool; a missing tool fails the test with how to install it.</summary>
    public static ToolResult Run(string tool, IEnumerable<string> arguments, string installHint, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(tool)
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Assert.Fail($"{tool} is not installed ({ex.Message}). {installHint}");
            throw;
        }

        using (process)
        {
            var stdout = new StringBuilder();
            var stderr = new StringBuilder();
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"{tool} {string.Join(' ', arguments)} did not finish in time");
            }

            process.WaitForExit();
            return new ToolResult(process.ExitCode, stdout.ToString(), stderr.ToString());
        }
    }

    /// <summary>A Node tool from tests/tools; missing means scripts/test-prerequisites.sh has not run.</summary>
    public static string NodeModule(string relativePath)
    {
        var path = Path.Combine(NodeTools, relativePath);
        Assert.True(File.Exists(path),
            $"{path} is missing. Install the test tools: `scripts/test-prerequisites.sh` (or `cd tests/tools && npm ci`).");
        return path;
    }
}

internal sealed record ToolResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;
}
