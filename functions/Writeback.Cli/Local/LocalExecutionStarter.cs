using Writeback.StepFunctions;
using Writeback.Trigger.Executions;

namespace Writeback.Cli.Local;

/// <summary>The trigger's StartExecution and DescribeExecution, answered by the local engine with the service's rules.</summary>
internal sealed class LocalExecutionStarter(StepFunctionsEngine engine, StateMachine stateMachine) : IExecutionStarter
{
    public event Action<Execution>? Started;

    public Task<ExecutionStartResult> StartAsync(string name, string inputJson, CancellationToken cancellationToken)
    {
        var arn = stateMachine.ExecutionArn(name);
        var existing = engine.FindExecution(arn);

        try
        {
            var execution = engine.StartExecution(stateMachine, inputJson, name);
            if (existing is not null)
            {
                return Task.FromResult(new ExecutionStartResult(ExecutionStartOutcome.AlreadyRunning, execution.Arn));
            }

            Started?.Invoke(execution);
            return Task.FromResult(new ExecutionStartResult(ExecutionStartOutcome.Started, execution.Arn));
        }
        catch (StepFunctionsApiException e) when (e.ErrorCode == "ExecutionAlreadyExists")
        {
            return Task.FromResult(new ExecutionStartResult(ExecutionStartOutcome.AlreadyExists, arn));
        }
        catch (StepFunctionsApiException e)
        {
            throw new ExecutionStartException($"{e.ErrorCode}: {e.Message}", transient: false, e);
        }
    }

    public Task<ExecutionState?> DescribeAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult<ExecutionState?>(engine.FindExecution(stateMachine.ExecutionArn(name))?.Status switch
        {
            null => null,
            ExecutionStatus.Running => ExecutionState.Running,
            ExecutionStatus.Succeeded => ExecutionState.Succeeded,
            ExecutionStatus.Failed => ExecutionState.Failed,
            ExecutionStatus.TimedOut => ExecutionState.TimedOut,
            ExecutionStatus.Aborted => ExecutionState.Aborted,
            var other => throw new InvalidOperationException($"The local engine reported status {other}, which the trigger does not map."),
        });
}
