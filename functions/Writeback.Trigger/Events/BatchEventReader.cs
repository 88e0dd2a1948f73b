
using System.Text.Json;
using Writeback.Core.Contracts;
using Writeback.Trigger.Http;

namespace Writeback.Trigger.Events;

/// <summary>
/// From the push body to a checked <see cref="BatchReadyEvent"/>: envelope → base64 data → strict contract JSON → rules.
/// Every failure is a <see cref="TriggerRejectedException"/> that names what is wrong.
/// </summary>
public sealed class BatchEventReader(KnownDatasets datasets, bool allowLoopbackHttpManifests = false)
{
    public const int MaxBatchIdLength = 80;

    public BatchReadyEvent Read(string body, out PushEnvelope envelope)
    {
        envelope = ParseEnvelope(body);
        var data = envelope.Message?.Data;
        if (string.IsNullOrEmpty(data))
        {
            throw TriggerRejectedException.BadRequest("envelope_malformed", "The push envelope has no message.data.");
        }

        byte[] json;
        try
        {
            json = Convert.FromBase64String(data);
        }
        catch (FormatException ex)
        {
            throw TriggerRejectedException.BadRequest("data_not_base64", "message.data is not base64.", ex);
        }

        BatchReadyEvent? batch;
        try
        {
            batch = JsonSerializer.Deserialize(json, ContractJson.Default.BatchReadyEvent);
        }
        catch (JsonException ex)
        {
            throw TriggerRejectedException.BadRequest("data_not_batch_ready_event",
                $"message.data is not a batch-ready event (JSON, version {BatchReadyEvent.CurrentVersion}): {ex.Message}", ex);
        }

        if (batch is null)
        {
            throw TriggerRejectedException.BadRequest("data_not_batch_ready_event", "message.data is JSON null, not a batch-ready event.");
        }

        Validate(batch);
        return batch;
    }

    private static PushEnvelope ParseEnvelope(string body)
    {
        PushEnvelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(body, TriggerJson.Default.PushEnvelope);
        }
        catch (JsonException ex)
        {
            throw TriggerRejectedException.BadRequest("envelope_malformed", $"The body is not a Pub/Sub push envelope (JSON): {ex.Message}", ex);
        }

        if (envelope?.Message is null)
        {
            throw TriggerRejectedException.BadRequest("envelope_malformed", "The body is not a Pub/Sub push envelope: it has no \"message\".");
        }

        return envelope;
    }

    private void Validate(BatchReadyEvent batch)
    {
        if (batch.Version != BatchReadyEvent.CurrentVersion)
        {
            throw TriggerRejectedException.Unprocessable("event_version_unsupported",
                $"The event has version {batch.Version}; this trigger reads version {BatchReadyEvent.CurrentVersion}.");
        }

        if (batch.BatchId.Length is 0 or > MaxBatchIdLength || !batch.BatchId.All(Executions.ExecutionName.IsAllowed))
        {
            throw TriggerRejectedException.Unprocessable("batch_id_invalid",
                $"The batchId '{batch.BatchId}' must be 1–{MaxBatchIdLength} characters of [0-9A-Za-z_-].");
        }

        if (!datasets.Contains(batch.Dataset))
        {
            throw TriggerRejectedException.Unprocessable("dataset_unknown",
                $"The dataset '{batch.Dataset}' has no target contract here; known: {string.Join(", ", datasets.Names.Order(StringComparer.Ordinal))}.");
        }

        if (!Uri.TryCreate(batch.ManifestUri, UriKind.Absolute, out var manifest) || !IsAllowedManifest(manifest))
        {
            throw TriggerRejectedException.Unprocessable("manifest_uri_invalid",
                $"The manifestUri '{batch.ManifestUri}' must be an absolute https or file URI.");
        }
    }

    private bool IsAllowedManifest(Uri uri) =>
        uri.Scheme == Uri.UriSchemeHttps
        || uri.Scheme == Uri.UriSchemeFile
        // Plain http only to this machine and only when configured (local runs, tests); never in the cloud, where
        // a loopback URL would reach the Lambda Runtime API.
        || (allowLoopbackHttpManifests && uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback);

}
