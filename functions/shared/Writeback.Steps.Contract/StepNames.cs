namespace Writeback.Steps.Contract;

/// <summary>
/// The step functions' names: each Lambda handler's name (template.yaml's <c>Handler</c>), the last segment of the
/// function ARN the state machine invokes, and the step column of run history. In the order the state machine runs them.
/// </summary>
public static class StepNames
{
    public const string Prepare = "writeback-prepare";
    public const string LoadShard = "writeback-load-shard";
    public const string Verify = "writeback-verify";
    public const string Publish = "writeback-publish";
    public const string Cleanup = "writeback-cleanup";

    public static IReadOnlyList<string> All { get; } = [Prepare, LoadShard, Verify, Publish, Cleanup];

    private const string Prefix = "writeback-";

    /// <summary><c>writeback-load-shard</c> → <c>load-shard</c>.</summary>
    public static string DisplayName(string step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return step.StartsWith(Prefix, StringComparison.Ordinal) ? step[Prefix.Length..] : step;
    }
}
