using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// A compiled JSONPath as ASL uses it: <c>$</c> for the state's data, <c>$$</c> for the context object, <c>$name</c>
/// for a workflow variable; dot and
/// bracket names, indices, slices, wildcards, recursive descent and simple filters. A definite path (names and
/// indices only) selects one node; any other selects a list, as the service's Jayway-based evaluator does.
/// </summary>
public sealed partial class JsonPath
{
    private static readonly ConcurrentDictionary<string, JsonPath> Cache = new(StringComparer.Ordinal);
    private readonly Segment[] _segments;

    private JsonPath(string text, bool isContext, Segment[] segments, string? variableName = null)
    {
        Text = text;
        IsContext = isContext;
        VariableName = variableName;
        _segments = segments;
        IsDefinite = segments.All(s => s.Kind is SegmentKind.Name or SegmentKind.Index);
    }

    public string Text { get; }

    /// <summary>Whether the path starts with <c>$$</c> and so reads the context object.</summary>
    public bool IsContext { get; }

    /// <summary>The workflow variable a <c>$name…</c> path reads (its segments then select inside the variable's value).</summary>
    public string? VariableName { get; }

    /// <summary>Whether the path selects at most one node (a reference path, in the spec's words).</summary>
    public bool IsDefinite { get; }

    internal string? FirstName => _segments.Length > 0 && _segments[0].Kind == SegmentKind.Name ? _segments[0].Name : null;

    public override string ToString() => Text;

    public static JsonPath Parse(string text) =>
        TryParse(text, out var path, out var error) ? path : throw new FormatException(error);

    public static bool TryParse(string text, out JsonPath path, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Cache.TryGetValue(text, out var cached))
        {
            path = cached;
            error = "";
            return true;
        }

        path = null!;
        error = "";
        try
        {
            path = new Parser(text).Parse();
        }
        catch (FormatException e)
        {
            error = $"'{text}' is not a valid JSONPath: {e.Message}";
            return false;
        }

        Cache.TryAdd(text, path);
        return true;
    }

    /// <summary>
    /// Selects from <paramref name="root"/>. A definite path reports whether the node exists; an indefinite one
    /// always succeeds with a (possibly empty) array of copies of the matches.
    /// </summary>
    public bool TryEvaluate(JsonNode? root, out JsonNode? result) => TryEvaluate(root, 0, out result);

    internal bool TryEvaluate(JsonNode? root, int startSegment, out JsonNode? result)
    {
        if (IsDefinite)
        {
            var current = root;
            for (var i = startSegment; i < _segments.Length; i++)
            {
                var s = _segments[i];
                if (s.Kind == SegmentKind.Name)
                {
                    if (current is not JsonObject obj || !obj.TryGetPropertyValue(s.Name!, out current))
                    {
                        result = null;
                        return false;
                    }
                }
                else
                {
                    if (current is not JsonArray arr)
                    {
                        result = null;
                        return false;
                    }

                    var index = s.Start < 0 ? arr.Count + s.Start : s.Start;
                    if (index < 0 || index >= arr.Count)
                    {
                        result = null;
                        return false;
                    }

                    current = arr[index];
                }
            }

            result = current;
            return true;
        }

        var matches = new List<JsonNode?> { root };
        for (var i = startSegment; i < _segments.Length; i++)
        {
            var next = new List<JsonNode?>();
            foreach (var node in matches)
            {
                _segments[i].Select(node, next);
            }

            matches = next;
        }

        var array = new JsonArray();
        foreach (var m in matches)
        {
            array.Add(m?.DeepClone());
        }

        result = array;
        return true;
    }

    /// <summary>
    /// Returns a copy of <paramref name="root"/> with <paramref name="value"/> placed at this (definite) path, creating
    /// missing objects on the way; fails when the path runs through something that is not an object.
    /// </summary>
    public JsonNode? Set(JsonNode? root, JsonNode? value)
    {
        if (!IsDefinite)
        {
            throw new InvalidOperationException($"'{Text}' is not a reference path.");
        }

        if (_segments.Length == 0)
        {
            return value;
        }

        var copy = root?.DeepClone();
        if (copy is not (JsonObject or JsonArray))
        {
            throw StatesException.Runtime(
                $"Unable to apply ResultPath '{Text}' to input '{Json.ToCompactString(root)}': the input is not an object.");
        }

        JsonNode container = copy;
        for (var i = 0; i < _segments.Length; i++)
        {
            var s = _segments[i];
            var last = i == _segments.Length - 1;
            if (s.Kind == SegmentKind.Name)
            {
                if (container is not JsonObject obj)
                {
                    throw StatesException.Runtime($"Unable to apply ResultPath '{Text}': '{s.Name}' is not inside an object.");
                }

                if (last)
                {
                    obj[s.Name!] = Json.Own(value);
                    break;
                }

                if (!obj.TryGetPropertyValue(s.Name!, out var child) || child is not (JsonObject or JsonArray))
                {
                    child = new JsonObject();
                    obj[s.Name!] = child;
                }

                container = child;
            }
            else
            {
                if (container is not JsonArray arr || s.Start < 0 || s.Start >= arr.Count)
                {
                    throw StatesException.Runtime($"Unable to apply ResultPath '{Text}': index {s.Start} does not exist.");
                }

                if (last)
                {
                    arr[s.Start] = Json.Own(value);
                    break;
                }

                container = arr[s.Start] ?? throw StatesException.Runtime($"Unable to apply ResultPath '{Text}'.");
            }
        }

        return copy;
    }
}
