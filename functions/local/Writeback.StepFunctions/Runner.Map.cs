using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// An inline Map state's work: its item processor once per item, MaxConcurrency at a time, the execution's own Map
/// resumable item by item after a restart or a redrive. A Distributed Map's is in Runner.DistributedMap.cs.
/// </summary>
internal sealed partial class ExecutionRunner
{
    private Task<JsonNode?> RunMapAttemptAsync(MapState state, StateAttempt attempt) =>
        attempt.Bindings is { } bindings
            ? RunJsonataMapAsync(state, attempt.Input, attempt.Entered, attempt.RetryCount, bindings, attempt.Lane, attempt.Ct)
            : RunMapAsync(state, attempt.Effective, attempt.Scope, attempt.Lane, attempt.Ct);

    private Task<JsonNode?> RunMapAsync(MapState state, JsonNode? effective, StateScope scope, Lane lane, CancellationToken ct)
    {
        if (state.Distributed is not null)
        {
            return RunDistributedMapAsync(state, effective, scope, lane, ct);
        }

        if (!scope.TryResolve(state.ItemsPath!, out var itemsNode) || itemsNode is not JsonArray items)
        {
            throw StatesException.Runtime($"State '{state.Name}': ItemsPath '{state.ItemsPath!.Text}' does not point to an array in the input.");
        }

        var maxConcurrency = state.MaxConcurrencyPath is null ? state.MaxConcurrency : NonNegativeInt(scope, state.MaxConcurrencyPath, state);
        return RunIterationsAsync(state, items, maxConcurrency,
            i => state.ItemSelector is null ? items[i]?.DeepClone() : state.ItemSelector.Evaluate(scope.With(effective, (i, items[i]))), lane, ct);
    }

    /// <summary>Runs a Map's iterations, <paramref name="maxConcurrency"/> at a time (0: the inline cap), resuming a top-level Map's progress.</summary>
    private async Task<JsonNode?> RunIterationsAsync(MapState state, JsonArray items, int maxConcurrency, Func<int, JsonNode?> itemInput, Lane lane, CancellationToken ct)
    {
        var cap = _options.InlineMapConcurrencyCap;
        var concurrency = maxConcurrency == 0 ? cap : Math.Min(maxConcurrency, cap);
        var count = items.Count;
        // Only the execution's own Map state is resumable by iteration; a nested Map reruns with the iteration holding it.
        var topLevel = ReferenceEquals(lane, _topLane) && _current?.StateName == state.Name;
        var prior = topLevel && _current!.IterationSucceeded is { } ok && ok.Count == count ? _current : null;
        if (prior is not null)
        {
            // Used once: a Retry of this Map after the redrive runs every iteration, as any retry does.
            _current = _current! with { IterationResults = null, IterationSucceeded = null };
        }

        var started = _execution.Record(lane, HistoryEventTypes.MapStateStarted, new JsonObject { ["length"] = count });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        StatesException? failure = null;
        var results = new JsonNode?[count];
        var succeeded = new bool[count];
        var next = -1;

        async Task Worker()
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= count || cts.IsCancellationRequested)
                {
                    return;
                }

                if (prior is not null && prior.IterationSucceeded![i])
                {
                    results[i] = prior.IterationResults![i]?.DeepClone();
                    succeeded[i] = true;
                    continue;
                }

                var iterationLane = new Lane(started);
                var iteration = new JsonObject { ["name"] = state.Name, ["index"] = i };
                try
                {
                    _execution.Record(iterationLane, HistoryEventTypes.MapIterationStarted, iteration);
                    results[i] = Json.Own(await RunGraphAsync(state.Processor!, itemInput(i), iterationLane, cts.Token).ConfigureAwait(false));
                    _execution.Record(iterationLane, HistoryEventTypes.MapIterationSucceeded, (JsonObject)iteration.DeepClone());
                    succeeded[i] = true;
                    if (topLevel)
                    {
                        KeepMapProgress(results, succeeded);
                    }
                }
                catch (StatesException e)
                {
                    if (Interlocked.CompareExchange(ref failure, e, null) is null)
                    {
                        _execution.Record(iterationLane, HistoryEventTypes.MapIterationFailed, (JsonObject)iteration.DeepClone(), force: true);
                        await cts.CancelAsync().ConfigureAwait(false);
                    }

                    return;
                }
            }
        }

        var workers = Enumerable.Range(0, Math.Min(concurrency, count)).Select(_ => Task.Run(Worker, CancellationToken.None)).ToArray();
        try
        {
            await WhenAllIgnoringCancellation(workers, ct).ConfigureAwait(false);
        }
        finally
        {
            if (topLevel && (failure is not null || ct.IsCancellationRequested))
            {
                // The workers have all returned: what succeeded is kept for a redrive of this state.
                KeepMapProgress(results, succeeded);
            }
        }

        if (failure is not null)
        {
            _execution.Record(lane, HistoryEventTypes.MapStateFailed, ErrorDetails(failure.Error, failure.Cause), force: true);
            throw failure;
        }

        _execution.Record(lane, HistoryEventTypes.MapStateSucceeded, null);
        return new JsonArray(results);
    }

    /// <summary>
    /// The top-level Map's finished iterations become part of its checkpoint as they finish, so that a restart re-runs
    /// only the others. Not awaited: losing the latest few to a crash costs re-running them, which is idempotent.
    /// </summary>
    private void KeepMapProgress(JsonNode?[] results, bool[] succeeded)
    {
        lock (_progressLock)
        {
            _execution.Checkpoint(_current! with { IterationResults = [.. results.Select(r => r?.DeepClone())], IterationSucceeded = [.. succeeded] });
        }
    }

    private Task<JsonNode?> RunJsonataMapAsync(MapState state, JsonNode? input, DateTimeOffset entered, int retryCount, JsonataBindings bindings, Lane lane, CancellationToken ct)
    {
        var itemsNode = state.Items is null ? input : state.Items.Evaluate(bindings, state.Name, "Items");
        if (itemsNode is not JsonArray items)
        {
            throw new StatesException(StatesErrors.QueryEvaluationError,
                $"State '{state.Name}': {(state.Items is null ? "the state input" : "Items")} must be an array, not {Truncate(Json.ToCompactString(itemsNode))}.");
        }

        var maxConcurrency = JsonataInt(state.MaxConcurrencyExpression, state, "MaxConcurrency", bindings, 0) ?? 0;
        return RunIterationsAsync(state, items, maxConcurrency, i => state.JsonataItemSelector is null
            ? items[i]?.DeepClone()
            : state.JsonataItemSelector.Evaluate(Bindings(state, entered, retryCount, input, (i, items[i])), state.Name, "ItemSelector"), lane, ct);
    }
}
