using Writeback.Core.Storage;

namespace Writeback.Steps;

/// <summary>What the step handlers need from their host: the product database, the target contracts folder, and where
/// batches may be read from.</summary>
public sealed record StepOptions(string ConnectionString, string TargetsDirectory, SourcePolicy Sources)
{
    public const string ConnectionVariable = "WRITEBACK_PG";
    public const string TargetsVariable = "WRITEBACK_TARGETS";

    /// <summary>Lambda: everything comes from the function's environment; sources are cloud sources unless the local Lambda service runs this host.</summary>
    /// <param name="defaultTargets">Where targets/ is when <see cref="TargetsVariable"/> is not set (the artifact's copy).</param>
    public static StepOptions FromEnvironment(Func<string, string?> get, string? defaultTargets = null)
    {
        ArgumentNullException.ThrowIfNull(get);
        var connection = get(ConnectionVariable);
        var targets = get(TargetsVariable) is { Length: > 0 } configured ? configured : defaultTargets;
        if (string.IsNullOrWhiteSpace(connection))
        {
            throw new InvalidOperationException($"{ConnectionVariable} is not set; it must hold the product database's connection string.");
        }

        if (string.IsNullOrWhiteSpace(targets))
        {
            throw new InvalidOperationException($"{TargetsVariable} is not set; it must name the folder of target contracts (targets/*.json).");
        }

        return new StepOptions(connection, targets, SourceEnvironment.ForWriters(get));
    }
}
