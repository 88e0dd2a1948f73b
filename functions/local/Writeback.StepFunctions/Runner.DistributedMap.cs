using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// A Distributed Map: its items (from the input or an ItemReader, selected, then batched) each become the input of a
/// child execution with its own ARN and history, up to 10,000 at once. The parent's history holds MapRunStarted and
/// MapRunSucceeded/MapRunFailed only, so the number of items does not count against its 25,000 events.
/// </summary>
internal sealed partial class ExecutionRunner
{
    // A redrive continues the failed Map Run of the state it resumes at, once; a Retry of that state starts a new run.
    private bool _mapRunRedriveUsed;

    private async Task<JsonNode?> RunDistributedMapAsync(MapState state, JsonNode? effective, StateScope scope, Lane lane, CancellationToken ct)
    {
        var config = state.Distributed!;
        var s3 = new LocalS3(_options.LocalS3Root);
        var now = Time.GetUtcNow();
        MapRun run;
        if (RedrivableMapRun(state, lane) is { } prior)
        {
            run = prior;
            run.Redriven(now);
            _execution.Record(lane, HistoryEventTypes.MapRunRedriven, new JsonObject { ["mapRunArn"] = run.Arn, ["redriveCount"] = run.RedriveCount });
        }
        else
        {
            run = await NewMapRunAsync(state, config, effective, scope, s3, now, ct).ConfigureAwait(false);
            _engine.AddMapRun(run);
            _execution.Record(lane, HistoryEventTypes.MapRunStarted, new JsonObject { ["mapRunArn"] = run.Arn });
        }

        var maxConcurrency = state.MaxConcurrencyPath is null ? state.MaxConcurrency : NonNegativeInt(scope, state.MaxConcurrencyPath, state);
        run.MaxConcurrency = maxConcurrency;
        var toleratedCount = config.ToleratedFailureCountPath is { } cp ? ToleratedCount(scope, cp, state) : config.ToleratedFailureCount;
        var toleratedPercentage = config.ToleratedFailurePercentagePath is { } pp ? ToleratedPercentage(scope, pp, state) : config.ToleratedFailurePercentage;
        run.ToleratedFailureCount = toleratedCount ?? 0;
        run.ToleratedFailurePercentage = toleratedPercentage ?? 0;

        StatesException? failure;
        try
        {
            failure = await RunChildrenAsync(run, maxConcurrency, toleratedCount, toleratedPercentage, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            run.Close(MapRunStatus.Aborted, Time.GetUtcNow());
            throw;
        }

        JsonNode? output;
        try
        {
            output = await ResultWriter.CollectAsync(run, config.ResultWriter, scope, s3, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            failure ??= new StatesException(StatesErrors.ResultWriterFailed, $"State '{state.Name}': the results could not be written: {e.Message}");
            output = null;
        }

        run.Close(failure is null ? MapRunStatus.Succeeded : MapRunStatus.Failed, Time.GetUtcNow());
        if (failure is not null)
        {
            _execution.Record(lane, HistoryEventTypes.MapRunFailed, ErrorDetails(failure.Error, failure.Cause), force: true);
            throw failure;
        }

        _execution.Record(lane, HistoryEventTypes.MapRunSucceeded, null);
        return output;
    }

    private MapRun? RedrivableMapRun(StateNode state, Lane lane)
    {
        if (_kind != RunKind.Redrive || _mapRunRedriveUsed || !ReferenceEquals(lane, _topLane) || !ReferenceEquals(_current, _resume) || _resume?.StateName != state.Name)
        {
            return null;
        }

        _mapRunRedriveUsed = true;
        return _engine.LatestMapRun(_execution.Arn, state.Name) is { Status: MapRunStatus.Failed or MapRunStatus.Aborted } run ? run : null;
    }

    private async Task<MapRun> NewMapRunAsync(MapState state, DistributedMapConfig config, JsonNode? effective, StateScope scope, LocalS3 s3, DateTimeOffset now, CancellationToken ct)
    {
        JsonArray items;
        if (config.ItemReader is { } reader)
        {
            var maxItems = reader.MaxItemsPath is { } mp ? PositiveInt(scope, mp, state, "MaxItemsPath") : reader.MaxItems;
            try
            {
                items = await ItemReader.ReadAsync(reader, reader.Parameters.Evaluate(scope), maxItems, s3, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidDataException)
            {
                throw new StatesException(StatesErrors.ItemReaderFailed, $"State '{state.Name}': the ItemReader could not read the items: {e.Message}");
            }
        }
        else if (!scope.TryResolve(state.ItemsPath!, out var itemsNode) || itemsNode is not JsonArray fromInput)
        {
            throw StatesException.Runtime($"State '{state.Name}': ItemsPath '{state.ItemsPath!.Text}' does not point to an array in the input.");
        }
        else
        {
            items = fromInput;
        }

        var selected = new List<JsonNode?>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            selected.Add(state.ItemSelector is null ? items[i]?.DeepClone() : Json.Own(state.ItemSelector.Evaluate(scope.With(effective, (i, items[i])))));
        }

        List<JsonNode?> inputs;
        int[] itemsPerChild;
        if (config.ItemBatcher is { } batcher)
        {
            var maxItems = batcher.MaxItemsPerBatchPath is { } ip ? PositiveInt(scope, ip, state, "MaxItemsPerBatchPath") : batcher.MaxItemsPerBatch;
            var maxBytes = batcher.MaxInputBytesPerBatchPath is { } bp ? PositiveInt(scope, bp, state, "MaxInputBytesPerBatchPath") : batcher.MaxInputBytesPerBatch;
            if (maxBytes > 256 * 1024)
            {
                throw StatesException.Runtime($"State '{state.Name}': MaxInputBytesPerBatch {maxBytes} is above the 262144-byte limit.");
            }

            inputs = ItemBatcher.Batch(selected, maxItems, maxBytes, batcher.BatchInput?.Evaluate(scope));
            itemsPerChild = [.. inputs.Select(b => ((JsonArray)b!["Items"]!).Count)];
        }
        else
        {
            inputs = selected;
            itemsPerChild = [.. inputs.Select(_ => 1)];
        }

        foreach (var input in inputs)
        {
            CheckSize(input, state, "child execution input");
        }

        var machine = _execution.StateMachine;
        var childMachine = new StateMachine($"{machine.Name}/{config.Label}", _options.Region, _options.AccountId,
            StateMachineDefinition.ForChildExecutions(state.Processor!), machine.DefinitionJson);
        var arn = $"arn:aws:states:{_options.Region}:{_options.AccountId}:mapRun:{machine.Name}/{config.Label}:{NewUuid()}";
        return new MapRun(arn, _execution.Arn, state.Name, childMachine, config.Express, inputs, itemsPerChild, now);
    }

    /// <summary>
    /// Starts the children that have not succeeded, <paramref name="maxConcurrency"/> at a time (0: 10,000), and returns
    /// States.ExceedToleratedFailureThreshold once more items failed than tolerated (the others are then stopped).
    /// </summary>
    private async Task<StatesException?> RunChildrenAsync(MapRun run, int maxConcurrency, int? toleratedCount, double? toleratedPercentage, CancellationToken ct)
    {
        var concurrency = maxConcurrency == 0 ? StateMachineDefinition.DistributedMaxConcurrency : Math.Min(maxConcurrency, StateMachineDefinition.DistributedMaxConcurrency);
        var todo = Enumerable.Range(0, run.ChildInputs.Count).Where(i => run.Child(i)?.Status != ExecutionStatus.Succeeded).ToArray();
        var totalItems = Math.Max(run.ItemCount, 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        StatesException? failure = null;
        long failedItems = 0;
        var next = -1;

        bool Exceeded(long failed) =>
            (toleratedCount is null && toleratedPercentage is null && failed > 0)
            || (toleratedCount is { } n && failed > n)
            || (toleratedPercentage is { } p && failed * 100.0 / totalItems > p);

        async Task Worker()
        {
            while (true)
            {
                var k = Interlocked.Increment(ref next);
                if (k >= todo.Length || stop.IsCancellationRequested)
                {
                    return;
                }

                var i = todo[k];
                var child = StartChild(run, i);
                try
                {
                    await child.Completion.WaitAsync(stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    child.Stop();
                    await child.Completion.ConfigureAwait(false);
                    return;
                }

                if (child.Status != ExecutionStatus.Succeeded && Exceeded(Interlocked.Add(ref failedItems, run.ItemsOf(i))))
                {
                    var cause = $"The specified tolerated failure threshold was exceeded: {Interlocked.Read(ref failedItems)} of {totalItems} items failed; the last, {child.Arn}, with {child.Error}: {child.Cause}";
                    if (Interlocked.CompareExchange(ref failure, new StatesException(StatesErrors.ExceedToleratedFailureThreshold, cause), null) is null)
                    {
                        await stop.CancelAsync().ConfigureAwait(false);
                    }

                    return;
                }
            }
        }

        var workers = Enumerable.Range(0, Math.Min(concurrency, todo.Length)).Select(_ => Task.Run(Worker, CancellationToken.None)).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        return failure;
    }

    /// <summary>A new child execution, or a STANDARD child that failed redriven under its own ARN.</summary>
    private Execution StartChild(MapRun run, int index)
    {
        if (!run.Express && run.Child(index) is { } earlier && earlier.Redrivability.NotRedrivableReason is null)
        {
            earlier.Redrive();
            return earlier;
        }

        var uuid = NewUuid();
        var arn = run.Express
            ? $"arn:aws:states:{_options.Region}:{_options.AccountId}:express:{run.ChildMachine.Name}:{uuid}"
            : run.ChildMachine.ExecutionArn(uuid);
        var input = run.ChildInputs[index]?.DeepClone();
        var child = new Execution(_engine.ChildEngine, run.ChildMachine, arn, uuid, Json.ToCompactString(input), input, Time.GetUtcNow());
        run.SetChild(index, child);
        child.Start(_mocks);
        return child;
    }

    private string NewUuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        _engine.NextBytes(bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true).ToString();
    }

    private static int ToleratedCount(StateScope scope, JsonPath path, StateNode state) =>
        scope.TryResolve(path, out var value) && Json.TryGetInteger(value, out var v) && v >= 0 && v <= int.MaxValue
            ? (int)v
            : throw StatesException.Runtime($"State '{state.Name}': ToleratedFailureCountPath '{path.Text}' must point to a non-negative integer.");

    private static double ToleratedPercentage(StateScope scope, JsonPath path, StateNode state) =>
        scope.TryResolve(path, out var value) && Json.TryGetNumber(value, out var v) && v is >= 0 and <= 100
            ? v
            : throw StatesException.Runtime($"State '{state.Name}': ToleratedFailurePercentagePath '{path.Text}' must point to a number from 0 to 100.");
}
