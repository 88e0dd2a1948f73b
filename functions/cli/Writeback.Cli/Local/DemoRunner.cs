using System.Text.Json.Nodes;
using Writeback.Aggregate;
using Writeback.Aggregate.Warehouse;
using Writeback.Core.Contracts;
using Writeback.StepFunctions;
using Writeback.Steps.Contract;

namespace Writeback.Cli.Local;

internal sealed record DemoOptions
{
    public required string ConnectionString { get; init; }

    public WarehouseSize Size { get; init; } = WarehouseSize.Small;

    public required DateOnly BusinessDate { get; init; }

    public long Seed { get; init; } = SampleWarehouse.DefaultSeed;

    /// <summary>Where the warehouse, exports, the local issuer key and execution histories are kept.</summary>
    public required string StateFolder { get; init; }

    public static IReadOnlyList<string> DefaultDatasets { get; } = ["student_dashboard", "class_summary"];

    public IReadOnlyList<string> Datasets { get; init; } = DefaultDatasets;

    public long? MaxShardBytes { get; init; }

    /// <summary>How the functions run: processes behind the local Invoke API by default.</summary>
    public LambdaMode Lambda { get; init; } = LambdaMode.JitProcesses;

    public string? Artifacts { get; init; }

    /// <summary>Where the functions' processes' output goes; null drops it.</summary>
    public Action<string>? FunctionLog { get; init; }

    /// <summary>Lines about the local stack itself (the execution journal's state); null drops them.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Which Pub/Sub carries the events: Google's emulator when installed, else the built-in push.</summary>
    public LocalPubSubOptions PubSub { get; init; } = new();
}

/// <summary>What the demo is doing now, for the progress display.</summary>
internal sealed record DemoProgress(string Dataset, string Phase, int ShardsLoaded = 0, int ShardsTotal = 0, long RowsLoaded = 0, TimeSpan LoadElapsed = default, long RowsTotal = 0);

/// <param name="Lambda">Which way the functions ran (the Invoke API and processes, or in this process).</param>
/// <param name="PubSub">Which Pub/Sub carried the events, in one line.</param>
internal sealed record DemoOutcome(WarehouseInfo Warehouse, TimeSpan WarehouseDuration, IReadOnlyList<DatasetOutcome> Datasets, string Lambda, string PubSub);

internal sealed record DatasetOutcome(
    string Dataset,
    AggregateResult Aggregate,
    string ExecutionName,
    string Status,
    string? Error,
    string? Cause,
    JsonNode? Output,
    IReadOnlyList<StepTiming> Steps,
    TimeSpan ExecutionDuration,
    string? HistoryPath)
{
    public bool Succeeded => Status == "SUCCEEDED";

    /// <summary>The output read through the step contract; null while the execution has none.</summary>
    public ExecutionOutput? Result { get; } = StepJson.Observe<ExecutionOutput>(Output?.ToJsonString());

    /// <summary>Load, applied (already applied before) or skip (older than what is applied).</summary>
    public StepAction? Action => Result?.Action;

    /// <summary>What Publish did; null for a batch that was not loaded.</summary>
    public PublishOutput? Published => Result?.Published;
}

/// <summary>
/// The main job on one machine: sample warehouse → aggregate and export (the GCP side) → publish to Google's Pub/Sub
/// emulator, whose push gets its OIDC token on the local hop (or, without the emulator, the built-in push) → verified
/// trigger → the state machine on the local engine → PostgreSQL. Every hop is the real code.
/// </summary>
internal static class DemoRunner
{
    public static async Task<DemoOutcome> RunAsync(DemoOptions options, IProgress<DemoProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        await using var stack = await DemoStack.StartAsync(options, options.BusinessDate, options.BusinessDate, progress, cancellationToken);
        var outcomes = new List<DatasetOutcome>();
        foreach (var dataset in options.Datasets)
        {
            outcomes.Add(await stack.RunDatasetAsync(dataset, options.BusinessDate, progress, cancellationToken));
        }

        return new DemoOutcome(stack.Warehouse, stack.WarehouseDuration, outcomes, stack.Aws.Lambda.Description, stack.PubSub.Description);
    }

    /// <summary>The exports' manifest rows per shard, for the progress line; empty when the manifest cannot be read.</summary>
    internal static List<long> ReadShardRows(string manifestUri)
    {
        try
        {
            var path = Uri.TryCreate(manifestUri, UriKind.Absolute, out var uri) && uri.IsFile ? uri.LocalPath : manifestUri;
            var manifest = System.Text.Json.JsonSerializer.Deserialize(File.ReadAllText(path), ContractJson.Default.Manifest);
            return manifest?.Shards.Select(s => s.Rows).ToList() ?? [];
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    internal static DemoProgress Snapshot(string dataset, Execution execution, List<long> shardRows, TimeSpan elapsed)
    {
        var loaded = 0;
        long rows = 0;
        var phase = "starting";
        DateTimeOffset? loadStarted = null, lastLoaded = null;
        foreach (var e in execution.History)
        {
            if (e.Type == HistoryEventTypes.MapStateEntered)
            {
                loadStarted ??= e.Timestamp;
            }
            else if (e.Type == HistoryEventTypes.MapIterationSucceeded)
            {
                loaded++;
                lastLoaded = e.Timestamp;
                if (e.Details?["index"]?.GetValue<int>() is { } index && index < shardRows.Count)
                {
                    rows += shardRows[index];
                }
            }
            else if (e.Type.EndsWith("StateEntered", StringComparison.Ordinal) && e.Details?["name"]?.GetValue<string>() is { } state && state != "Load shard")
            {
                phase = state;
            }
        }

        // Rows per second of the load itself: from the Map's start to the latest finished shard, not wall time since the start.
        var loadElapsed = loadStarted is { } from && lastLoaded is { } to ? to - from : elapsed;
        return new DemoProgress(dataset, phase, loaded, shardRows.Count, rows, loadElapsed, shardRows.Sum());
    }
}
