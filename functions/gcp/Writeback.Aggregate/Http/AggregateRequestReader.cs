using System.Globalization;
using System.Net.Mime;
using System.Text;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Microsoft.AspNetCore.Http;
using Writeback.Aggregate.Export;

namespace Writeback.Aggregate.Http;

/// <summary>
/// Turns what arrives at <c>POST /</c> into (dataset, business date): plain JSON, or a CloudEvent in binary mode
/// (<c>ce-*</c> headers, the way Eventarc delivers to Cloud Run functions) or structured mode. Anything it cannot
/// read is the caller's fault and becomes a 400 with the reason.
/// </summary>
internal static class AggregateRequestReader
{
    public const string PipelineCompletedType = "com.writeback.pipeline.completed";
    public const string PubSubPublishedType = "google.cloud.pubsub.topic.v1.messagePublished";

    private const int MaxBodyBytes = 1024 * 1024;
    private static readonly JsonEventFormatter Formatter = new();

    public static async Task<(string Dataset, DateOnly BusinessDate)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(request, cancellationToken);
        if (request.Headers.TryGetValue("ce-specversion", out var specVersion))
        {
            return FromCloudEvent(BinaryCloudEvent(request, specVersion.ToString(), body));
        }

        if (request.ContentType is { } contentType && contentType.StartsWith("application/cloudevents+json", StringComparison.OrdinalIgnoreCase))
        {
            CloudEvent structured;
            try
            {
                structured = Formatter.DecodeStructuredModeMessage(body, new ContentType(contentType), null);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or JsonException)
            {
                throw new AggregateInputException($"not a valid structured CloudEvent: {e.Message}", e);
            }

            return FromCloudEvent(structured);
        }

        AggregateRequest? plain;
        try
        {
            plain = JsonSerializer.Deserialize(body.Span, AggregateHttpJson.Default.AggregateRequest);
        }
        catch (JsonException e)
        {
            throw new AggregateInputException($"the body is not JSON like {{\"dataset\":\"student_dashboard\",\"businessDate\":\"2026-11-25\"}}: {e.Message}", e);
        }

        return Validate(plain?.Dataset, plain?.BusinessDate);
    }

    private static CloudEvent BinaryCloudEvent(HttpRequest request, string specVersion, ReadOnlyMemory<byte> body)
    {
        var version = CloudEventsSpecVersion.FromVersionId(specVersion)
            ?? throw new AggregateInputException($"unsupported CloudEvents spec version \"{specVersion}\"");
        var cloudEvent = new CloudEvent(version);
        try
        {
            foreach (var (name, values) in request.Headers)
            {
                if (name.StartsWith("ce-", StringComparison.OrdinalIgnoreCase) && !name.Equals("ce-specversion", StringComparison.OrdinalIgnoreCase))
                {
                    // Binary-mode header values are percent-encoded (CloudEvents HTTP binding, 3.1.3.2).
                    cloudEvent.SetAttributeFromString(name[3..].ToLowerInvariant(), Uri.UnescapeDataString(values.ToString()));
                }
            }

            cloudEvent.DataContentType = request.ContentType;
            if (body.Length > 0)
            {
                Formatter.DecodeBinaryModeEventData(body, cloudEvent);
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException or JsonException)
        {
            throw new AggregateInputException($"not a valid binary-mode CloudEvent: {e.Message}", e);
        }

        if (!cloudEvent.IsValid)
        {
            throw new AggregateInputException("the CloudEvent lacks a required attribute (id, source, type)");
        }

        return cloudEvent;
    }

    private static (string, DateOnly) FromCloudEvent(CloudEvent cloudEvent)
    {
        var data = cloudEvent.Data switch
        {
            JsonElement element => element,
            null => throw new AggregateInputException($"the {cloudEvent.Type} event carries no data"),
            _ => throw new AggregateInputException($"the {cloudEvent.Type} event's data is not JSON (datacontenttype {cloudEvent.DataContentType})"),
        };

        switch (cloudEvent.Type)
        {
            case PipelineCompletedType:
                return Validate(String(data, "dataset"), String(data, "businessDate"));

            case PubSubPublishedType:
                // Eventarc wraps the Pub/Sub message: {message:{data(base64), attributes}, subscription}.
                if (data.ValueKind != JsonValueKind.Object || !data.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object)
                {
                    throw new AggregateInputException("the Pub/Sub event has no message");
                }

                if (message.TryGetProperty("attributes", out var attributes) && String(attributes, "dataset") is { } dataset)
                {
                    return Validate(dataset, String(attributes, "businessDate"));
                }

                var inner = String(message, "data") ?? throw new AggregateInputException("the Pub/Sub message has neither attributes nor data naming a dataset");
                try
                {
                    using var document = JsonDocument.Parse(Convert.FromBase64String(inner));
                    return Validate(String(document.RootElement, "dataset"), String(document.RootElement, "businessDate"));
                }
                catch (Exception e) when (e is FormatException or JsonException)
                {
                    throw new AggregateInputException($"the Pub/Sub message data is not base64 JSON: {e.Message}", e);
                }

            default:
                throw new AggregateInputException(
                    $"unsupported event type \"{cloudEvent.Type}\" (accepted: {PipelineCompletedType}, {PubSubPublishedType})");
        }
    }

    internal static (string, DateOnly) Validate(string? dataset, string? businessDate)
    {
        if (string.IsNullOrWhiteSpace(dataset))
        {
            throw new AggregateInputException("\"dataset\" is required");
        }

        if (!Datasets.TryGet(dataset, out _))
        {
            throw new AggregateInputException($"unknown dataset \"{dataset}\" (known: {string.Join(", ", Datasets.All.Select(d => d.Name))})");
        }

        if (string.IsNullOrWhiteSpace(businessDate))
        {
            throw new AggregateInputException("\"businessDate\" is required (yyyy-MM-dd, or \"yesterday\")");
        }

        // A scheduler's body is fixed text, so it names the day relative to when it fires, in the business's zone.
        if (string.Equals(businessDate, "yesterday", StringComparison.OrdinalIgnoreCase))
        {
            return (dataset, Yesterday());
        }

        if (!DateOnly.TryParseExact(businessDate, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            throw new AggregateInputException($"\"businessDate\" must be a date like 2026-11-25, not \"{businessDate}\"");
        }

        return (dataset, date);
    }

    private static DateOnly Yesterday()
    {
        var zoneId = Environment.GetEnvironmentVariable("WRITEBACK_BUSINESS_TIME_ZONE") is { Length: > 0 } configured ? configured : "Asia/Tokyo";
        var zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        return DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, zone).DateTime).AddDays(-1);
    }

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    internal static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                throw new AggregateInputException($"the request body is over {MaxBodyBytes} bytes; it should name a dataset and a date");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
