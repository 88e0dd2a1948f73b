using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Writeback.StepFunctions.Local.Wire;

// The response shapes. Dates are epoch seconds with a fraction (a JSON number), as the service sends them.

internal sealed record CreateStateMachineResponse(
    [property: JsonPropertyName("stateMachineArn")] string StateMachineArn,
    [property: JsonPropertyName("creationDate")] double CreationDate);

internal sealed record UpdateStateMachineResponse(
    [property: JsonPropertyName("updateDate")] double UpdateDate);

internal sealed record DescribeStateMachineResponse(
    [property: JsonPropertyName("stateMachineArn")] string StateMachineArn,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("definition")] string Definition,
    [property: JsonPropertyName("roleArn")] string RoleArn,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("creationDate")] double CreationDate);

internal sealed record StateMachineListItem(
    [property: JsonPropertyName("stateMachineArn")] string StateMachineArn,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("creationDate")] double CreationDate);

internal sealed record ListStateMachinesResponse(
    [property: JsonPropertyName("stateMachines")] IReadOnlyList<StateMachineListItem> StateMachines,
    [property: JsonPropertyName("nextToken")] string? NextToken);

internal sealed record EmptyResponse;

/// <summary>The service leaves location out where it has none (a JSON syntax error, no terminal state).</summary>
internal sealed record ValidationDiagnostic(
    [property: JsonPropertyName("severity")] string Severity,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("location"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Location);

internal sealed record ValidateStateMachineDefinitionResponse(
    [property: JsonPropertyName("result")] string Result,
    [property: JsonPropertyName("diagnostics")] IReadOnlyList<ValidationDiagnostic> Diagnostics,
    [property: JsonPropertyName("truncated")] bool Truncated);

internal sealed record StartExecutionResponse(
    [property: JsonPropertyName("executionArn")] string ExecutionArn,
    [property: JsonPropertyName("startDate")] double StartDate);

internal sealed record DataDetails(
    [property: JsonPropertyName("included")] bool Included);

internal sealed record DescribeExecutionResponse
{
    [JsonPropertyName("executionArn")] public required string ExecutionArn { get; init; }

    [JsonPropertyName("stateMachineArn")] public required string StateMachineArn { get; init; }

    [JsonPropertyName("name")] public required string Name { get; init; }

    [JsonPropertyName("status")] public required string Status { get; init; }

    [JsonPropertyName("startDate")] public required double StartDate { get; init; }

    [JsonPropertyName("stopDate")] public double? StopDate { get; init; }

    [JsonPropertyName("input")] public string? Input { get; init; }

    [JsonPropertyName("inputDetails")] public required DataDetails InputDetails { get; init; }

    [JsonPropertyName("output")] public string? Output { get; init; }

    [JsonPropertyName("outputDetails")] public DataDetails? OutputDetails { get; init; }

    [JsonPropertyName("error")] public string? Error { get; init; }

    [JsonPropertyName("cause")] public string? Cause { get; init; }

    [JsonPropertyName("redriveCount")] public required int RedriveCount { get; init; }

    [JsonPropertyName("redriveDate")] public double? RedriveDate { get; init; }

    [JsonPropertyName("redriveStatus")] public required string RedriveStatus { get; init; }

    [JsonPropertyName("redriveStatusReason")] public string? RedriveStatusReason { get; init; }
}

internal sealed record DescribeStateMachineForExecutionResponse(
    [property: JsonPropertyName("stateMachineArn")] string StateMachineArn,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("definition")] string Definition,
    [property: JsonPropertyName("roleArn")] string RoleArn,
    [property: JsonPropertyName("updateDate")] double UpdateDate);

internal sealed record ExecutionListItem
{
    [JsonPropertyName("executionArn")] public required string ExecutionArn { get; init; }

    [JsonPropertyName("stateMachineArn")] public required string StateMachineArn { get; init; }

    [JsonPropertyName("name")] public required string Name { get; init; }

    [JsonPropertyName("status")] public required string Status { get; init; }

    [JsonPropertyName("startDate")] public required double StartDate { get; init; }

    [JsonPropertyName("stopDate")] public double? StopDate { get; init; }

    [JsonPropertyName("redriveCount")] public required int RedriveCount { get; init; }

    [JsonPropertyName("redriveDate")] public double? RedriveDate { get; init; }
}

internal sealed record ListExecutionsResponse(
    [property: JsonPropertyName("executions")] IReadOnlyList<ExecutionListItem> Executions,
    [property: JsonPropertyName("nextToken")] string? NextToken);

/// <summary>Events keep the engine's GetExecutionHistory shape (details under e.g. <c>stateEnteredEventDetails</c>).</summary>
internal sealed record GetExecutionHistoryResponse(
    [property: JsonPropertyName("events")] JsonArray Events,
    [property: JsonPropertyName("nextToken")] string? NextToken);

internal sealed record StopExecutionResponse(
    [property: JsonPropertyName("stopDate")] double StopDate);

internal sealed record RedriveExecutionResponse(
    [property: JsonPropertyName("redriveDate")] double RedriveDate);

/// <summary>The service's error body: the short error name and a message.</summary>
internal sealed record ErrorResponse(
    [property: JsonPropertyName("__type")] string Type,
    [property: JsonPropertyName("message")] string Message);
