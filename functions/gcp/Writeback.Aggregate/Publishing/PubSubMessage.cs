using System.Globalization;
using System.Text.Json;
using Writeback.Core.Contracts;

namespace Writeback.Aggregate.Publishing;

/// <summary>A Pub/Sub message as publish takes it and push delivers it: base64 data plus string attributes.</summary>
public sealed record PubSubMessage(string Data, IReadOnlyDictionary<string, string> Attributes);

/// <summary>How a batch-ready event travels as a Pub/Sub message.</summary>
public static class BatchReadyMessage
{
    /// <summary>
    /// data = base64 of the event's contract JSON; attributes repeat the batch id, dataset, business date and
    /// traceparent so subscribers can filter and trace without decoding the data.
    /// </summary>
    public static PubSubMessage Create(BatchReadyEvent readyEvent, DateOnly businessDate)
    {
        ArgumentNullException.ThrowIfNull(readyEvent);
        var json = JsonSerializer.SerializeToUtf8Bytes(readyEvent, ContractJson.Default.BatchReadyEvent);
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["batchId"] = readyEvent.BatchId,
            ["dataset"] = readyEvent.Dataset,
            ["businessDate"] = businessDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        };
        if (readyEvent.Traceparent is { } traceparent)
        {
            attributes["traceparent"] = traceparent;
        }

        return new PubSubMessage(Convert.ToBase64String(json), attributes);
    }

    /// <summary>The event a manifest announces; everything in it comes from the manifest, so re-announcing a stored batch is an exact duplicate.</summary>
    public static BatchReadyEvent EventFor(Manifest manifest, string manifestUri)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return new BatchReadyEvent
        {
            Version = BatchReadyEvent.CurrentVersion,
            BatchId = manifest.BatchId,
            Dataset = manifest.Dataset,
            Partition = manifest.Partition,
            ManifestUri = manifestUri,
            Sequence = manifest.Sequence,
            Traceparent = manifest.Traceparent,
        };
    }
}
