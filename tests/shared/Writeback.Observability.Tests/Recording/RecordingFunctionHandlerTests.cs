using Microsoft.Extensions.Time.Testing;
using Writeback.Functions;
using Writeback.History;
using Writeback.History.Recording;
using Writeback.Observability.Tests.Support;
using Writeback.Steps.Contract;
using Writeback.Testing;

namespace Writeback.Observability.Tests.Recording;

public sealed class RecordingFunctionHandlerTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 19, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task A_successful_step_is_recorded_with_its_duration_and_counts_and_its_result_is_unchanged()
    {
        await using var history = new RunHistory(database.ConnectionString, _time);
        var step = new FakeStep(StepNames.LoadShard, _time, TimeSpan.FromSeconds(3), _ => """{"shardIndex":1,"rows":10,"bytes":100,"status":"loaded"}""");

        var result = await new RecordingFunctionHandler(step, history).InvokeAsync(
            """{"batchId":"rec-ok","manifestUri":"file:///m.json","shardIndex":1}""", InvocationContext.Local(TimeSpan.FromMinutes(1)), CancellationToken.None);

        Assert.Equal("""{"shardIndex":1,"rows":10,"bytes":100,"status":"loaded"}""", result);
        var recorded = Assert.Single(await history.StepsAsync(["rec-ok"]));
        Assert.Equal((StepNames.LoadShard, 1, 1, StepStatus.Succeeded), (recorded.Step, recorded.ShardIndex, recorded.Attempt, recorded.Status));
        Assert.Equal(3000, recorded.DurationMs);
        Assert.Equal((10L, 100L), (recorded.Rows, recorded.Bytes));
        Assert.Equal(_time.GetUtcNow() - TimeSpan.FromSeconds(3), recorded.StartedAt);
        Assert.Equal(_time.GetUtcNow(), recorded.EndedAt);
    }

    [Fact]
    public async Task A_failed_step_is_recorded_with_its_error_and_rethrown_and_a_retry_counts_as_a_second_attempt()
    {
        await using var history = new RunHistory(database.ConnectionString, _time);
        var failing = new FakeStep(StepNames.Verify, _time, TimeSpan.FromSeconds(2), fail: new FunctionException("Writeback.Transient", "connection reset"));
        var recording = new RecordingFunctionHandler(failing, history);
        var payload = """{"batchId":"rec-fail","manifestUri":"file:///m.json"}""";

        var thrown = await Assert.ThrowsAsync<FunctionException>(() => recording.InvokeAsync(payload, InvocationContext.Local(TimeSpan.FromMinutes(1)), CancellationToken.None));
        await Assert.ThrowsAsync<FunctionException>(() => recording.InvokeAsync(payload, InvocationContext.Local(TimeSpan.FromMinutes(1)), CancellationToken.None));

        Assert.Equal("Writeback.Transient", thrown.ErrorType);
        var steps = await history.StepsAsync(["rec-fail"]);
        Assert.Equal([1, 2], steps.Select(s => s.Attempt));
        Assert.All(steps, s => Assert.Equal((StepStatus.Failed, "Writeback.Transient", "connection reset", 2000d), (s.Status, s.Error, s.Cause, s.DurationMs)));
        var batch = Assert.Single(await history.RecentBatchesAsync(10), b => b.BatchId == "rec-fail");
        Assert.Equal((RunStatus.Running, 1), (batch.Status, batch.Retries));
    }

    [Fact]
    public async Task A_whole_run_records_the_batch_as_applied_with_its_counts_trace_and_partition()
    {
        await using var history = new RunHistory(database.ConnectionString, _time);
        var runs = new SyntheticRuns(history, _time);

        await runs.SucceedAsync("rec_ds", "rec-run", new DateOnly(2026, 11, 25));

        var batch = Assert.Single(await history.RecentBatchesAsync(10, "rec_ds"));
        Assert.Equal(RunStatus.Applied, batch.Status);
        Assert.Equal(("rec_ds", "2026-11-25", "rec-run"), (batch.Dataset, batch.Partition, batch.ExecutionName));
        Assert.Equal(SyntheticRuns.Traceparent("rec-run")[3..35], batch.TraceId);
        Assert.Equal((100L, 2000L, 100L), (batch.Rows, batch.Bytes, batch.Inserted));
        Assert.Equal(SyntheticRuns.Prepare + SyntheticRuns.Load + SyntheticRuns.Verify + SyntheticRuns.Publish, batch.Duration);
        var steps = await history.StepsAsync(["rec-run"]);
        Assert.Equal(["writeback-prepare", "writeback-load-shard", "writeback-load-shard", "writeback-verify", "writeback-publish", "writeback-cleanup"], steps.Select(s => s.Step));
        Assert.All(steps, s => Assert.Equal(batch.TraceId, s.TraceId));
    }

    [Fact]
    public async Task A_run_that_ends_in_cleanup_after_failure_records_the_batch_as_failed_with_the_cause()
    {
        await using var history = new RunHistory(database.ConnectionString, _time);
        var runs = new SyntheticRuns(history, _time);

        await runs.FailAsync("rec_fail_ds", "rec-failed-run", new DateOnly(2026, 11, 25), "Writeback.InvalidBatch", "shard 0: sha256 mismatch");

        var batch = Assert.Single(await history.RecentBatchesAsync(10, "rec_fail_ds"));
        Assert.Equal((RunStatus.Failed, "Writeback.InvalidBatch", "shard 0: sha256 mismatch"), (batch.Status, batch.Error, batch.Cause));
        Assert.NotNull(batch.EndedAt);
    }

    [Fact]
    public async Task A_history_outage_does_not_fail_the_step()
    {
        await using var history = new RunHistory("Host=127.0.0.1;Port=1;Database=none;Timeout=1", _time);
        var step = new FakeStep(StepNames.Publish, _time, TimeSpan.FromSeconds(1), _ => """{"status":"applied"}""");

        var result = await new RecordingFunctionHandler(step, history).InvokeAsync(
            """{"batchId":"rec-outage","manifestUri":"file:///m.json"}""", InvocationContext.Local(TimeSpan.FromMinutes(1)), CancellationToken.None);

        Assert.Equal("""{"status":"applied"}""", result);
        Assert.Equal(1, step.Calls);
    }
}
