using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>Retry and Catch around the attempts of a Task, Parallel or Map state.</summary>
internal sealed partial class ExecutionRunner
{
    /// <summary>
    /// Runs <paramref name="work"/> inside the state's input and output processing until an attempt succeeds, a
    /// retrier gives up, or a catcher takes the error; an error nothing catches goes up to the state's graph.
    /// </summary>
    private async ValueTask<(string? Next, JsonNode? Output)> RunWithRetryAsync<T>(
        T state, JsonNode? input, DateTimeOffset entered, Lane lane, Func<T, StateAttempt, Task<JsonNode?>> work, CancellationToken ct)
        where T : RetryingState
    {
        var retryCount = 0;
        var attempts = new int[state.Retry.Length];
        while (true)
        {
            try
            {
                // Checked inside the attempt so that the state's own Catch can match States.DataLimitExceeded by name.
                var output = state.IsJsonata
                    ? await JsonataAttemptAsync(state, input, entered, retryCount, lane, work, ct).ConfigureAwait(false)
                    : await AttemptAsync(state, input, entered, retryCount, lane, work, ct).ConfigureAwait(false);
                CheckSize(output, state, "output");
                return (state.Next, output);
            }
            catch (StatesException e)
            {
                var r = Array.FindIndex(state.Retry, r => r.ErrorEquals.Any(p => StatesErrors.Matches(p, e.Error)));
                if (r >= 0 && attempts[r] < state.Retry[r].MaxAttempts)
                {
                    var retrier = state.Retry[r];
                    var seconds = retrier.IntervalSeconds * Math.Pow(retrier.BackoffRate, attempts[r]);
                    if (retrier.MaxDelaySeconds is { } max)
                    {
                        seconds = Math.Min(seconds, max);
                    }

                    if (retrier.FullJitter)
                    {
                        seconds *= _engine.NextDouble();
                    }

                    attempts[r]++;
                    retryCount++;
                    await Delay(TimeSpan.FromSeconds(seconds), sleep: true, ct).ConfigureAwait(false);
                    continue;
                }

                var catcher = state.Catch.FirstOrDefault(c => c.ErrorEquals.Any(p => StatesErrors.Matches(p, e.Error)));
                if (catcher is null)
                {
                    throw;
                }

                var errorOutput = new JsonObject { ["Error"] = e.Error, ["Cause"] = e.Cause };
                StageCatchAssign(state, catcher, input, errorOutput, entered);
                return (catcher.Next, CatchOutput(state, catcher, input, errorOutput, entered));
            }
        }
    }
}
