using Writeback.Core.Storage;
using Writeback.Lambda;
using Writeback.Steps;

namespace Writeback.Cli;

/// <summary>
/// The project's Lambda handlers as the local engine sees them, keyed by function name
/// (the last segment of the function ARN that the state machine's DefinitionSubstitutions resolve to).
/// </summary>
internal static class LocalFunctions
{
    /// <param name="sources">Where batches may be read from: locally, the export folder.</param>
    public static IReadOnlyList<IFunctionHandler> Create(string? connectionString, SourcePolicy sources)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return [];
        }

        // Every step records itself in run history, as in the Lambda host: the handlers know nothing of it.
        return Writeback.Observability.Recording.RecordingFunctionHandler.WrapAll(
            StepHandlers.Create(new StepOptions(connectionString, TargetsDirectory(), sources)),
            new Writeback.Observability.History.RunHistory(connectionString));
    }

    /// <summary><c>&lt;repo&gt;/targets</c>: from WRITEBACK_ROOT (set by ./writeback), else found above the working directory.</summary>
    private static string TargetsDirectory()
    {
        var configured = Environment.GetEnvironmentVariable(StepOptions.TargetsVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        var root = Environment.GetEnvironmentVariable("WRITEBACK_ROOT");
        if (!string.IsNullOrWhiteSpace(root))
        {
            return Path.Combine(root, "targets");
        }

        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "targets");
                if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "serverless.sln")))
                {
                    return candidate;
                }
            }
        }

        return Path.Combine(Directory.GetCurrentDirectory(), "targets");
    }
}
