using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>A Wait state: until a number of seconds after it was entered, or until a timestamp, on the engine's clock.</summary>
internal sealed partial class ExecutionRunner
{
    private async ValueTask<(string? Next, JsonNode? Output)> RunWaitAsync(WaitState state, JsonNode? input, DateTimeOffset entered, CancellationToken ct)
    {
        if (state.IsJsonata)
        {
            var bindings = Bindings(state, entered, 0, input);
            var at = JsonataWaitUntil(state, bindings, entered);
            StageAssign(state.Assign, bindings, state.Name);
            await SleepUntilAsync(at, ct).ConfigureAwait(false);
            return (state.Next, JsonataOutput(state, bindings, input));
        }

        var effective = ApplyInputPath(state, input);
        var until = WaitUntil(state, Scope(state, entered, 0, effective), entered);
        StageAssign(state.Assign, Scope(state, entered, 0, effective));
        await SleepUntilAsync(until, ct).ConfigureAwait(false);
        return (state.Next, ApplyOutputPath(state, effective));
    }

    private async Task SleepUntilAsync(DateTimeOffset until, CancellationToken ct)
    {
        var delay = until - Time.GetUtcNow();
        if (delay > TimeSpan.Zero)
        {
            await Delay(delay, sleep: true, ct).ConfigureAwait(false);
        }
    }

    private static DateTimeOffset WaitUntil(WaitState state, StateScope scope, DateTimeOffset entered)
    {
        if (state.Seconds is { } seconds)
        {
            return entered + TimeSpan.FromSeconds(seconds);
        }

        if (state.Timestamp is { } timestamp)
        {
            return timestamp;
        }

        if (state.SecondsPath is { } secondsPath)
        {
            if (!scope.TryResolve(secondsPath, out var value) || !Json.TryGetInteger(value, out var s) || s < 0)
            {
                throw StatesException.Runtime($"State '{state.Name}': SecondsPath '{secondsPath.Text}' must point to a non-negative integer.");
            }

            return entered + TimeSpan.FromSeconds(s);
        }

        var path = state.TimestampPath!;
        if (!scope.TryResolve(path, out var ts) || !Json.TryGetString(ts, out var text) || !ChoiceRule.TryParseTimestamp(text, out var at))
        {
            throw StatesException.Runtime($"State '{state.Name}': TimestampPath '{path.Text}' must point to an RFC 3339 timestamp.");
        }

        return at;
    }

    private static DateTimeOffset JsonataWaitUntil(WaitState state, JsonataBindings bindings, DateTimeOffset entered)
    {
        if (state.SecondsExpression is { } seconds)
        {
            var value = seconds.Evaluate(bindings, state.Name, "Seconds");
            return Json.TryGetInteger(value, out var s) && s >= 0
                ? entered + TimeSpan.FromSeconds(s)
                : throw new StatesException(StatesErrors.QueryEvaluationError, $"State '{state.Name}': Seconds must be a non-negative integer, not {Truncate(Json.ToCompactString(value))}.");
        }

        var timestamp = state.TimestampExpression!.Evaluate(bindings, state.Name, "Timestamp");
        return Json.TryGetString(timestamp, out var text) && ChoiceRule.TryParseTimestamp(text, out var at)
            ? at
            : throw new StatesException(StatesErrors.QueryEvaluationError, $"State '{state.Name}': Timestamp must be an RFC 3339 timestamp, not {Truncate(Json.ToCompactString(timestamp))}.");
    }
}
