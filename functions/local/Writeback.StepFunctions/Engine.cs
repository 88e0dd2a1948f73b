using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

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
