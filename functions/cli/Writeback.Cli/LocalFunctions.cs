using Writeback.Core.Storage;
using Writeback.Functions;
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
        return Writeback.History.Recording.RecordingFunctionHandler.WrapAll(
            StepHandlers.Create(new StepOptions(connectionString, TargetsDirectory(), sources)),
            new Writeback.History.RunHistory(connectionString));
    }

    /// <summary>The targets folder the writers were given (WRITEBACK_TARGETS), else the project's.</summary>
    private static string TargetsDirectory() =>
        Environment.GetEnvironmentVariable(StepOptions.TargetsVariable) is { Length: > 0 } configured && !string.IsNullOrWhiteSpace(configured)
            ? configured
            : Local.ProjectPaths.Targets;
}
