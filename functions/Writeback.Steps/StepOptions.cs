namespace Writeback.Steps;

/// <summary>What the step handlers need from their host: the product database and the target contracts folder.</summary>
public sealed record StepOptions(string ConnectionString, string TargetsDirectory)
{
    public const string ConnectionVariable = "WRITEBACK_PG";
    public const string TargetsVariable = "WRITEBACK_TARGETS";

    /// <summary>Lambda: both come from the function's environment.</summary>
    public static StepOptions FromEnvironment()
    {
        var connection = Environment.GetEnvironmentVariable(ConnectionVariable);
        var targets = Environment.GetEnvironmentVariable(TargetsVariable);
        if (string.IsNullOrWhiteSpace(connection))
        {
            throw new InvalidOperationException($"{ConnectionVariable} is not set; it must hold the product database's connection string.");
        }

        if (string.IsNullOrWhiteSpace(targets))
        {
            throw new InvalidOperationException($"{TargetsVariable} is not set; it must name the folder of target contracts (targets/*.json).");
        }

        return new StepOptions(connection, targets);
    }
}
