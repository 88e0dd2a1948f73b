using Writeback.StepFunctions.Local.Wire;

namespace Writeback.StepFunctions.Local;

/// <summary>The Map Runs of Distributed Map states: DescribeMapRun, ListMapRuns, and ListExecutions of one Map Run.</summary>
public sealed partial class LocalStepFunctionsService
{
    private DescribeMapRunResponse DescribeMapRun(DescribeMapRunRequest request)
    {
        var run = Engine.DescribeMapRun(Required(request.MapRunArn, "mapRunArn"));
        return new DescribeMapRunResponse
        {
            MapRunArn = run.Arn,
            ExecutionArn = run.ExecutionArn,
            Status = MapRunStatusNames.Of(run.Status),
            StartDate = Epoch(run.StartDate),
            StopDate = run.StopDate is { } stop ? Epoch(stop) : null,
            MaxConcurrency = run.MaxConcurrency,
            ToleratedFailurePercentage = run.ToleratedFailurePercentage,
            ToleratedFailureCount = run.ToleratedFailureCount,
            ItemCounts = Wire(run.ItemCounts, run.Express),
            ExecutionCounts = Wire(run.ExecutionCounts, run.Express),
            RedriveCount = run.RedriveCount,
            RedriveDate = run.RedriveDate is { } redriven ? Epoch(redriven) : null,
        };
    }

    private ListMapRunsResponse ListMapRuns(ListMapRunsRequest request)
    {
        var executionArn = Required(request.ExecutionArn, "executionArn");
        FindExecution(executionArn);
        var (page, next) = PageToken.Page(Engine.ListMapRuns(executionArn), request.NextToken, $"ListMapRuns {executionArn}", PageSize(request.MaxResults));
        return new ListMapRunsResponse(
            [.. page.Select(r => new MapRunListItem
            {
                ExecutionArn = r.ExecutionArn,
                MapRunArn = r.Arn,
                StateMachineArn = r.StateMachineArn,
                StartDate = Epoch(r.StartDate),
                StopDate = r.StopDate is { } stop ? Epoch(stop) : null,
            })],
            next);
    }

    /// <summary>ListExecutions with a mapRunArn: the Map Run's child executions, in item order.</summary>
    private ListExecutionsResponse ListMapRunExecutions(ListExecutionsRequest request)
    {
        if (request.StateMachineArn is not null)
        {
            throw new StepFunctionsApiException(SfnErrors.Validation, "Give stateMachineArn or mapRunArn, not both.");
        }

        var run = Engine.DescribeMapRun(request.MapRunArn!);
        var filter = request.StatusFilter is null ? null : ExecutionStatusNames.Parse(request.StatusFilter);
        var all = run.Children.Where(e => filter is null || e.Status == filter).ToList();
        var (page, next) = PageToken.Page(all, request.NextToken, $"ListExecutions {run.Arn} {request.StatusFilter}", PageSize(request.MaxResults));
        return new ListExecutionsResponse(
            [.. page.Select(ListItem)],
            next);
    }

    /// <summary>An express child that failed is run again, not redriven, so its failure counts as not redrivable.</summary>
    private static MapRunCountsWire Wire(MapRunCounts counts, bool express) =>
        new(counts.Pending, counts.Running, counts.Succeeded, counts.Failed, counts.TimedOut, counts.Aborted, counts.Total, counts.ResultsWritten,
            express ? counts.Failed + counts.TimedOut + counts.Aborted : 0, 0);
}
