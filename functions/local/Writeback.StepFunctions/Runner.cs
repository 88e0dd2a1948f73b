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
                _execution.Record(lane, HistoryEventTypes.ExecutionStarted, Details(("input", _execution.Input), ("roleArn", (JsonNode?)_executionContext["RoleArn"]!.DeepClone())));
            }
            else if (_kind == RunKind.Redrive)
            {
                _execution.Record(lane, HistoryEventTypes.ExecutionRedriven, new JsonObject { ["redriveCount"] = _execution.RedriveCount });
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
                    _execution.Record(lane, HistoryEventTypes.ExecutionTimedOut, new JsonObject { ["error"] = StatesErrors.Timeout, ["cause"] = cause }, force: true);
                    _execution.Close(ExecutionStatus.TimedOut, null, StatesErrors.Timeout, cause);
                    return;
                }

                await timerCts.CancelAsync().ConfigureAwait(false);
            }

            var output = await run.ConfigureAwait(false);
            var outputJson = Json.ToCompactString(output);
            _execution.Record(lane, HistoryEventTypes.ExecutionSucceeded, new JsonObject { ["output"] = outputJson });
            _execution.Close(ExecutionStatus.Succeeded, outputJson, null, null);
        }
        catch (StatesException e)
        {
            _execution.Record(lane, HistoryEventTypes.ExecutionFailed, ErrorDetails(e.Error, e.Cause), force: true);
            _execution.Close(ExecutionStatus.Failed, null, e.Error, e.Cause);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            _execution.Record(lane, HistoryEventTypes.ExecutionAborted, null, force: true);
            _execution.Close(ExecutionStatus.Aborted, null, null, null);
        }
#pragma warning disable CA1031 // A bug in the engine must still close the execution rather than leave it RUNNING forever.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _execution.Record(lane, HistoryEventTypes.ExecutionFailed, ErrorDetails(StatesErrors.Runtime, e.ToString()), force: true);
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

    /// <summary>One state, from its StateEntered event to its StateExited; what it does in between is its <see cref="StateActions"/> entry.</summary>
    private async ValueTask<(string? Next, JsonNode? Output)> RunStateAsync(StateNode state, JsonNode? input, Lane lane, CancellationToken ct)
    {
        var entered = Time.GetUtcNow();
        CheckSize(input, state, "input");
        _execution.Record(lane, HistoryEventTypes.Entered(state.Type), StateDetails(state.Name, "input", input));
        var (next, output) = await StateActions[state.Type](this, state, input, entered, lane, ct).ConfigureAwait(false);
        CheckSize(output, state, "output");
        _execution.Record(lane, HistoryEventTypes.Exited(state.Type), WithAssignedVariables(StateDetails(state.Name, "output", output), state));
        return (next, output);
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
}

/// <summary>How a run of an execution begins: started, redriven, or carried on after the engine restarted.</summary>
internal enum RunKind { Start, Redrive, AfterRestart }
