using Writeback.Aggregate.Warehouse;

namespace Writeback.Cli.Local;

/// <summary>Where the project's files are: WRITEBACK_ROOT (set by ./writeback), else the nearest folder with serverless.sln.</summary>
internal static class ProjectPaths
{
    public static string Root { get; } = FindRoot();

    public static string Targets => Path.Combine(Root, "targets");

    public static string WorkflowDefinition => Path.Combine(Root, "statemachines", "writeback.asl.json");

    /// <summary>The git-ignored folder where local runs keep their warehouse, exports, keys and execution histories.</summary>
    public static string State => Path.Combine(Root, ".writeback");

    // The layout inside a state folder, shared by demo, serve and aggregate so they find each other's files.
    public static string Warehouse(string stateFolder, WarehouseSize size, long seed) => Path.Combine(stateFolder, $"warehouse-{size.Name()}-{seed}.duckdb");

    public static string Exports(string stateFolder) => Path.Combine(stateFolder, "exports");

    public static string IssuerKey(string stateFolder) => Path.Combine(stateFolder, "local-oidc.pem");

    public static string ExecutionHistories(string stateFolder) => Path.Combine(stateFolder, "executions");

    /// <summary>The folder standing in for S3 in Distributed Maps (ItemReader, ResultWriter): s3://bucket/key is bucket/key under it.</summary>
    public static string LocalS3(string stateFolder) => Path.Combine(stateFolder, "s3");

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
