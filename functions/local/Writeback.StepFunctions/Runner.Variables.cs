using System.Text.Json.Nodes;
using Writeback.StepFunctions.Jsonata;

namespace Writeback.StepFunctions;

/// <summary>
/// Workflow variables while an execution runs: a state stages its Assign where its values are known (after the
/// result and ResultSelector of a Task, Map or Parallel, in a matching catcher, in the Choice rule taken), and the
/// assignment takes effect, and is recorded on the StateExited event, as the state exits.
/// </summary>
internal sealed partial class ExecutionRunner
{
    /// <summary>The execution's top-level scope, with the variables its checkpoint kept when it resumes.</summary>
    private VariableScope EnterTopLevelScope()
    {
        var scope = VariableScope.Root(_resume?.Variables);
        VariableScope.Enter(scope);
        return scope;
    }

    /// <summary>A Parallel branch's or Map iteration's own scope, for the rest of the calling async method.</summary>
    private static VariableScope EnterInnerScope()
    {
        var scope = VariableScope.Current.Inner();
        VariableScope.Enter(scope);
        return scope;
    }

    /// <summary>A JSONPath Assign, with <c>$</c> what <paramref name="scope"/> holds (the state's result, its input, or the error output).</summary>
    private static void StageAssign(AssignTemplate? assign, DataScope scope) => VariableScope.Current.Stage(assign?.Evaluate(scope));

    private static void StageAssign(AssignTemplate? assign, JsonataBindings bindings, string stateName, string field = "Assign") =>
        VariableScope.Current.Stage(assign?.Evaluate(bindings, stateName, field));

    /// <summary>
    /// A matching rule's own Assign (none if it has none); the state's Assign is for when no rule matched and Default is
    /// taken, as on the service (and in LocalStack, which is tested against it).
    /// </summary>
    private static AssignTemplate? ChoiceAssign(ChoiceState state, int rule) =>
        rule < 0 ? state.Assign : rule < state.ChoiceAssigns.Length ? state.ChoiceAssigns[rule] : null;

    /// <summary>A matching catcher's Assign (or none, undoing what the failed attempt staged), with the error output as its data.</summary>
    private void StageCatchAssign(RetryingState state, Catcher catcher, JsonNode? input, JsonObject errorOutput, DateTimeOffset entered)
    {
        var index = Array.IndexOf(state.Catch, catcher);
        var assign = index >= 0 && index < state.CatchAssigns.Length ? state.CatchAssigns[index] : null;
        if (assign is null)
        {
            VariableScope.Current.Stage(null);
        }
        else if (state.IsJsonata)
        {
            StageAssign(assign, Bindings(state, entered, 0, input).WithErrorOutput(errorOutput), state.Name, "Catch[].Assign");
        }
        else
        {
            StageAssign(assign, Scope(state, entered, 0, errorOutput));
        }
    }

    /// <summary>
    /// Applies what the state staged and adds it to its StateExited details as the history API shows it:
    /// <c>assignedVariables</c> (each value serialized) and <c>assignedVariablesDetails.truncated</c>.
    /// </summary>
    private JsonObject WithAssignedVariables(JsonObject details, StateNode state)
    {
        var assigned = VariableScope.Current.Commit(state.Name);
        if (assigned is null || assigned.Count == 0)
        {
            return details;
        }

        if (!_options.IncludeExecutionData)
        {
            return details;
        }

        // History event data is capped at the payload limit; values that do not fit are left out and the event says so.
        var shown = new JsonObject();
        var size = 0L;
        var truncated = false;
        foreach (var (name, value) in assigned)
        {
            var text = Json.ToCompactString(value);
            size += System.Text.Encoding.UTF8.GetByteCount(text) + System.Text.Encoding.UTF8.GetByteCount(name);
            if (size > _options.PayloadLimitBytes)
            {
                truncated = true;
                continue;
            }

            shown[name] = text;
        }

        details["assignedVariables"] = shown;
        details["assignedVariablesDetails"] = new JsonObject { ["truncated"] = truncated };
        return details;
    }

    /// <summary>A <c>$name…</c> path: the variable as the current scope sees it (a copy), then the path inside it.</summary>
    internal static bool TryResolveVariable(JsonPath path, out JsonNode? value)
    {
        if (VariableScope.Current.TryGet(path.VariableName!, out var root) && path.TryEvaluate(root, out var found))
        {
            value = found?.DeepClone();
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>The visible variables bound as <c>$name</c> in a JSONata state's expressions.</summary>
    private static JsonataBindings WithVariables(JsonataBindings bindings)
    {
        foreach (var (name, value) in VariableScope.Current.Visible())
        {
            bindings.Variables[name] = Values.FromJson(value);
        }

        return bindings;
    }
}
