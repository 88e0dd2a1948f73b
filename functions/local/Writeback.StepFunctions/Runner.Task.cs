using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>A Task state's work: a Lambda call (or a mocked response), recorded as the service records it.</summary>
internal sealed partial class ExecutionRunner
{
    private Task<JsonNode?> RunTaskAttemptAsync(TaskState state, StateAttempt attempt) =>
        attempt.Bindings is { } bindings
            ? RunTaskAsync(state, attempt.Parameters, attempt.Scope, attempt.Lane, attempt.Ct,
                JsonataInt(state.TimeoutSecondsExpression, state, "TimeoutSeconds", bindings, 1), JsonataInt(state.HeartbeatSecondsExpression, state, "HeartbeatSeconds", bindings, 1))
            : RunTaskAsync(state, attempt.Parameters, attempt.Scope, attempt.Lane, attempt.Ct);

    /// <param name="timeoutSeconds">A JSONata state's evaluated TimeoutSeconds (a JSONPath state's come from the state).</param>
    private async Task<JsonNode?> RunTaskAsync(
        TaskState state, JsonNode? taskInput, StateScope scope, Lane lane, CancellationToken ct, int? timeoutSeconds = null, int? heartbeatSeconds = null)
    {
        var isInvoke = state.ResourceKind == ResourceKind.LambdaInvoke;
        var isLambda = state.ResourceKind is ResourceKind.LambdaInvoke or ResourceKind.LambdaFunction;
        var events = state.ResourceKind == ResourceKind.LambdaFunction ? TaskEventTypes.LambdaFunction : TaskEventTypes.Task;
        var (resourceType, resource) = ResourceParts(state.Resource!);
        JsonObject Detail(params (string Key, JsonNode? Value)[] extra)
        {
            var d = state.ResourceKind == ResourceKind.LambdaFunction
                ? new JsonObject()
                : new JsonObject { ["resourceType"] = resourceType, ["resource"] = resource };
            foreach (var (k, v) in extra)
            {
                d[k] = v;
            }

            return d;
        }

        var timeout = timeoutSeconds ?? state.TimeoutSeconds ?? (state.TimeoutSecondsPath is null ? null : PositiveInt(scope, state.TimeoutSecondsPath, state, "TimeoutSecondsPath"));
        var inputText = Json.ToCompactString(taskInput);
        var scheduled = state.ResourceKind == ResourceKind.LambdaFunction
            ? new JsonObject { ["resource"] = state.Resource, ["input"] = inputText }
            : Detail(("region", _options.Region), ("parameters", inputText));
        if (timeout is not null)
        {
            scheduled["timeoutInSeconds"] = timeout.Value;
        }

        // Recorded as the service does; a request-response Lambda call sends no heartbeats, so only TimeoutSeconds
        // is enforced (heartbeats apply to activities and the callback and job-run patterns, which are refused).
        var heartbeat = heartbeatSeconds ?? state.HeartbeatSeconds ?? (state.HeartbeatSecondsPath is null ? null : PositiveInt(scope, state.HeartbeatSecondsPath, state, "HeartbeatSecondsPath"));
        if (heartbeat is not null && state.ResourceKind != ResourceKind.LambdaFunction)
        {
            scheduled["heartbeatInSeconds"] = heartbeat.Value;
        }

        _execution.Record(lane, events.Scheduled, scheduled);
        _execution.Record(lane, events.Started, Detail());

        JsonNode? result;
        if (_mocks is not null && _mocks.States.TryGetValue(state.Name, out var mock))
        {
            var step = mock.ForInvocation(_mockInvocations.AddOrUpdate(state.Name, 0, static (_, n) => n + 1));
            if (step.Error is not null)
            {
                _execution.Record(lane, events.Failed, Detail(("error", step.Error), ("cause", step.Cause)));
                throw new StatesException(step.Error, step.Cause);
            }

            result = step.Return?.DeepClone();
        }
        else if (!isLambda)
        {
            const string cause = "Only Lambda tasks run locally; mock other service integrations in a MockConfigFile test case.";
            _execution.Record(lane, events.Failed, Detail(("error", StatesErrors.Runtime), ("cause", cause)));
            throw new StatesException(StatesErrors.Runtime, $"State '{state.Name}': {state.Resource}: {cause}");
        }
        else
        {
            string functionName;
            string payload;
            if (isInvoke)
            {
                if (taskInput is not JsonObject p || !Json.TryGetString(p["FunctionName"], out var fn))
                {
                    throw StatesException.Runtime($"State '{state.Name}': lambda:invoke needs a FunctionName string.");
                }

                functionName = LambdaArn.FunctionName(fn);
                payload = p.TryGetPropertyValue("Payload", out var body) ? Json.ToCompactString(body) : "{}";
            }
            else
            {
                functionName = state.FunctionName!;
                payload = inputText;
            }

            var response = await InvokeAsync(functionName, payload, timeout, state, lane, events, Detail, ct).ConfigureAwait(false);
            if (response.IsError)
            {
                _execution.Record(lane, events.Failed, Detail(("error", response.ErrorType), ("cause", response.ErrorMessage)));
                throw new StatesException(response.ErrorType!, response.ErrorMessage);
            }

            var text = response.PayloadJson ?? "null";
            if (text.Length > _options.PayloadLimitBytes / 4 && System.Text.Encoding.UTF8.GetByteCount(text) > _options.PayloadLimitBytes)
            {
                var cause = $"The function's response is larger than the {_options.PayloadLimitBytes}-byte limit.";
                _execution.Record(lane, events.Failed, Detail(("error", StatesErrors.DataLimitExceeded), ("cause", cause)));
                throw new StatesException(StatesErrors.DataLimitExceeded, $"State '{state.Name}': {cause}");
            }

            JsonNode? output;
            try
            {
                output = Json.Parse(text);
            }
            catch (JsonException)
            {
                output = JsonValue.Create(text);
            }

            result = isInvoke ? Envelope(output) : output;
        }

        _execution.Record(lane, events.Succeeded, Detail(("output", Data(result))));
        return result;
    }

    private async Task<LambdaInvocationResult> InvokeAsync(
        string functionName, string payload, int? timeout, TaskState state, Lane lane, TaskEventTypes events,
        Func<(string, JsonNode?)[], JsonObject> detail, CancellationToken ct)
    {
        var invoker = _options.LambdaInvoker;
        if (invoker is null)
        {
            return LambdaInvocationResult.Failure("Lambda.ResourceNotFoundException", $"No Lambda invoker is configured; function '{functionName}' cannot run.");
        }

        using var callCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var timerCts = new CancellationTokenSource();

        // The timer exists before the call starts, so a handler that sleeps on a virtual clock always passes it.
        var timer = timeout is { } seconds ? Delay(TimeSpan.FromSeconds(seconds), sleep: false, timerCts.Token) : null;
        var call = Task.Run(() => invoker.InvokeAsync(functionName, payload, callCts.Token), callCts.Token);
        try
        {
            if (timer is not null)
            {
                await Task.WhenAny(call, timer).ConfigureAwait(false);
                if (timer.IsCompletedSuccessfully)
                {
                    await callCts.CancelAsync().ConfigureAwait(false);
                    _ = call.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    var cause = $"State '{state.Name}' ran longer than its TimeoutSeconds ({timeout}).";
                    _execution.Record(lane, events.TimedOut, detail([("error", StatesErrors.Timeout), ("cause", cause)]));
                    throw new StatesException(StatesErrors.Timeout, cause);
                }

                await timerCts.CancelAsync().ConfigureAwait(false);
            }

            return await call.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (StatesException)
        {
            throw;
        }
#pragma warning disable CA1031 // Whatever a handler throws is a crash, and Lambda reports a crash as Lambda.Unknown.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return LambdaInvocationResult.Failure(StatesErrors.LambdaUnknown, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private static JsonObject Envelope(JsonNode? payload) => new()
    {
        ["ExecutedVersion"] = "$LATEST",
        ["Payload"] = payload,
        ["SdkHttpMetadata"] = new JsonObject
        {
            ["AllHttpHeaders"] = new JsonObject { ["Content-Type"] = new JsonArray("application/json"), ["X-Amz-Executed-Version"] = new JsonArray("$LATEST") },
            ["HttpHeaders"] = new JsonObject { ["Content-Type"] = "application/json", ["X-Amz-Executed-Version"] = "$LATEST" },
            ["HttpStatusCode"] = 200,
        },
        ["SdkResponseMetadata"] = new JsonObject { ["RequestId"] = Guid.NewGuid().ToString() },
        ["StatusCode"] = 200,
    };

    private static (string Type, string Resource) ResourceParts(string arn)
    {
        // arn:aws:states:::lambda:invoke → ("lambda", "invoke")
        var parts = arn.Split(':');
        return parts.Length >= 7 ? (parts[5], string.Join(':', parts[6..])) : (parts.Length > 2 ? parts[2] : arn, arn);
    }
}

/// <summary>Function names from the forms lambda:invoke's FunctionName and a Task's Resource take.</summary>
public static class LambdaArn
{
    /// <summary><c>writeback-prepare</c> from a bare name, <c>123:function:writeback-prepare</c> or a full ARN (qualifier dropped).</summary>
    public static string FunctionName(string functionNameOrArn)
    {
        ArgumentNullException.ThrowIfNull(functionNameOrArn);
        var parts = functionNameOrArn.Split(':');
        var i = Array.IndexOf(parts, "function");
        return i >= 0 && i + 1 < parts.Length ? parts[i + 1] : parts[0];
    }
}
