using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Writeback.Core;
using Writeback.Core.Engine;
using Writeback.Functions;

namespace Writeback.Steps;

/// <summary>
/// A thin step: parse JSON, call the engine, return JSON. Failures the state machine must tell apart are reported
/// with an error type it can match: Writeback.Transient (retry), Writeback.Reload (load the shards again),
/// Writeback.InvalidBatch and Writeback.Conflict (don't).
/// </summary>
public abstract class StepHandler<TInput, TOutput>(LoadEngine engine, JsonTypeInfo<TInput> input, JsonTypeInfo<TOutput> output) : IFunctionHandler
{
    public const string Transient = "Writeback.Transient";
    public const string InvalidBatch = "Writeback.InvalidBatch";
    public const string Conflict = "Writeback.Conflict";
    public const string Reload = "Writeback.Reload";

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
            throw new FunctionException(InvalidBatch, $"{Name}: input field '{e.Path ?? "$"}': {e.Message}", e);
        }

        if (request is null)
        {
            throw new FunctionException(InvalidBatch, $"{Name}: the input is null.");
        }

        try
        {
            var result = await RunAsync(request, cancellationToken);
            return JsonSerializer.Serialize(result, output);
        }
        catch (InvalidBatchException e)
        {
            throw new FunctionException(InvalidBatch, e.Message, e);
        }
        catch (BatchConflictException e)
        {
            throw new FunctionException(Conflict, e.Message, e);
        }
        catch (ReloadRequiredException e)
        {
            throw new FunctionException(Reload, e.Message, e);
        }
        catch (Exception e) when (Failures.IsTransient(e))
        {
            throw new FunctionException(Transient, $"{Name}: {e.GetType().Name}: {e.Message}", e);
        }
    }

    protected abstract Task<TOutput> RunAsync(TInput request, CancellationToken cancellationToken);
}

public sealed class PrepareHandler(LoadEngine engine) : StepHandler<PrepareInput, PrepareOutput>(engine, StepJson.Default.PrepareInput, StepJson.Default.PrepareOutput)
{
    public override string Name => "writeback-prepare";

    protected override async Task<PrepareOutput> RunAsync(PrepareInput request, CancellationToken cancellationToken)
    {
        var rollback = request.Rollback is { } r ? new RollbackRequest(r.Replaces, r.By, r.Reason) : null;
        var result = await Engine.PrepareAsync(request.ManifestUri, request.BatchId, request.Dataset, rollback, cancellationToken, request.DryRun);
        var action = result.Action switch
        {
            PrepareAction.Load => "load",
            PrepareAction.Skip => "skip",
            _ => "applied",
        };
        return new PrepareOutput(
            result.BatchId, result.Dataset, result.Target, request.ManifestUri, result.ShardCount,
            [.. Enumerable.Range(0, result.Action == PrepareAction.Load ? result.ShardCount : 0)],
            action, result.Reason, request.Traceparent ?? result.Traceparent);
    }
}

public sealed class LoadShardHandler(LoadEngine engine) : StepHandler<LoadShardInput, LoadShardOutput>(engine, StepJson.Default.LoadShardInput, StepJson.Default.LoadShardOutput)
{
    public override string Name => "writeback-load-shard";

    protected override async Task<LoadShardOutput> RunAsync(LoadShardInput request, CancellationToken cancellationToken)
    {
        var result = await Engine.LoadShardAsync(request.ManifestUri, request.BatchId, request.ShardIndex, cancellationToken);
        return new LoadShardOutput(result.ShardIndex, result.Rows, result.Bytes, result.AlreadyLoaded ? "already_loaded" : "loaded");
    }
}

public sealed class VerifyHandler(LoadEngine engine) : StepHandler<BatchInput, VerifyOutput>(engine, StepJson.Default.BatchInput, StepJson.Default.VerifyOutput)
{
    public override string Name => "writeback-verify";

    protected override async Task<VerifyOutput> RunAsync(BatchInput request, CancellationToken cancellationToken)
    {
        var result = await Engine.VerifyAsync(request.ManifestUri, request.BatchId, cancellationToken);
        return new VerifyOutput(result.BatchId, result.Rows, result.Shards);
    }
}

public sealed class PublishHandler(LoadEngine engine) : StepHandler<PublishInput, PublishOutput>(engine, StepJson.Default.PublishInput, StepJson.Default.PublishOutput)
{
    public override string Name => "writeback-publish";

    protected override async Task<PublishOutput> RunAsync(PublishInput request, CancellationToken cancellationToken)
    {
        if (request.DryRun)
        {
            var preview = await Engine.PreviewPublishAsync(request.ManifestUri, request.BatchId, cancellationToken);
            return new PublishOutput(
                preview.BatchId, preview.Status == PublishStatus.Applied ? "dry_run" : StatusName(preview.Status), preview.Inserted, preview.Updated, preview.Deleted, preview.Unchanged, preview.Reason,
                preview.Rejects.Count, Rejects(preview.Rejects), new SamplesOutput(Samples(preview.Samples.Inserted), Samples(preview.Samples.Updated), Samples(preview.Samples.Deleted), Samples(preview.Samples.Unchanged)));
        }

        var result = await Engine.PublishAsync(request.ManifestUri, request.BatchId, cancellationToken);
        var rejects = await Engine.ReadRejectsAsync(request.BatchId, cancellationToken);
        return new PublishOutput(result.BatchId, StatusName(result.Status), result.Inserted, result.Updated, result.Deleted, result.Unchanged, result.Reason, rejects.Count, Rejects(rejects), null);
    }

    private static string StatusName(PublishStatus status) => status switch
    {
        PublishStatus.Applied => "applied",
        PublishStatus.AlreadyApplied => "already_applied",
        _ => "skipped",
    };

    private static List<RejectOutput> Rejects(RejectSummary rejects) =>
        [.. rejects.First.Select(r => new RejectOutput(r.ShardIndex, r.RowNumber, r.Column, r.Reason))];

    private static List<SampleOutput> Samples(IReadOnlyList<SampleRow> rows) =>
        [.. rows.Select(r => new SampleOutput(r.Key, [.. r.Columns.Select(c => new ChangeOutput(c.Column, c.Old, c.New))]))];
}

public sealed class CleanupHandler(LoadEngine engine) : StepHandler<CleanupInput, CleanupOutput>(engine, StepJson.Default.CleanupInput, StepJson.Default.CleanupOutput)
{
    public override string Name => "writeback-cleanup";

    protected override async Task<CleanupOutput> RunAsync(CleanupInput request, CancellationToken cancellationToken)
    {
        var error = request.Error is null ? null : $"{request.Error.Error}: {request.Error.Cause}";
        var result = await Engine.CleanupAsync(request.ManifestUri, request.BatchId, error, cancellationToken, request.DryRun);
        return new CleanupOutput(result.BatchId, result.Dropped, result.RecordedFailure);
    }
}
