using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>Runs its branches at once on the same input; the output is the array of their outputs.</summary>
internal sealed class ParallelState : RetryingState
{
    public static readonly HashSet<string> JsonPathFields = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "Branches"];
    public static readonly HashSet<string> JsonataFields = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "Output", "Arguments", "Retry", "Catch", "Branches"];

    public override StateType Type => StateType.Parallel;

    public StateGraph[] Branches { get; set; } = [];

    public override IEnumerable<StateGraph> InnerGraphs => Branches;
}

public sealed partial class StateMachineDefinition
{
    private void ParseParallel(ParallelState state, JsonObject obj, string where) => state.Branches = ParseBranches(obj, where, state.Name);

    private void ParseJsonataParallel(ParallelState state, JsonObject obj, string where)
    {
        state.Arguments = Jsonata(obj, "Arguments", where);
        state.Branches = ParseBranches(obj, where, state.Name);
    }

    private StateGraph[] ParseBranches(JsonObject obj, string where, string name)
    {
        if (obj["Branches"] is not JsonArray branches || branches.Count == 0)
        {
            _errors.Add($"{where}: Branches must be a non-empty array.");
            return [];
        }

        return [.. branches.Select((b, i) => b is JsonObject bo
            ? ParseGraph(bo, $"Branch {i} of state '{name}'", isProcessor: false)
            : Invalid($"{where}: Branches[{i}] must be an object."))];
    }

    private StateGraph Invalid(string message)
    {
        _errors.Add(message);
        return new StateGraph { StartAt = "", States = [] };
    }
}
