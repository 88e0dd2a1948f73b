namespace Writeback.Cli.Local;

/// <summary>Where the project's files are: WRITEBACK_ROOT (set by ./writeback), else the nearest folder with serverless.sln.</summary>
internal static class ProjectPaths
{
    public static string Root { get; } = FindRoot();

    public static string Targets => Path.Combine(Root, "targets");

    public static string WorkflowDefinition => Path.Combine(Root, "statemachines", "writeback.asl.json");

    /// <summary>The git-ignored folder where local runs keep their warehouse, exports, keys and execution histories.</summary>
    public static string State => Path.Combine(Root, ".writeback");

    private static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable("WRITEBACK_ROOT") is { Length: > 0 } configured)
        {
            return configured;
        }

        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "serverless.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("Cannot find the Writeback project folder; run through ./writeback or set WRITEBACK_ROOT.");
    }
}
