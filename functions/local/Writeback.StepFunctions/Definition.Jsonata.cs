using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>Which query language a state uses, and the fields that belong to the other one.</summary>
public sealed partial class StateMachineDefinition
{
    private static readonly string[] JsonPathOnlyFields = ["InputPath", "Parameters", "ResultSelector", "ResultPath", "OutputPath", "ItemsPath", "Result",
        "TimeoutSecondsPath", "HeartbeatSecondsPath", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath", "MaxConcurrencyPath"];

    private bool _jsonataByDefault;

    private bool IsJsonata(JsonObject state) =>
        Json.TryGetString(state["QueryLanguage"], out var lang) ? lang == "JSONata" : _jsonataByDefault;

    private void CheckJsonataFields(JsonObject obj, string where, StateType type, HashSet<string> allowed)
    {
        foreach (var key in obj.Select(p => p.Key).Where(k => !allowed.Contains(k)))
        {
            if (JsonPathOnlyFields.Contains(key))
            {
                _errors.Add($"{where}: '{key}' is a JSONPath field and this is a JSONata state; use Arguments to shape the task input and Output to shape the state output.");
            }
            else if (type == StateType.Map && DistributedMapFields.Contains(key))
            {
                _errors.Add($"{where}: Distributed Map ({key}) is not supported by the local engine; use an inline Map.");
            }
            else if (key is "Credentials")
            {
                _errors.Add($"{where}: '{key}' is not supported by the local engine yet.");
            }
            else
            {
                _errors.Add($"{where}: unknown field '{key}' for a JSONata {type} state.");
            }
        }
    }
}
