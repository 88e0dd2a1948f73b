using System.Text.Json.Nodes;
using Writeback.StepFunctions.Jsonata;

namespace Writeback.StepFunctions;

/// <summary>The service's checks of a JSONata state's fields: no ".$" keys, expressions that parse and read nothing bare at their top level.</summary>
internal sealed partial class ServiceValidator
{
    /// <summary>Fields whose values a JSONata state evaluates (a string "{% … %}" anywhere inside is an expression).</summary>
    private static readonly string[] JsonataValueFields = ["Output", "Arguments", "Assign", "Items", "ItemSelector", "MaxConcurrency", "TimeoutSeconds",
        "HeartbeatSeconds", "Seconds", "Timestamp", "Error", "Cause", "ToleratedFailurePercentage", "ToleratedFailureCount"];

    private void JsonataChoices(JsonObject state, string location)
    {
        if (state["Choices"] is not JsonArray choices)
        {
            return;
        }

        for (var i = 0; i < choices.Count; i++)
        {
            if (choices[i] is JsonObject rule)
            {
                foreach (var field in (string[])["Condition", "Output", "Assign"])
                {
                    if (rule.ContainsKey(field))
                    {
                        JsonataValue(rule[field], $"{location}/Choices[{i}]/{field}");
                    }
                }
            }
        }
    }

    private void JsonataCatchers(JsonObject state, string location)
    {
        if (state["Catch"] is not JsonArray catchers)
        {
            return;
        }

        for (var i = 0; i < catchers.Count; i++)
        {
            if (catchers[i] is JsonObject catcher)
            {
                foreach (var field in (string[])["Output", "Assign"])
                {
                    if (catcher.ContainsKey(field))
                    {
                        JsonataValue(catcher[field], $"{location}/Catch[{i}]/{field}");
                    }
                }
            }
        }
    }

    /// <summary>A JSONata field's value: no ".$" keys anywhere, and every "{% … %}" parses and reads nothing bare at its top level.</summary>
    private void JsonataValue(JsonNode? value, string location)
    {
        switch (value)
        {
            case JsonObject obj:
                foreach (var (key, inner) in obj)
                {
                    if (key.EndsWith(".$", StringComparison.Ordinal))
                    {
                        Error(DiagnosticCodes.SchemaValidationFailed,
                            $"The field '{key}' ends with '.$', which is only supported for the 'JSONPath' QueryLanguage; in a JSONata state write \"{key[..^2]}\": \"{{% expression %}}\"",
                            Join(location, key));
                    }

                    JsonataValue(inner, Join(location, key));
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    JsonataValue(array[i], $"{location}[{i}]");
                }

                break;
            case JsonValue when Json.TryGetString(value, out var text) && JsonataTemplate.IsExpressionText(text):
                Expression(text[2..^2], location);
                break;
            default:
                break;
        }
    }

    private void Expression(string text, string location)
    {
        Node ast;
        try
        {
            ast = Parser.Parse(text, version206: true);
        }
        catch (JsonataException e)
        {
            var message = e.Message.StartsWith(e.Code + ": ", StringComparison.Ordinal) ? e.Message[(e.Code.Length + 2)..] : e.Message;
            Error(DiagnosticCodes.InvalidJsonataExpression, message, location);
            return;
        }

        foreach (var name in TopLevelNames(ast).Distinct(StringComparer.Ordinal))
        {
            Error(DiagnosticCodes.UnsupportedJsonataExpression, $"Reference to '{name}' at the top level is not supported.", location);
        }
    }

    /// <summary>
    /// Field names read from the context at the top level of an expression, where the service has no context to read
    /// (only <c>$states</c> and variables): the first step of a top-level path, and the operands, arguments and items
    /// around it. A lambda's body, a predicate and a later path step have a context of their own and are not looked in.
    /// </summary>
    private static IEnumerable<string> TopLevelNames(Node node)
    {
        switch (node.Type)
        {
            case "path":
                if (node.Steps.Count > 0)
                {
                    foreach (var name in node.Steps[0].Type == "name" ? [node.Steps[0].Value?.ToString() ?? ""] : TopLevelNames(node.Steps[0]))
                    {
                        yield return name;
                    }
                }

                break;
            case "name":
                yield return node.Value?.ToString() ?? "";
                break;
            case "binary":
            case "apply":
                foreach (var child in (Node?[])[node.Lhs, node.Rhs])
                {
                    foreach (var name in child is null ? [] : TopLevelNames(child))
                    {
                        yield return name;
                    }
                }

                break;
            case "bind":
                foreach (var name in node.Rhs is null ? [] : TopLevelNames(node.Rhs))
                {
                    yield return name;
                }

                break;
            case "condition":
                foreach (var child in (Node?[])[node.Condition, node.Then, node.Else])
                {
                    foreach (var name in child is null ? [] : TopLevelNames(child))
                    {
                        yield return name;
                    }
                }

                break;
            case "unary":
            case "block":
            case "function":
            case "partial":
                var children = node.Expressions.Concat(node.Arguments).Concat(node.Pairs.SelectMany(p => (Node[])[p.Key, p.Value]));
                if (node.Expression is not null)
                {
                    children = children.Append(node.Expression);
                }

                foreach (var child in children)
                {
                    foreach (var name in TopLevelNames(child))
                    {
                        yield return name;
                    }
                }

                break;
            default:
                break;
        }
    }
}
