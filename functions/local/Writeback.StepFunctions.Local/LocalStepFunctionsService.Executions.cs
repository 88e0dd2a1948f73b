using System.Text.Json.Nodes;
using Writeback.StepFunctions.Local.Wire;

namespace Writeback.StepFunctions.Local;

/// <summary>Executions: started, described, listed, their history read, stopped and redriven.</summary>
public sealed partial class LocalStepFunctionsService
{
    /// <summary>StopExecution waits this long for the execution to record its abort, so the answer carries its stop date.</summary>
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, (string Token, DateTimeOffset Date)> _redriveTokens = new(StringComparer.Ordinal);

    private async Task<StartExecutionResponse> StartExecutionAsync(StartExecutionRequest request, CancellationToken cancellationToken)
    {
        var machine = Find(Required(request.StateMachineArn, "stateMachineArn")).Machine;
        // The engine applies the service's rules: name shape, input size, idempotency while RUNNING, ExecutionAlreadyExists.
        var execution = await Engine.StartExecutionAsync(machine, request.Input ?? "{}", request.Name).WaitAsync(cancellationToken);
        return new StartExecutionResponse(execution.Arn, Epoch(execution.StartDate));
    }

    private DescribeExecutionResponse DescribeExecution(DescribeExecutionRequest request)
    {
        var execution = FindExecution(Required(request.ExecutionArn, "executionArn"));
        var data = request.IncludedData switch
        {
            null or "ALL_DATA" => true,
            "METADATA_ONLY" => false,
            var other => throw new StepFunctionsApiException(SfnErrors.Validation,
                $"1 validation error detected: Value '{other}' at 'includedData' failed to satisfy constraint: Member must satisfy enum value set: [ALL_DATA, METADATA_ONLY]"),
        };
        var (status, reason) = execution.Redrivability;
        var closed = status != ExecutionStatus.Running;
        return new DescribeExecutionResponse
        {
            ExecutionArn = execution.Arn,
            StateMachineArn = execution.StateMachine.Arn,
            Name = execution.Name,
            Status = ExecutionStatusNames.Of(status),
            StartDate = Epoch(execution.StartDate),
            StopDate = execution.StopDate is { } stop ? Epoch(stop) : null,
            Input = data ? execution.InputJson : null,
            InputDetails = new DataDetails(data),
            Output = data ? execution.OutputJson : null,
            OutputDetails = closed ? new DataDetails(data) : null,
            Error = execution.Error,
            Cause = execution.Cause,
            RedriveCount = execution.RedriveCount,
            RedriveDate = execution.RedriveDate is { } redriven ? Epoch(redriven) : null,
            RedriveStatus = reason is null ? "REDRIVABLE" : "NOT_REDRIVABLE",
            RedriveStatusReason = reason,
        };
    }

    private DescribeStateMachineForExecutionResponse DescribeStateMachineForExecution(ExecutionArnRequest request)
    {
        var execution = FindExecution(Required(request.ExecutionArn, "executionArn"));
        var registered = FindOrNull(execution.StateMachine.Arn);
        var machine = execution.StateMachine;
        return new DescribeStateMachineForExecutionResponse(machine.Arn, machine.Name, machine.DefinitionJson,
            registered?.RoleArn ?? DefaultRoleArn, Epoch(registered?.Updated ?? registered?.Created ?? execution.StartDate));
    }

    private ListExecutionsResponse ListExecutions(ListExecutionsRequest request)
    {
        if (request.MapRunArn is not null)
        {
            return ListMapRunExecutions(request);
        }

        var arn = Required(request.StateMachineArn, "stateMachineArn");
        Find(arn);
        var filter = request.StatusFilter switch
        {
            null => (ExecutionStatus?)null,
            "RUNNING" => ExecutionStatus.Running,
            "SUCCEEDED" => ExecutionStatus.Succeeded,
            "FAILED" => ExecutionStatus.Failed,
            "TIMED_OUT" => ExecutionStatus.TimedOut,
            "ABORTED" => ExecutionStatus.Aborted,
            // Redrives here start at once, so no execution is ever waiting in PENDING_REDRIVE.
            "PENDING_REDRIVE" => null,
            var other => throw new StepFunctionsApiException(SfnErrors.Validation,
                $"1 validation error detected: Value '{other}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]"),
        };
        var all = Engine.ListExecutions(arn)
            .Where(e => request.StatusFilter != "PENDING_REDRIVE" && (filter is null || e.Status == filter))
            .ToList();
        var (page, next) = PageToken.Page(all, request.NextToken, $"ListExecutions {arn} {request.StatusFilter}", PageSize(request.MaxResults));
        return new ListExecutionsResponse(
            [.. page.Select(ListItem)],
            next);
    }

    /// <summary>One execution as ListExecutions lists it, of a state machine or of a Map Run.</summary>
    private static ExecutionListItem ListItem(Execution e) => new()
    {
        ExecutionArn = e.Arn,
        StateMachineArn = e.StateMachine.Arn,
        Name = e.Name,
        Status = e.StatusName,
        StartDate = Epoch(e.StartDate),
        StopDate = e.StopDate is { } stop ? Epoch(stop) : null,
        RedriveCount = e.RedriveCount,
        RedriveDate = e.RedriveDate is { } redriven ? Epoch(redriven) : null,
    };

    private GetExecutionHistoryResponse GetExecutionHistory(GetExecutionHistoryRequest request)
    {
        var execution = FindExecution(Required(request.ExecutionArn, "executionArn"));
        IReadOnlyList<HistoryEvent> events = execution.History;
        var reverse = request.ReverseOrder == true;
        if (reverse)
        {
            events = [.. events.Reverse()];
        }

        var includeData = request.IncludeExecutionData ?? true;
        var (page, next) = PageToken.Page(events, request.NextToken, $"GetExecutionHistory {execution.Arn} {reverse}", PageSize(request.MaxResults));
        return new GetExecutionHistoryResponse(new JsonArray([.. page.Select(e => (JsonNode)Wire(e, includeData))]), next);
    }

    private async Task<StopExecutionResponse> StopExecutionAsync(StopExecutionRequest request, CancellationToken cancellationToken)
    {
        var execution = FindExecution(Required(request.ExecutionArn, "executionArn"));
        execution.Stop(request.Error, request.Cause);
        try
        {
            // The abort lands when the running state notices it (a Wait at once, a Lambda call when it returns).
            await execution.Completion.WaitAsync(StopWait, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Still closing: the service answers before the abort is recorded too.
        }

        return new StopExecutionResponse(Epoch(execution.StopDate ?? Engine.Options.TimeProvider.GetUtcNow()));
    }

    private async Task<RedriveExecutionResponse> RedriveExecutionAsync(RedriveExecutionRequest request, CancellationToken cancellationToken)
    {
        var arn = Required(request.ExecutionArn, "executionArn");
        var execution = FindExecution(arn);
        DateTimeOffset date;
        lock (_redriveTokens)
        {
            // A repeated clientToken is the same redrive request again (a client retrying): answered, not redriven twice.
            if (request.ClientToken is { } token && _redriveTokens.TryGetValue(arn, out var last) && last.Token == token)
            {
                return new RedriveExecutionResponse(Epoch(last.Date));
            }

            Engine.RedriveExecution(arn);
            date = execution.RedriveDate!.Value;
            if (request.ClientToken is { } newToken)
            {
                _redriveTokens[arn] = (newToken, date);
            }
        }

        await DurableAsync(cancellationToken);
        return new RedriveExecutionResponse(Epoch(date));
    }

    private Execution FindExecution(string executionArn)
    {
        CheckArn(executionArn, "execution");
        return Engine.FindExecution(executionArn)
            ?? throw new StepFunctionsApiException(SfnErrors.ExecutionDoesNotExist, $"Execution Does Not Exist: '{executionArn}'");
    }

    /// <summary>An event as the service sends it: the timestamp as epoch seconds, input and output only when asked for.</summary>
    private static JsonObject Wire(HistoryEvent e, bool includeData)
    {
        var json = e.ToJson();
        json["timestamp"] = Epoch(e.Timestamp);
        if (!includeData)
        {
            foreach (var (_, details) in json.Where(p => p.Key.EndsWith("EventDetails", StringComparison.Ordinal)).ToList())
            {
                if (details is JsonObject d)
                {
                    d.Remove("input");
                    d.Remove("output");
                }
            }
        }

        return json;
    }
}
