using Microsoft.Extensions.Time.Testing;
using Writeback.Functions;
using Writeback.History.Recording;
using Writeback.History;
using Writeback.Steps.Contract;

namespace Writeback.Observability.Tests.Support;

/// <summary>Writes run history the way the real flow does: trigger, then each step through the recording decorator.</summary>
internal sealed class SyntheticRuns(RunHistory history, FakeTimeProvider time)
{
    public static readonly TimeSpan Prepare = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan Load = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan Verify = TimeSpan.FromMinutes(2);
    public static readonly TimeSpan Publish = TimeSpan.FromMinutes(5);

    public FakeTimeProvider Time => time;

    public Task TriggerAsync(string dataset, string batchId) =>
        new TriggerRecorder(history).RecordStartAsync(batchId, Input(dataset, batchId), "Started");

    public async Task PrepareAsync(string dataset, string batchId, DateOnly businessDate, TimeSpan? takes = null) =>
        await Invoke(new FakeStep(StepNames.Prepare, time, takes ?? Prepare,
            _ => $$"""{"batchId":"{{batchId}}","dataset":"{{dataset}}","shardCount":2,"action":"load","traceparent":"{{Traceparent(batchId)}}"}"""),
            Input(dataset, batchId, businessDate));

    /// <summary>A whole successful run for one business date with the typical step durations above.</summary>
    public async Task SucceedAsync(string dataset, string batchId, DateOnly businessDate, long rejected = 0)
    {
        await TriggerAsync(dataset, batchId);
        await PrepareAsync(dataset, batchId, businessDate);
        for (var shard = 0; shard < 2; shard++)
        {
            await Invoke(new FakeStep(StepNames.LoadShard, time, Load / 2, _ => """{"shardIndex":0,"rows":50,"bytes":1000,"status":"loaded"}"""),
                $$"""{"batchId":"{{batchId}}","manifestUri":"file:///m.json","shardIndex":{{shard}}}""");
        }

        await Invoke(new FakeStep(StepNames.Verify, time, Verify, _ => $$"""{"batchId":"{{batchId}}","rows":100,"shards":2}"""), Batch(batchId));
        await Invoke(new FakeStep(StepNames.Publish, time, Publish,
            _ => $$"""{"batchId":"{{batchId}}","status":"applied","inserted":100,"updated":0,"deleted":0,"unchanged":0,"reason":null,"rejected":{{rejected}}}"""), Batch(batchId));
        await Invoke(new FakeStep(StepNames.Cleanup, time, TimeSpan.FromSeconds(1), _ => $$"""{"batchId":"{{batchId}}","dropped":true,"recordedFailure":false}"""), Batch(batchId));
    }

    /// <summary>A run that fails loading a shard, then goes through the state machine's Catch into cleanup.</summary>
    public async Task FailAsync(string dataset, string batchId, DateOnly businessDate, string error, string cause)
    {
        await TriggerAsync(dataset, batchId);
        await PrepareAsync(dataset, batchId, businessDate);
        await Assert.ThrowsAsync<FunctionException>(() => Invoke(
            new FakeStep(StepNames.LoadShard, time, TimeSpan.FromMinutes(1), fail: new FunctionException(error, cause)),
            $$"""{"batchId":"{{batchId}}","manifestUri":"file:///m.json","shardIndex":0}"""));
        await Invoke(new FakeStep(StepNames.Cleanup, time, TimeSpan.FromSeconds(1), _ => $$"""{"batchId":"{{batchId}}","dropped":true,"recordedFailure":true}"""),
            $$$"""{"batchId":"{{{batchId}}}","manifestUri":"file:///m.json","error":{"Error":"{{{error}}}","Cause":"{{{cause}}}"}}""");
    }

    public Task<string> Invoke(IFunctionHandler step, string payload) =>
        new RecordingFunctionHandler(step, history).InvokeAsync(payload, InvocationContext.Local(TimeSpan.FromMinutes(15)), CancellationToken.None);

    public static string Traceparent(string batchId) =>
        $"00-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(batchId)))[..32]}-00f067aa0ba902b7-01";

    /// <summary>The execution input, as the trigger writes it and Prepare receives it (the partition only where a test has one).</summary>
    private static string Input(string dataset, string batchId, DateOnly? businessDate = null) =>
        new ExecutionInput("file:///m.json", batchId, dataset, Traceparent(batchId), businessDate?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)).ToJson();

    private static string Batch(string batchId) => $$"""{"batchId":"{{batchId}}","manifestUri":"file:///m.json"}""";
}
