using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// JSONata states: Arguments shape what a Task, Parallel or Map works on, Output shapes what the state passes on,
/// and every expression sees <c>$states.input</c>, <c>$states.context</c> and, where it exists, <c>$states.result</c>
/// or <c>$states.errorOutput</c>.
/// </summary>
internal sealed partial class ExecutionRunner
{
    private JsonataBindings Bindings(StateNode state, DateTimeOffset entered, int retryCount, JsonNode? input, (int, JsonNode?)? item = null) =>
        WithVariables(new(input, new StateScope(this, state.Name, entered, retryCount, input, item).FullContext()) { Randomness = new EngineRandomness(_engine) });

    private static JsonNode? JsonataOutput(StateNode state, JsonataBindings bindings, JsonNode? otherwise) =>
        state.Output is null ? otherwise : state.Output.Evaluate(bindings, state.Name, "Output");

    private async ValueTask<(string? Next, JsonNode? Output)> RunJsonataFlowStateAsync(StateNode state, JsonNode? input, DateTimeOffset entered, CancellationToken ct)
    {
        var bindings = Bindings(state, entered, 0, input);
        switch (state.Type)
        {
            case StateType.Pass:
                StageAssign(state.Assign, bindings, state.Name);
                return (state.Next, JsonataOutput(state, bindings, input));
            case StateType.Choice:
                foreach (var rule in state.JsonataChoices)
                {
                    var holds = rule.Condition.Evaluate(bindings, state.Name, "Condition");
                    if (holds?.GetValueKind() is not (System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False))
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
                return (state.Default ?? throw new StatesException(StatesErrors.NoChoiceMatched, $"No Choice rule of state '{state.Name}' matched, and it has no Default."),
                    JsonataOutput(state, bindings, input));
            case StateType.Wait:
                var until = JsonataWaitUntil(state, bindings, entered);
                StageAssign(state.Assign, bindings, state.Name);
                var delay = until - Time.GetUtcNow();
                if (delay > TimeSpan.Zero)
                {
                    await Delay(delay, sleep: true, ct).ConfigureAwait(false);
                }

                return (state.Next, JsonataOutput(state, bindings, input));
            case StateType.Succeed:
                return (null, JsonataOutput(state, bindings, input));
            default:
                throw new StatesException(JsonataString(state, "Error", bindings) ?? "States.Failed", JsonataString(state, "Cause", bindings));
        }
    }

    private async Task<JsonNode?> JsonataAttemptAsync(StateNode state, JsonNode? input, DateTimeOffset entered, int retryCount, Lane lane, CancellationToken ct)
    {
        var bindings = Bindings(state, entered, retryCount, input);
        var arguments = state.Arguments is null ? input : state.Arguments.Evaluate(bindings, state.Name, "Arguments");
        var result = state.Type switch
        {
            StateType.Task => await RunTaskAsync(state, arguments, Scope(state, entered, retryCount, input), retryCount, lane, ct,
                JsonataInt(state, "TimeoutSeconds", bindings, 1), JsonataInt(state, "HeartbeatSeconds", bindings, 1)).ConfigureAwait(false),
            StateType.Parallel => await RunParallelAsync(state, arguments, lane, ct).ConfigureAwait(false),
            _ => await RunJsonataMapAsync(state, input, entered, retryCount, bindings, lane, ct).ConfigureAwait(false),
        };
        var withResult = bindings.WithResult(result);
        StageAssign(state.Assign, withResult, state.Name);
        return JsonataOutput(state, withResult, result);
    }

    private Task<JsonNode?> RunJsonataMapAsync(StateNode state, JsonNode? input, DateTimeOffset entered, int retryCount, JsonataBindings bindings, Lane lane, CancellationToken ct)
    {
        var itemsNode = state.Items is null ? input : state.Items.Evaluate(bindings, state.Name, "Items");
        if (itemsNode is not JsonArray items)
        {
            throw new StatesException(StatesErrors.QueryEvaluationError,
                $"State '{state.Name}': {(state.Items is null ? "the state input" : "Items")} must be an array, not {Truncate(Json.ToCompactString(itemsNode))}.");
        }

        var maxConcurrency = JsonataInt(state, "MaxConcurrency", bindings, 0) ?? 0;
        return RunIterationsAsync(state, items, maxConcurrency, i => state.JsonataItemSelector is null
            ? items[i]?.DeepClone()
            : state.JsonataItemSelector.Evaluate(Bindings(state, entered, retryCount, input, (i, items[i])), state.Name, "ItemSelector"), lane, ct);
    }

    private JsonNode? JsonataCatchOutput(StateNode state, Catcher catcher, JsonNode? input, JsonObject errorOutput, DateTimeOffset entered) =>
        catcher.Output is null
            ? errorOutput
            : catcher.Output.Evaluate(Bindings(state, entered, 0, input).WithErrorOutput(errorOutput), state.Name, "Catch[].Output");

    private static DateTimeOffset JsonataWaitUntil(StateNode state, JsonataBindings bindings, DateTimeOffset entered)
    {
        if (state.Expressions.TryGetValue("Seconds", out var seconds))
        {
            var value = seconds.Evaluate(bindings, state.Name, "Seconds");
            return Json.TryGetInteger(value, out var s) && s >= 0
                ? entered + TimeSpan.FromSeconds(s)
                : throw new StatesException(StatesErrors.QueryEvaluationError, $"State '{state.Name}': Seconds must be a non-negative integer, not {Truncate(Json.ToCompactString(value))}.");
        }

        var timestamp = state.Expressions["Timestamp"].Evaluate(bindings, state.Name, "Timestamp");
        return Json.TryGetString(timestamp, out var text) && ChoiceRule.TryParseTimestamp(text, out var at)
            ? at
            : throw new StatesException(StatesErrors.QueryEvaluationError, $"State '{state.Name}': Timestamp must be an RFC 3339 timestamp, not {Truncate(Json.ToCompactString(timestamp))}.");
    }

    private static int? JsonataInt(StateNode state, string field, JsonataBindings bindings, int min)
    {
        if (!state.Expressions.TryGetValue(field, out var template))
        {
            return null;
        }

        var value = template.Evaluate(bindings, state.Name, field);
        return Json.TryGetInteger(value, out var v) && v >= min && v <= 99999999
            ? (int)v
            : throw new StatesException(StatesErrors.QueryEvaluationError, $"State '{state.Name}': {field} must be an integer of at least {min}, not {Truncate(Json.ToCompactString(value))}.");
    }

    private static string? JsonataString(StateNode state, string field, JsonataBindings bindings)
    {
        if (!state.Expressions.TryGetValue(field, out var template))
        {
            return null;
        }

        var value = template.Evaluate(bindings, state.Name, field);
        return Json.TryGetString(value, out var text)
            ? text
            : throw new StatesException(StatesErrors.QueryEvaluationError, $"State '{state.Name}': {field} must be a string, not {Truncate(Json.ToCompactString(value))}.");
    }
}
