using System.Text.Json;
using System.Text.Json.Nodes;
using Writeback.StepFunctions;

namespace Writeback.Cli.Local;

/// <summary>An execution as DescribeExecution + GetExecutionHistory would show it, and the per-step timeline derived from it.</summary>
internal static class ExecutionReport
{
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static JsonObject Describe(Execution execution)
    {
        ArgumentNullException.ThrowIfNull(execution);
        return new JsonObject
        {
            ["executionArn"] = execution.Arn,
            ["name"] = execution.Name,
            ["status"] = execution.StatusName,
            ["startDate"] = execution.StartDate.ToString("O"),
            ["stopDate"] = execution.StopDate?.ToString("O"),
            ["input"] = execution.InputJson,
            ["output"] = execution.OutputJson,
            ["error"] = execution.Error,
            ["cause"] = execution.Cause,
            ["events"] = HistoryEvent.ToJson(execution.History)["events"]?.DeepClone(),
        };
    }

    /// <summary>Top-level Task, Map and Parallel states in the order they ran, with how long each took (a Map counts as one step).</summary>
    public static IReadOnlyList<StepTiming> Steps(Execution execution)
    {
        ArgumentNullException.ThrowIfNull(execution);
        var steps = new List<StepTiming>();
        var open = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var depth = 0;
        foreach (var e in execution.History)
        {
            var name = e.Details?["name"]?.GetValue<string>();
            if (e.Type is HistoryEventTypes.MapIterationStarted or HistoryEventTypes.ParallelStateStarted)
            {
                depth++;
            }
            else if (e.Type is HistoryEventTypes.MapIterationSucceeded or HistoryEventTypes.MapIterationFailed or "MapIterationAborted" or HistoryEventTypes.ParallelStateSucceeded or HistoryEventTypes.ParallelStateFailed)
            {
                depth = Math.Max(0, depth - 1);
            }

            if (name is null || depth > 0)
            {
                continue;
            }

            if (e.Type is HistoryEventTypes.TaskStateEntered or HistoryEventTypes.MapStateEntered or HistoryEventTypes.ParallelStateEntered)
            {
                open[name] = e.Timestamp;
            }
            else if (e.Type is HistoryEventTypes.TaskStateExited or HistoryEventTypes.MapStateExited or HistoryEventTypes.ParallelStateExited && open.Remove(name, out var started))
            {
                steps.Add(new StepTiming(name, started, e.Timestamp - started));
            }
        }

        return steps;
    }
}

internal sealed record StepTiming(string State, DateTimeOffset Started, TimeSpan Duration);
