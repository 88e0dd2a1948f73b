using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// Where an engine keeps its executions so that they outlive the process: told of every change as it happens, read
/// back once at start-up (<see cref="StepFunctionsEngine.RestoreAsync"/>). The engine knows no database; a host that
/// wants durable executions gives it one of these.
/// </summary>
/// <remarks>
/// The notifications are called in the order the changes happen, some under the engine's locks: they must not block,
/// and must keep what they are given now (the arguments are not theirs to hold). Order matters and must be kept: a
/// history event is never durable before the one with the id before it, nor the execution before its creation.
/// </remarks>
public interface IExecutionJournal
{
    /// <summary>StartExecution created it (before its first event).</summary>
    void Created(JournaledExecution execution);

    void Appended(string executionArn, HistoryEvent historyEvent);

    /// <summary>Where the execution would resume now: the top-level state running, its input, and a Map's finished iterations.</summary>
    void Checkpointed(string executionArn, ResumePoint checkpoint);

    void Closed(string executionArn, ExecutionStatus status, string? outputJson, string? errorName, string? cause, DateTimeOffset stopDate);

    void Redriven(string executionArn, int redriveCount, DateTimeOffset redriveDate);

    /// <summary>Completes once everything notified before the call is durable.</summary>
    Task DurableAsync();

    /// <summary>Every execution kept, with its history in id order.</summary>
    Task<IReadOnlyList<JournaledExecution>> LoadAsync(CancellationToken cancellationToken);
}

/// <summary>An execution as a journal keeps it: what it was started with, and where it has got to.</summary>
/// <param name="Sequence">Orders executions that started within one clock tick (ListExecutions' tie-break).</param>
public sealed record JournaledExecution(
    string Arn, string Name, string StateMachineArn, string StateMachineName, string DefinitionJson, string InputJson, DateTimeOffset StartDate, long Sequence)
{
    public ExecutionStatus Status { get; init; } = ExecutionStatus.Running;

    public string? OutputJson { get; init; }

    public string? Error { get; init; }

    public string? Cause { get; init; }

    public DateTimeOffset? StopDate { get; init; }

    public int RedriveCount { get; init; }

    public DateTimeOffset? RedriveDate { get; init; }

    /// <summary>Null until the first state was about to run.</summary>
    public ResumePoint? Checkpoint { get; init; }

    public IReadOnlyList<HistoryEvent> History { get; init; } = [];
}

/// <summary>
/// A top-level state to resume at, with the input it was entered with; for an inline Map, the results of the iterations
/// that succeeded (null where an iteration did not), so a redrive, or a restarted engine, runs only the others.
/// </summary>
public sealed record ResumePoint(string StateName, JsonNode? Input, IReadOnlyList<JsonNode?>? IterationResults = null, IReadOnlyList<bool>? IterationSucceeded = null)
{
    /// <summary>The workflow variables of the top-level scope as the state was entered; a resumed run starts with them.</summary>
    public IReadOnlyDictionary<string, JsonNode?>? Variables { get; init; }
}

/// <summary>The journal of an engine that keeps nothing beyond the process (the default).</summary>
internal sealed class NoJournal : IExecutionJournal
{
    public static readonly NoJournal Instance = new();

    public void Created(JournaledExecution execution)
    {
    }

    public void Appended(string executionArn, HistoryEvent historyEvent)
    {
    }

    public void Checkpointed(string executionArn, ResumePoint checkpoint)
    {
    }

    public void Closed(string executionArn, ExecutionStatus status, string? outputJson, string? errorName, string? cause, DateTimeOffset stopDate)
    {
    }

    public void Redriven(string executionArn, int redriveCount, DateTimeOffset redriveDate)
    {
    }

    public Task DurableAsync() => Task.CompletedTask;

    public Task<IReadOnlyList<JournaledExecution>> LoadAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<JournaledExecution>>([]);
}
