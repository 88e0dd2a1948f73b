using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>How an engine runs: clock, Lambda binding, seeded randomness and the service's limits.</summary>
public sealed class StepFunctionsEngineOptions
{
    /// <summary>Timestamps, Wait states, retry intervals and timeouts; a <see cref="VirtualClock"/> makes them instant.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where Lambda Tasks go; unmocked Lambda Tasks fail with Lambda.ResourceNotFoundException without one.</summary>
    public ILambdaInvoker? LambdaInvoker { get; init; }

    /// <summary>Seeds retry jitter, States.MathRandom and States.UUID so runs repeat; null for a random seed.</summary>
    public int? RandomSeed { get; init; }

    /// <summary>The service's cap on a state's input or output, and on the execution's input: 256 KiB of UTF-8.</summary>
    public int PayloadLimitBytes { get; init; } = 256 * 1024;

    /// <summary>The inline Map runs at most this many iterations at once whatever MaxConcurrency says.</summary>
    public int InlineMapConcurrencyCap { get; init; } = 40;

    /// <summary>A Standard execution fails once its history would exceed this many events.</summary>
    public int MaxHistoryEvents { get; init; } = 25_000;

    /// <summary>Whether events carry the states' input and output (the service's default, unless data is excluded).</summary>
    public bool IncludeExecutionData { get; init; } = true;

    public string Region { get; init; } = "us-east-1";

    public string AccountId { get; init; } = "000000000000";

    /// <summary>
    /// The folder standing in for S3 for a Distributed Map's ItemReader and ResultWriter: bucket = subfolder, so
    /// <c>s3://bucket/key</c> is <c>LocalS3Root/bucket/key</c>. Null: a Distributed Map that reads or writes S3 fails.
    /// </summary>
    public string? LocalS3Root { get; init; }

    /// <summary>Where executions are kept beyond the process; null keeps them only as long as the engine lives.</summary>
    public IExecutionJournal? Journal { get; init; }
}

/// <summary>A created state machine: a validated definition under a name.</summary>
public sealed class StateMachine
{
    private readonly string _executionArnPrefix;

    internal StateMachine(string name, string region, string accountId, StateMachineDefinition definition, string definitionJson)
    {
        Name = name;
        DefinitionJson = definitionJson;
        Arn = $"arn:aws:states:{region}:{accountId}:stateMachine:{name}";
        _executionArnPrefix = $"arn:aws:states:{region}:{accountId}:execution:{name}:";
        Definition = definition;
    }

    public string Name { get; }

    public string Arn { get; }

    public StateMachineDefinition Definition { get; }

    /// <summary>The definition as it was given (DescribeStateMachine and DescribeStateMachineForExecution return it).</summary>
    public string DefinitionJson { get; }

    /// <summary>The ARN an execution of this state machine with the given name has (or would have).</summary>
    public string ExecutionArn(string executionName) => _executionArnPrefix + executionName;
}

public enum ExecutionStatus { Running, Succeeded, Failed, TimedOut, Aborted }

/// <summary>Execution statuses as the API spells them.</summary>
public static class ExecutionStatusNames
{
    public static string Of(ExecutionStatus status) => status switch
    {
        ExecutionStatus.Running => "RUNNING",
        ExecutionStatus.Succeeded => "SUCCEEDED",
        ExecutionStatus.Failed => "FAILED",
        ExecutionStatus.TimedOut => "TIMED_OUT",
        ExecutionStatus.Aborted => "ABORTED",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static ExecutionStatus? Parse(string name) => name switch
    {
        "RUNNING" => ExecutionStatus.Running,
        "SUCCEEDED" => ExecutionStatus.Succeeded,
        "FAILED" => ExecutionStatus.Failed,
        "TIMED_OUT" => ExecutionStatus.TimedOut,
        "ABORTED" => ExecutionStatus.Aborted,
        _ => null,
    };
}

/// <summary>
/// A local Step Functions service: creates state machines from ASL definitions and runs Standard executions with
/// StartExecution's naming and idempotency rules.
/// </summary>
public sealed partial class StepFunctionsEngine
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Execution> _executions = new(StringComparer.Ordinal);
    private readonly Random _random;

    public StepFunctionsEngine(StepFunctionsEngineOptions? options = null)
    {
        Options = options ?? new StepFunctionsEngineOptions();
        Journal = Options.Journal ?? NoJournal.Instance;
        _random = Options.RandomSeed is { } seed ? new Random(seed) : new Random();
    }

    public StepFunctionsEngineOptions Options { get; }

    internal IExecutionJournal Journal { get; }

    /// <summary>Loads and validates a definition; throws <see cref="InvalidDefinitionException"/> when it cannot run.</summary>
    public StateMachine CreateStateMachine(string name, string definitionJson)
    {
        ArgumentNullException.ThrowIfNull(name);
        var definition = StateMachineDefinition.Parse(definitionJson);
        return new StateMachine(name, Options.Region, Options.AccountId, definition, definitionJson);
    }

    /// <summary>
    /// Starts an execution. The same name with the same input while the first is RUNNING returns that execution;
    /// once it has closed, or with a different input, the answer is ExecutionAlreadyExists.
    /// </summary>
    public Execution StartExecution(StateMachine stateMachine, string inputJson, string? name = null, MockTestCase? mocks = null)
    {
        ArgumentNullException.ThrowIfNull(stateMachine);
        ArgumentNullException.ThrowIfNull(inputJson);
        name ??= NewGuid().ToString();
        if (name.Length is 0 or > 80 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw new StepFunctionsApiException("InvalidName", $"Invalid execution name '{name}': use 1 to 80 characters of [0-9A-Za-z_-].");
        }

        JsonNode? input;
        try
        {
            input = Json.Parse(inputJson);
        }
        catch (JsonException e)
        {
            throw new StepFunctionsApiException("InvalidExecutionInput", $"The execution input is not valid JSON: {e.Message}");
        }

        if (Json.Utf8Size(input) > Options.PayloadLimitBytes)
        {
            throw new StepFunctionsApiException("InvalidExecutionInput", $"The execution input is larger than the {Options.PayloadLimitBytes}-byte limit.");
        }

        var arn = stateMachine.ExecutionArn(name);
        Execution execution;
        lock (_lock)
        {
            if (_executions.TryGetValue(arn, out var existing))
            {
                if (existing.Status == ExecutionStatus.Running && JsonNode.DeepEquals(existing.Input, input))
                {
                    return existing;
                }

                throw new StepFunctionsApiException("ExecutionAlreadyExists", $"Execution already exists: '{arn}'");
            }

            execution = new Execution(this, stateMachine, arn, name, inputJson, input, Options.TimeProvider.GetUtcNow());
            _executions[arn] = execution;
            // Under the lock: a repeat of this start must not find the execution before its creation is journaled.
            Journal.Created(new JournaledExecution(arn, name, stateMachine.Arn, stateMachine.Name, stateMachine.DefinitionJson, inputJson, execution.StartDate, execution.Sequence));
        }

        execution.Start(mocks);
        ExecutionStarted?.Invoke(execution);
        return execution;
    }

    /// <summary>
    /// StartExecution as the API answers it: only once the execution is durable in the journal, so that a caller told
    /// "started" (the trigger, then Pub/Sub's ack) never loses it to a restart.
    /// </summary>
    public async Task<Execution> StartExecutionAsync(StateMachine stateMachine, string inputJson, string? name = null)
    {
        var execution = StartExecution(stateMachine, inputJson, name);
        await Journal.DurableAsync().ConfigureAwait(false);
        return execution;
    }

    /// <summary>
    /// Reads the journal's executions back: closed ones become describable (and redrivable) again, and each one that was
    /// RUNNING resumes at its checkpoint, continuing its history, as if the engine had never stopped. Call once, before
    /// the first StartExecution; returns the executions resumed.
    /// </summary>
    public async Task<IReadOnlyList<Execution>> RestoreAsync(CancellationToken cancellationToken)
    {
        var journaled = await Journal.LoadAsync(cancellationToken).ConfigureAwait(false);
        // Executions of one definition share one parsed state machine, as they did before the restart.
        var machines = new Dictionary<(string Name, string Definition), StateMachine>();
        var resumed = new List<Execution>();
        foreach (var record in journaled)
        {
            if (!machines.TryGetValue((record.StateMachineName, record.DefinitionJson), out var machine))
            {
                machine = CreateStateMachine(record.StateMachineName, record.DefinitionJson);
                machines[(record.StateMachineName, record.DefinitionJson)] = machine;
            }

            var execution = Execution.Restore(this, machine, record);
            lock (_lock)
            {
                _executions[execution.Arn] = execution;
            }

            if (execution.Status == ExecutionStatus.Running)
            {
                resumed.Add(execution);
            }
        }

        Execution.ContinueSequenceAfter(journaled.Count == 0 ? 0 : journaled.Max(e => e.Sequence));
        foreach (var execution in resumed)
        {
            execution.Continue();
        }

        return resumed;
    }

    /// <summary>Raised once per execution StartExecution created (not for an idempotent repeat, not for a redrive).</summary>
    public event Action<Execution>? ExecutionStarted;

    /// <summary>
    /// RedriveExecution: a FAILED, TIMED_OUT or ABORTED execution resumes, under the same ARN and with the same input,
    /// at the top-level state that did not succeed; an inline Map there runs only the iterations that did not succeed.
    /// </summary>
    public Execution RedriveExecution(string executionArn)
    {
        var execution = DescribeExecution(executionArn);
        execution.Redrive();
        return execution;
    }

    /// <summary>The executions of one state machine, newest first (ListExecutions' order).</summary>
    public IReadOnlyList<Execution> ListExecutions(string stateMachineArn)
    {
        lock (_lock)
        {
            return [.. _executions.Values.Where(e => e.StateMachine.Arn == stateMachineArn).OrderByDescending(e => e.StartDate).ThenByDescending(e => e.Sequence)];
        }
    }
    /// <summary>Starts an execution and waits for it to close.</summary>
    public async Task<Execution> RunAsync(StateMachine stateMachine, string inputJson, string? name = null, MockTestCase? mocks = null)
    {
        var execution = StartExecution(stateMachine, inputJson, name, mocks);
        await execution.Completion.ConfigureAwait(false);
        return execution;
    }

    public Execution DescribeExecution(string executionArn) =>
        FindExecution(executionArn) ?? throw new StepFunctionsApiException("ExecutionDoesNotExist", $"Execution does not exist: '{executionArn}'");

    /// <summary>The execution with this ARN, or null when none was started.</summary>
    public Execution? FindExecution(string executionArn)
    {
        lock (_lock)
        {
            return _executions.GetValueOrDefault(executionArn) ?? FindChildExecution(executionArn);
        }
    }

    internal int NextRandom(int minInclusive, int maxExclusive)
    {
        lock (_random)
        {
            return _random.Next(minInclusive, maxExclusive);
        }
    }

    internal double NextDouble()
    {
        lock (_random)
        {
            return _random.NextDouble();
        }
    }

    internal void NextBytes(Span<byte> bytes)
    {
        lock (_random)
        {
            _random.NextBytes(bytes);
        }
    }

    private Guid NewGuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        NextBytes(bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}

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
