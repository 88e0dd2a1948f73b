using Writeback.Lambda;

namespace Writeback.Cli;

/// <summary>
/// The project's Lambda handlers as the local engine sees them, keyed by function name
/// (the last segment of the function ARN that the state machine's DefinitionSubstitutions resolve to).
/// </summary>
internal static class LocalFunctions
{
    public static IReadOnlyList<IFunctionHandler> Create(string? connectionString)
    {
        _ = connectionString;
        return [];
    }
}
