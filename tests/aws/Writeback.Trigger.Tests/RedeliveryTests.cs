using Writeback.Trigger.Executions;

namespace Writeback.Trigger.Tests;

/// <summary>
/// Invariant 8 at the front door: a redelivered event retries a batch whose latest attempt failed, timed out or was
/// aborted, and is a duplicate only while the latest attempt runs or after it succeeded.
/// </summary>
public sealed class RedeliveryTests : IDisposable
{
    private const string BatchId = "student_dashboard-2026-11-25-001";

    private readonly TriggerTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private Task<TriggerAnswer> Push() => _kit.PushAsync(_kit.ValidToken(), TriggerTestKit.Envelope(_kit.Event(BatchId)));

    [Theory]
    [InlineData(ExecutionState.Failed, "FAILED")]
    [InlineData(ExecutionState.TimedOut, "TIMED_OUT")]
    [InlineData(ExecutionState.Aborted, "ABORTED")]
    public async Task A_batch_whose_execution_closed_without_success_is_started_again_as_the_next_attempt_when_redelivered(ExecutionState ended, string spelled)
    {
        Assert.Equal(202, (await Push()).StatusCode);
        _kit.StepFunctions.Finish(BatchId, ended);

        var redelivery = await Push();

        Assert.Equal(202, redelivery.StatusCode);
        Assert.Equal("retried", redelivery.Outcome);
        Assert.Contains(spelled, redelivery.Message, StringComparison.Ordinal);
        var second = ExecutionName.ForAttempt(BatchId, 2);
        Assert.Equal(second, (string?)redelivery.Body["executionName"]);
        Assert.Equal([BatchId, second], _kit.StepFunctions.Started.Select(s => s.Name));
        // The retry carries the same input: same manifest, same batch, same trace.
        Assert.Equal(_kit.StepFunctions.Started[0].Input, _kit.StepFunctions.Started[1].Input);
    }

    [Fact]
    public async Task A_redelivery_after_the_batch_succeeded_is_a_duplicate_answered_200()
    {
        Assert.Equal(202, (await Push()).StatusCode);
        _kit.StepFunctions.Finish(BatchId, ExecutionState.Failed);
        Assert.Equal(202, (await Push()).StatusCode);
        _kit.StepFunctions.Finish(ExecutionName.ForAttempt(BatchId, 2), ExecutionState.Succeeded);

        var duplicate = await Push();

        Assert.Equal(200, duplicate.StatusCode);
        Assert.Equal("already_processed", duplicate.Outcome);
        Assert.Equal(ExecutionName.ForAttempt(BatchId, 2), (string?)duplicate.Body["executionName"]);
        Assert.Equal(2, _kit.StepFunctions.Started.Count);
    }

    [Fact]
    public async Task A_redelivery_while_a_retry_is_running_is_a_duplicate_answered_200()
    {
        Assert.Equal(202, (await Push()).StatusCode);
        _kit.StepFunctions.Finish(BatchId, ExecutionState.TimedOut);
        Assert.Equal(202, (await Push()).StatusCode);

        var duplicate = await Push();

        Assert.Equal(200, duplicate.StatusCode);
        Assert.Equal("already_running", duplicate.Outcome);
        Assert.Equal(2, _kit.StepFunctions.Started.Count);
    }

    [Fact]
    public async Task Two_redeliveries_at_once_after_a_failure_start_one_new_attempt()
    {
        Assert.Equal(202, (await Push()).StatusCode);
        _kit.StepFunctions.Finish(BatchId, ExecutionState.Failed);

        // Both deliveries find attempt 2 absent before either starts it: the interleaving where a check-then-act
        // would start two.
        var second = ExecutionName.ForAttempt(BatchId, 2);
        var bothLooked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lookers = 0;
        _kit.StepFunctions.BeforeDescribe = name =>
        {
            if (name != second)
            {
                return Task.CompletedTask;
            }

            if (Interlocked.Increment(ref lookers) == 2)
            {
                bothLooked.SetResult();
            }

            return bothLooked.Task;
        };

        var answers = await Task.WhenAll(Push(), Push());

        Assert.All(answers, a => Assert.True(a.StatusCode is 200 or 202, $"{a.StatusCode} {a.Message}"));
        Assert.Equal(["already_running", "retried"], answers.Select(a => a.Outcome).Order(StringComparer.Ordinal));
        Assert.Equal([BatchId, second], _kit.StepFunctions.Started.Select(s => s.Name));
    }

    [Fact]
    public async Task A_batch_that_failed_every_allowed_attempt_is_answered_409_and_nothing_more_is_started()
    {
        for (var attempt = 1; attempt <= ExecutionAttempts.MaxAttempts; attempt++)
        {
            Assert.Equal(202, (await Push()).StatusCode);
            _kit.StepFunctions.Finish(ExecutionName.ForAttempt(BatchId, attempt), ExecutionState.Failed);
        }

        var answer = await Push();

        Assert.Equal(409, answer.StatusCode);
        Assert.Equal("attempts_exhausted", answer.Code);
        Assert.Contains(BatchId, answer.Message, StringComparison.Ordinal);
        Assert.Equal(ExecutionAttempts.MaxAttempts, _kit.StepFunctions.Started.Count);
    }

    [Fact]
    public async Task A_lookup_that_fails_on_our_side_answers_5xx_and_starts_nothing()
    {
        _kit.StepFunctions.FailWith = new ExecutionStartException("DescribeExecution answered 503 ServiceUnavailable", transient: true);

        var answer = await Push();

        Assert.Equal(503, answer.StatusCode);
        Assert.Empty(_kit.StepFunctions.Started);
    }
}
