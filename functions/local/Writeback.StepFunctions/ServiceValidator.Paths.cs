using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>The service's checks of a JSONPath state's paths and templates.</summary>
internal sealed partial class ServiceValidator
{
    private static readonly string[] PathFields = ["InputPath", "OutputPath", "ResultPath", "ItemsPath", "TimeoutSecondsPath", "HeartbeatSecondsPath",
        "SecondsPath", "TimestampPath", "ErrorPath", "CausePath", "MaxConcurrencyPath", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath"];

    private static readonly string[] ReferencePathFields = ["ResultPath", "ItemsPath", "TimeoutSecondsPath", "HeartbeatSecondsPath", "SecondsPath",
        "TimestampPath", "MaxConcurrencyPath", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath"];

    private void JsonPaths(JsonObject state, string location)
    {
        foreach (var field in PathFields.Where(f => state[f] is not null))
        {
            if (Json.TryGetString(state[field], out var variable) && IsVariableReference(variable))
            {
                // "$name…" reads a workflow variable, which JSONPath states may do outside ResultPath: the variables' rules, not these.
                continue;
            }

            if (!Json.TryGetString(state[field], out var text) || !JsonPath.TryParse(text, out var path, out _))
            {
                Error(DiagnosticCodes.SchemaValidationFailed, $"The value for the field '{field}' must be a valid JSONPath", Join(location, field));
            }
            else if (ReferencePathFields.Contains(field) && !path.IsDefinite)
            {
                Error(DiagnosticCodes.SchemaValidationFailed, $"The value for the field '{field}' must be a valid ReferencePath", Join(location, field));
            }
        }

        foreach (var field in (string[])["Parameters", "ResultSelector", "ItemSelector"])
        {
            if (state[field] is JsonObject template)
            {
                NoDollar(template, Join(location, field));
            }
        }
    }

    private static bool IsVariableReference(string text) => text.Length > 1 && text[0] == '$' && (char.IsAsciiLetter(text[1]) || text[1] == '_');

    /// <summary>A warning, as the service gives it: a value that reads like a path under a key that does not end in ".$".</summary>
    private void NoDollar(JsonObject template, string location)
    {
        foreach (var (key, value) in template)
        {
            if (value is JsonObject inner)
            {
                NoDollar(inner, Join(location, key));
            }
            else if (!key.EndsWith(".$", StringComparison.Ordinal) && Json.TryGetString(value, out var text)
                && (text.StartsWith("$.", StringComparison.Ordinal) || text.StartsWith("$$.", StringComparison.Ordinal) || text.StartsWith("States.", StringComparison.Ordinal) && text.EndsWith(')')))
            {
                _found.Add(new DefinitionDiagnostic(DiagnosticSeverity.Warning, DiagnosticCodes.NoDollar,
                    $"The value for the field '{key}' looks like a JSONPath or an intrinsic function, but the field name does not end with '.$'", Join(location, key)));
            }
        }
    }
}
