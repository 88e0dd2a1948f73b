namespace Writeback.Lambda.Local;

/// <summary>One function as the local service runs it: what template.yaml says about it, and the code to start.</summary>
public sealed record LocalFunction
{
    /// <summary>The name the Invoke API answers to (the last segment of the function ARN the state machine calls).</summary>
    public required string Name { get; init; }

    /// <summary>The template's Handler; the process reads it from <c>_HANDLER</c>.</summary>
    public required string Handler { get; init; }

    public required FunctionCode Code { get; init; }

    /// <summary>The template's Timeout: the process is killed when an invocation runs longer.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(3);

    public int MemorySizeMb { get; init; } = 128;

    /// <summary>The template's ReservedConcurrentExecutions: more invocations at once are throttled (429); null is unbounded.</summary>
    public int? ReservedConcurrency { get; init; }

    /// <summary>The function's own variables (template.yaml's, resolved for this machine).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>How a sandbox's process is started: the executable, its arguments and the folder Lambda would unzip it to.</summary>
public sealed record FunctionCode(string FileName, IReadOnlyList<string> Arguments, string TaskRoot, string Description)
{
    /// <summary>A framework-dependent build run by the <c>dotnet</c> host: no publish step, so a code change is one build away.</summary>
    public static FunctionCode JitHost(string assemblyPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(assemblyPath);
        var full = Path.GetFullPath(assemblyPath);
        return new("dotnet", [full], Path.GetDirectoryName(full)!, $"JIT host (dotnet {Path.GetFileName(full)})");
    }

    /// <summary>An artifact's folder with its <c>bootstrap</c>: what provided.al2023 executes.</summary>
    public static FunctionCode Bootstrap(string taskRoot)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(taskRoot);
        var full = Path.GetFullPath(taskRoot);
        return new(Path.Combine(full, "bootstrap"), [], full, $"Native AOT bootstrap ({full})");
    }
}
