using System.Text.RegularExpressions;

namespace Writeback.Deploy.Tests;

/// <summary>
/// docs/environment.md is the one place that names every WRITEBACK_* variable and why it exists: what the code, the
/// scripts and the deployment use is listed there, and nothing listed there is unused.
/// </summary>
public sealed partial class EnvironmentVariablesTests
{
    private static readonly string[] Used = UsedNames();

    [Fact]
    public void Every_variable_the_code_scripts_or_deployment_use_is_listed_in_docs_environment()
    {
        var listed = ListedNames();

        var missing = Used.Where(n => !listed.Contains(n)).ToArray();

        Assert.True(missing.Length == 0, $"not in docs/environment.md: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Every_variable_listed_in_docs_environment_is_used()
    {
        var unused = ListedNames().Where(n => !Used.Contains(n)).Order(StringComparer.Ordinal).ToArray();

        Assert.True(unused.Length == 0, $"listed in docs/environment.md but used nowhere: {string.Join(", ", unused)}");
    }

    [Fact]
    public void Nothing_in_functions_writes_the_process_environment_but_the_runtime_s_trace_id()
    {
        var writes = SourceFiles("functions", "*.cs")
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetRelativePath(Repo.Root, f), Line: i + 1, Text: line)))
            .Where(l => l.Text.Contains("SetEnvironmentVariable(", StringComparison.Ordinal))
            .Where(l => !l.Text.Contains("TraceIdVariable", StringComparison.Ordinal))
            .Select(l => $"{l.File}:{l.Line}")
            .ToArray();

        Assert.True(writes.Length == 0, $"the process environment is written at {string.Join(", ", writes)}: pass the value instead");
    }

    private static HashSet<string> ListedNames() =>
        [.. Name().Matches(File.ReadAllText(Repo.PathOf("docs/environment.md"))).Select(m => m.Value)];

    private static string[] UsedNames()
    {
        var files = SourceFiles("functions", "*.cs")
            .Concat(SourceFiles("scripts", "*.sh"))
            .Concat(SourceFiles("infra", "*.tf"))
            .Append(Repo.PathOf("template.yaml"))
            .Append(Repo.PathOf("writeback"));
        return [.. files.SelectMany(f => Name().Matches(File.ReadAllText(f)).Select(m => m.Value)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    private static IEnumerable<string> SourceFiles(string folder, string pattern) =>
        Directory.EnumerateFiles(Repo.PathOf(folder), pattern, SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or "node_modules"));

    [GeneratedRegex(@"\bWRITEBACK_[A-Z0-9_]*[A-Z0-9]\b")]
    private static partial Regex Name();
}
