using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// Input and output processing: JSONPath's InputPath → Parameters → (the work) → ResultSelector → ResultPath →
/// OutputPath, and JSONata's Arguments → (the work) → Output. A state's own action does the work in the middle.
/// </summary>
internal sealed partial class ExecutionRunner
{
    /// <summary>What the work of one Task, Parallel or Map attempt receives.</summary>
    /// <param name="Input">The state's input as it arrived.</param>
    /// <param name="Effective">After InputPath (JSONata: the input).</param>
    /// <param name="Parameters">After Parameters (JSONata: Arguments): what a Task sends and a Parallel's branches get.</param>
    /// <param name="Bindings">Null in a JSONPath state.</param>
    private sealed record StateAttempt(
        JsonNode? Input, JsonNode? Effective, JsonNode? Parameters, StateScope Scope, JsonataBindings? Bindings,
        int RetryCount, DateTimeOffset Entered, Lane Lane, CancellationToken Ct);

    /// <summary>One attempt of a JSONPath Task, Parallel or Map state, from InputPath to OutputPath; Retry reruns all of it.</summary>
    private async Task<JsonNode?> AttemptAsync<T>(T state, JsonNode? input, DateTimeOffset entered, int retryCount, Lane lane, Func<T, StateAttempt, Task<JsonNode?>> work, CancellationToken ct)
        where T : RetryingState
    {
        var effective = ApplyInputPath(state, input);
        var scope = Scope(state, entered, retryCount, effective);
        var parameters = state.Parameters is null ? effective : state.Parameters.Evaluate(scope);
        var result = await work(state, new StateAttempt(input, effective, parameters, scope, null, retryCount, entered, lane, ct)).ConfigureAwait(false);
        if (state.ResultSelector is not null)
        {
            result = state.ResultSelector.Evaluate(scope.With(result));
        }

        StageAssign(state.Assign, scope.With(result));

        return ApplyOutputPath(state, ApplyResultPath(state.ResultPath, input, result));
    }

    /// <summary>One attempt of a JSONata Task, Parallel or Map state: Arguments, the work, then Assign and Output with <c>$states.result</c>.</summary>
    private async Task<JsonNode?> JsonataAttemptAsync<T>(T state, JsonNode? input, DateTimeOffset entered, int retryCount, Lane lane, Func<T, StateAttempt, Task<JsonNode?>> work, CancellationToken ct)
        where T : RetryingState
    {
        var bindings = Bindings(state, entered, retryCount, input);
        var arguments = state.Arguments is null ? input : state.Arguments.Evaluate(bindings, state.Name, "Arguments");
        var attempt = new StateAttempt(input, input, arguments, Scope(state, entered, retryCount, input), bindings, retryCount, entered, lane, ct);
        var result = await work(state, attempt).ConfigureAwait(false);
        var withResult = bindings.WithResult(result);
        StageAssign(state.Assign, withResult, state.Name);
        return JsonataOutput(state, withResult, result);
    }

    /// <summary>The state's output when a catcher takes its error: ResultPath places the error output (JSONPath), or Output shapes it (JSONata).</summary>
    private JsonNode? CatchOutput(RetryingState state, Catcher catcher, JsonNode? input, JsonObject errorOutput, DateTimeOffset entered)
    {
        if (!state.IsJsonata)
        {
            return ApplyResultPath(catcher.ResultPath, input, errorOutput);
        }

        return catcher.Output is null
            ? errorOutput
            : catcher.Output.Evaluate(Bindings(state, entered, 0, input).WithErrorOutput(errorOutput), state.Name, "Catch[].Output");
    }

    private static JsonNode? ApplyInputPath(StateNode state, JsonNode? input) => SelectPath(state.InputPath, input, state, "InputPath");

    private static JsonNode? ApplyOutputPath(StateNode state, JsonNode? output) => SelectPath(state.OutputPath, output, state, "OutputPath");

    private static JsonNode? SelectPath(JsonPath? path, JsonNode? data, StateNode state, string field)
    {
        if (path is null)
        {
            return new JsonObject();
        }

        if (ReferenceEquals(path, StateNode.Root))
        {
            return data;
        }

        return (path.VariableName is null ? path.TryEvaluate(data, out var value) : TryResolveVariable(path, out value))
            ? value
            : throw StatesException.Runtime($"Invalid path '{path.Text}' in {field} of state '{state.Name}': no results for the path in '{Truncate(Json.ToCompactString(data))}'.");
    }

    private static JsonNode? ApplyResultPath(JsonPath? resultPath, JsonNode? input, JsonNode? result) =>
        resultPath is null ? input : ReferenceEquals(resultPath, StateNode.Root) ? result : resultPath.Set(input, result);

    /// <summary>A JSONata state's Output, with <paramref name="otherwise"/> (its input, or its result) when it has none.</summary>
    private static JsonNode? JsonataOutput(StateNode state, JsonataBindings bindings, JsonNode? otherwise) =>
        state.Output is null ? otherwise : state.Output.Evaluate(bindings, state.Name, "Output");
}
