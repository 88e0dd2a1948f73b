namespace Writeback.Trigger.Executions;

/// <summary>What a delivery of a batch-ready event led to.</summary>
public enum AttemptOutcome
{
    /// <summary>This delivery started the batch's first execution.</summary>
    Started,

    /// <summary>Every earlier attempt closed without success (failed, timed out, aborted); this delivery started the next.</summary>
    Retried,

    /// <summary>The latest attempt is running (or a redrive of it is pending): a duplicate.</summary>
    AlreadyRunning,

    /// <summary>The latest attempt succeeded: a duplicate.</summary>
    AlreadySucceeded,

    /// <summary><see cref="ExecutionAttempts.MaxAttempts"/> attempts all closed without success; nothing was started.</summary>
    Exhausted,
}

/// <summary>The outcome, the attempt it concerns (the one started or found), and how the attempt before it ended.</summary>
public sealed record AttemptResult(
    AttemptOutcome Outcome,
    int Attempt,
    string ExecutionName,
    string? ExecutionArn,
    ExecutionState? PreviousState);

/// <summary>
/// Retrying through the front door. A batch's executions are attempts 1, 2, … under names derived from the batch id
/// (<see cref="ExecutionName.ForAttempt"/>), started one after another: the first name that does not exist yet is the
/// next attempt, and only a running or succeeded latest attempt makes a delivery a duplicate.
/// </summary>
/// <remarks>
/// A new attempt rather than RedriveExecution: the writeback workflow ends a failure in a Fail state reached through a
/// Catch (after cleanup), and a redrive would re-run that Fail state, not the load. Two deliveries at once compute the
/// same next name with the same input, so StartExecution's idempotency starts it once; the one that loses sees either
/// the running execution (same input) or ExecutionAlreadyExists and then describes it.
/// </remarks>
public sealed class ExecutionAttempts(IExecutionStarter starter, int maxAttempts = ExecutionAttempts.MaxAttempts)
{
    /// <summary>Enough for a day of re-sends after transient faults, few enough that a batch that can never load stops.</summary>
    public const int MaxAttempts = 20;

    public async Task<AttemptResult> StartAsync(string batchId, string inputJson, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(batchId);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        ExecutionState? previous = null;
        for (var attempt = 1; attempt <= maxAttempts; attempt++)
        {
            var name = ExecutionName.ForAttempt(batchId, attempt);
            var state = await starter.DescribeAsync(name, cancellationToken);
            string? arn = null;
            if (state is null)
            {
                var started = await starter.StartAsync(name, inputJson, cancellationToken);
                switch (started.Outcome)
                {
                    case ExecutionStartOutcome.Started:
                        return new AttemptResult(attempt == 1 ? AttemptOutcome.Started : AttemptOutcome.Retried, attempt, name, started.ExecutionArn, previous);
                    case ExecutionStartOutcome.AlreadyRunning:
                        return new AttemptResult(AttemptOutcome.AlreadyRunning, attempt, name, started.ExecutionArn, previous);
                }

                // ExecutionAlreadyExists: another delivery started this name between our describe and start (with
                // other input, or it has closed since). Its state decides, as if we had seen it first.
                arn = started.ExecutionArn;
                state = await starter.DescribeAsync(name, cancellationToken)
                    ?? throw new ExecutionStartException(
                        $"StartExecution said {name} exists, DescribeExecution says it does not; retry later.", transient: true);
            }

            if (!state.Value.IsRetryable())
            {
                var outcome = state == ExecutionState.Succeeded ? AttemptOutcome.AlreadySucceeded : AttemptOutcome.AlreadyRunning;
                return new AttemptResult(outcome, attempt, name, arn, previous);
            }

            previous = state;
        }

        return new AttemptResult(AttemptOutcome.Exhausted, maxAttempts, ExecutionName.ForAttempt(batchId, maxAttempts), null, previous);
    }
}
