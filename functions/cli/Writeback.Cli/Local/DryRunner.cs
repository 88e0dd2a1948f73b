using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Writeback.Steps.Contract;

namespace Writeback.Cli.Local;

/// <summary>How a dry run's execution ended, and its output (the Report state's) when it succeeded.</summary>
internal sealed record DryRunOutcome(string ExecutionName, string Status, string? Error, string? Cause, JsonNode? Output)
{
    public bool Succeeded => Status == "SUCCEEDED";

    /// <summary>The output read through the step contract.</summary>
    public ExecutionOutput? Result { get; } = StepJson.Observe<ExecutionOutput>(Output?.ToJsonString());

    public JsonObject ToJson() => new()
    {
        ["executionName"] = ExecutionName,
        ["status"] = Status,
        ["error"] = Error,
        ["cause"] = Cause,
        ["output"] = Output?.DeepClone(),
    };
}

/// <summary>
/// A dry run is an execution of the deployed workflow with <c>"dryRun": true</c> in its input, exactly as one started
/// from a console would be. Its name is its own (not the batch's), so the trigger never takes the real run of the same
/// batch for a duplicate of it.
/// </summary>
internal static class DryRunner
{
    public static string ExecutionName() => "dry-run-" + Guid.NewGuid().ToString("N");

    public static async Task<DryRunOutcome> RunAsync(LocalAwsSide aws, string manifestUri, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aws);
        var input = new JsonObject { ["manifestUri"] = manifestUri, ["dryRun"] = true }.ToJsonString();
        var execution = aws.Engine.StartExecution(aws.StateMachine, input, ExecutionName());
        await execution.Completion.WaitAsync(cancellationToken);
        return new DryRunOutcome(execution.Name, execution.StatusName, execution.Error, execution.Cause, execution.OutputJson is { } json ? JsonNode.Parse(json) : null);
    }

    /// <summary>The outcome for a person: what a real run would do, a few rows of each kind, the problems found.</summary>
    public static string Describe(DryRunOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var text = new StringBuilder();
        var output = outcome.Result;
        if (!outcome.Succeeded)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"dry run {outcome.ExecutionName}: {outcome.Status}");
            text.AppendLine(CultureInfo.InvariantCulture, $"  the batch would fail: {outcome.Error}: {outcome.Cause}");
            text.AppendLine("  nothing was written to the product table, and no failure was recorded for the batch.");
            return text.ToString();
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"dry run of batch {output?.BatchId} ({output?.Dataset}), execution {outcome.ExecutionName}");
        var published = output?.Published;
        var reason = published?.Reason ?? output?.Reason;
        // A loaded batch has Publish's verdict; a no-op one only Prepare's action.
        if (published?.Status == PublishVerdict.DryRun)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  would apply  {Count(published.Inserted)} inserted, {Count(published.Updated)} updated, {Count(published.Deleted)} deleted, {Count(published.Unchanged)} unchanged");
        }
        else if (published is null ? output?.Action == StepAction.Applied : published.Status is PublishVerdict.AlreadyApplied or PublishVerdict.Applied)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  a real run changes nothing: {reason ?? "the batch was applied already"}");
        }
        else
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  a real run skips it: {reason}");
        }

        if (published?.Rejected is > 0 and var rejected)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  rejected     {rejected:N0} rows (within the target's policy; they would not be applied):");
            foreach (var r in published.FirstRejects ?? [])
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"               shard {r.ShardIndex} row {r.Row} column '{r.Column}': {r.Reason}");
            }
        }

        if (published?.Samples is { } samples)
        {
            foreach (var (kind, rows) in new[] { ("inserted", samples.Inserted), ("updated", samples.Updated), ("deleted", samples.Deleted), ("unchanged", samples.Unchanged) })
            {
                if (rows is null || rows.Count == 0)
                {
                    continue;
                }

                text.AppendLine(CultureInfo.InvariantCulture, $"  {kind} (first {rows.Count} by key):");
                foreach (var row in rows)
                {
                    text.AppendLine("    " + Row(kind, row));
                }
            }
        }

        text.AppendLine("  nothing was written to the product table, and the batch is not recorded as applied: its real run applies it.");
        return text.ToString();
    }

    private static string Row(string kind, SampleOutput row)
    {
        var key = row.Key ?? new Dictionary<string, string?>();
        var head = key.Count == 0 ? string.Empty : "(" + string.Join(", ", key.Select(k => $"{k.Key}={Value(k.Value)}")) + ")";
        var columns = (row.Columns ?? []).Select(c => kind switch
        {
            "updated" => $"{c.Column} {Value(c.Old)} -> {Value(c.New)}",
            "deleted" => $"{c.Column}={Value(c.Old)}",
            _ => $"{c.Column}={Value(c.New)}",
        });
        return string.Join("  ", new[] { head, string.Join(", ", columns) }.Where(p => p.Length > 0));
    }

    private static string Value(string? value) => value ?? "null";

    private static string Count(long count) => count.ToString("N0", CultureInfo.InvariantCulture);
}
