using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// A Distributed Map's ItemBatcher: consecutive items grouped into child inputs <c>{"BatchInput": …, "Items": […]}</c>,
/// each holding at most so many items and, with MaxInputBytesPerBatch, at most so many bytes of the whole input.
/// </summary>
internal static class ItemBatcher
{
    public static List<JsonNode?> Batch(IReadOnlyList<JsonNode?> items, int? maxItems, int? maxBytes, JsonNode? batchInput)
    {
        var batches = new List<JsonNode?>();
        // The envelope around the items: {"BatchInput":…,"Items":[]} and a comma per item after the first.
        var envelope = Json.Utf8Size(Envelope(batchInput, [])) ;
        var current = new List<JsonNode?>();
        var bytes = envelope;
        foreach (var item in items)
        {
            var size = Json.Utf8Size(item);
            if (maxBytes is { } max && envelope + size > max)
            {
                throw new StatesException(StatesErrors.DataLimitExceeded,
                    $"An item of {size} bytes does not fit in a batch of at most {max} bytes (MaxInputBytesPerBatch).");
            }

            var added = size + (current.Count > 0 ? 1 : 0);
            if (current.Count > 0 && ((maxItems is { } n && current.Count >= n) || (maxBytes is { } m && bytes + added > m)))
            {
                batches.Add(Envelope(batchInput, current));
                current = [];
                bytes = envelope;
                added = size;
            }

            current.Add(item);
            bytes += added;
        }

        if (current.Count > 0)
        {
            batches.Add(Envelope(batchInput, current));
        }

        return batches;
    }

    private static JsonObject Envelope(JsonNode? batchInput, List<JsonNode?> items)
    {
        var batch = new JsonObject();
        if (batchInput is not null)
        {
            batch["BatchInput"] = batchInput.DeepClone();
        }

        batch["Items"] = new JsonArray([.. items.Select(i => i?.DeepClone())]);
        return batch;
    }
}
