using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>Waits a number of seconds or until a timestamp, each a literal, a path (JSONPath) or an expression (JSONata).</summary>
internal sealed class WaitState : StateNode
{
    public static readonly HashSet<string> JsonPathFields = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "InputPath", "OutputPath", "Seconds", "Timestamp", "SecondsPath", "TimestampPath"];
    public static readonly HashSet<string> JsonataFields = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "Output", "Seconds", "Timestamp"];

    public override StateType Type => StateType.Wait;

    public long? Seconds { get; set; }

    public DateTimeOffset? Timestamp { get; set; }

    public JsonPath? SecondsPath { get; set; }

    public JsonPath? TimestampPath { get; set; }

    public JsonataTemplate? SecondsExpression { get; set; }

    public JsonataTemplate? TimestampExpression { get; set; }
}

public sealed partial class StateMachineDefinition
{
    private static readonly string[] WaitFields = ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"];

    private void ParseWait(WaitState state, JsonObject obj, string where)
    {
        var count = WaitFields.Count(obj.ContainsKey);
        if (count != 1)
        {
            _errors.Add($"{where}: a Wait state needs exactly one of Seconds, Timestamp, SecondsPath or TimestampPath.");
        }

        if (obj["Seconds"] is { } seconds)
        {
            if (Json.TryGetInteger(seconds, out var s) && s >= 0)
            {
                state.Seconds = s;
            }
            else
            {
                _errors.Add($"{where}: Seconds must be a non-negative integer.");
            }
        }

        if (Str(obj, "Timestamp", where, false) is { } ts)
        {
            if (ChoiceRule.TryParseTimestamp(ts, out var t))
            {
                state.Timestamp = t;
            }
            else
            {
                _errors.Add($"{where}: Timestamp '{ts}' is not an RFC 3339 timestamp.");
            }
        }

        state.SecondsPath = Path(obj, "SecondsPath", where, definite: true);
        state.TimestampPath = Path(obj, "TimestampPath", where, definite: true);
    }

    private void ParseJsonataWait(WaitState state, JsonObject obj, string where)
    {
        if ((obj.ContainsKey("Seconds") ? 1 : 0) + (obj.ContainsKey("Timestamp") ? 1 : 0) != 1)
        {
            _errors.Add($"{where}: a JSONata Wait state needs exactly one of Seconds or Timestamp.");
        }

        state.SecondsExpression = Jsonata(obj, "Seconds", where);
        state.TimestampExpression = Jsonata(obj, "Timestamp", where);
    }
}
