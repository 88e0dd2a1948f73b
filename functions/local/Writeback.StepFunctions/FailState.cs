using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>Ends the execution with an error and a cause: literals, paths (JSONPath) or expressions (JSONata).</summary>
internal sealed class FailState : StateNode
{
    public static readonly HashSet<string> JsonPathFields = ["Type", "Comment", "QueryLanguage", "Error", "Cause", "ErrorPath", "CausePath"];
    public static readonly HashSet<string> JsonataFields = ["Type", "Comment", "QueryLanguage", "Error", "Cause"];

    public override StateType Type => StateType.Fail;

    public override bool HasNextOrEnd => false;

    public string? Error { get; set; }

    public string? Cause { get; set; }

    public JsonPath? ErrorPath { get; set; }

    public JsonPath? CausePath { get; set; }

    public JsonataTemplate? ErrorExpression { get; set; }

    public JsonataTemplate? CauseExpression { get; set; }
}

public sealed partial class StateMachineDefinition
{
    private void ParseFail(FailState state, JsonObject obj, string where)
    {
        state.Error = Str(obj, "Error", where, false);
        state.Cause = Str(obj, "Cause", where, false);
        state.ErrorPath = Path(obj, "ErrorPath", where, definite: false);
        state.CausePath = Path(obj, "CausePath", where, definite: false);
        if (state.Error is not null && state.ErrorPath is not null)
        {
            _errors.Add($"{where}: Error and ErrorPath are mutually exclusive.");
        }

        if (state.Cause is not null && state.CausePath is not null)
        {
            _errors.Add($"{where}: Cause and CausePath are mutually exclusive.");
        }
    }

    private void ParseJsonataFail(FailState state, JsonObject obj, string where)
    {
        state.ErrorExpression = Jsonata(obj, "Error", where);
        state.CauseExpression = Jsonata(obj, "Cause", where);
    }
}
