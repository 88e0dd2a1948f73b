using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// A state machine definition in the Amazon States Language (JSONPath and JSONata states), parsed and validated. Loading
/// refuses what the local engine does not run (activities, .sync and .waitForTaskToken) with
/// an error that names the feature and the state, and reports every structural error at once.
/// </summary>
public sealed partial class StateMachineDefinition
{
    private static readonly HashSet<string> TopFields = ["Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"];
    private static readonly HashSet<string> GraphFields = ["Comment", "StartAt", "States", "ProcessorConfig", "QueryLanguage"];

    private static readonly string[] DistributedMapFields = ["ItemReader", "ItemBatcher", "ResultWriter", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "Label"];
    private static readonly string[] UnsupportedFeatureFields = ["Arguments", "Output", "Items", "Credentials"];

    /// <summary>
    /// The state types by their "Type": the fields each takes in either query language, and how its own fields are
    /// parsed once the shared ones (Next/End, input and output processing, Retry and Catch) are.
    /// </summary>
    private static readonly Dictionary<string, StateSyntax> Syntaxes = new(StringComparer.Ordinal)
    {
        ["Pass"] = StateSyntax.Of(n => new PassState { Name = n }, PassState.JsonPathFields, PassState.JsonataFields, (_, s, o, _) => ParsePass(s, o), (_, _, _, _) => { }),
        ["Task"] = StateSyntax.Of(n => new TaskState { Name = n }, TaskState.JsonPathFields, TaskState.JsonataFields, (d, s, o, w) => d.ParseTask(s, o, w), (d, s, o, w) => d.ParseJsonataTask(s, o, w)),
        ["Choice"] = StateSyntax.Of(n => new ChoiceState { Name = n }, ChoiceState.JsonPathFields, ChoiceState.JsonataFields, (d, s, o, w) => d.ParseChoice(s, o, w), (d, s, o, w) => d.ParseJsonataChoice(s, o, w)),
        ["Wait"] = StateSyntax.Of(n => new WaitState { Name = n }, WaitState.JsonPathFields, WaitState.JsonataFields, (d, s, o, w) => d.ParseWait(s, o, w), (d, s, o, w) => d.ParseJsonataWait(s, o, w)),
        ["Succeed"] = StateSyntax.Of(n => new SucceedState { Name = n }, SucceedState.JsonPathFields, SucceedState.JsonataFields, (_, _, _, _) => { }, (_, _, _, _) => { }),
        ["Fail"] = StateSyntax.Of(n => new FailState { Name = n }, FailState.JsonPathFields, FailState.JsonataFields, (d, s, o, w) => d.ParseFail(s, o, w), (d, s, o, w) => d.ParseJsonataFail(s, o, w)),
        ["Parallel"] = StateSyntax.Of(n => new ParallelState { Name = n }, ParallelState.JsonPathFields, ParallelState.JsonataFields, (d, s, o, w) => d.ParseParallel(s, o, w), (d, s, o, w) => d.ParseJsonataParallel(s, o, w)),
        ["Map"] = StateSyntax.Of(n => new MapState { Name = n }, MapState.JsonPathFields, MapState.JsonataFields, (d, s, o, w) => d.ParseMap(s, o, w), (d, s, o, w) => d.ParseJsonataMap(s, o, w)),
    };

    private readonly List<string> _errors = [];
    private readonly HashSet<string> _allNames = new(StringComparer.Ordinal);

    private StateMachineDefinition()
    {
    }

    public int? TimeoutSeconds { get; private set; }

    public string? Comment { get; private set; }

    internal StateGraph Graph { get; private set; } = null!;

    /// <summary>Every state name in the definition, nested ones included (names are unique machine-wide).</summary>
    public IReadOnlyCollection<string> StateNames => _allNames;

    /// <summary>Parses and validates; throws <see cref="InvalidDefinitionException"/> listing every problem found.</summary>
    public static StateMachineDefinition Parse(string json)
    {
        var (definition, errors) = Load(json);
        return errors.Count > 0 ? throw new InvalidDefinitionException(errors) : definition!;
    }

    /// <summary>The validation errors of a definition, each naming its state; empty when it can run.</summary>
    public static IReadOnlyList<string> Validate(string json) => Load(json).Errors;

    private static (StateMachineDefinition? Definition, IReadOnlyList<string> Errors) Load(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? root;
        try
        {
            root = Json.Parse(json);
        }
        catch (JsonException e)
        {
            return (null, [$"The definition is not valid JSON: {e.Message}"]);
        }

        if (root is not JsonObject obj)
        {
            return (null, ["The definition must be a JSON object."]);
        }

        var definition = new StateMachineDefinition();
        definition.ParseTop(obj);
        if (definition._errors.Count == 0)
        {
            // What the service refuses, the local engine refuses too, so a definition that runs here deploys.
            definition._errors.AddRange(ServiceErrors(json));
        }

        return (definition, definition._errors);
    }

    private void ParseTop(JsonObject obj)
    {
        CheckQueryLanguage(obj, "The state machine");
        _jsonataByDefault = Json.TryGetString(obj["QueryLanguage"], out var top) && top == "JSONata";
        foreach (var key in obj.Select(p => p.Key).Where(k => !TopFields.Contains(k)))
        {
            _errors.Add($"The state machine: unknown field '{key}'.");
        }

        Comment = Str(obj, "Comment", "The state machine", false);
        TimeoutSeconds = PositiveInt(obj, "TimeoutSeconds", "The state machine");
        Graph = ParseGraph(obj, "The state machine", isProcessor: false);
        CheckVariableScopes(Graph, new HashSet<string>(StringComparer.Ordinal));
    }

    private StateGraph ParseGraph(JsonObject obj, string where, bool isProcessor)
    {
        if (where != "The state machine")
        {
            CheckQueryLanguage(obj, where);
            foreach (var key in obj.Select(p => p.Key).Where(k => !GraphFields.Contains(k) || (!isProcessor && k == "ProcessorConfig")))
            {
                _errors.Add($"{where}: unknown field '{key}'.");
            }
        }

        var startAt = Str(obj, "StartAt", where, true) ?? "";
        var states = new Dictionary<string, StateNode>(StringComparer.Ordinal);
        if (obj["States"] is not JsonObject statesObj)
        {
            _errors.Add($"{where}: 'States' is missing or not an object.");
            return new StateGraph { StartAt = startAt, States = states };
        }

        foreach (var (name, value) in statesObj)
        {
            if (name.Length is 0 or > 80)
            {
                _errors.Add($"State '{name}': a state name must have 1 to 80 characters.");
            }

            if (!_allNames.Add(name))
            {
                _errors.Add($"State '{name}': the name is used more than once; state names must be unique in the whole state machine.");
            }

            if (value is not JsonObject stateObj)
            {
                _errors.Add($"State '{name}': must be an object.");
                continue;
            }

            var node = ParseState(name, stateObj);
            if (node is not null)
            {
                states[name] = node;
            }
        }

        if (startAt.Length > 0 && !states.ContainsKey(startAt) && statesObj.ContainsKey(startAt) is false)
        {
            _errors.Add($"{where}: StartAt '{startAt}' is not a state.");
        }

        CheckTransitions(states, where);
        CheckReachability(startAt, states);
        return new StateGraph { StartAt = startAt, States = states };
    }

    private void CheckTransitions(Dictionary<string, StateNode> states, string where)
    {
        foreach (var state in states.Values)
        {
            foreach (var (target, field) in state.Transitions)
            {
                if (!states.ContainsKey(target))
                {
                    _errors.Add($"State '{state.Name}': {field} '{target}' is not a state in {(where == "The state machine" ? "the state machine" : where.ToLowerInvariant())}.");
                }
            }
        }
    }

    private void CheckReachability(string startAt, Dictionary<string, StateNode> states)
    {
        if (!states.ContainsKey(startAt))
        {
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal) { startAt };
        var queue = new Queue<string>([startAt]);
        while (queue.Count > 0)
        {
            foreach (var (target, _) in states[queue.Dequeue()].Transitions)
            {
                if (states.ContainsKey(target) && seen.Add(target))
                {
                    queue.Enqueue(target);
                }
            }
        }

        foreach (var name in states.Keys.Where(n => !seen.Contains(n)))
        {
            _errors.Add($"State '{name}': unreachable; no transition leads to it from StartAt '{startAt}'.");
        }
    }

    private void CheckQueryLanguage(JsonObject obj, string where)
    {
        if (obj["QueryLanguage"] is not { } ql)
        {
            return;
        }

        if (!Json.TryGetString(ql, out var lang) || lang is not ("JSONPath" or "JSONata"))
        {
            _errors.Add($"{where}: QueryLanguage '{Json.ToCompactString(ql).Trim('"')}' is not JSONPath or JSONata.");
        }
        else if (lang == "JSONPath" && _jsonataByDefault && where != "The state machine")
        {
            _errors.Add($"{where}: QueryLanguage JSONPath is not allowed in a state machine whose top-level QueryLanguage is JSONata; only a JSONPath state machine may mix in JSONata states.");
        }
    }

    private StateNode? ParseState(string name, JsonObject obj)
    {
        var where = $"State '{name}'";
        var typeText = Str(obj, "Type", where, true);
        if (typeText is null)
        {
            return null;
        }

        if (!Syntaxes.TryGetValue(typeText, out var syntax))
        {
            _errors.Add($"{where}: Type '{typeText}' is not a state type.");
            return null;
        }

        CheckQueryLanguage(obj, where);
        var state = syntax.Create(name);
        state.IsJsonata = IsJsonata(obj);
        if (state.IsJsonata)
        {
            CheckJsonataFields(obj, where, state.Type, syntax.JsonataFields);
            ParseTransition(obj, where, state);
            state.Output = Jsonata(obj, "Output", where);
            syntax.ParseJsonata(this, state, obj, where);
            if (state is RetryingState retrying)
            {
                retrying.Retry = ParseRetry(obj, where);
                retrying.Catch = ParseCatch(obj, where, jsonata: true);
            }
        }
        else
        {
            CheckJsonPathFields(obj, where, state.Type, syntax.JsonPathFields);
            state.InputPath = OptionalPath(obj, "InputPath", where, definite: false);
            state.OutputPath = OptionalPath(obj, "OutputPath", where, definite: false);
            if (state is ResultState result)
            {
                result.ResultPath = OptionalPath(obj, "ResultPath", where, definite: true);
                result.Parameters = Template(obj, "Parameters", where);
            }

            if (state is RetryingState retrying)
            {
                retrying.ResultSelector = Template(obj, "ResultSelector", where);
                retrying.Retry = ParseRetry(obj, where);
                retrying.Catch = ParseCatch(obj, where);
            }

            ParseTransition(obj, where, state);
            syntax.ParseJsonPath(this, state, obj, where);
        }

        ParseAssigns(obj, where, state);
        return state;
    }

    private void CheckJsonPathFields(JsonObject obj, string where, StateType type, HashSet<string> allowed)
    {
        foreach (var key in obj.Select(p => p.Key).Where(k => !allowed.Contains(k)))
        {
            if (type == StateType.Map && DistributedMapFields.Contains(key))
            {
                if (!IsDistributed(obj))
                {
                    _errors.Add($"{where}: {key} belongs to a Distributed Map; set ItemProcessor.ProcessorConfig.Mode to DISTRIBUTED.");
                }
            }
            else if (key is "Arguments" or "Output" or "Items")
            {
                _errors.Add($"{where}: '{key}' is a JSONata field and this is a JSONPath state; set \"QueryLanguage\": \"JSONata\" on the state or the state machine to use it.");
            }
            else if (UnsupportedFeatureFields.Contains(key))
            {
                _errors.Add($"{where}: '{key}' is not supported by the local engine (it belongs to cross-account access).");
            }
            else
            {
                _errors.Add($"{where}: unknown field '{key}' for a {type} state.");
            }
        }
    }

    private void ParseTransition(JsonObject obj, string where, StateNode state)
    {
        if (!state.HasNextOrEnd)
        {
            if (obj.ContainsKey("Next") || obj.ContainsKey("End"))
            {
                _errors.Add($"{where}: a {state.Type} state cannot have Next or End.");
            }

            return;
        }

        state.Next = Str(obj, "Next", where, false);
        var end = obj["End"];
        if (end is not null && end.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            _errors.Add($"{where}: End must be a boolean.");
        }

        state.End = end?.GetValueKind() == JsonValueKind.True;
        if (state.Next is null && !state.End)
        {
            _errors.Add($"{where}: missing Next or \"End\": true.");
        }
        else if (state.Next is not null && state.End)
        {
            _errors.Add($"{where}: has both Next and \"End\": true.");
        }
    }

    /// <summary>One row of <see cref="Syntaxes"/>: how a state of one type is made and its own fields parsed.</summary>
    private sealed record StateSyntax(
        Func<string, StateNode> Create,
        HashSet<string> JsonPathFields,
        HashSet<string> JsonataFields,
        Action<StateMachineDefinition, StateNode, JsonObject, string> ParseJsonPath,
        Action<StateMachineDefinition, StateNode, JsonObject, string> ParseJsonata)
    {
        public static StateSyntax Of<T>(
            Func<string, T> create,
            HashSet<string> jsonPathFields,
            HashSet<string> jsonataFields,
            Action<StateMachineDefinition, T, JsonObject, string> parseJsonPath,
            Action<StateMachineDefinition, T, JsonObject, string> parseJsonata)
            where T : StateNode =>
            new(create, jsonPathFields, jsonataFields, (d, s, o, w) => parseJsonPath(d, (T)s, o, w), (d, s, o, w) => parseJsonata(d, (T)s, o, w));
    }
}
