using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>A Parallel state's work: every branch at once on the same input; the first failure stops the others.</summary>
internal sealed partial class ExecutionRunner
{
    private Task<JsonNode?> RunParallelAttemptAsync(ParallelState state, StateAttempt attempt) => RunParallelAsync(state, attempt.Parameters, attempt.Lane, attempt.Ct);

    private async Task<JsonNode?> RunParallelAsync(ParallelState state, JsonNode? input, Lane lane, CancellationToken ct)
    {
        var started = _execution.Record(lane, HistoryEventTypes.ParallelStateStarted, null);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        StatesException? failure = null;
        var results = new JsonNode?[state.Branches.Length];
        var tasks = state.Branches.Select((branch, i) => Task.Run(async () =>
        {
            try
            {
                results[i] = Json.Own(await RunGraphAsync(branch, input?.DeepClone(), new Lane(started), cts.Token).ConfigureAwait(false));
            }
            catch (StatesException e)
            {
                if (Interlocked.CompareExchange(ref failure, e, null) is null)
                {
                    await cts.CancelAsync().ConfigureAwait(false);
                }
            }
        }, CancellationToken.None)).ToArray();
        await WhenAllIgnoringCancellation(tasks, ct).ConfigureAwait(false);
        if (failure is not null)
        {
            _execution.Record(lane, HistoryEventTypes.ParallelStateFailed, ErrorDetails(failure.Error, failure.Cause));
            throw failure;
        }

        _execution.Record(lane, HistoryEventTypes.ParallelStateSucceeded, null);
        return new JsonArray(results);
    }

    /// <summary>Waits for branches or iterations; those cancelled because a sibling failed are not errors themselves.</summary>
    private static async Task WhenAllIgnoringCancellation(Task[] tasks, CancellationToken outer)
    {
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!outer.IsCancellationRequested)
        {
        }

        outer.ThrowIfCancellationRequested();
    }
}
