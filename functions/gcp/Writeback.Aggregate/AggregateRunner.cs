using System.Diagnostics;
using Writeback.Aggregate.Export;
using Writeback.Aggregate.Publishing;

namespace Writeback.Aggregate;

/// <summary>Everything the local (one-machine) aggregate needs.</summary>
public sealed record LocalAggregateOptions
{
    /// <summary>The sample warehouse file (see <see cref="Warehouse.SampleWarehouse"/>).</summary>
    public required string WarehousePath { get; init; }

    /// <summary>The folder standing in for the bucket: <c>{OutputRoot}/{dataset}/{yyyy-MM-dd}/{batchId}/</c>.</summary>
    public required string OutputRoot { get; init; }

    public long MaxShardBytes { get; init; } = LocalExportOptions.DefaultMaxShardBytes;

    /// <summary>
    /// Publish to this topic of Google's Pub/Sub emulator with the cloud's REST publisher; the emulator's push
    /// subscription then delivers the event. Takes the place of <see cref="PushUrl"/>.
    /// </summary>
    public Cloud.PubSubEmulatorTopic? EmulatorTopic { get; init; }

    /// <summary>Without an emulator: push the event straight to this trigger endpoint; neither exports without announcing (nothing downstream runs).</summary>
    public Uri? PushUrl { get; init; }

    /// <summary>The push token's audience; defaults to <see cref="PushUrl"/> as Pub/Sub's does.</summary>
    public string? PushAudience { get; init; }

    public string Subscription { get; init; } = LocalPushOptions.DefaultSubscription;
}

/// <summary>Everything the cloud aggregate needs.</summary>
public sealed record CloudAggregateOptions
{
    public required Cloud.CloudExportOptions Export { get; init; }

    /// <summary>The Pub/Sub topic (id, in the export's project) the batch-ready event goes to.</summary>
    public required string Topic { get; init; }

    public Uri? BigQueryBaseUri { get; init; }

    public Uri? StorageBaseUri { get; init; }

    public Uri? PubSubBaseUri { get; init; }

    /// <summary>When set (from PUBSUB_EMULATOR_HOST), the event is published to the emulator without credentials instead.</summary>
    public Cloud.PubSubEmulatorTopic? PubSubEmulator { get; init; }
}

/// <summary>What one run produced, with the time each step took.</summary>
public sealed record AggregateResult(
    string BatchId,
    string Dataset,
    string Partition,
    string ManifestUri,
    int Shards,
    long Rows,
    long Bytes,
    bool Reused,
    string? MessageId,
    string? Traceparent,
    AggregateTimings Timings);

/// <summary>Query = running the model (and fingerprinting it); Write = shards, checksums and manifest; Publish = the event.</summary>
public sealed record AggregateTimings(TimeSpan Query, TimeSpan Write, TimeSpan Publish, TimeSpan Total);

/// <summary>
/// The GCP side of one batch: run a dataset's model for a business date, export shards and manifest, publish the
/// batch-ready event. The same runner serves the HTTP function, <c>writeback aggregate</c> and <c>writeback demo</c>.
/// </summary>
public sealed class AggregateRunner(IBatchExporter exporter, IBatchPublisher? publisher)
{
    /// <summary>Spans under the same source name the AWS side uses, so one exporter configuration covers both.</summary>
    private static readonly ActivitySource Source = new(Writeback.Telemetry.WritebackActivity.SourceName);

    private static readonly HttpClient SharedHttp = new() { Timeout = TimeSpan.FromSeconds(100) };

    /// <summary>
    /// The local wiring: DuckDB warehouse → folder → a publish to the Pub/Sub emulator, else a push straight to the
    /// trigger (when a push URL is given).
    /// </summary>
    /// <param name="tokens">Mints the push's OIDC token; required when only <see cref="LocalAggregateOptions.PushUrl"/> is set.</param>
    /// <param name="http">The client for the publish or push; a shared one when null.</param>
    public static AggregateRunner CreateLocal(LocalAggregateOptions options, IPushTokenSource? tokens = null, HttpClient? http = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var exporter = new LocalBatchExporter(
            new LocalExportOptions { WarehousePath = options.WarehousePath, OutputRoot = options.OutputRoot, MaxShardBytes = options.MaxShardBytes },
            timeProvider);
        IBatchPublisher? publisher = null;
        if (options.EmulatorTopic is { } topic)
        {
            publisher = Cloud.PubSubRestPublisher.ForEmulator(http ?? SharedHttp, topic);
        }
        else if (options.PushUrl is { } url)
        {
            ArgumentNullException.ThrowIfNull(tokens, "a push URL needs a token source");
            publisher = new LocalPushPublisher(
                http ?? SharedHttp,
                new LocalPushOptions { PushUrl = url, Audience = options.PushAudience, Subscription = options.Subscription },
                tokens,
                timeProvider);
        }

        return new AggregateRunner(exporter, publisher);
    }

    /// <summary>
    /// The cloud wiring: BigQuery EXPORT DATA → GCS with V4 signed URLs → Pub/Sub publish. Base URIs default to
    /// Google's endpoints; tests point them at a fake.
    /// </summary>
    public static AggregateRunner CreateCloud(CloudAggregateOptions options, Cloud.IAccessTokenSource tokens, Cloud.IObjectUrlSigner signer, HttpClient? http = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var client = http ?? SharedHttp;
        var exporter = new Cloud.BigQueryBatchExporter(
            new Cloud.BigQueryClient(client, tokens, options.BigQueryBaseUri, timeProvider),
            new Cloud.GcsClient(client, tokens, options.StorageBaseUri),
            signer,
            options.Export,
            timeProvider);
        var publisher = options.PubSubEmulator is { } emulator
            ? Cloud.PubSubRestPublisher.ForEmulator(client, emulator)
            : new Cloud.PubSubRestPublisher(client, tokens, options.Export.ProjectId, options.Topic, options.PubSubBaseUri);
        return new AggregateRunner(exporter, publisher);
    }

    /// <summary>The cloud's manifest re-signer for rollbacks, on the same Cloud Storage plumbing as <see cref="CreateCloud"/>.</summary>
    public static Cloud.ManifestResigner CreateResigner(
        Cloud.CloudExportOptions options, Cloud.IAccessTokenSource tokens, Cloud.IObjectUrlSigner signer, HttpClient? http = null, Uri? storageBaseUri = null, TimeProvider? timeProvider = null) =>
        new(new Cloud.GcsClient(http ?? SharedHttp, tokens, storageBaseUri), signer, options, timeProvider);

    /// <summary>Runs one batch. Unknown datasets and dates the warehouse does not hold throw <see cref="AggregateInputException"/>.</summary>
    public async Task<AggregateResult> RunAsync(string dataset, DateOnly businessDate, CancellationToken cancellationToken = default)
    {
        // The root of the batch's trace: its traceparent travels in the event into the execution and every step.
        using var span = Source.StartActivity($"writeback-aggregate {dataset}", ActivityKind.Producer);
        span?.SetTag("writeback.dataset", dataset);
        span?.SetTag("writeback.business_date", businessDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        if (!Datasets.TryGet(dataset, out var definition))
        {
            throw new AggregateInputException(
                $"unknown dataset \"{dataset}\" (known: {string.Join(", ", Datasets.All.Select(d => d.Name))})");
        }

        var total = Stopwatch.StartNew();
        var batch = await exporter.ExportAsync(definition, businessDate, BatchIdentity.NewTraceparent(), cancellationToken);

        var publish = Stopwatch.StartNew();
        string? messageId = null;
        if (publisher is not null)
        {
            var readyEvent = BatchReadyMessage.EventFor(batch.Manifest, batch.ManifestUri);
            messageId = await publisher.PublishAsync(BatchReadyMessage.Create(readyEvent, businessDate), cancellationToken);
        }

        publish.Stop();
        return new AggregateResult(
            batch.Manifest.BatchId,
            batch.Manifest.Dataset,
            batch.Manifest.Partition ?? BatchIdentity.Partition(businessDate),
            batch.ManifestUri,
            batch.Manifest.Shards.Count,
            batch.Rows,
            batch.Bytes,
            batch.Reused,
            messageId,
            batch.Manifest.Traceparent,
            new AggregateTimings(batch.QueryDuration, batch.WriteDuration, publish.Elapsed, total.Elapsed));
    }
}
