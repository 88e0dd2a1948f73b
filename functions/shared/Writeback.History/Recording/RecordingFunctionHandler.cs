using System.Diagnostics;
using Writeback.Functions;
using Writeback.Steps.Contract;
using Writeback.Telemetry;

namespace Writeback.History.Recording;

/// <summary>
/// Wraps any step handler and records each invocation in run history: the step's start, end, outcome, duration,
/// counts and attempt number, and the batch's progress (running → applied / skipped / failed), inside a span that
/// continues the batch's trace. The step handlers do not know they are observed.
/// Recording is best effort: if history cannot be written the step still runs and its result or error is unchanged.
/// </summary>
public sealed class RecordingFunctionHandler : IFunctionHandler
{
    private readonly IFunctionHandler _inner;
    private readonly RunHistory _history;
    private readonly StructuredLog _log;

    public RecordingFunctionHandler(IFunctionHandler inner, RunHistory history, StructuredLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(history);
        _inner = inner;
        _history = history;
        _log = log ?? StructuredLog.None;
    }

    public string Name => _inner.Name;

    /// <summary>Wraps each handler; the usual way to add recording to a host's handler list.</summary>
    public static IReadOnlyList<IFunctionHandler> WrapAll(IEnumerable<IFunctionHandler> handlers, RunHistory history, StructuredLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        return [.. handlers.Select(h => h is RecordingFunctionHandler ? h : new RecordingFunctionHandler(h, history, log))];
    }

    public async Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var input = StepInputView.Read(Name, payloadJson);
        if (input.BatchId is not { Length: > 0 } batchId || input.DryRun)
        {
            // Not a batch step (a ping, a malformed payload): nothing to attribute it to; the handler reports the error.
            // A dry run's steps share the batch id with its real run, whose status, counts and SLO they must not touch.
            return await _inner.InvokeAsync(payloadJson, context, cancellationToken);
        }

        var started = _history.Time.GetTimestamp();
        var handle = await TryRecordAsync(
            batchId,
            ct => _history.StepStartedAsync(
                new StepStart(batchId, Name, input.ShardIndex) { RequestId = context.RequestId, Dataset = input.Dataset, Traceparent = input.Traceparent },
                ct),
            cancellationToken);

        using var activity = WritebackActivity.Start(Name, ActivityKind.Server, input.Traceparent ?? handle?.Traceparent, batchId);
        activity?.SetTag("faas.invocation_id", context.RequestId);
        if (input.ShardIndex >= 0)
        {
            activity?.SetTag("writeback.shard_index", input.ShardIndex);
        }

        var traceId = activity?.TraceId.ToHexString() ?? Traceparent.TraceId(input.Traceparent ?? handle?.Traceparent);
        _log.Info("step started", batchId, traceId, Field("step", Name), Field("shardIndex", input.ShardIndex), Field("attempt", handle?.Attempt));

        string result;
        try
        {
            result = await _inner.InvokeAsync(payloadJson, context, cancellationToken);
        }
        catch (Exception e)
        {
            var elapsed = _history.Time.GetElapsedTime(started);
            var errorType = e is FunctionException f ? f.ErrorType : e.GetType().Name;
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            activity?.AddException(e);
            _log.Error("step failed", batchId, traceId, Field("step", Name), Field("shardIndex", input.ShardIndex), Field("durationMs", elapsed), Field("error", errorType), Field("cause", e.Message));
            if (handle is not null)
            {
                await TryRecordAsync(
                    batchId,
                    async ct => { await _history.StepEndedAsync(handle, new StepEnd(false, elapsed) { Error = errorType, Cause = e.Message }, ct); return true; },
                    CancellationToken.None);
            }

            throw;
        }

        var duration = _history.Time.GetElapsedTime(started);
        var output = StepOutcomeView.Read(Name, batchId, input, result);
        if (handle is not null)
        {
            await TryRecordAsync(
                batchId,
                async ct =>
                {
                    await _history.StepEndedAsync(handle, new StepEnd(true, duration) { Rows = output.Rows, Bytes = output.Bytes }, ct);
                    await RecordBatchProgressAsync(batchId, output, ct);
                    return true;
                },
                CancellationToken.None);
        }

        _log.Info("step succeeded", batchId, traceId, Field("step", Name), Field("shardIndex", input.ShardIndex), Field("durationMs", duration), Field("rows", output.Rows), Field("bytes", output.Bytes), Field("status", output.Status));
        return result;
    }

    /// <summary>What a step's success means for the batch as a whole.</summary>
    private async Task RecordBatchProgressAsync(string batchId, StepOutcomeView output, CancellationToken cancellationToken)
    {
        if (output.Batch is { } update)
        {
            await _history.UpdateBatchAsync(update, cancellationToken);
        }

        if (Name == StepNames.Prepare)
        {
            await _history.CopyPartitionFromLedgerAsync(batchId, cancellationToken);
        }
    }

    private async Task<T?> TryRecordAsync<T>(string batchId, Func<CancellationToken, Task<T>> record, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await record(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _log.Warn("run history could not be written", batchId, null, Field("step", Name), Field("error", e.GetType().Name), Field("cause", e.Message));
            return null;
        }
    }

    private Task<object?> TryRecordAsync(string batchId, Func<CancellationToken, Task<bool>> record, CancellationToken cancellationToken) =>
        TryRecordAsync<object>(batchId, async ct => await record(ct), cancellationToken);

    private static KeyValuePair<string, object?> Field(string name, object? value) => new(name, value);
}
