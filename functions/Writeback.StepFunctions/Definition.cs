using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

internal enum StateType { Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map }

internal enum ResourceKind { LambdaInvoke, LambdaFunction, ServiceIntegration }

internal sealed class Retrier
{
    public required string[] ErrorEquals { get; init; }
    public double IntervalSeconds { get; init; } = 1;
    public int MaxAttempts { get; init; } = 3;
    public double BackoffRate { get; init; } = 2.0;
    public double? MaxDelaySeconds { get; init; }
    public bool FullJitter { get; init; }
}

internal sealed class Catcher
{
    public required string[] ErrorEquals { get; init; }
    public required string Next { get; init; }
    public JsonPath? ResultPath { get; init; }

    /// <summary>JSONata states: the state's output when the catcher matches (default: the error output).</summary>
    public JsonataTemplate? Output { get; init; }
}

/// <summary>StartAt and States: the top level of a definition, a Parallel branch, or a Map's item processor.</summary>
internal sealed class StateGraph
{
    public required string StartAt { get; init; }
    public required Dictionary<string, StateNode> States { get; init; }
}

/// <summary>One state of a loaded, validated definition. Fields that do not apply to the state's type stay unset.</summary>
internal sealed partial class StateNode
{
    public static readonly JsonPath Root = JsonPath.Parse("$");

    public required string Name { get; init; }
    public required StateType Type { get; init; }
    public string? Next { get; set; }
    public bool End { get; set; }
    public JsonPath? InputPath { get; set; } = Root;
    public JsonPath? OutputPath { get; set; } = Root;
    public JsonPath? ResultPath { get; set; } = Root;
    public PayloadTemplate? Parameters { get; set; }
    public PayloadTemplate? ResultSelector { get; set; }
    public JsonNode? Result { get; set; }
    public bool HasResult { get; set; }
    public Retrier[] Retry { get; set; } = [];
    public Catcher[] Catch { get; set; } = [];

    // Task
    public string? Resource { get; set; }
    public ResourceKind ResourceKind { get; set; }
    public string? FunctionName { get; set; }
    public int? TimeoutSeconds { get; set; }
    public JsonPath? TimeoutSecondsPath { get; set; }
    public int? HeartbeatSeconds { get; set; }
    public JsonPath? HeartbeatSecondsPath { get; set; }

    // Choice
    public ChoiceRule[] Choices { get; set; } = [];
    public string? Default { get; set; }

    // Wait
    public long? Seconds { get; set; }
    public DateTimeOffset? Timestamp { get; set; }
    public JsonPath? SecondsPath { get; set; }
    public JsonPath? TimestampPath { get; set; }

    // Fail
    public string? Error { get; set; }
    public string? Cause { get; set; }
    public JsonPath? ErrorPath { get; set; }
    public JsonPath? CausePath { get; set; }

    // Parallel and Map
    public StateGraph[] Branches { get; set; } = [];
    public StateGraph? Processor { get; set; }
    public JsonPath? ItemsPath { get; set; } = Root;
    public PayloadTemplate? ItemSelector { get; set; }
    public int MaxConcurrency { get; set; }
    public JsonPath? MaxConcurrencyPath { get; set; }

    public bool UsesContext { get; set; }
}

/// <summary>
/// A state machine definition in the Amazon States Language (JSONPath and JSONata states), parsed and validated. Loading
/// refuses what the local engine does not run (activities, .sync and .waitForTaskToken) with
/// an error that names the feature and the state, and reports every structural error at once.
/// </summary>
public sealed partial class StateMachineDefinition
{
    private static readonly HashSet<string> TopFields = ["Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"];
    private static readonly HashSet<string> GraphFields = ["Comment", "StartAt", "States", "ProcessorConfig", "QueryLanguage"];

    private static readonly Dictionary<StateType, HashSet<string>> FieldsByType = new()
    {
        [StateType.Pass] = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result"],
        [StateType.Task] = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"],
        [StateType.Choice] = ["Type", "Assign", "Comment", "QueryLanguage", "InputPath", "OutputPath", "Choices", "Default"],
        [StateType.Wait] = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "InputPath", "OutputPath", "Seconds", "Timestamp", "SecondsPath", "TimestampPath"],
        [StateType.Succeed] = ["Type", "Comment", "QueryLanguage", "InputPath", "OutputPath"],
        [StateType.Fail] = ["Type", "Comment", "QueryLanguage", "Error", "Cause", "ErrorPath", "CausePath"],
        [StateType.Parallel] = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "Branches"],
        [StateType.Map] = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "ItemProcessor", "Iterator", "ItemsPath", "ItemSelector", "MaxConcurrency", "MaxConcurrencyPath"],
    };

    private static readonly string[] DistributedMapFields = ["ItemReader", "ItemBatcher", "ResultWriter", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "Label"];
    private static readonly string[] UnsupportedFeatureFields = ["Arguments", "Output", "Items", "Credentials"];

    private static readonly string[] WaitFields = ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"];
    private static readonly string[] LambdaInvokeParameters = ["FunctionName", "Payload", "InvocationType", "Qualifier", "ClientContext", "LogType"];

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
            foreach (var (target, field) in Transitions(state))
            {
                if (!states.ContainsKey(target))
                {
                    _errors.Add($"State '{state.Name}': {field} '{target}' is not a state in {(where == "The state machine" ? "the state machine" : where.ToLowerInvariant())}.");
                }
            }
        }
    }

    private static IEnumerable<(string Target, string Field)> Transitions(StateNode state)
    {
        if (state.Next is not null)
        {
            yield return (state.Next, "Next");
        }

        if (state.Default is not null)
        {
            yield return (state.Default, "Default");
        }

        foreach (var c in state.Choices.Where(c => c.Next is not null))
        {
            yield return (c.Next!, "Choices[].Next");
        }

        foreach (var c in state.Catch)
        {
            yield return (c.Next, "Catch[].Next");
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
            foreach (var (target, _) in Transitions(states[queue.Dequeue()]))
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

        if (!Enum.TryParse<StateType>(typeText, ignoreCase: false, out var type) || !Enum.IsDefined(type) || int.TryParse(typeText, out _))
        {
            _errors.Add($"{where}: Type '{typeText}' is not a state type.");
            return null;
        }

        CheckQueryLanguage(obj, where);
        if (IsJsonata(obj))
        {
            return ParseJsonataState(name, type, obj, where);
        }

        var allowed = FieldsByType[type];
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

        var state = new StateNode { Name = name, Type = type };
        state.InputPath = OptionalPath(obj, "InputPath", where, definite: false);
        state.OutputPath = OptionalPath(obj, "OutputPath", where, definite: false);
        if (type is StateType.Pass or StateType.Task or StateType.Parallel or StateType.Map)
        {
            state.ResultPath = OptionalPath(obj, "ResultPath", where, definite: true);
            state.Parameters = Template(obj, "Parameters", where, state);
        }

        if (type is StateType.Task or StateType.Parallel or StateType.Map)
        {
            state.ResultSelector = Template(obj, "ResultSelector", where, state);
            state.Retry = ParseRetry(obj, where);
            state.Catch = ParseCatch(obj, where);
        }

        ParseTransition(obj, where, state);

        switch (type)
        {
            case StateType.Pass:
                state.HasResult = obj.TryGetPropertyValue("Result", out var result);
                state.Result = result?.DeepClone();
                break;
            case StateType.Task:
                ParseTask(obj, where, state);
                break;
            case StateType.Choice:
                ParseChoice(obj, where, state);
                break;
            case StateType.Wait:
                ParseWait(obj, where, state);
                break;
            case StateType.Fail:
                state.Error = Str(obj, "Error", where, false);
                state.Cause = Str(obj, "Cause", where, false);
                state.ErrorPath = Path(obj, "ErrorPath", where, definite: false);
                state.CausePath = Path(obj, "CausePath", where, definite: false);
                if (state.Error is not null && state.ErrorPath is not null)
                {
                    _errors.Add($"{where}: Error and ErrorPath are mutually exclusive.");
                }

                if (state.Cause is not null && state.CausePath is not null)
                {
                    _errors.Add($"{where}: Cause and CausePath are mutually exclusive.");
                }

                state.UsesContext |= state.ErrorPath?.IsContext == true || state.CausePath?.IsContext == true;
                break;
            case StateType.Parallel:
                state.Branches = ParseBranches(obj, where, name);
                break;
            case StateType.Map:
                ParseMap(obj, where, state);
                break;
            default:
                break;
        }

        state.UsesContext |= state.InputPath?.IsContext == true || state.OutputPath?.IsContext == true;
        ParseAssigns(obj, where, state);
        return state;
    }

    private void ParseTransition(JsonObject obj, string where, StateNode state)
    {
        var type = state.Type;
        if (type is StateType.Choice or StateType.Succeed or StateType.Fail)
        {
            if (obj.ContainsKey("Next") || obj.ContainsKey("End"))
            {
                _errors.Add($"{where}: a {type} state cannot have Next or End.");
            }
        }
        else
        {
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
    }

    private StateGraph[] ParseBranches(JsonObject obj, string where, string name)
    {
        if (obj["Branches"] is not JsonArray branches || branches.Count == 0)
        {
            _errors.Add($"{where}: Branches must be a non-empty array.");
            return [];
        }

        return [.. branches.Select((b, i) => b is JsonObject bo
            ? ParseGraph(bo, $"Branch {i} of state '{name}'", isProcessor: false)
            : Invalid($"{where}: Branches[{i}] must be an object."))];
    }

    private StateGraph Invalid(string message)
    {
        _errors.Add(message);
        return new StateGraph { StartAt = "", States = [] };
    }

    private void ParseTask(JsonObject obj, string where, StateNode state)
    {
        var resource = Str(obj, "Resource", where, true);
        state.Resource = resource;
        state.TimeoutSeconds = PositiveInt(obj, "TimeoutSeconds", where);
        state.TimeoutSecondsPath = Path(obj, "TimeoutSecondsPath", where, definite: true);
        state.HeartbeatSeconds = PositiveInt(obj, "HeartbeatSeconds", where);
        state.HeartbeatSecondsPath = Path(obj, "HeartbeatSecondsPath", where, definite: true);
        if (state.TimeoutSeconds is not null && state.TimeoutSecondsPath is not null)
        {
            _errors.Add($"{where}: TimeoutSeconds and TimeoutSecondsPath are mutually exclusive.");
        }

        if (state.HeartbeatSeconds is not null && state.HeartbeatSecondsPath is not null)
        {
            _errors.Add($"{where}: HeartbeatSeconds and HeartbeatSecondsPath are mutually exclusive.");
        }

        if (state.HeartbeatSeconds is { } hb && state.TimeoutSeconds is { } to && hb >= to)
        {
            _errors.Add($"{where}: HeartbeatSeconds ({hb}) must be smaller than TimeoutSeconds ({to}).");
        }

        state.UsesContext |= state.TimeoutSecondsPath?.IsContext == true || state.HeartbeatSecondsPath?.IsContext == true;
        if (resource is null)
        {
            return;
        }

        if (resource.Contains("${", StringComparison.Ordinal))
        {
            _errors.Add($"{where}: Resource '{resource}' still holds a DefinitionSubstitutions placeholder; substitute it before loading.");
            return;
        }

        if (resource.EndsWith(".waitForTaskToken", StringComparison.Ordinal))
        {
            _errors.Add($"{where}: the .waitForTaskToken (callback) integration pattern is not supported by the local engine.");
            return;
        }

        if (resource.Contains(".sync", StringComparison.Ordinal))
        {
            _errors.Add($"{where}: the .sync (run a job) integration pattern is not supported by the local engine.");
            return;
        }

        var parts = resource.Split(':');
        if (parts.Length >= 6 && parts[0] == "arn" && parts[2] == "states" && parts[5] == "activity")
        {
            _errors.Add($"{where}: activities ('{resource}') are not supported by the local engine.");
            return;
        }

        if (resource == "arn:aws:states:::lambda:invoke")
        {
            state.ResourceKind = ResourceKind.LambdaInvoke;
            var parameters = obj["Parameters"] as JsonObject;
            if (parameters is null || !(parameters.ContainsKey("FunctionName") || parameters.ContainsKey("FunctionName.$")))
            {
                _errors.Add($"{where}: lambda:invoke needs Parameters with FunctionName.");
            }
            else
            {
                if (parameters["FunctionName"] is { } fn && Json.TryGetString(fn, out var fnText) && fnText.Contains("${", StringComparison.Ordinal))
                {
                    _errors.Add($"{where}: FunctionName '{fnText}' still holds a DefinitionSubstitutions placeholder; substitute it before loading.");
                }

                foreach (var key in parameters.Select(p => p.Key).Where(k => !LambdaInvokeParameters.Contains(k.EndsWith(".$", StringComparison.Ordinal) ? k[..^2] : k)))
                {
                    _errors.Add($"{where}: '{key}' is not a parameter of lambda:invoke.");
                }
            }

            return;
        }

        if (parts.Length >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function")
        {
            state.ResourceKind = ResourceKind.LambdaFunction;
            state.FunctionName = parts[6];
            return;
        }

        if (parts.Length >= 6 && parts[0] == "arn" && parts[2] == "states" && parts[3].Length == 0 && parts[4].Length == 0)
        {
            // Other service integrations load (a mock file may cover them) and fail at run time if they are not mocked.
            state.ResourceKind = ResourceKind.ServiceIntegration;
            return;
        }

        _errors.Add($"{where}: Resource '{resource}' is not a Lambda function ARN or a Step Functions service integration ARN.");
    }

    private void ParseChoice(JsonObject obj, string where, StateNode state)
    {
        state.Default = Str(obj, "Default", where, false);
        if (obj["Choices"] is not JsonArray choices || choices.Count == 0)
        {
            _errors.Add($"{where}: Choices must be a non-empty array.");
            return;
        }

        state.Choices = [.. choices.Select((c, i) => ParseRule(c, $"{where}: Choices[{i}]", topLevel: true, state))];
    }

    private ChoiceRule ParseRule(JsonNode? node, string where, bool topLevel, StateNode state)
    {
        if (node is not JsonObject obj)
        {
            _errors.Add($"{where} must be an object.");
            return new ChoiceRule { Operator = "IsPresent", Operand = JsonValue.Create(false) };
        }

        var next = Str(obj, "Next", where, false);
        if (topLevel && next is null)
        {
            _errors.Add($"{where}: missing Next.");
        }
        else if (!topLevel && next is not null)
        {
            _errors.Add($"{where}: Next is only allowed on top-level choice rules.");
        }

        foreach (var key in obj.Select(p => p.Key).Where(k => k is not ("Next" or "Comment" or "Variable" or "And" or "Or" or "Not")
                     && !(topLevel && k == "Assign") && !ChoiceRule.Comparators.Contains(k) && !ChoiceRule.Comparators.Contains(k.EndsWith("Path", StringComparison.Ordinal) ? k[..^4] : k)
                     && !ChoiceRule.Tests.Contains(k) && k is not ("StringMatches")))
        {
            _errors.Add($"{where}: unknown field '{key}'.");
        }

        if (obj["And"] is JsonArray and)
        {
            return new ChoiceRule { Next = next, And = [.. and.Select((r, i) => ParseRule(r, $"{where}.And[{i}]", false, state))] };
        }

        if (obj["Or"] is JsonArray or)
        {
            return new ChoiceRule { Next = next, Or = [.. or.Select((r, i) => ParseRule(r, $"{where}.Or[{i}]", false, state))] };
        }

        if (obj.ContainsKey("Not"))
        {
            return new ChoiceRule { Next = next, Not = ParseRule(obj["Not"], $"{where}.Not", false, state) };
        }

        var variable = Path(obj, "Variable", where, definite: false);
        if (variable is null)
        {
            _errors.Add($"{where}: missing Variable (or And / Or / Not).");
        }

        state.UsesContext |= variable?.IsContext == true;
        var operators = obj.Select(p => p.Key).Where(k => k is not ("Next" or "Comment" or "Variable" or "Assign")).ToList();
        if (operators.Count != 1)
        {
            _errors.Add($"{where}: needs exactly one comparison operator, found {operators.Count}.");
            return new ChoiceRule { Next = next, Variable = variable, Operator = "IsPresent", Operand = JsonValue.Create(false) };
        }

        var op = operators[0];
        var operand = obj[op];
        var kind = operand?.GetValueKind();
        if (ChoiceRule.Tests.Contains(op))
        {
            if (kind is not (JsonValueKind.True or JsonValueKind.False))
            {
                _errors.Add($"{where}: {op} takes true or false.");
            }

            return new ChoiceRule { Next = next, Variable = variable, Operator = op, Operand = operand?.DeepClone() };
        }

        if (op.EndsWith("Path", StringComparison.Ordinal) && op != "StringMatchesPath")
        {
            var operandPath = Path(obj, op, where, definite: false);
            state.UsesContext |= operandPath?.IsContext == true;
            return new ChoiceRule { Next = next, Variable = variable, Operator = op[..^4], OperandPath = operandPath };
        }

        var expected = op switch
        {
            _ when op.StartsWith("String", StringComparison.Ordinal) || op.StartsWith("Timestamp", StringComparison.Ordinal) => JsonValueKind.String,
            _ when op.StartsWith("Numeric", StringComparison.Ordinal) => JsonValueKind.Number,
            _ => JsonValueKind.True,
        };
        var ok = expected == JsonValueKind.True ? kind is JsonValueKind.True or JsonValueKind.False : kind == expected;
        if (!ok)
        {
            _errors.Add($"{where}: {op} takes {(expected == JsonValueKind.True ? "a boolean" : expected == JsonValueKind.String ? "a string" : "a number")}.");
        }
        else if (op.StartsWith("Timestamp", StringComparison.Ordinal) && !ChoiceRule.TryParseTimestamp(operand!.GetValue<string>(), out _))
        {
            _errors.Add($"{where}: {op} '{operand}' is not an RFC 3339 timestamp.");
        }

        return new ChoiceRule { Next = next, Variable = variable, Operator = op, Operand = operand?.DeepClone() };
    }

    private void ParseWait(JsonObject obj, string where, StateNode state)
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
        state.UsesContext |= state.SecondsPath?.IsContext == true || state.TimestampPath?.IsContext == true;
    }

    private void ParseMap(JsonObject obj, string where, StateNode state)
    {
        ParseProcessor(obj, where, state);
        state.ItemsPath = Path(obj, "ItemsPath", where, definite: true) ?? StateNode.Root;
        if (obj.ContainsKey("ItemSelector") && obj.ContainsKey("Parameters"))
        {
            _errors.Add($"{where}: ItemSelector and Parameters (its legacy name) are mutually exclusive.");
        }

        // A Map's Parameters is the legacy name of ItemSelector: it shapes each item, not the Map's input.
        state.ItemSelector = Template(obj, "ItemSelector", where, state) ?? state.Parameters;
        state.Parameters = null;
        if (obj["MaxConcurrency"] is { } mc)
        {
            if (Json.TryGetInteger(mc, out var m) && m >= 0 && m <= int.MaxValue)
            {
                state.MaxConcurrency = (int)m;
            }
            else
            {
                _errors.Add($"{where}: MaxConcurrency must be a non-negative integer.");
            }
        }

        state.MaxConcurrencyPath = Path(obj, "MaxConcurrencyPath", where, definite: true);
        if (obj.ContainsKey("MaxConcurrency") && state.MaxConcurrencyPath is not null)
        {
            _errors.Add($"{where}: MaxConcurrency and MaxConcurrencyPath are mutually exclusive.");
        }

        state.UsesContext |= state.ItemsPath.IsContext || state.MaxConcurrencyPath?.IsContext == true;
        if (IsDistributed(obj))
        {
            ParseDistributedMap(obj, where, state);
        }
    }

    private void ParseProcessor(JsonObject obj, string where, StateNode state)
    {
        var hasProcessor = obj["ItemProcessor"] is JsonObject;
        var hasIterator = obj["Iterator"] is JsonObject;
        if (hasProcessor == hasIterator)
        {
            _errors.Add($"{where}: a Map state needs exactly one of ItemProcessor or Iterator.");
        }

        if (obj["ItemProcessor"] is JsonObject processor)
        {
            if (processor["ProcessorConfig"] is JsonObject config)
            {
                foreach (var key in config.Select(p => p.Key).Where(k => k is not ("Mode" or "ExecutionType")))
                {
                    _errors.Add($"{where}: unknown field '{key}' in ProcessorConfig.");
                }

                var mode = Str(config, "Mode", where, false);
                if (mode == "DISTRIBUTED" && state.IsJsonata)
                {
                    _errors.Add($"{where}: a Distributed Map in a JSONata state is not supported by the local engine; use JSONPath for this state.");
                }
                else if (mode is not (null or "INLINE" or "DISTRIBUTED"))
                {
                    _errors.Add($"{where}: ProcessorConfig Mode '{mode}' is not INLINE or DISTRIBUTED.");
                }
            }

            state.Processor = ParseGraph(processor, $"The item processor of state '{state.Name}'", isProcessor: true);
        }
        else if (obj["Iterator"] is JsonObject iterator)
        {
            state.Processor = ParseGraph(iterator, $"The iterator of state '{state.Name}'", isProcessor: false);
        }
    }

    private Retrier[] ParseRetry(JsonObject obj, string where)
    {
        if (!obj.ContainsKey("Retry"))
        {
            return [];
        }

        if (obj["Retry"] is not JsonArray array)
        {
            _errors.Add($"{where}: Retry must be an array.");
            return [];
        }

        var result = new List<Retrier>();
        for (var i = 0; i < array.Count; i++)
        {
            var w = $"{where}: Retry[{i}]";
            if (array[i] is not JsonObject r)
            {
                _errors.Add($"{w} must be an object.");
                continue;
            }

            foreach (var key in r.Select(p => p.Key).Where(k => k is not ("ErrorEquals" or "IntervalSeconds" or "MaxAttempts" or "BackoffRate" or "MaxDelaySeconds" or "JitterStrategy" or "Comment")))
            {
                _errors.Add($"{w}: unknown field '{key}'.");
            }

            var errors = ErrorEquals(r, w, isLast: i == array.Count - 1);
            var interval = r["IntervalSeconds"] is { } iv ? (Json.TryGetInteger(iv, out var ivs) && ivs >= 1 ? ivs : Bad<long>($"{w}: IntervalSeconds must be a positive integer.")) : 1;
            var attempts = r["MaxAttempts"] is { } ma ? (Json.TryGetInteger(ma, out var mas) && mas >= 0 ? mas : Bad<long>($"{w}: MaxAttempts must be a non-negative integer.")) : 3;
            var backoff = r["BackoffRate"] is { } br ? (Json.TryGetNumber(br, out var brs) && brs >= 1.0 ? brs : Bad<double>($"{w}: BackoffRate must be a number of at least 1.0.")) : 2.0;
            double? maxDelay = r["MaxDelaySeconds"] is { } md ? (Json.TryGetInteger(md, out var mds) && mds >= 1 ? mds : Bad<long>($"{w}: MaxDelaySeconds must be a positive integer.")) : null;
            var jitter = Str(r, "JitterStrategy", w, false);
            if (jitter is not (null or "FULL" or "NONE"))
            {
                _errors.Add($"{w}: JitterStrategy must be FULL or NONE.");
            }

            result.Add(new Retrier
            {
                ErrorEquals = errors,
                IntervalSeconds = interval,
                MaxAttempts = (int)Math.Min(attempts, 99999999),
                BackoffRate = backoff,
                MaxDelaySeconds = maxDelay,
                FullJitter = jitter == "FULL",
            });
        }

        return [.. result];
    }

    /// <param name="jsonata">A JSONata state's catchers shape the output with Output; ResultPath is JSONPath's.</param>
    private Catcher[] ParseCatch(JsonObject obj, string where, bool jsonata = false)
    {
        if (!obj.ContainsKey("Catch"))
        {
            return [];
        }

        if (obj["Catch"] is not JsonArray array)
        {
            _errors.Add($"{where}: Catch must be an array.");
            return [];
        }

        var result = new List<Catcher>();
        for (var i = 0; i < array.Count; i++)
        {
            var w = $"{where}: Catch[{i}]";
            if (array[i] is not JsonObject c)
            {
                _errors.Add($"{w} must be an object.");
                continue;
            }

            foreach (var key in c.Select(p => p.Key).Where(k => k is not ("ErrorEquals" or "Next" or "Comment" or "Assign") && k != (jsonata ? "Output" : "ResultPath")))
            {
                _errors.Add(jsonata && key == "ResultPath"
                    ? $"{w}: ResultPath is a JSONPath field; in a JSONata state a catcher shapes the state output with Output (default: the error output)."
                    : $"{w}: unknown field '{key}'.");
            }

            result.Add(new Catcher
            {
                ErrorEquals = ErrorEquals(c, w, isLast: i == array.Count - 1),
                Next = Str(c, "Next", w, true) ?? "",
                ResultPath = jsonata ? StateNode.Root : OptionalPath(c, "ResultPath", w, definite: true),
                Output = jsonata ? Jsonata(c, "Output", w) : null,
            });
        }

        return [.. result];
    }

    private string[] ErrorEquals(JsonObject obj, string where, bool isLast)
    {
        if (obj["ErrorEquals"] is not JsonArray array || array.Count == 0 || !array.All(e => Json.TryGetString(e, out _)))
        {
            _errors.Add($"{where}: ErrorEquals must be a non-empty array of error names.");
            return [];
        }

        var names = array.Select(e => e!.GetValue<string>()).ToArray();
        if (names.Contains(StatesErrors.All) && (names.Length > 1 || !isLast))
        {
            _errors.Add($"{where}: States.ALL must appear alone, in the last retrier or catcher.");
        }

        return names;
    }

    private PayloadTemplate? Template(JsonObject obj, string key, string where, StateNode state)
    {
        if (!obj.TryGetPropertyValue(key, out var value))
        {
            return null;
        }

        if (value is not JsonObject && key != "Parameters")
        {
            _errors.Add($"{where}: {key} must be an object.");
            return null;
        }

        var template = PayloadTemplate.Compile(value, $"{where}: {key}", _errors);
        state.UsesContext |= template.UsesContext;
        return template;
    }

    /// <summary>A path field where JSON null means "no data" ({} for InputPath/OutputPath, discard for ResultPath).</summary>
    private JsonPath? OptionalPath(JsonObject obj, string key, string where, bool definite)
    {
        if (!obj.TryGetPropertyValue(key, out var value))
        {
            return StateNode.Root;
        }

        return value is null ? null : Path(obj, key, where, definite);
    }

    private JsonPath? Path(JsonObject obj, string key, string where, bool definite)
    {
        if (!obj.TryGetPropertyValue(key, out var value) || value is null)
        {
            return null;
        }

        if (!Json.TryGetString(value, out var text))
        {
            _errors.Add($"{where}: {key} must be a string path.");
            return null;
        }

        if (!JsonPath.TryParse(text, out var path, out var error))
        {
            _errors.Add($"{where}: {key}: {error}");
            return null;
        }

        if (definite && !path.IsDefinite)
        {
            _errors.Add($"{where}: {key} '{text}' must be a reference path (names and indices only, no wildcards or filters).");
            return null;
        }

        if (key is "ResultPath" && path.VariableName is not null)
        {
            _errors.Add($"{where}: {key} '{text}' cannot be a variable; variables are readable in every JSONPath field but ResultPath.");
            return null;
        }

        if (definite && key is "ResultPath" && path.IsContext)
        {
            _errors.Add($"{where}: {key} '{text}' cannot write into the context object.");
            return null;
        }

        return path;
    }

    private string? Str(JsonObject obj, string key, string where, bool required)
    {
        if (!obj.TryGetPropertyValue(key, out var value) || value is null)
        {
            if (required)
            {
                _errors.Add($"{where}: missing {key}.");
            }

            return null;
        }

        if (!Json.TryGetString(value, out var text))
        {
            _errors.Add($"{where}: {key} must be a string.");
            return null;
        }

        return text;
    }

    private int? PositiveInt(JsonObject obj, string key, string where)
    {
        if (!obj.TryGetPropertyValue(key, out var value) || value is null)
        {
            return null;
        }

        if (Json.TryGetInteger(value, out var v) && v >= 1 && v <= 99999999)
        {
            return (int)v;
        }

        _errors.Add($"{where}: {key} must be a positive integer.");
        return null;
    }

    private T Bad<T>(string message)
        where T : struct
    {
        _errors.Add(message);
        return default;
    }
}
