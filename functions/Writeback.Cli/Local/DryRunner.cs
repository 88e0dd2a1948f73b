using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Writeback.Cli.Local;

/// <summary>How a dry run's execution ended, and its output (the Report state's) when it succeeded.</summary>
internal sealed record DryRunOutcome(string ExecutionName, string Status, string? Error, string? Cause, JsonNode? Output)
{
    public bool Succeeded => Status == "SUCCEEDED";

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
        var output = outcome.Output;
        if (!outcome.Succeeded)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"dry run {outcome.ExecutionName}: {outcome.Status}");
            text.AppendLine(CultureInfo.InvariantCulture, $"  the batch would fail: {outcome.Error}: {outcome.Cause}");
            text.AppendLine("  nothing was written to the product table, and no failure was recorded for the batch.");
            return text.ToString();
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"dry run of batch {output?["batchId"]} ({output?["dataset"]}), execution {outcome.ExecutionName}");
        var published = output?["published"];
        var status = published?["status"]?.GetValue<string>() ?? output?["action"]?.GetValue<string>();
        var reason = published?["reason"]?.GetValue<string>() ?? output?["reason"]?.GetValue<string>();
        switch (status)
        {
            case "dry_run":
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"  would apply  {Count(published, "inserted")} inserted, {Count(published, "updated")} updated, {Count(published, "deleted")} deleted, {Count(published, "unchanged")} unchanged");
                break;
            case "already_applied" or "applied":
                text.AppendLine(CultureInfo.InvariantCulture, $"  a real run changes nothing: {reason ?? "the batch was applied already"}");
                break;
            default:
                text.AppendLine(CultureInfo.InvariantCulture, $"  a real run skips it: {reason}");
                break;
        }

        if (published?["rejected"]?.GetValue<long>() is > 0 and var rejected)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  rejected     {rejected:N0} rows (within the target's policy; they would not be applied):");
            foreach (var r in published["firstRejects"]?.AsArray() ?? [])
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"               shard {r?["shardIndex"]} row {r?["row"]} column '{r?["column"]}': {r?["reason"]}");
            }
        }

        foreach (var kind in new[] { "inserted", "updated", "deleted", "unchanged" })
        {
            var rows = published?["samples"]?[kind]?.AsArray();
            if (rows is null || rows.Count == 0)
            {
                continue;
            }

            text.AppendLine(CultureInfo.InvariantCulture, $"  {kind} (first {rows.Count} by key):");
            foreach (var row in rows)
            {
                text.AppendLine("    " + Row(kind, row!));
            }
        }

        text.AppendLine("  nothing was written to the product table, and the batch is not recorded as applied: its real run applies it.");
        return text.ToString();
    }

    private static string Row(string kind, JsonNode row)
    {
        var key = row["key"]!.AsObject();
        var head = key.Count == 0 ? string.Empty : "(" + string.Join(", ", key.Select(k => $"{k.Key}={Value(k.Value)}")) + ")";
        var columns = row["columns"]!.AsArray().Select(c => kind switch
        {
            "updated" => $"{c!["column"]} {Value(c["old"])} -> {Value(c["new"])}",
            "deleted" => $"{c!["column"]}={Value(c["old"])}",
            _ => $"{c!["column"]}={Value(c["new"])}",
        });
        return string.Join("  ", new[] { head, string.Join(", ", columns) }.Where(p => p.Length > 0));
    }

    private static string Value(JsonNode? value) => value is null ? "null" : value.GetValue<string>();

    private static string Count(JsonNode? published, string name) =>
        (published?[name]?.GetValue<long>() ?? 0).ToString("N0", CultureInfo.InvariantCulture);
}
