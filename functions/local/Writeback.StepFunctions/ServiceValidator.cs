using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// The checks the service itself makes when a definition is created or validated, with its codes, locations and (where
/// they were measured against the service and published) its wording. It accepts everything the service accepts —
/// variables and Distributed Map included — so what the local engine cannot run is the loader's concern, not this one's.
/// Messages quoted from measurements: "Field 'X' is not supported", "The QueryLanguage is set to 'JSONPath', but field
/// 'Output' is only supported for the 'JSONata' QueryLanguage", "'QueryLanguage' can not be 'JSONPath' if set to
/// 'JSONata' for whole state machine", "Missing 'Next' target: X" (for Default, Choices and Catch too), "State \"C\" is
/// not reachable.", "Workflow has no terminal state", "Reference to 'x' at the top level is not supported.", and the
/// JSONata parser's own message without its code for INVALID_JSONATA_EXPRESSION.
/// </summary>
internal sealed partial class ServiceValidator
{
    private const string JsonPathLanguage = "JSONPath";
    private const string JsonataLanguage = "JSONata";

    private static readonly HashSet<string> TopFields = ["Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"];
    private static readonly HashSet<string> BranchFields = ["Comment", "StartAt", "States"];
    private static readonly HashSet<string> ProcessorFields = ["Comment", "StartAt", "States", "ProcessorConfig"];

    private static readonly string[] Common = ["Type", "Comment", "QueryLanguage"];
    private static readonly string[] Transition = ["Next", "End"];
    private static readonly string[] DistributedMap = ["ItemReader", "ItemBatcher", "ResultWriter", "Label"];

    private static readonly Dictionary<string, HashSet<string>> JsonPathFields = new(StringComparer.Ordinal)
    {
        ["Pass"] = [.. Common, .. Transition, "InputPath", "OutputPath", "ResultPath", "Parameters", "Result", "Assign"],
        ["Task"] = [.. Common, .. Transition, "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "Resource",
            "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials", "Assign"],
        ["Choice"] = [.. Common, "InputPath", "OutputPath", "Choices", "Default", "Assign"],
        ["Wait"] = [.. Common, .. Transition, "InputPath", "OutputPath", "Seconds", "Timestamp", "SecondsPath", "TimestampPath", "Assign"],
        ["Succeed"] = [.. Common, "InputPath", "OutputPath"],
        ["Fail"] = [.. Common, "Error", "Cause", "ErrorPath", "CausePath"],
        ["Parallel"] = [.. Common, .. Transition, "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "Branches", "Assign"],
        ["Map"] = [.. Common, .. Transition, .. DistributedMap, "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch",
            "ItemProcessor", "Iterator", "ItemsPath", "ItemSelector", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "Assign"],
    };

    private static readonly Dictionary<string, HashSet<string>> JsonataFields = new(StringComparer.Ordinal)
    {
        ["Pass"] = [.. Common, .. Transition, "Output", "Assign"],
        ["Task"] = [.. Common, .. Transition, "Output", "Arguments", "Retry", "Catch", "Resource", "TimeoutSeconds", "HeartbeatSeconds", "Credentials", "Assign"],
        ["Choice"] = [.. Common, "Output", "Choices", "Default", "Assign"],
        ["Wait"] = [.. Common, .. Transition, "Output", "Seconds", "Timestamp", "Assign"],
        ["Succeed"] = [.. Common, "Output"],
        ["Fail"] = [.. Common, "Error", "Cause"],
        ["Parallel"] = [.. Common, .. Transition, "Output", "Arguments", "Retry", "Catch", "Branches", "Assign"],
        ["Map"] = [.. Common, .. Transition, .. DistributedMap, "Output", "Retry", "Catch", "ItemProcessor", "Iterator", "Items", "ItemSelector",
            "MaxConcurrency", "ToleratedFailurePercentage", "ToleratedFailureCount", "Assign"],
    };

    private readonly List<DefinitionDiagnostic> _found = [];
    private readonly Dictionary<string, string> _locations = new(StringComparer.Ordinal);
    private bool _jsonataByDefault;

    private ServiceValidator()
    {
    }

    /// <summary>Where each state sits ("/States/M/ItemProcessor/States/P"), by name, for the loader's own messages.</summary>
    public IReadOnlyDictionary<string, string> Locations => _locations;

    public IReadOnlyList<DefinitionDiagnostic> Found => _found;

    public static ServiceValidator Run(string json)
    {
        var validator = new ServiceValidator();
        validator.Check(json);
        return validator;
    }

    private void Check(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            Error(DiagnosticCodes.MissingDescription, "Received a null or empty workflow input.", null);
            return;
        }

        JsonNode? root;
        try
        {
            root = Json.Parse(json);
        }
        catch (JsonException e)
        {
            Error(DiagnosticCodes.InvalidJsonDescription, e.Message, null);
            return;
        }

        if (root is not JsonObject top)
        {
            Error(DiagnosticCodes.SchemaValidationFailed, "The state machine definition must be a JSON object.", "/");
            return;
        }

        var language = Language(top, "/", parent: null);
        _jsonataByDefault = language == JsonataLanguage;
        Unsupported(top, TopFields, "");
        Graph(top, "", TopFields, topLevel: true);
    }

    /// <summary>The query language an object declares (checked), or its parent's when it declares none.</summary>
    private string Language(JsonObject obj, string location, string? parent)
    {
        if (!obj.TryGetPropertyValue("QueryLanguage", out var value))
        {
            return parent ?? JsonPathLanguage;
        }

        if (!Json.TryGetString(value, out var language) || language is not (JsonPathLanguage or JsonataLanguage))
        {
            Error(DiagnosticCodes.SchemaValidationFailed, "The field 'QueryLanguage' should have one of these values: [JSONPath, JSONata]", Join(location, "QueryLanguage"));
            return parent ?? JsonPathLanguage;
        }

        if (parent is not null && _jsonataByDefault && language == JsonPathLanguage)
        {
            Error(DiagnosticCodes.SchemaValidationFailed, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine", location);
        }

        return language;
    }

    private void Graph(JsonObject graph, string location, HashSet<string> fields, bool topLevel)
    {
        if (!topLevel)
        {
            Unsupported(graph, fields, location);
        }

        var missing = new List<string>();
        if (graph["StartAt"] is null)
        {
            missing.Add("StartAt");
        }

        if (graph["States"] is null)
        {
            missing.Add("States");
        }

        if (missing.Count > 0)
        {
            Error(DiagnosticCodes.SchemaValidationFailed, $"These fields are required: [{string.Join(", ", missing)}]", location.Length == 0 ? "/" : location);
        }

        if (graph["States"] is not JsonObject states)
        {
            if (graph["States"] is not null)
            {
                Error(DiagnosticCodes.SchemaValidationFailed, "The field 'States' must be an object", Join(location, "States"));
            }

            return;
        }

        var statesLocation = location + "/States";
        var parsed = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var (name, value) in states)
        {
            var stateLocation = $"{statesLocation}/{name}";
            if (!_locations.TryAdd(name, stateLocation))
            {
                Error(DiagnosticCodes.DuplicateStateName, $"Duplicate State name: {name}", stateLocation);
            }

            if (name.Length is 0 or > 80)
            {
                Error(DiagnosticCodes.InvalidStateName, $"State name '{name}' must be between 1 and 80 characters long", stateLocation);
            }

            if (value is not JsonObject state)
            {
                Error(DiagnosticCodes.SchemaValidationFailed, "A state must be a JSON object", stateLocation);
                continue;
            }

            parsed[name] = state;
            State(state, stateLocation);
        }

        if (Json.TryGetString(graph["StartAt"], out var startAt) && !parsed.ContainsKey(startAt) && !states.ContainsKey(startAt))
        {
            Error(DiagnosticCodes.MissingTransitionTarget, $"Missing 'StartAt' target: {startAt}", Join(location, "StartAt"));
        }

        Transitions(parsed, statesLocation, startAt);
    }

    private void Transitions(Dictionary<string, JsonObject> states, string statesLocation, string? startAt)
    {
        foreach (var (name, state) in states)
        {
            foreach (var (target, field) in Targets(state))
            {
                if (!states.ContainsKey(target))
                {
                    // The service says 'Next' for every position, Default and Catch included, and points at the position.
                    Error(DiagnosticCodes.MissingTransitionTarget, $"Missing 'Next' target: {target}", $"{statesLocation}/{name}/{field}");
                }
            }
        }

        if (!states.Values.Any(IsTerminal))
        {
            // A workflow without a terminal state is reported once, and no state is then reported as unreachable.
            Error(DiagnosticCodes.MissingEndState, "Workflow has no terminal state", null);
            return;
        }

        if (startAt is null || !states.ContainsKey(startAt))
        {
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal) { startAt };
        var queue = new Queue<string>([startAt]);
        while (queue.Count > 0)
        {
            foreach (var (target, _) in Targets(states[queue.Dequeue()]))
            {
                if (states.ContainsKey(target) && seen.Add(target))
                {
                    queue.Enqueue(target);
                }
            }
        }

        foreach (var name in states.Keys.Where(n => !seen.Contains(n)))
        {
            Error(DiagnosticCodes.MissingTransitionTarget, $"State \"{name}\" is not reachable.", $"{statesLocation}/{name}");
        }
    }

    private static bool IsTerminal(JsonObject state) =>
        Json.TryGetString(state["Type"], out var type) && type is "Succeed" or "Fail" || state["End"]?.GetValueKind() == JsonValueKind.True;

    private static IEnumerable<(string Target, string Field)> Targets(JsonObject state)
    {
        if (Json.TryGetString(state["Next"], out var next))
        {
            yield return (next, "Next");
        }

        if (Json.TryGetString(state["Default"], out var fallback))
        {
            yield return (fallback, "Default");
        }

        if (state["Choices"] is JsonArray choices)
        {
            for (var i = 0; i < choices.Count; i++)
            {
                if (choices[i] is JsonObject c && Json.TryGetString(c["Next"], out var n))
                {
                    yield return (n, $"Choices[{i}]/Next");
                }
            }
        }

        if (state["Catch"] is JsonArray catchers)
        {
            for (var i = 0; i < catchers.Count; i++)
            {
                if (catchers[i] is JsonObject c && Json.TryGetString(c["Next"], out var n))
                {
                    yield return (n, $"Catch[{i}]/Next");
                }
            }
        }
    }

    private void State(JsonObject state, string location)
    {
        if (!Json.TryGetString(state["Type"], out var type))
        {
            Error(DiagnosticCodes.SchemaValidationFailed, state["Type"] is null ? "These fields are required: [Type]" : "The field 'Type' must be a string", location);
            return;
        }

        if (!JsonPathFields.ContainsKey(type))
        {
            Error(DiagnosticCodes.SchemaValidationFailed, $"The field 'Type' should have one of these values: [{string.Join(", ", JsonPathFields.Keys)}]", Join(location, "Type"));
            return;
        }

        var language = Language(state, location, _jsonataByDefault ? JsonataLanguage : JsonPathLanguage);
        var jsonata = language == JsonataLanguage;
        var allowed = jsonata ? JsonataFields[type] : JsonPathFields[type];
        var other = jsonata ? JsonPathFields[type] : JsonataFields[type];
        foreach (var key in state.Select(p => p.Key).Where(k => !allowed.Contains(k)))
        {
            if (other.Contains(key))
            {
                // Measured: a JSONata field in a JSONPath state is reported at the state; a JSONPath field in a JSONata state at the field.
                Error(DiagnosticCodes.SchemaValidationFailed,
                    $"The QueryLanguage is set to '{language}', but field '{key}' is only supported for the '{(jsonata ? JsonPathLanguage : JsonataLanguage)}' QueryLanguage",
                    jsonata ? Join(location, key) : location);
            }
            else
            {
                Error(DiagnosticCodes.SchemaValidationFailed, $"Field '{key}' is not supported", location);
            }
        }

        if (type is not ("Choice" or "Succeed" or "Fail"))
        {
            var hasNext = state.ContainsKey("Next");
            var end = state["End"]?.GetValueKind() == JsonValueKind.True;
            if (hasNext == end)
            {
                Error(DiagnosticCodes.SchemaValidationFailed, hasNext ? "Only one of the fields [Next, End] may be set" : "These fields are required: [Next] or [End]", location);
            }
        }

        if (type == "Task")
        {
            Resource(state, location);
        }

        if (jsonata)
        {
            foreach (var field in JsonataValueFields.Where(state.ContainsKey))
            {
                JsonataValue(state[field], Join(location, field));
            }

            JsonataChoices(state, location);
            JsonataCatchers(state, location);
        }
        else
        {
            JsonPaths(state, location);
        }

        Children(state, location);
    }

    private void Children(JsonObject state, string location)
    {
        if (state["Branches"] is JsonArray branches)
        {
            for (var i = 0; i < branches.Count; i++)
            {
                if (branches[i] is JsonObject branch)
                {
                    Graph(branch, $"{location}/Branches[{i}]", BranchFields, topLevel: false);
                }
            }
        }

        foreach (var key in (string[])["ItemProcessor", "Iterator"])
        {
            if (state[key] is JsonObject processor)
            {
                // Measured: an item processor may not declare QueryLanguage; its states inherit the machine's, not the Map's.
                Graph(processor, Join(location, key), key == "ItemProcessor" ? ProcessorFields : BranchFields, topLevel: false);
            }
        }
    }

    private void Resource(JsonObject state, string location)
    {
        if (!Json.TryGetString(state["Resource"], out var resource))
        {
            Error(DiagnosticCodes.SchemaValidationFailed, state["Resource"] is null ? "These fields are required: [Resource]" : "The field 'Resource' must be a string", location);
            return;
        }

        var parts = resource.Split(':');
        if (parts.Length < 6 || parts[0] != "arn" || parts[1].Length == 0 || parts[2].Length == 0)
        {
            Error(DiagnosticCodes.InvalidResource, $"The resource provided {resource} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.", Join(location, "Resource"));
        }
    }

    private void Unsupported(JsonObject obj, HashSet<string> allowed, string location)
    {
        foreach (var key in obj.Select(p => p.Key).Where(k => !allowed.Contains(k)))
        {
            Error(DiagnosticCodes.SchemaValidationFailed, $"Field '{key}' is not supported", location.Length == 0 ? "/" : location);
        }
    }

    private static string Join(string location, string field) => $"{location}/{field}";

    private void Error(string code, string message, string? location) =>
        _found.Add(new DefinitionDiagnostic(DiagnosticSeverity.Error, code, message, location));
}
