using System.Diagnostics;
using Writeback.Steps.Contract;
using Writeback.Telemetry;

namespace Writeback.History.Recording;

/// <summary>
/// The trigger side of run history, for an execution-starter decorator to call: it reads the execution input
/// (<see cref="ExecutionInput"/>) so the trigger's own code stays unaware of history.
/// Best effort, like step recording: a history outage never blocks a start.
/// </summary>
public sealed class TriggerRecorder(RunHistory history, StructuredLog? log = null)
{
    private readonly StructuredLog _log = log ?? StructuredLog.None;

    /// <summary>A span for the start; its traceparent continues the trace the event carried.</summary>
    public static Activity? StartSpan(string executionName, string inputJson)
    {
        var input = StepJson.Observe<ExecutionInput>(inputJson);
        var activity = WritebackActivity.Start("writeback-trigger StartExecution", ActivityKind.Producer, input?.Traceparent, input?.BatchId ?? executionName);
        activity?.SetTag("writeback.execution_name", executionName);
        return activity;
    }

    /// <summary>Records that the batch in <paramref name="inputJson"/> was handed to an execution (or found one).</summary>
    public async Task RecordStartAsync(string executionName, string inputJson, string outcome, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(history);
        var input = StepJson.Observe<ExecutionInput>(inputJson);
        var batchId = input?.BatchId ?? executionName;
        try
        {
            await history.RecordTriggeredAsync(batchId, input?.Dataset, input?.Partition, executionName, input?.Traceparent, outcome, cancellationToken);
            _log.Info("execution start requested", batchId, Traceparent.TraceId(input?.Traceparent),
                new("executionName", executionName), new("dataset", input?.Dataset), new("outcome", outcome));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _log.Warn("run history could not be written", batchId, Traceparent.TraceId(input?.Traceparent),
                new("step", "trigger"), new("error", e.GetType().Name), new("cause", e.Message));
        }
    }
}
