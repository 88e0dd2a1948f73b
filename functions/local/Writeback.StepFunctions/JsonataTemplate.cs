using System.Text.Json.Nodes;
using Writeback.StepFunctions.Jsonata;

namespace Writeback.StepFunctions;

/// <summary>
/// A field of a JSONata state (Arguments, Output, Items, Condition, …): any JSON value in which a string that is one
/// whole <c>{% … %}</c> is a JSONata expression, evaluated with <c>$states</c> bound; everything else is literal.
/// </summary>
internal sealed class JsonataTemplate
{
    private readonly JsonNode? _literal;
    private readonly JsonataExpression? _expression;
    private readonly List<(string Key, JsonataTemplate Value)>? _fields;
    private readonly List<JsonataTemplate>? _items;

    private JsonataTemplate(JsonNode? literal, JsonataExpression? expression, List<(string, JsonataTemplate)>? fields, List<JsonataTemplate>? items)
    {
        _literal = literal;
        _expression = expression;
        _fields = fields;
        _items = items;
    }

    /// <summary>Whether the whole field is one expression (not a literal or a structure that holds some).</summary>
    public bool IsExpression => _expression is not null;

    public static bool IsExpressionText(string text) => text.StartsWith("{%", StringComparison.Ordinal) && text.EndsWith("%}", StringComparison.Ordinal) && text.Length >= 4;

    /// <summary>Compiles a field; syntax errors and <c>.$</c> keys are added to <paramref name="errors"/> under <paramref name="where"/>.</summary>
    public static JsonataTemplate Compile(JsonNode? node, string where, List<string> errors)
    {
        switch (node)
        {
            case JsonObject o:
                var fields = new List<(string, JsonataTemplate)>();
                foreach (var (k, v) in o)
                {
                    if (k.EndsWith(".$", StringComparison.Ordinal))
                    {
                        errors.Add($"{where}: the key '{k}' ends in '.$', which only JSONPath states use; in a JSONata state write \"{k[..^2]}\": \"{{% expression %}}\".");
                    }

                    fields.Add((k, Compile(v, $"{where}.{k}", errors)));
                }

                return new JsonataTemplate(null, null, fields, null);
            case JsonArray a:
                return new JsonataTemplate(null, null, null, [.. a.Select((v, i) => Compile(v, $"{where}[{i}]", errors))]);
            case JsonValue v when Json.TryGetString(v, out var text) && IsExpressionText(text):
                try
                {
                    return new JsonataTemplate(null, JsonataExpression.CompileForStepFunctions(text[2..^2]), null, null);
                }
                catch (JsonataException e)
                {
                    var hint = e.Code == "S0204" && e.Token is "??" or "?:"
                        ? $" ({e.Token} came in JSONata 2.1.0; Step Functions runs JSONata 2.0.6, so write it with a condition: $exists(a) ? a : b)"
                        : "";
                    errors.Add($"{where}: the JSONata expression {text} does not parse: {e.Message}{hint}");
                    return new JsonataTemplate(null, null, null, null);
                }

            default:
                return new JsonataTemplate(node?.DeepClone(), null, null, null);
        }
    }

    /// <summary>
    /// The field's value. An expression that fails, or that yields nothing where the field needs a value, is
    /// States.QueryEvaluationError; inside an object or array an undefined value leaves the key or item out.
    /// </summary>
    public JsonNode? Evaluate(JsonataBindings bindings, string stateName, string field)
    {
        var value = EvaluateValue(bindings, stateName, field);
        if (value is null)
        {
            throw new StatesException(StatesErrors.QueryEvaluationError,
                $"State '{stateName}': the JSONata expression in {field} returned no value (undefined); the field needs one.");
        }

        return Values.ToJson(value);
    }

    private object? EvaluateValue(JsonataBindings bindings, string stateName, string field)
    {
        if (_expression is not null)
        {
            try
            {
                return _expression.EvaluateValue(null, bindings.Variables, timeLimit: TimeSpan.FromSeconds(60), randomness: bindings.Randomness);
            }
            catch (JsonataException e)
            {
                throw new StatesException(StatesErrors.QueryEvaluationError, $"State '{stateName}': {field}: the JSONata expression {{% {_expression.Source} %}} failed: {e.Message}");
            }
        }

        if (_fields is not null)
        {
            var o = new JObject();
            foreach (var (k, v) in _fields)
            {
                if (v.EvaluateValue(bindings, stateName, $"{field}.{k}") is { } value)
                {
                    o[k] = value;
                }
            }

            return o;
        }

        if (_items is not null)
        {
            var list = new JList();
            foreach (var item in _items)
            {
                if (item.EvaluateValue(bindings, stateName, field) is { } value)
                {
                    list.Add(value);
                }
            }

            return list;
        }

        return Values.FromJson(_literal);
    }
}

/// <summary>The variables a JSONata expression of a state sees: <c>$states</c> and, later, the workflow variables.</summary>
internal sealed class JsonataBindings
{
    private readonly JObject _states = new();

    public JsonataBindings(JsonNode? input, JsonObject context)
    {
        _states["input"] = Values.FromJson(input);
        _states["context"] = Values.FromJson(context);
        Variables = new Dictionary<string, object?>(StringComparer.Ordinal) { ["states"] = _states };
    }

    public Dictionary<string, object?> Variables { get; }

    /// <summary>The engine's randomness, so $random, $uuid and $shuffle repeat when the engine is seeded.</summary>
    public IJsonataRandomness? Randomness { get; init; }

    public JsonataBindings WithResult(JsonNode? result)
    {
        _states["result"] = Values.FromJson(result);
        return this;
    }

    public JsonataBindings WithErrorOutput(JsonNode? errorOutput)
    {
        _states["errorOutput"] = Values.FromJson(errorOutput);
        return this;
    }
}
