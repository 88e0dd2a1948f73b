using System.Text.Json.Serialization;

namespace Writeback.StepFunctions.Local.Wire;

internal sealed record DescribeMapRunRequest([property: JsonPropertyName("mapRunArn")] string? MapRunArn);

internal sealed record ListMapRunsRequest(
    [property: JsonPropertyName("executionArn")] string? ExecutionArn,
    [property: JsonPropertyName("maxResults")] int? MaxResults,
    [property: JsonPropertyName("nextToken")] string? NextToken);

/// <summary>itemCounts / executionCounts; nothing waits for a redrive here, so pendingRedrive is always 0.</summary>
internal sealed record MapRunCountsWire(
    [property: JsonPropertyName("pending")] long Pending,
    [property: JsonPropertyName("running")] long Running,
    [property: JsonPropertyName("succeeded")] long Succeeded,
    [property: JsonPropertyName("failed")] long Failed,
    [property: JsonPropertyName("timedOut")] long TimedOut,
    [property: JsonPropertyName("aborted")] long Aborted,
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("resultsWritten")] long ResultsWritten,
    [property: JsonPropertyName("failuresNotRedrivable")] long FailuresNotRedrivable,
    [property: JsonPropertyName("pendingRedrive")] long PendingRedrive);

internal sealed record DescribeMapRunResponse
{
    [JsonPropertyName("mapRunArn")] public required string MapRunArn { get; init; }

    [JsonPropertyName("executionArn")] public required string ExecutionArn { get; init; }

    [JsonPropertyName("status")] public required string Status { get; init; }

    [JsonPropertyName("startDate")] public required double StartDate { get; init; }

    [JsonPropertyName("stopDate")] public double? StopDate { get; init; }

    [JsonPropertyName("maxConcurrency")] public required int MaxConcurrency { get; init; }

    [JsonPropertyName("toleratedFailurePercentage")] public required double ToleratedFailurePercentage { get; init; }

    [JsonPropertyName("toleratedFailureCount")] public required long ToleratedFailureCount { get; init; }

    [JsonPropertyName("itemCounts")] public required MapRunCountsWire ItemCounts { get; init; }

    [JsonPropertyName("executionCounts")] public required MapRunCountsWire ExecutionCounts { get; init; }

    [JsonPropertyName("redriveCount")] public required int RedriveCount { get; init; }

    [JsonPropertyName("redriveDate")] public double? RedriveDate { get; init; }
}

internal sealed record MapRunListItem
{
    [JsonPropertyName("executionArn")] public required string ExecutionArn { get; init; }

    [JsonPropertyName("mapRunArn")] public required string MapRunArn { get; init; }

    [JsonPropertyName("stateMachineArn")] public required string StateMachineArn { get; init; }

    [JsonPropertyName("startDate")] public required double StartDate { get; init; }

    [JsonPropertyName("stopDate")] public double? StopDate { get; init; }
}

internal sealed record ListMapRunsResponse(
    [property: JsonPropertyName("mapRuns")] IReadOnlyList<MapRunListItem> MapRuns,
    [property: JsonPropertyName("nextToken")] string? NextToken);
