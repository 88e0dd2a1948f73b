namespace Writeback.Testing;

/// <summary>The repository under test: WRITEBACK_ROOT (set by ./writeback), else the nearest folder above the test binaries with serverless.sln.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    public static string Of(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    private static string Find()
    {
        if (Environment.GetEnvironmentVariable("WRITEBACK_ROOT") is { Length: > 0 } fromScript && File.Exists(System.IO.Path.Combine(fromScript, "serverless.sln")))
        {
            return fromScript;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "serverless.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"serverless.sln not found above {AppContext.BaseDirectory}; set WRITEBACK_ROOT to the repository.");
    }
}
