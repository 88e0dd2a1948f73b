using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Writeback.Core;
using Writeback.Core.Engine;
using Writeback.Functions;
using Writeback.Steps.Contract;

namespace Writeback.Steps;

/// <summary>
/// A thin step: parse JSON, call the engine, return JSON. Failures the state machine must tell apart are reported
/// with an error type it can match (<see cref="StepErrors"/>): Transient (retry), Reload (load the shards again),
/// InvalidBatch and Conflict (don't).
/// </summary>
public abstract class StepHandler<TInput, TOutput>(LoadEngine engine, JsonTypeInfo<TInput> input, JsonTypeInfo<TOutput> output) : IFunctionHandler
{
    public abstract string Name { get; }

    protected LoadEngine Engine { get; } = engine;

    public async Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken)
    {
        TInput? request;
        try
        {
            request = JsonSerializer.Deserialize(payloadJson, input);
        }
        catch (JsonException e)
        {
            throw new FunctionException(StepErrors.InvalidBatch, $"{Name}: input field '{e.Path ?? "$"}': {e.Message}", e);
        }

        if (request is null)
        {
            throw new FunctionException(StepErrors.InvalidBatch, $"{Name}: the input is null.");
        }

        try
        {
            var result = await RunAsync(request, cancellationToken);
            return JsonSerializer.Serialize(result, output);
        }
        catch (InvalidBatchException e)
        {
            throw new FunctionException(StepErrors.InvalidBatch, e.Message, e);
        }
        catch (BatchConflictException e)
        {
            throw new FunctionException(StepErrors.Conflict, e.Message, e);
        }
        catch (ReloadRequiredException e)
        {
            throw new FunctionException(StepErrors.Reload, e.Message, e);
        }
        catch (Exception e) when (Failures.IsTransient(e))
        {
            throw new FunctionException(StepErrors.Transient, $"{Name}: {e.GetType().Name}: {e.Message}", e);
        }
    }

    protected abstract Task<TOutput> RunAsync(TInput request, CancellationToken cancellationToken);
}

public sealed class PrepareHandler(LoadEngine engine) : StepHandler<PrepareInput, PrepareOutput>(engine, StepJson.Default.PrepareInput, StepJson.Default.PrepareOutput)
{
    public override string Name => StepNames.Prepare;

    protected override async Task<PrepareOutput> RunAsync(PrepareInput request, CancellationToken cancellationToken)
    {
        var rollback = request.Rollback is { } r ? new RollbackRequest(r.Replaces, r.By, r.Reason) : null;
        var result = await Engine.PrepareAsync(request.ManifestUri, request.BatchId, request.Dataset, rollback, cancellationToken, request.DryRun);
        var action = result.Action switch
        {
            PrepareAction.Load => StepAction.Load,
            PrepareAction.Skip => StepAction.Skip,
            PrepareAction.Applied => StepAction.Applied,
            _ => throw new UnreachableException($"prepare action {result.Action}"),
        };
        return new PrepareOutput(
            result.BatchId, result.Dataset, result.Target, request.ManifestUri, result.ShardCount,
            [.. Enumerable.Range(0, result.Action == PrepareAction.Load ? result.ShardCount : 0)],
            action, result.Reason, request.Traceparent ?? result.Traceparent);
    }
}

public sealed class LoadShardHandler(LoadEngine engine) : StepHandler<LoadShardInput, LoadShardOutput>(engine, StepJson.Default.LoadShardInput, StepJson.Default.LoadShardOutput)
{
    public override string Name => StepNames.LoadShard;

    protected override async Task<LoadShardOutput> RunAsync(LoadShardInput request, CancellationToken cancellationToken)
    {
        var result = await Engine.LoadShardAsync(request.ManifestUri, request.BatchId, request.ShardIndex, cancellationToken);
        return new LoadShardOutput(result.ShardIndex, result.Rows, result.Bytes, result.AlreadyLoaded ? ShardStatus.AlreadyLoaded : ShardStatus.Loaded);
    }
}

public sealed class VerifyHandler(LoadEngine engine) : StepHandler<BatchInput, VerifyOutput>(engine, StepJson.Default.BatchInput, StepJson.Default.VerifyOutput)
{
    public override string Name => StepNames.Verify;

    protected override async Task<VerifyOutput> RunAsync(BatchInput request, CancellationToken cancellationToken)
    {
        var result = await Engine.VerifyAsync(request.ManifestUri, request.BatchId, cancellationToken);
        return new VerifyOutput(result.BatchId, result.Rows, result.Shards);
    }
}

public sealed class PublishHandler(LoadEngine engine) : StepHandler<PublishInput, PublishOutput>(engine, StepJson.Default.PublishInput, StepJson.Default.PublishOutput)
{
    public override string Name => StepNames.Publish;

    protected override async Task<PublishOutput> RunAsync(PublishInput request, CancellationToken cancellationToken)
    {
        if (request.DryRun)
        {
            var preview = await Engine.PreviewPublishAsync(request.ManifestUri, request.BatchId, cancellationToken);
            return new PublishOutput(
                preview.BatchId, preview.Status == PublishStatus.Applied ? PublishVerdict.DryRun : Verdict(preview.Status), preview.Inserted, preview.Updated, preview.Deleted, preview.Unchanged, preview.Reason,
                preview.Rejects.Count, Rejects(preview.Rejects), new SamplesOutput(Samples(preview.Samples.Inserted), Samples(preview.Samples.Updated), Samples(preview.Samples.Deleted), Samples(preview.Samples.Unchanged)));
        }

        var result = await Engine.PublishAsync(request.ManifestUri, request.BatchId, cancellationToken);
        var rejects = await Engine.ReadRejectsAsync(request.BatchId, cancellationToken);
        return new PublishOutput(result.BatchId, Verdict(result.Status), result.Inserted, result.Updated, result.Deleted, result.Unchanged, result.Reason, rejects.Count, Rejects(rejects), null);
    }

    private static PublishVerdict Verdict(PublishStatus status) => status switch
    {
        PublishStatus.Applied => PublishVerdict.Applied,
        PublishStatus.AlreadyApplied => PublishVerdict.AlreadyApplied,
        PublishStatus.Skipped => PublishVerdict.Skipped,
        _ => throw new UnreachableException($"publish status {status}"),
    };

    private static List<RejectOutput> Rejects(RejectSummary rejects) =>
        [.. rejects.First.Select(r => new RejectOutput(r.ShardIndex, r.RowNumber, r.Column, r.Reason))];

    private static List<SampleOutput> Samples(IReadOnlyList<SampleRow> rows) =>
        [.. rows.Select(r => new SampleOutput(r.Key, [.. r.Columns.Select(c => new ChangeOutput(c.Column, c.Old, c.New))]))];
}

public sealed class CleanupHandler(LoadEngine engine) : StepHandler<CleanupInput, CleanupOutput>(engine, StepJson.Default.CleanupInput, StepJson.Default.CleanupOutput)
{
    public override string Name => StepNames.Cleanup;

    protected override async Task<CleanupOutput> RunAsync(CleanupInput request, CancellationToken cancellationToken)
    {
        var error = request.Error is null ? null : $"{request.Error.Error}: {request.Error.Cause}";
        var result = await Engine.CleanupAsync(request.ManifestUri, request.BatchId, error, cancellationToken, request.DryRun);
        return new CleanupOutput(result.BatchId, result.Dropped, result.RecordedFailure);
    }
}
