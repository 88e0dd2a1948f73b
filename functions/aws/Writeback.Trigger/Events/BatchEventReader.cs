using System.Text.Json;
using Writeback.Core;
using Writeback.Core.Contracts;
using Writeback.Core.Storage;
using Writeback.Trigger.Http;

namespace Writeback.Trigger.Events;

/// <summary>A checked event: the envelope it came in, the event, and its manifest's trusted location.</summary>
public sealed record ReadyBatch(PushEnvelope Envelope, BatchReadyEvent Event, SourceLocation Manifest);

/// <summary>
/// From the push body to a checked <see cref="BatchReadyEvent"/>: envelope → base64 data → strict contract JSON → rules →
/// the manifest's source. Every failure is a <see cref="TriggerRejectedException"/> that names what is wrong and repeats
/// no more than a short piece of what was sent.
/// </summary>
public sealed class BatchEventReader(KnownDatasets datasets, SourcePolicy sources)
{
    public ReadyBatch Read(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var envelope = ParseEnvelope(body);
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
                $"message.data is not a batch-ready event (strict JSON, version {BatchReadyEvent.CurrentVersion}): field '{ex.Path ?? "$"}': {ex.Message}", ex);
        }

        if (batch is null)
        {
            throw TriggerRejectedException.BadRequest("data_not_batch_ready_event", "message.data is JSON null, not a batch-ready event.");
        }

        return new ReadyBatch(envelope, batch, Validate(batch));
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

    private SourceLocation Validate(BatchReadyEvent batch)
    {
        if (batch.Version != BatchReadyEvent.CurrentVersion)
        {
            throw TriggerRejectedException.Unprocessable("event_version_unsupported",
                $"The event has version {batch.Version}; this trigger reads version {BatchReadyEvent.CurrentVersion}.");
        }

        if (ContractReader.BatchIdProblem(batch.BatchId) is { } batchId)
        {
            throw TriggerRejectedException.Unprocessable("batch_id_invalid", $"The event's {batchId}");
        }

        // The remaining bounds of the schema (lengths, sequence >= 0), before any of the values is used.
        if (ContractReader.ValidateBatchReadyEvent(batch) is { } problem)
        {
            throw TriggerRejectedException.Unprocessable("event_invalid", $"The event's {problem}");
        }

        if (!datasets.Contains(batch.Dataset))
        {
            throw TriggerRejectedException.Unprocessable("dataset_unknown",
                $"The dataset '{Echo.Brief(batch.Dataset, 40)}' has no target contract here; known: {string.Join(", ", datasets.Names.Order(StringComparer.Ordinal))}.");
        }

        return sources.TryManifest(batch.ManifestUri, out var manifest, out var untrusted)
            ? manifest
            : throw TriggerRejectedException.Unprocessable("manifest_untrusted",
                $"The manifestUri {Echo.Location(batch.ManifestUri)} {untrusted}; this trigger reads {sources}.");
    }
}
