using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>The JSONata fields of a state; a JSONata state leaves the JSONPath fields (InputPath … OutputPath) unset.</summary>
internal sealed partial class StateNode
{
    public bool IsJsonata { get; set; }

    public JsonataTemplate? Arguments { get; set; }

    public JsonataTemplate? Output { get; set; }

    public JsonataTemplate? Items { get; set; }

    public JsonataTemplate? JsonataItemSelector { get; set; }

    /// <summary>MaxConcurrency, TimeoutSeconds, HeartbeatSeconds, Seconds, Timestamp, Error, Cause: a literal or an expression.</summary>
    public Dictionary<string, JsonataTemplate> Expressions { get; } = new(StringComparer.Ordinal);

    public JsonataChoice[] JsonataChoices { get; set; } = [];
}

/// <summary>A Choice rule of a JSONata state: a Condition that must evaluate to a boolean.</summary>
internal sealed class JsonataChoice
{
    public required JsonataTemplate Condition { get; init; }

    public required string Next { get; init; }

    public JsonataTemplate? Output { get; init; }
}

public sealed partial class StateMachineDefinition
{
    private static readonly string[] JsonPathOnlyFields = ["InputPath", "Parameters", "ResultSelector", "ResultPath", "OutputPath", "ItemsPath", "Result",
        "TimeoutSecondsPath", "HeartbeatSecondsPath", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath", "MaxConcurrencyPath"];

    private static readonly Dictionary<StateType, HashSet<string>> JsonataFieldsByType = new()
    {
        [StateType.Pass] = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "Output"],
        [StateType.Task] = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "Output", "Arguments", "Retry", "Catch", "Resource", "TimeoutSeconds", "HeartbeatSeconds"],
        [StateType.Choice] = ["Type", "Assign", "Comment", "QueryLanguage", "Output", "Choices", "Default"],
        [StateType.Wait] = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "Output", "Seconds", "Timestamp"],
        [StateType.Succeed] = ["Type", "Comment", "QueryLanguage", "Output"],
        [StateType.Fail] = ["Type", "Comment", "QueryLanguage", "Error", "Cause"],
        [StateType.Parallel] = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "Output", "Arguments", "Retry", "Catch", "Branches"],
        [StateType.Map] = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "Output", "Retry", "Catch", "ItemProcessor", "Iterator", "Items", "ItemSelector", "MaxConcurrency"],
    };

    private bool _jsonataByDefault;

    private bool IsJsonata(JsonObject state) =>
        Json.TryGetString(state["QueryLanguage"], out var lang) ? lang == "JSONata" : _jsonataByDefault;

    private StateNode ParseJsonataState(string name, StateType type, JsonObject obj, string where)
    {
        var state = new StateNode { Name = name, Type = type, IsJsonata = true, InputPath = StateNode.Root, OutputPath = StateNode.Root, ResultPath = StateNode.Root };
        var allowed = JsonataFieldsByType[type];
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

        ParseTransition(obj, where, state);
        state.Output = Jsonata(obj, "Output", where);
        switch (type)
        {
            case StateType.Task:
                state.Arguments = Jsonata(obj, "Arguments", where);
                // The Task checks see literal fields only: an expression is checked when it is evaluated.
                var literal = new JsonObject();
                foreach (var key in (string[])["Resource", "TimeoutSeconds", "HeartbeatSeconds"])
                {
                    if (obj[key] is { } v && !(Json.TryGetString(v, out var t) && JsonataTemplate.IsExpressionText(t)))
                    {
                        literal[key] = v.DeepClone();
                    }
                }

                if (obj["Arguments"] is JsonObject args)
                {
                    literal["Parameters"] = args.DeepClone();
                }

                var before = _errors.Count;
                ParseTask(literal, where, state);
                for (var i = before; i < _errors.Count; i++)
                {
                    _errors[i] = _errors[i].Replace("Parameters", "Arguments", StringComparison.Ordinal);
                }

                Expression(obj, "TimeoutSeconds", where, state);
                Expression(obj, "HeartbeatSeconds", where, state);
                state.Retry = ParseRetry(obj, where);
                state.Catch = ParseCatch(obj, where, jsonata: true);
                break;
            case StateType.Parallel:
                state.Arguments = Jsonata(obj, "Arguments", where);
                state.Branches = ParseBranches(obj, where, name);
                state.Retry = ParseRetry(obj, where);
                state.Catch = ParseCatch(obj, where, jsonata: true);
                break;
            case StateType.Map:
                ParseProcessor(obj, where, state);
                state.Items = Jsonata(obj, "Items", where);
                state.JsonataItemSelector = Jsonata(obj, "ItemSelector", where);
                Expression(obj, "MaxConcurrency", where, state);
                state.Retry = ParseRetry(obj, where);
                state.Catch = ParseCatch(obj, where, jsonata: true);
                break;
            case StateType.Choice:
                state.Default = Str(obj, "Default", where, false);
                ParseJsonataChoices(obj, where, state);
                break;
            case StateType.Wait:
                if ((obj.ContainsKey("Seconds") ? 1 : 0) + (obj.ContainsKey("Timestamp") ? 1 : 0) != 1)
                {
                    _errors.Add($"{where}: a JSONata Wait state needs exactly one of Seconds or Timestamp.");
                }

                Expression(obj, "Seconds", where, state);
                Expression(obj, "Timestamp", where, state);
                break;
            case StateType.Fail:
                Expression(obj, "Error", where, state);
                Expression(obj, "Cause", where, state);
                break;
            default:
                break;
        }

        ParseAssigns(obj, where, state);
        return state;
    }

    private JsonataTemplate? Jsonata(JsonObject obj, string key, string where) =>
        obj.TryGetPropertyValue(key, out var value) ? JsonataTemplate.Compile(value, $"{where}: {key}", _errors) : null;

    private void Expression(JsonObject obj, string key, string where, StateNode state)
    {
        if (Jsonata(obj, key, where) is { } template)
        {
            state.Expressions[key] = template;
        }
    }

    private void ParseJsonataChoices(JsonObject obj, string where, StateNode state)
    {
        if (obj["Choices"] is not JsonArray choices || choices.Count == 0)
        {
            _errors.Add($"{where}: Choices must be a non-empty array.");
            return;
        }

        var rules = new List<JsonataChoice>();
        for (var i = 0; i < choices.Count; i++)
        {
            var w = $"{where}: Choices[{i}]";
            if (choices[i] is not JsonObject c)
            {
                _errors.Add($"{w} must be an object.");
                continue;
            }

            foreach (var key in c.Select(p => p.Key).Where(k => k is not ("Condition" or "Next" or "Comment" or "Output" or "Assign")))
            {
                _errors.Add(key is "Variable" or "And" or "Or" or "Not" || ChoiceRule.Comparators.Contains(key) || ChoiceRule.Tests.Contains(key)
                    ? $"{w}: '{key}' is a JSONPath choice rule; a JSONata Choice rule is \"Condition\": \"{{% boolean expression %}}\"."
                    : $"{w}: unknown field '{key}'.");
            }

            var next = Str(c, "Next", w, true);
            if (!c.TryGetPropertyValue("Condition", out var condition))
            {
                _errors.Add($"{w}: missing Condition.");
                continue;
            }

            if (!(Json.TryGetString(condition, out var text) && JsonataTemplate.IsExpressionText(text)) && condition?.GetValueKind() is not (System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False))
            {
                _errors.Add($"{w}: Condition must be a JSONata expression \"{{% … %}}\" or a boolean.");
            }

            rules.Add(new JsonataChoice
            {
                Condition = JsonataTemplate.Compile(condition, $"{w}: Condition", _errors),
                Next = next ?? "",
                Output = Jsonata(c, "Output", w),
            });
        }

        state.JsonataChoices = [.. rules];
        state.Choices = [.. rules.Select(r => new ChoiceRule { Next = r.Next })];
    }
}
