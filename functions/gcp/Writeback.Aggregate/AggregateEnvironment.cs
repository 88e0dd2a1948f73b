using Writeback.Aggregate.Publishing;

namespace Writeback.Aggregate;

/// <summary>
/// Builds the runner a deployed or stand-alone function uses from environment variables.
/// Local (default): WRITEBACK_WAREHOUSE, WRITEBACK_OUTPUT, WRITEBACK_MAX_SHARD_BYTES; the event goes to the Pub/Sub
/// emulator when PUBSUB_EMULATOR_HOST is set (PUBSUB_PROJECT_ID, WRITEBACK_TOPIC; see <see cref="Cloud.PubSubEmulatorTopic"/>),
/// else straight to WRITEBACK_PUSH_URL with WRITEBACK_PUSH_AUDIENCE and WRITEBACK_PUSH_TOKEN (a token handed in from
/// outside; in-process hosts inject an <see cref="IPushTokenSource"/> instead).
/// Cloud (WRITEBACK_MODE=cloud): GOOGLE_CLOUD_PROJECT, WRITEBACK_BQ_DATASET, WRITEBACK_BQ_LOCATION (US),
/// WRITEBACK_BUCKET, WRITEBACK_PREFIX (writeback), WRITEBACK_TOPIC, WRITEBACK_SIGNED_URL_HOURS (6, at most 168); credentials
/// are Application Default Credentials. PUBSUB_EMULATOR_HOST sends the publish to the emulator here too, as it
/// would for Google's own client libraries.
/// </summary>
public static class AggregateEnvironment
{
    public static AggregateRunner CreateRunner(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Get(string name) => environment(name) is { Length: > 0 } value ? value : null;
        string Require(string name) => Get(name) ?? throw new InvalidOperationException($"{name} must be set in cloud mode");

        if (string.Equals(Get("WRITEBACK_MODE"), "cloud", StringComparison.OrdinalIgnoreCase))
        {
            return AggregateRunner.CreateCloud(
                new CloudAggregateOptions
                {
                    Export = CloudExport(Get, Require),
                    Topic = Require("WRITEBACK_TOPIC"),
                    PubSubEmulator = Cloud.PubSubEmulatorTopic.FromEnvironment(environment),
                },
                new Cloud.GoogleAccessTokenSource(),
                ApplicationDefaultSigner());
        }

        var emulator = Cloud.PubSubEmulatorTopic.FromEnvironment(environment);
        var push = emulator is null && Get("WRITEBACK_PUSH_URL") is { } url ? new Uri(url) : null;
        return AggregateRunner.CreateLocal(
            new LocalAggregateOptions
            {
                WarehousePath = Get("WRITEBACK_WAREHOUSE") ?? Path.Combine(".writeback", "warehouse.duckdb"),
                OutputRoot = Get("WRITEBACK_OUTPUT") ?? Path.Combine(".writeback", "batches"),
                MaxShardBytes = Get("WRITEBACK_MAX_SHARD_BYTES") is { } bytes ? long.Parse(bytes, System.Globalization.CultureInfo.InvariantCulture) : Export.LocalExportOptions.DefaultMaxShardBytes,
                EmulatorTopic = emulator,
                PushUrl = push,
                PushAudience = Get("WRITEBACK_PUSH_AUDIENCE"),
            },
            push is null ? null : new StaticPushTokenSource(Get("WRITEBACK_PUSH_TOKEN") ?? throw new InvalidOperationException("WRITEBACK_PUSH_URL is set but WRITEBACK_PUSH_TOKEN is not")));
    }

    /// <summary>The manifest re-signer of the cloud function (same bucket, prefix and URL lifetime as its exports); refused locally.</summary>
    public static Cloud.ManifestResigner CreateResigner(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Get(string name) => environment(name) is { Length: > 0 } value ? value : null;
        string Require(string name) => Get(name) ?? throw new InvalidOperationException($"{name} must be set in cloud mode");
        if (!string.Equals(Get("WRITEBACK_MODE"), "cloud", StringComparison.OrdinalIgnoreCase))
        {
            throw new Export.AggregateInputException(
                "re-signing is for the cloud function (WRITEBACK_MODE=cloud); locally manifests and shards are files whose links do not expire, so ./writeback rollback reads them as they are");
        }

        return AggregateRunner.CreateResigner(CloudExport(Get, Require), new Cloud.GoogleAccessTokenSource(), ApplicationDefaultSigner());
    }

    internal static Cloud.CloudExportOptions CloudExport(Func<string, string?> get, Func<string, string> require) => new()
    {
        ProjectId = require("GOOGLE_CLOUD_PROJECT"),
        WarehouseDataset = require("WRITEBACK_BQ_DATASET"),
        Location = get("WRITEBACK_BQ_LOCATION") ?? "US",
        Bucket = require("WRITEBACK_BUCKET"),
        Prefix = get("WRITEBACK_PREFIX") ?? "writeback",
        SignedUrlLifetime = get("WRITEBACK_SIGNED_URL_HOURS") is { } hours ? SignedUrlHours(hours) : Cloud.CloudExportOptions.DefaultSignedUrlLifetime,
    };

    private static TimeSpan SignedUrlHours(string text) =>
        double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var hours) && hours > 0 && hours <= 168
            ? TimeSpan.FromHours(hours)
            : throw new InvalidOperationException($"WRITEBACK_SIGNED_URL_HOURS must be a number of hours above 0 and at most 168 (a V4 signed URL lives at most 7 days), not '{text}'");

    private static Cloud.GcsV4UrlSigner ApplicationDefaultSigner() =>
        Cloud.GcsV4UrlSigner.FromApplicationDefaultAsync(CancellationToken.None).GetAwaiter().GetResult();
}
