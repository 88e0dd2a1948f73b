using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// A compiled JSONPath as ASL uses it: <c>$</c> for the state's data, <c>$$</c> for the context object, <c>$name</c>
/// for a workflow variable; dot and
/// bracket names, indices, slices, wildcards, recursive descent and simple filters. A definite path (names and
/// indices only) selects one node; any other selects a list, as the service's Jayway-based evaluator does.
/// </summary>
public sealed class JsonPath
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

    private enum SegmentKind { Name, Index, Wildcard, Slice, Union, Descend, Filter }

    private sealed class Segment
    {
        public SegmentKind Kind { get; init; }
        public string? Name { get; init; }
        public int Start { get; init; }
        public int? End { get; init; }
        public int Step { get; init; } = 1;
        public Segment[]? Alternatives { get; init; }
        public Segment? Inner { get; init; }
        public Filter? Filter { get; init; }

        public void Select(JsonNode? node, List<JsonNode?> output)
        {
            switch (Kind)
            {
                case SegmentKind.Name:
                    if (node is JsonObject o && o.TryGetPropertyValue(Name!, out var v))
                    {
                        output.Add(v);
                    }

                    break;
                case SegmentKind.Index:
                    if (node is JsonArray a)
                    {
                        var i = Start < 0 ? a.Count + Start : Start;
                        if (i >= 0 && i < a.Count)
                        {
                            output.Add(a[i]);
                        }
                    }

                    break;
                case SegmentKind.Wildcard:
                    if (node is JsonObject wo)
                    {
                        output.AddRange(wo.Select(p => p.Value));
                    }
                    else if (node is JsonArray wa)
                    {
                        output.AddRange(wa);
                    }

                    break;
                case SegmentKind.Slice:
                    if (node is JsonArray sa)
                    {
                        var n = sa.Count;
                        var start = Start < 0 ? Math.Max(0, n + Start) : Math.Min(Start, n);
                        var end = End is null ? n : End < 0 ? Math.Max(0, n + End.Value) : Math.Min(End.Value, n);
                        for (var i = start; i < end; i += Step)
                        {
                            output.Add(sa[i]);
                        }
                    }

                    break;
                case SegmentKind.Union:
                    foreach (var alt in Alternatives!)
                    {
                        alt.Select(node, output);
                    }

                    break;
                case SegmentKind.Descend:
                    Descend(node, output);
                    break;
                case SegmentKind.Filter:
                    IEnumerable<JsonNode?> children = node switch
                    {
                        JsonArray fa => fa,
                        JsonObject fo => fo.Select(p => p.Value),
                        _ => [],
                    };
                    output.AddRange(children.Where(c => Filter!.Matches(c)));
                    break;
                default:
                    throw new InvalidOperationException();
            }
        }

        private void Descend(JsonNode? node, List<JsonNode?> output)
        {
            Inner!.Select(node, output);
            if (node is JsonObject o)
            {
                foreach (var p in o)
                {
                    Descend(p.Value, output);
                }
            }
            else if (node is JsonArray a)
            {
                foreach (var item in a)
                {
                    Descend(item, output);
                }
            }
        }
    }

    /// <summary><c>?(@.a.b op literal)</c>, or <c>?(@.a)</c> for existence; the subset ASL definitions use in practice.</summary>
    private sealed class Filter
    {
        public required JsonPath Left { get; init; }
        public string? Operator { get; init; }
        public JsonNode? Right { get; init; }

        public bool Matches(JsonNode? item)
        {
            if (!Left.TryEvaluate(item, out var value))
            {
                return false;
            }

            if (Operator is null)
            {
                return true;
            }

            if (Operator is "==" or "!=")
            {
                var equal = JsonNode.DeepEquals(value, Right);
                return Operator == "==" ? equal : !equal;
            }

            int comparison;
            if (Json.TryGetNumber(value, out var l) && Json.TryGetNumber(Right, out var r))
            {
                comparison = l.CompareTo(r);
            }
            else if (value?.GetValueKind() == JsonValueKind.String && Right?.GetValueKind() == JsonValueKind.String)
            {
                comparison = string.CompareOrdinal(value.GetValue<string>(), Right.GetValue<string>());
            }
            else
            {
                return false;
            }

            return Operator switch
            {
                "<" => comparison < 0,
                "<=" => comparison <= 0,
                ">" => comparison > 0,
                ">=" => comparison >= 0,
                _ => false,
            };
        }
    }

    private sealed class Parser(string text)
    {
        private int _pos;

        public JsonPath Parse()
        {
            if (text.Length == 0 || text[0] != '$')
            {
                throw new FormatException("a path starts with '$'");
            }

            _pos = 1;
            var isContext = false;
            string? variable = null;
            if (_pos < text.Length && text[_pos] == '$')
            {
                isContext = true;
                _pos++;
            }
            else if (_pos < text.Length && text[_pos] is not ('.' or '['))
            {
                // $name: a workflow variable; the name ends where the first segment starts.
                var start = _pos;
                while (_pos < text.Length && text[_pos] is not ('.' or '['))
                {
                    _pos++;
                }

                variable = text[start.._pos];
                if (!VariableNames.IsValid(variable))
                {
                    throw new FormatException($"'{variable}' is not a valid variable name");
                }
            }

            var segments = new List<Segment>();
            while (_pos < text.Length)
            {
                segments.Add(ParseSegment());
            }

            return new JsonPath(text, isContext, [.. segments], variable);
        }

        private Segment ParseSegment()
        {
            var c = text[_pos];
            if (c == '.')
            {
                _pos++;
                if (_pos < text.Length && text[_pos] == '.')
                {
                    _pos++;
                    var inner = _pos < text.Length && text[_pos] == '[' ? ParseBracket() : ParseDotName();
                    return new Segment { Kind = SegmentKind.Descend, Inner = inner };
                }

                return ParseDotName();
            }

            if (c == '[')
            {
                return ParseBracket();
            }

            throw new FormatException($"unexpected '{c}' at position {_pos}");
        }

        private Segment ParseDotName()
        {
            var start = _pos;
            while (_pos < text.Length && text[_pos] is not ('.' or '['))
            {
                if (char.IsWhiteSpace(text[_pos]))
                {
                    throw new FormatException($"whitespace at position {_pos}");
                }

                _pos++;
            }

            var name = text[start.._pos];
            return name switch
            {
                "" => throw new FormatException($"empty name at position {start}"),
                "*" => new Segment { Kind = SegmentKind.Wildcard },
                _ => new Segment { Kind = SegmentKind.Name, Name = name },
            };
        }

        private Segment ParseBracket()
        {
            _pos++; // '['
            SkipSpaces();
            if (_pos >= text.Length)
            {
                throw new FormatException("unterminated '['");
            }

            Segment segment;
            if (text[_pos] == '*')
            {
                _pos++;
                segment = new Segment { Kind = SegmentKind.Wildcard };
            }
            else if (text[_pos] == '?')
            {
                segment = ParseFilter();
            }
            else
            {
                var parts = new List<Segment>();
                do
                {
                    SkipSpaces();
                    parts.Add(text[_pos] is '\'' or '"' ? new Segment { Kind = SegmentKind.Name, Name = ParseQuoted() } : ParseIndexOrSlice());
                    SkipSpaces();
                }
                while (_pos < text.Length && text[_pos] == ',' && ++_pos > 0);

                segment = parts.Count == 1 ? parts[0] : new Segment { Kind = SegmentKind.Union, Alternatives = [.. parts] };
            }

            SkipSpaces();
            if (_pos >= text.Length || text[_pos] != ']')
            {
                throw new FormatException($"expected ']' at position {_pos}");
            }

            _pos++;
            return segment;
        }

        private Segment ParseIndexOrSlice()
        {
            int? first = ParseOptionalInt();
            if (_pos < text.Length && text[_pos] == ':')
            {
                _pos++;
                var end = ParseOptionalInt();
                var step = 1;
                if (_pos < text.Length && text[_pos] == ':')
                {
                    _pos++;
                    step = ParseOptionalInt() ?? 1;
                    if (step <= 0)
                    {
                        throw new FormatException("a slice step must be positive");
                    }
                }

                return new Segment { Kind = SegmentKind.Slice, Start = first ?? 0, End = end, Step = step };
            }

            return first is null
                ? throw new FormatException($"expected an index at position {_pos}")
                : new Segment { Kind = SegmentKind.Index, Start = first.Value };
        }

        private int? ParseOptionalInt()
        {
            var start = _pos;
            if (_pos < text.Length && text[_pos] == '-')
            {
                _pos++;
            }

            while (_pos < text.Length && char.IsAsciiDigit(text[_pos]))
            {
                _pos++;
            }

            return _pos == start ? null : int.Parse(text.AsSpan(start, _pos - start), CultureInfo.InvariantCulture);
        }

        private string ParseQuoted()
        {
            var quote = text[_pos++];
            var sb = new StringBuilder();
            while (_pos < text.Length && text[_pos] != quote)
            {
                if (text[_pos] == '\\' && _pos + 1 < text.Length)
                {
                    _pos++;
                }

                sb.Append(text[_pos++]);
            }

            if (_pos >= text.Length)
            {
                throw new FormatException("unterminated quoted name");
            }

            _pos++;
            return sb.ToString();
        }

        private Segment ParseFilter()
        {
            _pos++; // '?'
            SkipSpaces();
            if (_pos >= text.Length || text[_pos] != '(')
            {
                throw new FormatException("expected '(' after '?'");
            }

            var close = text.IndexOf(")]", _pos, StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException("unterminated filter");
            }

            var body = text[(_pos + 1)..close].Trim();
            _pos = close + 1;
            if (!body.StartsWith('@'))
            {
                throw new FormatException("a filter starts with '@'");
            }

            string[] operators = ["==", "!=", "<=", ">=", "<", ">"];
            foreach (var op in operators)
            {
                var at = body.IndexOf(op, StringComparison.Ordinal);
                if (at > 0)
                {
                    var left = Parse("$" + body[1..at].Trim());
                    var literal = body[(at + op.Length)..].Trim();
                    if (literal.StartsWith('\''))
                    {
                        literal = JsonSerializer.Serialize(literal.Trim('\''), JsonContext.Default.String);
                    }

                    JsonNode? right;
                    try
                    {
                        right = JsonNode.Parse(literal);
                    }
                    catch (JsonException)
                    {
                        throw new FormatException($"'{literal}' is not a literal");
                    }

                    return new Segment { Kind = SegmentKind.Filter, Filter = new Filter { Left = left, Operator = op, Right = right } };
                }
            }

            return new Segment { Kind = SegmentKind.Filter, Filter = new Filter { Left = Parse("$" + body[1..]) } };
        }

        private static JsonPath Parse(string path) => new Parser(path).Parse();

        private void SkipSpaces()
        {
            while (_pos < text.Length && text[_pos] == ' ')
            {
                _pos++;
            }
        }
    }
}
