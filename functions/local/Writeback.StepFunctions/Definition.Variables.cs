using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// A compiled Assign: variable names and the values to give them. In a JSONPath state a value is written as in
/// Parameters (keys ending in <c>.$</c> take a path or an intrinsic function); in a JSONata state any value may hold
/// <c>{% %}</c> expressions.
/// </summary>
internal sealed class AssignTemplate
{
    private readonly PayloadTemplate? _jsonPath;
    private readonly List<(string Name, JsonataTemplate Value)>? _jsonata;

    private AssignTemplate(IReadOnlyList<string> names, PayloadTemplate? jsonPath, List<(string, JsonataTemplate)>? jsonata)
    {
        Names = names;
        _jsonPath = jsonPath;
        _jsonata = jsonata;
    }

    public IReadOnlyList<string> Names { get; }

    public static AssignTemplate? Compile(JsonNode? node, bool jsonata, string where, List<string> errors)
    {
        if (node is not JsonObject obj)
        {
            errors.Add($"{where}: Assign must be an object of variable names and values.");
            return null;
        }

        var names = new List<string>();
        foreach (var key in obj.Select(p => p.Key))
        {
            var name = !jsonata && key.EndsWith(".$", StringComparison.Ordinal) ? key[..^2] : key;
            if (VariableNames.Problem(name) is { } problem)
            {
                errors.Add($"{where}: Assign: '{key}' is not a valid variable name: {problem}.");
            }
            else if (names.Contains(name))
            {
                errors.Add($"{where}: Assign: variable '{name}' is assigned more than once.");
            }
            else
            {
                names.Add(name);
            }
        }

        if (!jsonata)
        {
            return new AssignTemplate(names, PayloadTemplate.Compile(obj, $"{where}: Assign", errors), null);
        }

        var values = new List<(string, JsonataTemplate)>();
        foreach (var (key, value) in obj)
        {
            if (key.EndsWith(".$", StringComparison.Ordinal))
            {
                errors.Add($"{where}: Assign: the key '{key}' ends in '.$', which only JSONPath states use; in a JSONata state write \"{key[..^2]}\": \"{{% expression %}}\".");
            }

            values.Add((key, JsonataTemplate.Compile(value, $"{where}: Assign.{key}", errors)));
        }

        return new AssignTemplate(names, null, values);
    }

    /// <summary>A JSONPath state's assignments, with <c>$</c> the data <paramref name="scope"/> holds.</summary>
    public Dictionary<string, JsonNode?> Evaluate(DataScope scope)
    {
        var result = (JsonObject)_jsonPath!.Evaluate(scope)!;
        var assignments = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var name in result.Select(p => p.Key).ToList())
        {
            var value = result[name];
            result.Remove(name);
            assignments[name] = value;
        }

        return assignments;
    }

    /// <summary>A JSONata state's assignments; a value that is undefined is States.QueryEvaluationError.</summary>
    public Dictionary<string, JsonNode?> Evaluate(JsonataBindings bindings, string stateName, string field) =>
        _jsonata!.ToDictionary(v => v.Name, v => v.Value.Evaluate(bindings, stateName, $"{field}.{v.Name}"), StringComparer.Ordinal);
}

public sealed partial class StateMachineDefinition
{
    /// <summary>The state's Assign, its Choice rules' and its catchers'; called once the state's other fields are parsed.</summary>
    private void ParseAssigns(JsonObject obj, string where, StateNode state)
    {
        var jsonata = state.IsJsonata;
        if (obj.TryGetPropertyValue("Assign", out var assign) && state.Type is not (StateType.Succeed or StateType.Fail))
        {
            state.Assign = AssignTemplate.Compile(assign, jsonata, where, _errors);
        }

        if (state is ChoiceState choice && obj["Choices"] is JsonArray choices)
        {
            choice.ChoiceAssigns = [.. choices.Select((c, i) => c is JsonObject rule && rule.TryGetPropertyValue("Assign", out var a)
                ? AssignTemplate.Compile(a, jsonata, $"{where}: Choices[{i}]", _errors)
                : null)];
        }

        if (state is RetryingState retrying && obj["Catch"] is JsonArray catchers)
        {
            retrying.CatchAssigns = [.. catchers.Select((c, i) => c is JsonObject catcher && catcher.TryGetPropertyValue("Assign", out var a)
                ? AssignTemplate.Compile(a, jsonata, $"{where}: Catch[{i}]", _errors)
                : null)];
        }
    }

    /// <summary>
    /// A Parallel branch or Map iteration reads the variables of the scopes around it but cannot assign them: the
    /// service refuses, at validation, a definition whose inner state assigns a name an outer scope assigns.
    /// </summary>
    private void CheckVariableScopes(StateGraph graph, HashSet<string> outer)
    {
        var here = new HashSet<string>(outer, StringComparer.Ordinal);
        foreach (var state in graph.States.Values)
        {
            foreach (var name in state.AllAssigns.SelectMany(a => a.Names).Distinct(StringComparer.Ordinal))
            {
                if (outer.Contains(name))
                {
                    _errors.Add($"State '{state.Name}': Assign: variable '{name}' is assigned in an outer scope; a state in a Parallel branch or a Map's item processor can read the outer scope's variables but cannot assign them (return data with its output instead).");
                }

                here.Add(name);
            }
        }

        foreach (var state in graph.States.Values)
        {
            foreach (var inner in state.InnerGraphs)
            {
                CheckVariableScopes(inner, here);
            }
        }
    }
}
