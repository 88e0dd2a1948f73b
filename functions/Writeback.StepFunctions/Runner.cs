using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>Interprets one execution: walks the states, applies input/output processing, Retry and Catch, and records history.</summary>
internal sealed partial class ExecutionRunner : IDisposable
{
    private readonly Execution _execution;
    private readonly StepFunctionsEngine _engine;
    private readonly StepFunctionsEngineOptions _options;
    private readonly MockTestCase? _mocks;

    // Step Functions Local numbers a mocked state's responses by its invocations in the whole execution — retries and
    // Map iterations alike — not per iteration, so "1" is the second call wherever it happens.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _mockInvocations = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _abort = new();
    private readonly Lock _abortLock = new();
    private readonly JsonObject _executionContext;
    private readonly JsonObject _stateMachineContext;
    private readonly ResumePoint? _resume;
    private readonly RunKind _kind;
    private readonly Lock _progressLock = new();
    private Lane? _topLane;
    private ResumePoint? _current;
    private bool _disposed;

    /// <param name="resume">Null for a new execution; where to continue for a redrive or after a restart.</param>
    public ExecutionRunner(Execution execution, MockTestCase? mocks, ResumePoint? resume, RunKind kind)
    {
        _resume = resume;
        _kind = kind;
        _execution = execution;
        _engine = execution.Engine;
        _options = _engine.Options;
        _mocks = mocks;
        _executionContext = new JsonObject
        {
            ["Id"] = execution.Arn,
            ["Input"] = execution.Input?.DeepClone(),
            ["Name"] = execution.Name,
            ["RoleArn"] = $"arn:aws:iam::{_options.AccountId}:role/StepFunctionsLocal",
            ["StartTime"] = Json.FormatTimestamp(execution.StartDate),
            ["RedriveCount"] = execution.RedriveCount,
        };
        _stateMachineContext = new JsonObject { ["Id"] = execution.StateMachine.Arn, ["Name"] = execution.StateMachine.Name };
    }

    private TimeProvider Time => _options.TimeProvider;

    public void Abort()
    {
        lock (_abortLock)
        {
            if (!_disposed)
            {
                _abort.Cancel();
            }
        }
    }

    public void Dispose()
    {
        lock (_abortLock)
        {
            _disposed = true;
            _abort.Dispose();
        }
    }

    public async Task RunAsync()
    {
        var lane = new Lane(_execution.LastEventId);
        _topLane = lane;
        var token = _abort.Token;
        try
        {
            // After a restart the history simply goes on: the service has no event for "resumed", and none is needed.
            if (_kind == RunKind.Start || (_kind == RunKind.AfterRestart && lane.Last == 0))
            {
                _execution.Record(lane, "ExecutionStarted", Details(("input", _execution.Input), ("roleArn", (JsonNode?)_executionContext["RoleArn"]!.DeepClone())));
            }
            else if (_kind == RunKind.Redrive)
            {
                _execution.Record(lane, "ExecutionRedriven", new JsonObject { ["redriveCount"] = _execution.RedriveCount });
            }

            // The timer starts before the first state: on a virtual clock a long Wait must pass the deadline, not jump it.
            using var timerCts = new CancellationTokenSource();
            var timeout = _execution.StateMachine.Definition.TimeoutSeconds;
            var timer = timeout is null ? null : Delay(TimeLeft(timeout.Value), sleep: false, timerCts.Token);
            var run = RunTopLevelAsync(_execution.StateMachine.Definition.Graph, lane, token);
            if (timer is not null)
            {
                await Task.WhenAny(run, timer).ConfigureAwait(false);
                if (timer.IsCompletedSuccessfully)
                {
                    Abort();
                    _ = run.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    var cause = $"The execution ran longer than its TimeoutSeconds ({timeout}).";
                    _execution.Record(lane, "ExecutionTimedOut", new JsonObject { ["error"] = StatesErrors.Timeout, ["cause"] = cause }, force: true);
                    _execution.Close(ExecutionStatus.TimedOut, null, StatesErrors.Timeout, cause);
                    return;
                }

                await timerCts.CancelAsync().ConfigureAwait(false);
            }

            var output = await run.ConfigureAwait(false);
            var outputJson = Json.ToCompactString(output);
            _execution.Record(lane, "ExecutionSucceeded", new JsonObject { ["output"] = outputJson });
            _execution.Close(ExecutionStatus.Succeeded, outputJson, null, null);
        }
        catch (StatesException e)
        {
            _execution.Record(lane, "ExecutionFailed", ErrorDetails(e.Error, e.Cause), force: true);
            _execution.Close(ExecutionStatus.Failed, null, e.Error, e.Cause);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            _execution.Record(lane, "ExecutionAborted", null, force: true);
            _execution.Close(ExecutionStatus.Aborted, null, null, null);
        }
#pragma warning disable CA1031 // A bug in the engine must still close the execution rather than leave it RUNNING forever.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _execution.Record(lane, "ExecutionFailed", ErrorDetails(StatesErrors.Runtime, e.ToString()), force: true);
            _execution.Close(ExecutionStatus.Failed, null, StatesErrors.Runtime, e.Message);
        }
        finally
        {
            Dispose();
        }
    }

    /// <summary>The execution's timeout runs from its start (or its redrive); a restart does not give it more time.</summary>
    private TimeSpan TimeLeft(int timeoutSeconds)
    {
        var full = TimeSpan.FromSeconds(timeoutSeconds);
        if (_kind != RunKind.AfterRestart)
        {
            return full;
        }

        var left = full - (Time.GetUtcNow() - (_execution.RedriveDate ?? _execution.StartDate));
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>
    /// The execution's own states; each one's name and input are checkpointed, durably before the state runs, so that a
    /// redrive or a restarted engine resumes exactly at it.
    /// </summary>
    private async Task<JsonNode?> RunTopLevelAsync(StateGraph graph, Lane lane, CancellationToken ct)
    {
        var name = _resume?.StateName ?? graph.StartAt;
        var data = _resume is null ? _execution.Input : _resume.Input?.DeepClone();
        var variables = EnterTopLevelScope();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var state = graph.States[name];
            // A redrive's first state keeps the Map progress of the run before; any later state starts fresh.
            _current = _current is null && _resume is not null ? _resume : new ResumePoint(name, data?.DeepClone()) { Variables = variables.Own() };
            _execution.Checkpoint(_current);
            await _engine.Journal.DurableAsync().WaitAsync(ct).ConfigureAwait(false);
            var (next, output) = await RunStateAsync(state, data, lane, ct).ConfigureAwait(false);
            if (next is null)
            {
                return output;
            }

            name = next;
            data = output;
        }
    }

    private async Task<JsonNode?> RunGraphAsync(StateGraph graph, JsonNode? input, Lane lane, CancellationToken ct)
    {
        using var variables = EnterInnerScope();
        var name = graph.StartAt;
        var data = input;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var state = graph.States[name];
            var (next, output) = await RunStateAsync(state, data, lane, ct).ConfigureAwait(false);
            if (next is null)
            {
                return output;
            }

            name = next;
            data = output;
        }
    }

    private async ValueTask<(string? Next, JsonNode? Output)> RunStateAsync(StateNode state, JsonNode? input, Lane lane, CancellationToken ct)
    {
        var entered = Time.GetUtcNow();
        CheckSize(input, state, "input");
        var type = state.Type.ToString();
        _execution.Record(lane, type + "StateEntered", StateDetails(state.Name, "input", input));

        JsonNode? output;
        string? next = state.Next;
        switch (state.Type)
        {
            case StateType.Pass or StateType.Choice or StateType.Wait or StateType.Succeed or StateType.Fail when state.IsJsonata:
                (next, output) = await RunJsonataFlowStateAsync(state, input, entered, ct).ConfigureAwait(false);
                break;

            case StateType.Pass:
            {
                var scope = Scope(state, entered, 0, input);
                var effective = ApplyInputPath(state, input);
                var result = state.HasResult ? state.Result?.DeepClone()
                    : state.Parameters is not null ? state.Parameters.Evaluate(scope.With(effective))
                    : effective;
                StageAssign(state.Assign, scope.With(result));
                output = ApplyOutputPath(state, ApplyResultPath(state.ResultPath, input, result));
                break;
            }

            case StateType.Task:
            case StateType.Parallel:
            case StateType.Map:
            {
                var outcome = await RunWithRetryAsync(state, input, entered, lane, ct).ConfigureAwait(false);
                output = outcome.Output;
                next = outcome.Next;
                break;
            }

            case StateType.Choice:
            {
                var effective = ApplyInputPath(state, input);
                var scope = Scope(state, entered, 0, effective);
                var matched = Array.FindIndex(state.Choices, c => c.Evaluate(scope));
                next = (matched >= 0 ? state.Choices[matched].Next : null) ?? state.Default
                    ?? throw new StatesException(StatesErrors.NoChoiceMatched, $"No Choice rule of state '{state.Name}' matched, and it has no Default.");
                StageAssign(ChoiceAssign(state, matched), scope);
                output = ApplyOutputPath(state, effective);
                break;
            }

            case StateType.Wait:
            {
                var effective = ApplyInputPath(state, input);
                var until = WaitUntil(state, Scope(state, entered, 0, effective), entered);
                StageAssign(state.Assign, Scope(state, entered, 0, effective));
                var delay = until - Time.GetUtcNow();
                if (delay > TimeSpan.Zero)
                {
                    await Delay(delay, sleep: true, ct).ConfigureAwait(false);
                }

                output = ApplyOutputPath(state, effective);
                break;
            }

            case StateType.Succeed:
                output = ApplyOutputPath(state, ApplyInputPath(state, input));
                next = null;
                break;

            default: // Fail
            {
                var scope = Scope(state, entered, 0, input);
                var error = state.Error ?? (state.ErrorPath is null ? null : ResolveString(scope, state.ErrorPath, state, "ErrorPath"));
                var cause = state.Cause ?? (state.CausePath is null ? null : ResolveString(scope, state.CausePath, state, "CausePath"));
                throw new StatesException(error ?? "States.Failed", cause);
            }
        }

        CheckSize(output, state, "output");
        _execution.Record(lane, type + "StateExited", WithAssignedVariables(StateDetails(state.Name, "output", output), state));
        return (next, output);
    }

    private async ValueTask<(string? Next, JsonNode? Output)> RunWithRetryAsync(StateNode state, JsonNode? input, DateTimeOffset entered, Lane lane, CancellationToken ct)
    {
        var retryCount = 0;
        var attempts = new int[state.Retry.Length];
        while (true)
        {
            try
            {
                // Checked inside the attempt so that the state's own Catch can match States.DataLimitExceeded by name.
                var output = state.IsJsonata
                    ? await JsonataAttemptAsync(state, input, entered, retryCount, lane, ct).ConfigureAwait(false)
                    : await AttemptAsync(state, input, entered, retryCount, lane, ct).ConfigureAwait(false);
                CheckSize(output, state, "output");
                return (state.Next, output);
            }
            catch (StatesException e)
            {
                var r = Array.FindIndex(state.Retry, r => r.ErrorEquals.Any(p => StatesErrors.Matches(p, e.Error)));
                if (r >= 0 && attempts[r] < state.Retry[r].MaxAttempts)
                {
                    var retrier = state.Retry[r];
                    var seconds = retrier.IntervalSeconds * Math.Pow(retrier.BackoffRate, attempts[r]);
                    if (retrier.MaxDelaySeconds is { } max)
                    {
                        seconds = Math.Min(seconds, max);
                    }

                    if (retrier.FullJitter)
                    {
                        seconds *= _engine.NextDouble();
                    }

                    attempts[r]++;
                    retryCount++;
                    await Delay(TimeSpan.FromSeconds(seconds), sleep: true, ct).ConfigureAwait(false);
                    continue;
                }

                var catcher = state.Catch.FirstOrDefault(c => c.ErrorEquals.Any(p => StatesErrors.Matches(p, e.Error)));
                if (catcher is null)
                {
                    throw;
                }

                var errorOutput = new JsonObject { ["Error"] = e.Error, ["Cause"] = e.Cause };
                StageCatchAssign(state, catcher, input, errorOutput, entered);
                return (catcher.Next, state.IsJsonata
                    ? JsonataCatchOutput(state, catcher, input, errorOutput, entered)
                    : ApplyResultPath(catcher.ResultPath, input, errorOutput));
            }
        }
    }

    /// <summary>One attempt of a Task, Parallel or Map state, from InputPath to OutputPath; Retry reruns all of it.</summary>
    private async Task<JsonNode?> AttemptAsync(StateNode state, JsonNode? input, DateTimeOffset entered, int retryCount, Lane lane, CancellationToken ct)
    {
        var effective = ApplyInputPath(state, input);
        var scope = Scope(state, entered, retryCount, effective);
        var parameters = state.Parameters is null ? effective : state.Parameters.Evaluate(scope);
        var result = state.Type switch
        {
            StateType.Task => await RunTaskAsync(state, parameters, scope, retryCount, lane, ct).ConfigureAwait(false),
            StateType.Parallel => await RunParallelAsync(state, parameters, lane, ct).ConfigureAwait(false),
            _ => await RunMapAsync(state, effective, scope, lane, ct).ConfigureAwait(false),
        };
        if (state.ResultSelector is not null)
        {
            result = state.ResultSelector.Evaluate(scope.With(result));
        }

        StageAssign(state.Assign, scope.With(result));

        return ApplyOutputPath(state, ApplyResultPath(state.ResultPath, input, result));
    }

    /// <param name="timeoutSeconds">A JSONata state's evaluated TimeoutSeconds (a JSONPath state's come from the state).</param>
    private async Task<JsonNode?> RunTaskAsync(
        StateNode state, JsonNode? taskInput, StateScope scope, int retryCount, Lane lane, CancellationToken ct, int? timeoutSeconds = null, int? heartbeatSeconds = null)
    {
        var isInvoke = state.ResourceKind == ResourceKind.LambdaInvoke;
        var isLambda = state.ResourceKind is ResourceKind.LambdaInvoke or ResourceKind.LambdaFunction;
        var prefix = state.ResourceKind == ResourceKind.LambdaFunction ? "LambdaFunction" : "Task";
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

        _execution.Record(lane, prefix + "Scheduled", scheduled);
        _execution.Record(lane, prefix + "Started", Detail());

        JsonNode? result;
        if (_mocks is not null && _mocks.States.TryGetValue(state.Name, out var mock))
        {
            var step = mock.ForInvocation(_mockInvocations.AddOrUpdate(state.Name, 0, static (_, n) => n + 1));
            if (step.Error is not null)
            {
                _execution.Record(lane, prefix + "Failed", Detail(("error", step.Error), ("cause", step.Cause)));
                throw new StatesException(step.Error, step.Cause);
            }

            result = step.Return?.DeepClone();
        }
        else if (!isLambda)
        {
            const string cause = "Only Lambda tasks run locally; mock other service integrations in a MockConfigFile test case.";
            _execution.Record(lane, prefix + "Failed", Detail(("error", StatesErrors.Runtime), ("cause", cause)));
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

            var response = await InvokeAsync(functionName, payload, timeout, state, lane, prefix, Detail, ct).ConfigureAwait(false);
            if (response.IsError)
            {
                _execution.Record(lane, prefix + "Failed", Detail(("error", response.ErrorType), ("cause", response.ErrorMessage)));
                throw new StatesException(response.ErrorType!, response.ErrorMessage);
            }

            var text = response.PayloadJson ?? "null";
            if (text.Length > _options.PayloadLimitBytes / 4 && System.Text.Encoding.UTF8.GetByteCount(text) > _options.PayloadLimitBytes)
            {
                var cause = $"The function's response is larger than the {_options.PayloadLimitBytes}-byte limit.";
                _execution.Record(lane, prefix + "Failed", Detail(("error", StatesErrors.DataLimitExceeded), ("cause", cause)));
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

        _execution.Record(lane, prefix + "Succeeded", Detail(("output", Data(result))));
        return result;
    }

    private async Task<LambdaInvocationResult> InvokeAsync(
        string functionName, string payload, int? timeout, StateNode state, Lane lane, string prefix,
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
                    _execution.Record(lane, prefix + "TimedOut", detail([("error", StatesErrors.Timeout), ("cause", cause)]));
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

    private async Task<JsonNode?> RunParallelAsync(StateNode state, JsonNode? input, Lane lane, CancellationToken ct)
    {
        var started = _execution.Record(lane, "ParallelStateStarted", null);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        StatesException? failure = null;
        var results = new JsonNode?[state.Branches.Length];
        var tasks = state.Branches.Select((branch, i) => Task.Run(async () =>
        {
            try
            {
                results[i] = Json.Own(await RunGraphAsync(branch, input?.DeepClone(), new Lane(started), cts.Token).ConfigureAwait(false));
            }
            catch (StatesException e)
            {
                if (Interlocked.CompareExchange(ref failure, e, null) is null)
                {
                    await cts.CancelAsync().ConfigureAwait(false);
                }
            }
        }, CancellationToken.None)).ToArray();
        await WhenAllIgnoringCancellation(tasks, ct).ConfigureAwait(false);
        if (failure is not null)
        {
            _execution.Record(lane, "ParallelStateFailed", ErrorDetails(failure.Error, failure.Cause));
            throw failure;
        }

        _execution.Record(lane, "ParallelStateSucceeded", null);
        return new JsonArray(results);
    }

    private Task<JsonNode?> RunMapAsync(StateNode state, JsonNode? effective, StateScope scope, Lane lane, CancellationToken ct)
    {
        if (state.Distributed is not null)
        {
            return RunDistributedMapAsync(state, effective, scope, lane, ct);
        }

        if (!scope.TryResolve(state.ItemsPath!, out var itemsNode) || itemsNode is not JsonArray items)
        {
            throw StatesException.Runtime($"State '{state.Name}': ItemsPath '{state.ItemsPath!.Text}' does not point to an array in the input.");
        }

        var maxConcurrency = state.MaxConcurrencyPath is null ? state.MaxConcurrency : NonNegativeInt(scope, state.MaxConcurrencyPath, state);
        return RunIterationsAsync(state, items, maxConcurrency,
            i => state.ItemSelector is null ? items[i]?.DeepClone() : state.ItemSelector.Evaluate(scope.With(effective, (i, items[i]))), lane, ct);
    }

    /// <summary>Runs a Map's iterations, <paramref name="maxConcurrency"/> at a time (0: the inline cap), resuming a top-level Map's progress.</summary>
    private async Task<JsonNode?> RunIterationsAsync(StateNode state, JsonArray items, int maxConcurrency, Func<int, JsonNode?> itemInput, Lane lane, CancellationToken ct)
    {
        var cap = _options.InlineMapConcurrencyCap;
        var concurrency = maxConcurrency == 0 ? cap : Math.Min(maxConcurrency, cap);
        var count = items.Count;
        // Only the execution's own Map state is resumable by iteration; a nested Map reruns with the iteration holding it.
        var topLevel = ReferenceEquals(lane, _topLane) && _current?.StateName == state.Name;
        var prior = topLevel && _current!.IterationSucceeded is { } ok && ok.Count == count ? _current : null;
        if (prior is not null)
        {
            // Used once: a Retry of this Map after the redrive runs every iteration, as any retry does.
            _current = _current! with { IterationResults = null, IterationSucceeded = null };
        }

        var started = _execution.Record(lane, "MapStateStarted", new JsonObject { ["length"] = count });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        StatesException? failure = null;
        var results = new JsonNode?[count];
        var succeeded = new bool[count];
        var next = -1;

        async Task Worker()
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= count || cts.IsCancellationRequested)
                {
                    return;
                }

                if (prior is not null && prior.IterationSucceeded![i])
                {
                    results[i] = prior.IterationResults![i]?.DeepClone();
                    succeeded[i] = true;
                    continue;
                }

                var iterationLane = new Lane(started);
                var iteration = new JsonObject { ["name"] = state.Name, ["index"] = i };
                try
                {
                    _execution.Record(iterationLane, "MapIterationStarted", iteration);
                    results[i] = Json.Own(await RunGraphAsync(state.Processor!, itemInput(i), iterationLane, cts.Token).ConfigureAwait(false));
                    _execution.Record(iterationLane, "MapIterationSucceeded", (JsonObject)iteration.DeepClone());
                    succeeded[i] = true;
                    if (topLevel)
                    {
                        KeepMapProgress(results, succeeded);
                    }
                }
                catch (StatesException e)
                {
                    if (Interlocked.CompareExchange(ref failure, e, null) is null)
                    {
                        _execution.Record(iterationLane, "MapIterationFailed", (JsonObject)iteration.DeepClone(), force: true);
                        await cts.CancelAsync().ConfigureAwait(false);
                    }

                    return;
                }
            }
        }

        var workers = Enumerable.Range(0, Math.Min(concurrency, count)).Select(_ => Task.Run(Worker, CancellationToken.None)).ToArray();
        try
        {
            await WhenAllIgnoringCancellation(workers, ct).ConfigureAwait(false);
        }
        finally
        {
            if (topLevel && (failure is not null || ct.IsCancellationRequested))
            {
                // The workers have all returned: what succeeded is kept for a redrive of this state.
                KeepMapProgress(results, succeeded);
            }
        }

        if (failure is not null)
        {
            _execution.Record(lane, "MapStateFailed", ErrorDetails(failure.Error, failure.Cause), force: true);
            throw failure;
        }

        _execution.Record(lane, "MapStateSucceeded", null);
        return new JsonArray(results);
    }

    /// <summary>
    /// The top-level Map's finished iterations become part of its checkpoint as they finish, so that a restart re-runs
    /// only the others. Not awaited: losing the latest few to a crash costs re-running them, which is idempotent.
    /// </summary>
    private void KeepMapProgress(JsonNode?[] results, bool[] succeeded)
    {
        lock (_progressLock)
        {
            _execution.Checkpoint(_current! with { IterationResults = [.. results.Select(r => r?.DeepClone())], IterationSucceeded = [.. succeeded] });
        }
    }

    /// <summary>Waits for branches or iterations; those cancelled because a sibling failed are not errors themselves.</summary>
    private static async Task WhenAllIgnoringCancellation(Task[] tasks, CancellationToken outer)
    {
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!outer.IsCancellationRequested)
        {
        }

        outer.ThrowIfCancellationRequested();
    }

    private static DateTimeOffset WaitUntil(StateNode state, StateScope scope, DateTimeOffset entered)
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

    private Task Delay(TimeSpan delay, bool sleep, CancellationToken ct)
    {
        if (sleep && Time is VirtualClock clock)
        {
            return clock.SleepAsync(delay, ct);
        }

        return Task.Delay(delay, Time, ct);
    }

    private void CheckSize(JsonNode? payload, StateNode state, string what)
    {
        var size = Json.Utf8Size(payload);
        if (size > _options.PayloadLimitBytes)
        {
            throw new StatesException(StatesErrors.DataLimitExceeded,
                $"The state/task '{state.Name}' returned a result with a size exceeding the maximum number of bytes service limit: its {what} is {size} bytes, the limit {_options.PayloadLimitBytes}.");
        }
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

    private static string ResolveString(StateScope scope, JsonPath path, StateNode state, string field) =>
        scope.TryResolve(path, out var value) && Json.TryGetString(value, out var text)
            ? text
            : throw StatesException.Runtime($"State '{state.Name}': {field} '{path.Text}' must point to a string.");

    private static int PositiveInt(StateScope scope, JsonPath path, StateNode state, string field) =>
        scope.TryResolve(path, out var value) && Json.TryGetInteger(value, out var v) && v >= 1 && v <= 99999999
            ? (int)v
            : throw StatesException.Runtime($"State '{state.Name}': {field} '{path.Text}' must point to a positive integer.");

    private static int NonNegativeInt(StateScope scope, JsonPath path, StateNode state) =>
        scope.TryResolve(path, out var value) && Json.TryGetInteger(value, out var v) && v >= 0 && v <= int.MaxValue
            ? (int)v
            : throw StatesException.Runtime($"State '{state.Name}': MaxConcurrencyPath '{path.Text}' must point to a non-negative integer.");

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";

    private StateScope Scope(StateNode state, DateTimeOffset entered, int retryCount, JsonNode? data) =>
        new(this, state.Name, entered, retryCount, data, null);

    private JsonObject StateDetails(string name, string key, JsonNode? data)
    {
        var details = new JsonObject { ["name"] = name };
        if (_options.IncludeExecutionData)
        {
            details[key] = Json.ToCompactString(data);
        }

        return details;
    }

    private JsonObject Details(params (string Key, JsonNode? Value)[] fields)
    {
        var details = new JsonObject();
        foreach (var (key, value) in fields)
        {
            details[key] = key == "input" ? (_options.IncludeExecutionData ? Json.ToCompactString(value) : null) : Json.Own(value);
        }

        return details;
    }

    private string? Data(JsonNode? node) => _options.IncludeExecutionData ? Json.ToCompactString(node) : null;

    private static JsonObject ErrorDetails(string error, string? cause) => new() { ["error"] = error, ["cause"] = cause };

    /// <summary>What <c>$</c> and <c>$$</c> mean inside one state: its data, and the context object built on demand.</summary>
    internal sealed class StateScope(ExecutionRunner runner, string stateName, DateTimeOffset entered, int retryCount, JsonNode? data, (int Index, JsonNode? Value)? item) : DataScope
    {
        public StateScope With(JsonNode? newData, (int, JsonNode?)? newItem = null) => new(runner, stateName, entered, retryCount, newData, newItem ?? item);

        public override bool TryResolve(JsonPath path, out JsonNode? value)
        {
            if (path.VariableName is not null)
            {
                return TryResolveVariable(path, out value);
            }

            if (!path.IsContext)
            {
                return path.TryEvaluate(data, out value);
            }

            var root = path.FirstName switch
            {
                "Execution" => runner._executionContext,
                "StateMachine" => runner._stateMachineContext,
                "State" => StateContext(),
                "Map" when item is not null => MapContext(),
                _ => null,
            };
            return root is not null ? path.TryEvaluate(root, 1, out value) : path.TryEvaluate(FullContext(), 0, out value);
        }

        public override int NextRandom(int minInclusive, int maxExclusive) => runner._engine.NextRandom(minInclusive, maxExclusive);

        public override void NextBytes(Span<byte> bytes) => runner._engine.NextBytes(bytes);

        private JsonObject StateContext() => new()
        {
            ["EnteredTime"] = Json.FormatTimestamp(entered),
            ["Name"] = stateName,
            ["RetryCount"] = retryCount,
        };

        private JsonObject MapContext() => new()
        {
            ["Item"] = new JsonObject { ["Index"] = item!.Value.Index, ["Value"] = item.Value.Value?.DeepClone() },
        };

        internal JsonObject FullContext()
        {
            var context = new JsonObject
            {
                ["Execution"] = runner._executionContext.DeepClone(),
                ["State"] = StateContext(),
                ["StateMachine"] = runner._stateMachineContext.DeepClone(),
            };
            if (item is not null)
            {
                context["Map"] = MapContext();
            }

            return context;
        }
    }
}

/// <summary>How a run of an execution begins: started, redriven, or carried on after the engine restarted.</summary>
internal enum RunKind { Start, Redrive, AfterRestart }

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
