using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>A Choice state: the first rule that holds names the next state, else Default, else States.NoChoiceMatched.</summary>
internal sealed partial class ExecutionRunner
{
    private (string? Next, JsonNode? Output) RunChoice(ChoiceState state, JsonNode? input, DateTimeOffset entered)
    {
        if (state.IsJsonata)
        {
            return RunJsonataChoice(state, input, entered);
        }

        var effective = ApplyInputPath(state, input);
        var scope = Scope(state, entered, 0, effective);
        var matched = Array.FindIndex(state.Choices, c => c.Evaluate(scope));
        var next = (matched >= 0 ? state.Choices[matched].Next : null) ?? state.Default ?? throw NoChoiceMatched(state);
        StageAssign(ChoiceAssign(state, matched), scope);
        return (next, ApplyOutputPath(state, effective));
    }

    private (string? Next, JsonNode? Output) RunJsonataChoice(ChoiceState state, JsonNode? input, DateTimeOffset entered)
    {
        var bindings = Bindings(state, entered, 0, input);
        foreach (var rule in state.JsonataChoices)
        {
            var holds = rule.Condition.Evaluate(bindings, state.Name, "Condition");
            if (holds?.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw new StatesException(StatesErrors.QueryEvaluationError,
                    $"State '{state.Name}': a Choice Condition must evaluate to true or false, not {Truncate(Json.ToCompactString(holds))}.");
            }

            if (holds.GetValue<bool>())
            {
                StageAssign(ChoiceAssign(state, Array.IndexOf(state.JsonataChoices, rule)), bindings, state.Name);
                return (rule.Next, rule.Output is null ? JsonataOutput(state, bindings, input) : rule.Output.Evaluate(bindings, state.Name, "Choices[].Output"));
            }
        }

        StageAssign(state.Assign, bindings, state.Name);
        return (state.Default ?? throw NoChoiceMatched(state), JsonataOutput(state, bindings, input));
    }

    private static StatesException NoChoiceMatched(ChoiceState state) =>
        new(StatesErrors.NoChoiceMatched, $"No Choice rule of state '{state.Name}' matched, and it has no Default.");
}
