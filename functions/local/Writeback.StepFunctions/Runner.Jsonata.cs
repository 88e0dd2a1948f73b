using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// JSONata states: every expression sees <c>$states.input</c>, <c>$states.context</c> and, where it exists,
/// <c>$states.result</c> or <c>$states.errorOutput</c>, and the visible variables as <c>$name</c>.
/// </summary>
internal sealed partial class ExecutionRunner
{
    private JsonataBindings Bindings(StateNode state, DateTimeOffset entered, int retryCount, JsonNode? input, (int, JsonNode?)? item = null) =>
        WithVariables(new(input, new StateScope(this, state.Name, entered, retryCount, input, item).FullContext()) { Randomness = new EngineRandomness(_engine) });

    /// <summary>A field that is a literal or an expression and must come out an integer of at least <paramref name="min"/>; null when the state has none.</summary>
    private static int? JsonataInt(JsonataTemplate? template, StateNode state, string field, JsonataBindings bindings, int min)
    {
        if (template is null)
        {
            return null;
        }

        var value = template.Evaluate(bindings, state.Name, field);
        return Json.TryGetInteger(value, out var v) && v >= min && v <= 99999999
            ? (int)v
            : throw new StatesException(StatesErrors.QueryEvaluationError, $"State '{state.Name}': {field} must be an integer of at least {min}, not {Truncate(Json.ToCompactString(value))}.");
    }

    private static string? JsonataString(JsonataTemplate? template, StateNode state, string field, JsonataBindings bindings)
    {
        if (template is null)
        {
            return null;
        }

        var value = template.Evaluate(bindings, state.Name, field);
        return Json.TryGetString(value, out var text)
            ? text
            : throw new StatesException(StatesErrors.QueryEvaluationError, $"State '{state.Name}': {field} must be a string, not {Truncate(Json.ToCompactString(value))}.");
    }
}
