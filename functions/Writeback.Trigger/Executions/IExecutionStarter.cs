using System.Text.Json;
using System.Text.Json.Serialization;
using Writeback.Trigger.Http;

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

/// <summary>The input every execution of the writeback state machine starts with.</summary>
public sealed record ExecutionInput(
    [property: JsonPropertyName("manifestUri")] string ManifestUri,
    [property: JsonPropertyName("batchId")] string BatchId,
    [property: JsonPropertyName("dataset")] string Dataset,
    [property: JsonPropertyName("traceparent")] string? Traceparent,
    [property: JsonPropertyName("partition")] string? Partition = null)
{
    public string ToJson() => JsonSerializer.Serialize(this, ExecutionInputJson.Default.ExecutionInput);
}

/// <summary>Execution names: 1–80 characters of [0-9A-Za-z_-], derived from the batch id so a batch runs once.</summary>
public static class ExecutionName
{
    public const int MaxLength = 80;

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

internal sealed record AwsJsonError(
    [property: JsonPropertyName("__type")] string? Type,
    [property: JsonPropertyName("message")] string? Message);
