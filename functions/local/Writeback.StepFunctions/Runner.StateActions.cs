using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// What each state type does between its StateEntered and StateExited events, one entry per type. An action returns
/// the state to go to next (null: the end of its graph) and its output; a Fail action, and any failure, throws.
/// </summary>
internal sealed partial class ExecutionRunner
{
    private delegate ValueTask<(string? Next, JsonNode? Output)> StateAction(
        ExecutionRunner runner, StateNode state, JsonNode? input, DateTimeOffset entered, Lane lane, CancellationToken ct);

    private static readonly Dictionary<StateType, StateAction> StateActions = new()
    {
        [StateType.Pass] = Action<PassState>((r, s, input, entered, _, _) => new(r.RunPass(s, input, entered))),
        [StateType.Task] = Action<TaskState>((r, s, input, entered, lane, ct) => r.RunWithRetryAsync(s, input, entered, lane, r.RunTaskAttemptAsync, ct)),
        [StateType.Choice] = Action<ChoiceState>((r, s, input, entered, _, _) => new(r.RunChoice(s, input, entered))),
        [StateType.Wait] = Action<WaitState>((r, s, input, entered, _, ct) => r.RunWaitAsync(s, input, entered, ct)),
        [StateType.Succeed] = Action<SucceedState>((r, s, input, entered, _, _) => new(r.RunSucceed(s, input, entered))),
        [StateType.Fail] = Action<FailState>((r, s, input, entered, _, _) => throw r.FailError(s, input, entered)),
        [StateType.Parallel] = Action<ParallelState>((r, s, input, entered, lane, ct) => r.RunWithRetryAsync(s, input, entered, lane, r.RunParallelAttemptAsync, ct)),
        [StateType.Map] = Action<MapState>((r, s, input, entered, lane, ct) => r.RunWithRetryAsync(s, input, entered, lane, r.RunMapAttemptAsync, ct)),
    };

    private static StateAction Action<T>(Func<ExecutionRunner, T, JsonNode?, DateTimeOffset, Lane, CancellationToken, ValueTask<(string?, JsonNode?)>> action)
        where T : StateNode =>
        (runner, state, input, entered, lane, ct) => action(runner, (T)state, input, entered, lane, ct);

    private (string? Next, JsonNode? Output) RunPass(PassState state, JsonNode? input, DateTimeOffset entered)
    {
        if (state.IsJsonata)
        {
            var bindings = Bindings(state, entered, 0, input);
            StageAssign(state.Assign, bindings, state.Name);
            return (state.Next, JsonataOutput(state, bindings, input));
        }

        var scope = Scope(state, entered, 0, input);
        var effective = ApplyInputPath(state, input);
        var result = state.HasResult ? state.Result?.DeepClone()
            : state.Parameters is not null ? state.Parameters.Evaluate(scope.With(effective))
            : effective;
        StageAssign(state.Assign, scope.With(result));
        return (state.Next, ApplyOutputPath(state, ApplyResultPath(state.ResultPath, input, result)));
    }

    private (string? Next, JsonNode? Output) RunSucceed(SucceedState state, JsonNode? input, DateTimeOffset entered) =>
        (null, state.IsJsonata ? JsonataOutput(state, Bindings(state, entered, 0, input), input) : ApplyOutputPath(state, ApplyInputPath(state, input)));

    private StatesException FailError(FailState state, JsonNode? input, DateTimeOffset entered)
    {
        if (state.IsJsonata)
        {
            var bindings = Bindings(state, entered, 0, input);
            return new StatesException(
                JsonataString(state.ErrorExpression, state, "Error", bindings) ?? "States.Failed", JsonataString(state.CauseExpression, state, "Cause", bindings));
        }

        var scope = Scope(state, entered, 0, input);
        var error = state.Error ?? (state.ErrorPath is null ? null : ResolveString(scope, state.ErrorPath, state, "ErrorPath"));
        var cause = state.Cause ?? (state.CausePath is null ? null : ResolveString(scope, state.CausePath, state, "CausePath"));
        return new StatesException(error ?? "States.Failed", cause);
    }
}
