using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>One event of an execution's history, shaped like GetExecutionHistory's.</summary>
public sealed record HistoryEvent(long Id, long PreviousEventId, DateTimeOffset Timestamp, string Type, JsonObject? Details)
{
    /// <summary>The event as GetExecutionHistory returns it, details under e.g. <c>stateEnteredEventDetails</c>.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["id"] = Id,
            ["previousEventId"] = PreviousEventId,
            ["timestamp"] = Json.FormatTimestamp(Timestamp),
            ["type"] = Type,
        };
        if (Details is not null)
        {
            json[DetailsKey(Type)] = Details.DeepClone();
        }

        return json;
    }

    internal static string DetailsKey(string type)
    {
        var key = type switch
        {
            _ when type.EndsWith("StateEntered", StringComparison.Ordinal) => "StateEntered",
            _ when type.EndsWith("StateExited", StringComparison.Ordinal) => "StateExited",
            _ when type.StartsWith("MapIteration", StringComparison.Ordinal) => "MapIteration",
            _ when type.StartsWith("ParallelState", StringComparison.Ordinal) => "ParallelState",
            _ => type,
        };
        return char.ToLowerInvariant(key[0]) + key[1..] + (type.StartsWith("MapIteration", StringComparison.Ordinal) ? type["MapIteration".Length..] : "") + "EventDetails";
    }

    public static JsonObject ToJson(IEnumerable<HistoryEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        return new JsonObject { ["events"] = new JsonArray([.. events.Select(e => (JsonNode)e.ToJson())]) };
    }
}

/// <summary>
/// A thread of events: each event's previousEventId is the last event of the same thread, so events of concurrent
/// Map iterations and Parallel branches chain to their own predecessors as on the service.
/// </summary>
internal sealed class Lane(long last)
{
    public long Last { get; set; } = last;
}
