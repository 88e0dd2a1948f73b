using System.Text.Json.Serialization;

namespace Writeback.Trigger.Executions;

/// <summary>Starts one state machine execution; Step Functions in the cloud, the local engine on one machine.</summary>
public interface IExecutionStarter
{
    /// <summary>
    /// Starts the execution <paramref name="name"/> with <paramref name="inputJson"/>, with StartExecution's (Standard)
    /// idempotency: same name and input while running → <see cref="ExecutionStartOutcome.AlreadyRunning"/>; the name
    /// already used by a closed execution or with other input → <see cref="ExecutionStartOutcome.AlreadyExists"/>.
    /// </summary>
    /// <exception cref="ExecutionStartException">The start failed; nothing is known to have started.</exception>
    Task<ExecutionStartResult> StartAsync(string name, string inputJson, CancellationToken cancellationToken);

    /// <summary>DescribeExecution: the status of the execution named <paramref name="name"/>, or null when none has that name.</summary>
    /// <exception cref="ExecutionStartException">The lookup failed; nothing is known about the execution.</exception>
    Task<ExecutionState?> DescribeAsync(string name, CancellationToken cancellationToken);
}

/// <summary>An execution's status as DescribeExecution reports it.</summary>
public enum ExecutionState
{
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,

    /// <summary>A redrive was requested and has not started yet: as good as running.</summary>
    PendingRedrive,
}

public static class ExecutionStates
{
    /// <summary>The API's spelling (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE); null for anything else.</summary>
    public static ExecutionState? Parse(string? status) => status switch
    {
        "RUNNING" => ExecutionState.Running,
        "SUCCEEDED" => ExecutionState.Succeeded,
        "FAILED" => ExecutionState.Failed,
        "TIMED_OUT" => ExecutionState.TimedOut,
        "ABORTED" => ExecutionState.Aborted,
        "PENDING_REDRIVE" => ExecutionState.PendingRedrive,
        _ => null,
    };

    public static string Name(this ExecutionState state) => state switch
    {
        ExecutionState.Running => "RUNNING",
        ExecutionState.Succeeded => "SUCCEEDED",
        ExecutionState.Failed => "FAILED",
        ExecutionState.TimedOut => "TIMED_OUT",
        ExecutionState.Aborted => "ABORTED",
        ExecutionState.PendingRedrive => "PENDING_REDRIVE",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>Closed without success: the batch may be tried again under the next attempt's name.</summary>
    public static bool IsRetryable(this ExecutionState state) => state switch
    {
        ExecutionState.Failed or ExecutionState.TimedOut or ExecutionState.Aborted => true,
        ExecutionState.Running or ExecutionState.Succeeded or ExecutionState.PendingRedrive => false,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };
}

public enum ExecutionStartOutcome
{
    Started,
    AlreadyRunning,
    AlreadyExists,
}

public sealed record ExecutionStartResult(ExecutionStartOutcome Outcome, string? ExecutionArn = null);

/// <summary>Starting failed for a reason of ours (throttled, unavailable, misconfigured): the event should be redelivered.</summary>
public sealed class ExecutionStartException : Exception
{
    public ExecutionStartException() { }

    public ExecutionStartException(string message) : base(message) { }

    public ExecutionStartException(string message, Exception innerException) : base(message, innerException) { }

    public ExecutionStartException(string message, bool transient, Exception? innerException = null)
        : base(message, innerException) => Transient = transient;

    /// <summary>True when retrying later may help (throttling, 5xx, network); false for a configuration fault.</summary>
    public bool Transient { get; }
}

/// <summary>
/// Execution names: 1–80 characters of [0-9A-Za-z_-], derived from the batch id and the attempt number, so every
/// delivery of one batch computes the same names and StartExecution's name idempotency lets at most one start win.
/// </summary>
public static class ExecutionName
{
    public const int MaxLength = 80;

    /// <summary>
    /// Attempt 1 is named after the batch id itself (what a person starting it by hand would type). Attempt n ≥ 2 is
    /// <c>{batch id, cut to fit}_a{n}_{10 hex of SHA-256(batch id)}</c>: the hash keeps two long batch ids that share
    /// their first 60-odd characters apart after the cut, and the fixed shape keeps within 80 characters for any n
    /// up to <see cref="ExecutionAttempts.MaxAttempts"/>.
    /// </summary>
    public static string ForAttempt(string batchId, int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var first = FromBatchId(batchId);
        if (attempt == 1)
        {
            return first;
        }

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(batchId)))[..10];
        var suffix = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"_a{attempt}_{hash}");
        var head = first.Length + suffix.Length > MaxLength ? first[..(MaxLength - suffix.Length)] : first;
        return head + suffix;
    }

    public static string FromBatchId(string batchId)
    {
        ArgumentException.ThrowIfNullOrEmpty(batchId);
        var chars = batchId.Length > MaxLength ? batchId.AsSpan(0, MaxLength).ToArray() : batchId.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!IsAllowed(chars[i]))
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }

    public static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-';
}

internal sealed record StartExecutionRequest(
    [property: JsonPropertyName("stateMachineArn")] string StateMachineArn,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("input")] string Input,
    [property: JsonPropertyName("traceHeader")] string? TraceHeader);

internal sealed record StartExecutionResponse(
    [property: JsonPropertyName("executionArn")] string? ExecutionArn,
    [property: JsonPropertyName("startDate")] double? StartDate);

internal sealed record DescribeExecutionRequest(
    [property: JsonPropertyName("executionArn")] string ExecutionArn);

/// <summary>DescribeExecution's answer; only the status is read (input and output can be large and are not needed).</summary>
internal sealed record DescribeExecutionResponse(
    [property: JsonPropertyName("executionArn")] string? ExecutionArn,
    [property: JsonPropertyName("status")] string? Status);

