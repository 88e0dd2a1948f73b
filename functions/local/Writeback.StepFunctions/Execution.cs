using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>One execution: its status, output or error, and its history.</summary>
public sealed class Execution
{
    private readonly Lock _lock = new();
    private readonly List<HistoryEvent> _history = [];
    private TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Action? _abort;
    private long _eventCount;
    private MockTestCase? _mocks;
    private static long s_sequence;

    internal Execution(StepFunctionsEngine engine, StateMachine stateMachine, string arn, string name, string inputJson, JsonNode? input, DateTimeOffset startDate, long? sequence = null)
    {
        Engine = engine;
        StateMachine = stateMachine;
        Arn = arn;
        Name = name;
        InputJson = inputJson;
        Input = input;
        StartDate = startDate;
        Sequence = sequence ?? Interlocked.Increment(ref s_sequence);
    }

    /// <summary>An execution as the journal kept it: its state, history and checkpoint; not running yet.</summary>
    internal static Execution Restore(StepFunctionsEngine engine, StateMachine stateMachine, JournaledExecution record)
    {
        var execution = new Execution(engine, stateMachine, record.Arn, record.Name, record.InputJson, Json.Parse(record.InputJson), record.StartDate, record.Sequence)
        {
            Status = record.Status,
            OutputJson = record.OutputJson,
            Error = record.Error,
            Cause = record.Cause,
            StopDate = record.StopDate,
            RedriveCount = record.RedriveCount,
            RedriveDate = record.RedriveDate,
            Resume = record.Checkpoint,
        };
        execution._history.AddRange(record.History);
        execution._eventCount = record.History.Count == 0 ? 0 : record.History[^1].Id;
        if (record.Status != ExecutionStatus.Running)
        {
            execution._completion.TrySetResult();
        }

        return execution;
    }

    /// <summary>Executions started after a restore sort after the restored ones that share their start tick.</summary>
    internal static void ContinueSequenceAfter(long restored)
    {
        long current;
        while ((current = Interlocked.Read(ref s_sequence)) < restored && Interlocked.CompareExchange(ref s_sequence, restored, current) != current)
        {
        }
    }

    /// <summary>The most redrives the service allows one execution.</summary>
    public const int MaxRedrives = 1000;

    public string Arn { get; }

    public string Name { get; }

    public StateMachine StateMachine { get; }

    public string InputJson { get; }

    public ExecutionStatus Status { get; private set; } = ExecutionStatus.Running;

    public string? OutputJson { get; private set; }

    public string? Error { get; private set; }

    public string? Cause { get; private set; }

    public DateTimeOffset StartDate { get; }

    public DateTimeOffset? StopDate { get; private set; }

    /// <summary>Completes when the execution closes, whatever its status; after a redrive, when the redriven run closes.</summary>
    public Task Completion
    {
        get
        {
            lock (_lock)
            {
                return _completion.Task;
            }
        }
    }

    /// <summary>How many times RedriveExecution resumed this execution.</summary>
    public int RedriveCount { get; private set; }

    public DateTimeOffset? RedriveDate { get; private set; }

    /// <summary>
    /// The status and, null when the execution may be redriven now, why not (DescribeExecution's redriveStatusReason),
    /// read together: read apart, a describe racing the close could say FAILED and "is RUNNING and cannot be redriven".
    /// </summary>
    public (ExecutionStatus Status, string? NotRedrivableReason) Redrivability
    {
        get
        {
            lock (_lock)
            {
                return (Status, NotRedrivableReasonLocked());
            }
        }
    }

    private string? NotRedrivableReasonLocked() => Status switch
    {
        ExecutionStatus.Running => "Execution is RUNNING and cannot be redriven",
        ExecutionStatus.Succeeded => "Execution is SUCCEEDED and cannot be redriven",
        _ when RedriveCount >= MaxRedrives => $"Execution has been redriven {MaxRedrives} times, the most allowed",
        _ => null,
    };

    /// <summary>Orders executions started within one clock tick (a virtual clock gives them all one start date).</summary>
    internal long Sequence { get; }

    /// <summary>Where a redrive (or a restarted engine) resumes: the top-level state running, and its input.</summary>
    internal ResumePoint? Resume { get; private set; }

    public IReadOnlyList<HistoryEvent> History
    {
        get
        {
            lock (_lock)
            {
                return [.. _history];
            }
        }
    }

    /// <summary>The status as the API spells it: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED.</summary>
    public string StatusName => ExecutionStatusNames.Of(Status);

    internal StepFunctionsEngine Engine { get; }

    internal JsonNode? Input { get; }

    /// <summary>StopExecution: the execution closes as ABORTED.</summary>
    public void Stop(string? error = null, string? cause = null)
    {
        lock (_lock)
        {
            if (Status != ExecutionStatus.Running)
            {
                return;
            }

            Error = error;
            Cause = cause;
        }

        _abort?.Invoke();
    }

    internal void Start(MockTestCase? mocks)
    {
        _mocks = mocks;
        var runner = new ExecutionRunner(this, mocks, resume: null, RunKind.Start);
        _abort = runner.Abort;
        _ = Task.Run(runner.RunAsync);
    }

    /// <summary>A RUNNING execution restored from the journal carries on at its checkpoint (or its first state).</summary>
    internal void Continue()
    {
        var resume = Resume ?? new ResumePoint(StateMachine.Definition.Graph.StartAt, Input?.DeepClone());
        var runner = new ExecutionRunner(this, mocks: null, resume, RunKind.AfterRestart);
        _abort = runner.Abort;
        _ = Task.Run(runner.RunAsync);
    }

    /// <summary>Moves the resume point and journals it; the caller awaits the journal when the next step depends on it.</summary>
    internal void Checkpoint(ResumePoint resume)
    {
        lock (_lock)
        {
            Resume = resume;
            Engine.Journal.Checkpointed(Arn, resume);
        }
    }

    internal void Redrive()
    {
        ExecutionRunner runner;
        lock (_lock)
        {
            if (NotRedrivableReasonLocked() is { } reason)
            {
                throw new StepFunctionsApiException("ExecutionNotRedrivable", $"{reason}: '{Arn}'");
            }

            // Without a resume point the execution closed before its first state (e.g. its input was refused): it starts over.
            var resume = Resume ?? new ResumePoint(StateMachine.Definition.Graph.StartAt, Input?.DeepClone());
            RedriveCount++;
            RedriveDate = Engine.Options.TimeProvider.GetUtcNow();
            Status = ExecutionStatus.Running;
            OutputJson = null;
            Error = null;
            Cause = null;
            StopDate = null;
            _completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Engine.Journal.Redriven(Arn, RedriveCount, RedriveDate.Value);
            runner = new ExecutionRunner(this, _mocks, resume, RunKind.Redrive);
            _abort = runner.Abort;
        }

        _ = Task.Run(runner.RunAsync);
    }

    /// <summary>The id of the latest event; a redriven run continues the history after it.</summary>
    internal long LastEventId
    {
        get
        {
            lock (_lock)
            {
                return _eventCount;
            }
        }
    }

    internal long Record(Lane lane, string type, JsonObject? details, bool force = false)
    {
        var now = Engine.Options.TimeProvider.GetUtcNow();
        lock (_lock)
        {
            // A branch still running after the execution closed (timed out or aborted) must stop, not add history.
            if (Status != ExecutionStatus.Running)
            {
                throw new OperationCanceledException("The execution has closed.");
            }

            if (!force && _eventCount >= Engine.Options.MaxHistoryEvents)
            {
                throw new StatesException(StatesErrors.Runtime, $"The execution reached the limit of {Engine.Options.MaxHistoryEvents} history events.");
            }

            var id = ++_eventCount;
            var historyEvent = new HistoryEvent(id, lane.Last, now, type, details);
            _history.Add(historyEvent);
            // Under the lock, so the journal receives the events in id order.
            Engine.Journal.Appended(Arn, historyEvent);
            lane.Last = id;
            return id;
        }
    }

    internal void Close(ExecutionStatus status, string? output, string? error, string? cause)
    {
        TaskCompletionSource completion;
        lock (_lock)
        {
            Status = status;
            OutputJson = output;
            if (status != ExecutionStatus.Aborted || Error is null)
            {
                Error ??= error;
                Cause ??= cause;
            }

            StopDate = Engine.Options.TimeProvider.GetUtcNow();
            Engine.Journal.Closed(Arn, status, OutputJson, Error, Cause, StopDate.Value);
            completion = _completion;
        }

        // Whoever waits for the end may rely on it outliving the process.
        var durable = Engine.Journal.DurableAsync();
        if (durable.IsCompleted)
        {
            completion.TrySetResult();
        }
        else
        {
            _ = durable.ContinueWith(_ => completion.TrySetResult(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }
}
