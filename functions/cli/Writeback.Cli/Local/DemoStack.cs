using System.Diagnostics;
using System.Text.Json.Nodes;
using Writeback.Aggregate;
using Writeback.Aggregate.Warehouse;
using Writeback.Trigger.Executions;

namespace Writeback.Cli.Local;

/// <summary>
/// Everything a local run needs, started once: the sample warehouse covering the dates asked for, Google's Pub/Sub
/// emulator (or the built-in push) and the AWS side (trigger, Step Functions endpoint, Lambda processes). The demo
/// sends one date through it, a backfill many.
/// </summary>
internal sealed class DemoStack : IAsyncDisposable
{
    private readonly DemoOptions _options;

    private DemoStack(DemoOptions options, WarehouseInfo warehouse, TimeSpan warehouseDuration, LocalAwsSide aws, LocalPubSub pubsub)
    {
        _options = options;
        Warehouse = warehouse;
        WarehouseDuration = warehouseDuration;
        Aws = aws;
        PubSub = pubsub;
    }

    public WarehouseInfo Warehouse { get; }

    public TimeSpan WarehouseDuration { get; }

    public LocalAwsSide Aws { get; }

    public LocalPubSub PubSub { get; }

    /// <summary>The most days one sample warehouse spans (the generator's ± 60 days around its anchor).</summary>
    public const int MaxDays = 121;

    public static async Task<DemoStack> StartAsync(DemoOptions options, DateOnly first, DateOnly last, IProgress<DemoProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        Directory.CreateDirectory(options.StateFolder);

        progress.Report(new DemoProgress("warehouse", $"preparing the {options.Size.Name()} sample warehouse"));
        var warehouseClock = Stopwatch.StartNew();
        var warehousePath = ProjectPaths.Warehouse(options.StateFolder, options.Size, options.Seed);
        var days = last.DayNumber - first.DayNumber;
        var anchor = first.AddDays(days / 2);
        var around = Math.Max(2, days - days / 2);
        var warehouse = SampleWarehouse.Ensure(warehousePath, options.Seed, options.Size, anchor, around);
        if (!warehouse.Covers(first) || !warehouse.Covers(last))
        {
            warehouse = SampleWarehouse.Generate(warehousePath, options.Seed, options.Size, anchor, around);
        }

        warehouseClock.Stop();

        // The emulator's JVM takes seconds to start: beside the AWS side's function processes, not after them.
        var emulator = LocalPubSub.StartEmulatorAsync(options.PubSub, cancellationToken);
        var aws = await LocalPubSub.BesideEmulatorAsync(emulator, options.PubSub, () => LocalAwsSide.StartAsync(AwsSide(options), cancellationToken));
        try
        {
            var pubsub = await LocalPubSub.ConnectAsync(options.PubSub, await emulator, aws.TriggerUrl, aws.Issuer, cancellationToken);
            options.Log?.Invoke(pubsub.Description);
            return new DemoStack(options, warehouse, warehouseClock.Elapsed, aws, pubsub);
        }
        catch
        {
            await aws.DisposeAsync();
            throw;
        }
    }

    /// <summary>The AWS side as the demo runs it: durable executions in the database, histories in the state folder.</summary>
    public static LocalAwsSideOptions AwsSide(DemoOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new LocalAwsSideOptions
        {
            ConnectionString = options.ConnectionString,
            IssuerKeyPath = ProjectPaths.IssuerKey(options.StateFolder),
            ExportsFolder = ProjectPaths.Exports(options.StateFolder),
            HistoryFolder = ProjectPaths.ExecutionHistories(options.StateFolder),
            S3Folder = ProjectPaths.LocalS3(options.StateFolder),
            Lambda = options.Lambda,
            Artifacts = options.Artifacts,
            FunctionLog = options.FunctionLog,
            DurableExecutions = true,
            Host = "writeback demo",
            InMemoryWhenJournalTaken = true,
            Log = options.Log,
        };
    }

    /// <summary>One dataset and date through the whole path: aggregate and export, publish, trigger, execution.</summary>
    public async Task<DatasetOutcome> RunDatasetAsync(string dataset, DateOnly date, IProgress<DemoProgress> progress, CancellationToken cancellationToken, string? label = null)
    {
        ArgumentNullException.ThrowIfNull(progress);
        label ??= dataset;
        progress.Report(new DemoProgress(label, "aggregating and exporting Parquet shards (GCP side)"));
        var runner = AggregateRunner.CreateLocal(
            PubSub.Publishing(new LocalAggregateOptions
            {
                WarehousePath = Warehouse.Path,
                OutputRoot = ProjectPaths.Exports(_options.StateFolder),
                MaxShardBytes = _options.MaxShardBytes ?? Writeback.Aggregate.Export.LocalExportOptions.DefaultMaxShardBytes,
            }),
            new IssuerTokenSource(Aws.Issuer, LocalAwsSide.PushServiceAccount));
        var aggregate = await runner.RunAsync(dataset, date, cancellationToken);

        var name = ExecutionName.FromBatchId(aggregate.BatchId);
        var execution = await PubSub.WaitForExecutionAsync(Aws, name, aggregate.BatchId, cancellationToken);
        await FollowAsync(label, aggregate.ManifestUri, execution, progress, cancellationToken);
        var output = execution.OutputJson is { } json ? JsonNode.Parse(json) : null;
        return new DatasetOutcome(
            dataset,
            aggregate,
            name,
            execution.StatusName,
            execution.Error,
            execution.Cause,
            output,
            ExecutionReport.Steps(execution),
            (execution.StopDate ?? DateTimeOffset.UtcNow) - execution.StartDate,
            Path.Combine(ProjectPaths.ExecutionHistories(_options.StateFolder), $"{name}.json"));
    }

    /// <summary>Reports an execution's progress (shards and rows of its manifest) until it ends.</summary>
    public static async Task FollowAsync(string label, string manifestUri, Writeback.StepFunctions.Execution execution, IProgress<DemoProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(execution);
        ArgumentNullException.ThrowIfNull(progress);
        var shardRows = DemoRunner.ReadShardRows(manifestUri);
        var clock = Stopwatch.StartNew();
        while (!execution.Completion.IsCompleted)
        {
            progress.Report(DemoRunner.Snapshot(label, execution, shardRows, clock.Elapsed));
            await Task.WhenAny(execution.Completion, Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }

        await execution.Completion;
    }

    public async ValueTask DisposeAsync()
    {
        await PubSub.DisposeAsync();
        await Aws.DisposeAsync();
    }
}
