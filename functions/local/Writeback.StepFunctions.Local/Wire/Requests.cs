using System.Text.Json.Serialization;

namespace Writeback.StepFunctions.Local.Wire;

// The request shapes of the actions served, as the service's API reference names their members. Members this stand-in
// does not act on (tags, logging, tracing, versions) are not declared: the service would accept them, and so does this.

internal sealed record CreateStateMachineRequest(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("definition")] string? Definition,
    [property: JsonPropertyName("roleArn")] string? RoleArn,
    [property: JsonPropertyName("type")] string? Type);

internal sealed record UpdateStateMachineRequest(
    [property: JsonPropertyName("stateMachineArn")] string? StateMachineArn,
    [property: JsonPropertyName("definition")] string? Definition,
    [property: JsonPropertyName("roleArn")] string? RoleArn);

internal sealed record StateMachineArnRequest(
    [property: JsonPropertyName("stateMachineArn")] string? StateMachineArn);

internal sealed record ListStateMachinesRequest(
    [property: JsonPropertyName("maxResults")] int? MaxResults,
    [property: JsonPropertyName("nextToken")] string? NextToken);

internal sealed record ValidateStateMachineDefinitionRequest(
    [property: JsonPropertyName("definition")] string? Definition,
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("severity")] string? Severity = null,
    [property: JsonPropertyName("maxResults")] int? MaxResults = null);

internal sealed record StartExecutionRequest(
    [property: JsonPropertyName("stateMachineArn")] string? StateMachineArn,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("input")] string? Input,
    [property: JsonPropertyName("traceHeader")] string? TraceHeader);

internal sealed record DescribeExecutionRequest(
    [property: JsonPropertyName("executionArn")] string? ExecutionArn,
    [property: JsonPropertyName("includedData")] string? IncludedData);

internal sealed record ExecutionArnRequest(
    [property: JsonPropertyName("executionArn")] string? ExecutionArn);

internal sealed record ListExecutionsRequest(
    [property: JsonPropertyName("stateMachineArn")] string? StateMachineArn,
    [property: JsonPropertyName("statusFilter")] string? StatusFilter,
    [property: JsonPropertyName("maxResults")] int? MaxResults,
    [property: JsonPropertyName("nextToken")] string? NextToken,
    [property: JsonPropertyName("mapRunArn")] string? MapRunArn);

internal sealed record GetExecutionHistoryRequest(
    [property: JsonPropertyName("executionArn")] string? ExecutionArn,
    [property: JsonPropertyName("maxResults")] int? MaxResults,
    [property: JsonPropertyName("reverseOrder")] bool? ReverseOrder,
    [property: JsonPropertyName("nextToken")] string? NextToken,
    [property: JsonPropertyName("includeExecutionData")] bool? IncludeExecutionData);

internal sealed record StopExecutionRequest(
    [property: JsonPropertyName("executionArn")] string? ExecutionArn,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("cause")] string? Cause);

internal sealed record RedriveExecutionRequest(
    [property: JsonPropertyName("executionArn")] string? ExecutionArn,
    [property: JsonPropertyName("clientToken")] string? ClientToken);
