using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// A compiled Parameters / ResultSelector / ItemSelector object: keys ending in <c>.$</c> take their value from a
/// path or an intrinsic function; every other value is copied as written.
/// </summary>
internal sealed class PayloadTemplate
{
    private readonly Node _root;

    private PayloadTemplate(Node root)
    {
        _root = root;
    }

    /// <summary>Compiles <paramref name="template"/>, adding a message to <paramref name="errors"/> for each bad path or call.</summary>
    public static PayloadTemplate Compile(JsonNode? template, string where, List<string> errors)
    {
        return new PayloadTemplate(CompileNode(template, where, errors));
    }

    public JsonNode? Evaluate(DataScope scope) => _root.Evaluate(scope);

    private static Node CompileNode(JsonNode? node, string where, List<string> errors)
    {
        switch (node)
        {
            case JsonObject obj:
            {
                var fields = new List<(string Key, Node Value)>();
                foreach (var (key, value) in obj)
                {
                    if (key.EndsWith(".$", StringComparison.Ordinal))
                    {
                        var name = key[..^2];
                        if (!Json.TryGetString(value, out var expression))
                        {
                            errors.Add($"{where}: the value of '{key}' must be a string holding a path or an intrinsic function");
                            continue;
                        }

                        if (IntrinsicCall.IsIntrinsic(expression))
                        {
                            try
                            {
                                var call = IntrinsicCall.Parse(expression);
                                errors.AddRange(call.Validate().Select(e => $"{where}: field '{key}': {e}"));
                                fields.Add((name, new CallNode(call)));
                            }
                            catch (FormatException e)
                            {
                                errors.Add($"{where}: field '{key}': '{expression}' is not a valid intrinsic function call: {e.Message}");
                            }
                        }
                        else if (JsonPath.TryParse(expression, out var path, out var error))
                        {
                            fields.Add((name, new PathNode(path, key)));
                        }
                        else
                        {
                            errors.Add($"{where}: field '{key}': {error}");
                        }
                    }
                    else
                    {
                        fields.Add((key, CompileNode(value, where, errors)));
                    }
                }

                return new ObjectNode([.. fields]);
            }

            case JsonArray array:
            {
                var items = new List<Node>();
                foreach (var item in array)
                {
                    items.Add(CompileNode(item, where, errors));
                }

                return new ArrayNode([.. items]);
            }

            default:
                return new LiteralNode(node?.DeepClone());
        }
    }

    private abstract class Node
    {
        public abstract JsonNode? Evaluate(DataScope scope);
    }

    private sealed class LiteralNode(JsonNode? value) : Node
    {
        public override JsonNode? Evaluate(DataScope scope) => value?.DeepClone();
    }

    private sealed class ObjectNode((string Key, Node Value)[] fields) : Node
    {
        public override JsonNode? Evaluate(DataScope scope)
        {
            var result = new JsonObject();
            foreach (var (key, value) in fields)
            {
                result[key] = value.Evaluate(scope);
            }

            return result;
        }
    }

    private sealed class ArrayNode(Node[] items) : Node
    {
        public override JsonNode? Evaluate(DataScope scope) => new JsonArray([.. items.Select(i => i.Evaluate(scope))]);
    }

    private sealed class PathNode(JsonPath path, string key) : Node
    {
        public override JsonNode? Evaluate(DataScope scope)
        {
            if (!scope.TryResolve(path, out var value))
            {
                throw StatesException.Runtime($"The JSONPath '{path.Text}' specified for the field '{key}' could not be found in the input.");
            }

            return value?.DeepClone();
        }
    }

    private sealed class CallNode(IntrinsicCall call) : Node
    {
        public override JsonNode? Evaluate(DataScope scope) => call.Evaluate(scope);
    }
}
