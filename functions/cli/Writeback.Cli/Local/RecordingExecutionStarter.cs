using Writeback.History.Recording;
using Writeback.Trigger.Executions;

namespace Writeback.Cli.Local;

/// <summary>
/// Records every execution start the trigger asks for in run history (arrival time, deliveries, execution name,
/// trace), inside a span continuing the event's trace. The trigger itself knows nothing of history.
/// </summary>
internal sealed class RecordingExecutionStarter(IExecutionStarter inner, TriggerRecorder recorder) : IExecutionStarter
{
    public async Task<ExecutionStartResult> StartAsync(string name, string inputJson, CancellationToken cancellationToken)
    {
        using var span = TriggerRecorder.StartSpan(name, inputJson);
        var result = await inner.StartAsync(name, inputJson, cancellationToken);
        span?.SetTag("writeback.start_outcome", result.Outcome.ToString());
        await recorder.RecordStartAsync(name, inputJson, result.Outcome.ToString(), cancellationToken);
        return result;
    }

    public Task<ExecutionState?> DescribeAsync(string name, CancellationToken cancellationToken) => inner.DescribeAsync(name, cancellationToken);
}
