using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>Where paths in payload templates and intrinsic functions read from: the state's data and the context object.</summary>
internal abstract class DataScope
{
    public abstract bool TryResolve(JsonPath path, out JsonNode? value);

    /// <summary>Seeded per engine so MathRandom and UUID repeat in tests.</summary>
    public abstract int NextRandom(int minInclusive, int maxExclusive);

    public abstract void NextBytes(Span<byte> bytes);
}

/// <summary>A parsed intrinsic function call such as <c>States.Format('{} items', $.count)</c>.</summary>
internal sealed class IntrinsicCall
{
    private static readonly Dictionary<string, (int Min, int Max)> Arity = new(StringComparer.Ordinal)
    {
        ["States.Format"] = (1, int.MaxValue),
        ["States.StringToJson"] = (1, 1),
        ["States.JsonToString"] = (1, 1),
        ["States.Array"] = (0, int.MaxValue),
        ["States.ArrayPartition"] = (2, 2),
        ["States.ArrayContains"] = (2, 2),
        ["States.ArrayRange"] = (3, 3),
        ["States.ArrayGetItem"] = (2, 2),
        ["States.ArrayLength"] = (1, 1),
        ["States.ArrayUnique"] = (1, 1),
        ["States.Base64Encode"] = (1, 1),
        ["States.Base64Decode"] = (1, 1),
        ["States.Hash"] = (2, 2),
        ["States.JsonMerge"] = (3, 3),
        ["States.MathRandom"] = (2, 3),
        ["States.MathAdd"] = (2, 2),
        ["States.StringSplit"] = (2, 2),
        ["States.UUID"] = (0, 0),
    };

    private IntrinsicCall(string name, Arg[] args)
    {
        Name = name;
        Args = args;
    }

    public string Name { get; }

    private Arg[] Args { get; }

    public static bool IsIntrinsic(string text) => text.StartsWith("States.", StringComparison.Ordinal);

    public static IntrinsicCall Parse(string text)
    {
        var parser = new Parser(text);
        var call = parser.ParseCall();
        parser.SkipSpaces();
        return parser.AtEnd ? call : throw new FormatException($"unexpected text after the call in '{text}'");
    }

    public JsonNode? Evaluate(DataScope scope)
    {
        var values = new JsonNode?[Args.Length];
        for (var i = 0; i < Args.Length; i++)
        {
            values[i] = Args[i].Evaluate(scope);
        }

        try
        {
            return Invoke(values, scope);
        }
        catch (Exception e) when (e is FormatException or JsonException or OverflowException or ArgumentException or InvalidOperationException)
        {
            throw Fail(e.Message);
        }
    }

    private JsonNode? Invoke(JsonNode?[] a, DataScope scope)
    {
        switch (Name)
        {
            case "States.Format":
                return JsonValue.Create(Format(a));
            case "States.StringToJson":
                return Json.Parse(String(a, 0));
            case "States.JsonToString":
                return JsonValue.Create(Json.ToCompactString(a[0]));
            case "States.Array":
                return new JsonArray([.. a.Select(v => v?.DeepClone())]);
            case "States.ArrayPartition":
            {
                var array = Array(a, 0);
                var size = Integer(a, 1);
                if (size <= 0)
                {
                    throw Fail("the chunk size must be a positive integer");
                }

                var result = new JsonArray();
                for (var i = 0; i < array.Count; i += (int)size)
                {
                    result.Add((JsonNode)new JsonArray([.. array.Skip(i).Take((int)size).Select(v => v?.DeepClone())]));
                }

                return result;
            }

            case "States.ArrayContains":
                return JsonValue.Create(Array(a, 0).Any(v => JsonNode.DeepEquals(v, a[1])));
            case "States.ArrayRange":
            {
                var start = Integer(a, 0);
                var end = Integer(a, 1);
                var step = Integer(a, 2);
                if (step == 0)
                {
                    throw Fail("the step must not be 0");
                }

                var result = new JsonArray();
                for (var v = start; step > 0 ? v <= end : v >= end; v += step)
                {
                    if (result.Count == 1000)
                    {
                        throw Fail("the range has more than 1000 items");
                    }

                    result.Add((JsonNode)JsonValue.Create(v));
                }

                return result;
            }

            case "States.ArrayGetItem":
            {
                var array = Array(a, 0);
                var index = Integer(a, 1);
                return index < 0 || index >= array.Count ? throw Fail($"index {index} is out of range") : array[(int)index]?.DeepClone();
            }

            case "States.ArrayLength":
                return JsonValue.Create(Array(a, 0).Count);
            case "States.ArrayUnique":
            {
                var result = new JsonArray();
                foreach (var v in Array(a, 0))
                {
                    if (!result.Any(r => JsonNode.DeepEquals(r, v)))
                    {
                        result.Add(v?.DeepClone());
                    }
                }

                return result;
            }

            case "States.Base64Encode":
                return JsonValue.Create(Convert.ToBase64String(Encoding.UTF8.GetBytes(Limited(a, 0))));
            case "States.Base64Decode":
                return JsonValue.Create(Encoding.UTF8.GetString(Convert.FromBase64String(Limited(a, 0))));
            case "States.Hash":
            {
                var data = Encoding.UTF8.GetBytes(a[0] is JsonValue && Json.TryGetString(a[0], out var s) ? Limit(s) : Limit(Json.ToCompactString(a[0])));
#pragma warning disable CA5350, CA5351 // States.Hash offers MD5 and SHA-1 because the service does; they are checksums here, not security.
                var hash = String(a, 1) switch
                {
                    "MD5" => MD5.HashData(data),
                    "SHA-1" => SHA1.HashData(data),
                    "SHA-256" => SHA256.HashData(data),
                    "SHA-384" => SHA384.HashData(data),
                    "SHA-512" => SHA512.HashData(data),
                    var other => throw Fail($"'{other}' is not a supported algorithm (MD5, SHA-1, SHA-256, SHA-384, SHA-512)"),
                };
#pragma warning restore CA5350, CA5351
                return JsonValue.Create(Convert.ToHexStringLower(hash));
            }

            case "States.JsonMerge":
            {
                if (a[0] is not JsonObject left || a[1] is not JsonObject right)
                {
                    throw Fail("both arguments must be objects");
                }

                if (a[2]?.GetValueKind() != JsonValueKind.False)
                {
                    throw Fail("only a shallow merge (false) is supported, as on the service");
                }

                var merged = (JsonObject)left.DeepClone();
                foreach (var p in right)
                {
                    merged[p.Key] = p.Value?.DeepClone();
                }

                return merged;
            }

            case "States.MathRandom":
            {
                var start = Integer(a, 0);
                var end = Integer(a, 1);
                if (end <= start)
                {
                    throw Fail("the end must be greater than the start");
                }

                if (a.Length == 3)
                {
                    var seeded = new Random(unchecked((int)Integer(a, 2)));
                    return JsonValue.Create(seeded.NextInt64(start, end));
                }

                return JsonValue.Create((long)scope.NextRandom(checked((int)start), checked((int)end)));
            }

            case "States.MathAdd":
            {
                var sum = checked((int)Integer(a, 0) + (int)Integer(a, 1));
                return JsonValue.Create(sum);
            }

            case "States.StringSplit":
            {
                var delimiters = String(a, 1).ToCharArray();
                var parts = String(a, 0).Split(delimiters, StringSplitOptions.RemoveEmptyEntries);
                return new JsonArray([.. parts.Select(p => (JsonNode)JsonValue.Create(p))]);
            }

            case "States.UUID":
            {
                Span<byte> bytes = stackalloc byte[16];
                scope.NextBytes(bytes);
                bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
                bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
                return JsonValue.Create(new Guid(bytes, bigEndian: true).ToString());
            }

            default:
                throw Fail("unknown function");
        }
    }

    private string Format(JsonNode?[] a)
    {
        if (Args[0] is not LiteralArg { Raw: { } template })
        {
            throw Fail("the template must be a string literal");
        }

        var sb = new StringBuilder();
        var next = 1;
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '\\' && i + 1 < template.Length)
            {
                sb.Append(template[++i]);
            }
            else if (c == '{' && i + 1 < template.Length && template[i + 1] == '}')
            {
                if (next >= a.Length)
                {
                    throw Fail("the template has more placeholders than arguments");
                }

                var value = a[next++];
                if (value is JsonObject or JsonArray)
                {
                    throw Fail("arguments must be strings, numbers, booleans or null");
                }

                sb.Append(Json.TryGetString(value, out var s) ? s : Json.ToCompactString(value));
                i++;
            }
            else
            {
                sb.Append(c);
            }
        }

        return next != a.Length ? throw Fail("the template has fewer placeholders than arguments") : sb.ToString();
    }

    private string String(JsonNode?[] a, int i) =>
        Json.TryGetString(a[i], out var s) ? s : throw Fail($"argument {i + 1} must be a string, not {Json.Describe(a[i])}");

    private string Limited(JsonNode?[] a, int i) => Limit(String(a, i));

    private string Limit(string s) => s.Length <= 10_000 ? s : throw Fail("the input is longer than 10,000 characters");

    private JsonArray Array(JsonNode?[] a, int i) =>
        a[i] as JsonArray ?? throw Fail($"argument {i + 1} must be an array, not {Json.Describe(a[i])}");

    private long Integer(JsonNode?[] a, int i)
    {
        if (Json.TryGetInteger(a[i], out var v))
        {
            return v;
        }

        if (Json.TryGetString(a[i], out var s) && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v))
        {
            return v;
        }

        throw Fail($"argument {i + 1} must be an integer, not {Json.Describe(a[i])}");
    }

    private StatesException Fail(string message) => new(StatesErrors.IntrinsicFailure, $"{Name}: {message}");

    /// <summary>Checks the call's shape when the definition loads, so a typo fails before anything runs.</summary>
    public IEnumerable<string> Validate()
    {
        if (!Arity.TryGetValue(Name, out var arity))
        {
            yield return $"'{Name}' is not an intrinsic function";
            yield break;
        }

        if (Args.Length < arity.Min || Args.Length > arity.Max)
        {
            yield return $"'{Name}' takes {(arity.Min == arity.Max ? arity.Min.ToString(CultureInfo.InvariantCulture) : $"{arity.Min} or more")} argument(s), not {Args.Length}";
        }

        if (Name == "States.Format" && (Args.Length == 0 || Args[0] is not LiteralArg { Raw: not null }))
        {
            yield return "States.Format's first argument must be a string literal";
        }

        foreach (var nested in Args.OfType<CallArg>().SelectMany(c => c.Call.Validate()))
        {
            yield return nested;
        }
    }

    internal bool UsesContext => Args.Any(a => a is PathArg { Path.IsContext: true } || (a is CallArg c && c.Call.UsesContext));

    private abstract class Arg
    {
        public abstract JsonNode? Evaluate(DataScope scope);
    }

    private sealed class LiteralArg(JsonNode? value, string? raw) : Arg
    {
        public string? Raw { get; } = raw;

        public override JsonNode? Evaluate(DataScope scope) => value?.DeepClone();
    }

    private sealed class PathArg(JsonPath path) : Arg
    {
        public JsonPath Path { get; } = path;

        public override JsonNode? Evaluate(DataScope scope) =>
            scope.TryResolve(Path, out var v)
                ? v
                : throw new StatesException(StatesErrors.Runtime, $"The JSONPath '{Path.Text}' could not be found in the input.");
    }

    private sealed class CallArg(IntrinsicCall call) : Arg
    {
        public IntrinsicCall Call { get; } = call;

        public override JsonNode? Evaluate(DataScope scope) => Call.Evaluate(scope);
    }

    private sealed class Parser(string text)
    {
        private int _pos;

        public bool AtEnd => _pos >= text.Length;

        public IntrinsicCall ParseCall()
        {
            SkipSpaces();
            var start = _pos;
            while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] == '.'))
            {
                _pos++;
            }

            var name = text[start.._pos];
            SkipSpaces();
            Expect('(');
            var args = new List<Arg>();
            SkipSpaces();
            if (Peek() != ')')
            {
                while (true)
                {
                    args.Add(ParseArg());
                    SkipSpaces();
                    if (Peek() == ',')
                    {
                        _pos++;
                        continue;
                    }

                    break;
                }
            }

            Expect(')');
            return new IntrinsicCall(name, [.. args]);
        }

        private Arg ParseArg()
        {
            SkipSpaces();
            var c = Peek();
            if (c == '\'')
            {
                return ParseString();
            }

            if (c == '$')
            {
                var start = _pos;
                var depth = 0;
                var quoted = false;
                while (_pos < text.Length)
                {
                    var ch = text[_pos];
                    if (ch == '\'' )
                    {
                        quoted = !quoted;
                    }
                    else if (!quoted && ch == '[')
                    {
                        depth++;
                    }
                    else if (!quoted && ch == ']')
                    {
                        depth--;
                    }
                    else if (!quoted && depth == 0 && (ch is ',' or ')' || char.IsWhiteSpace(ch)))
                    {
                        break;
                    }

                    _pos++;
                }

                var pathText = text[start.._pos];
                return JsonPath.TryParse(pathText, out var path, out var error) ? new PathArg(path) : throw new FormatException(error);
            }

            if (text.AsSpan(_pos).StartsWith("States.", StringComparison.Ordinal))
            {
                return new CallArg(ParseCall());
            }

            var tokenStart = _pos;
            while (_pos < text.Length && text[_pos] is not (',' or ')') && !char.IsWhiteSpace(text[_pos]))
            {
                _pos++;
            }

            var token = text[tokenStart.._pos];
            return token switch
            {
                "null" => new LiteralArg(null, null),
                "true" => new LiteralArg(JsonValue.Create(true), null),
                "false" => new LiteralArg(JsonValue.Create(false), null),
                _ when double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => new LiteralArg(Json.Number(d), null),
                _ => throw new FormatException($"'{token}' is not a valid argument"),
            };
        }

        private LiteralArg ParseString()
        {
            _pos++; // opening quote
            var raw = new StringBuilder();
            var value = new StringBuilder();
            while (_pos < text.Length && text[_pos] != '\'')
            {
                if (text[_pos] == '\\' && _pos + 1 < text.Length)
                {
                    raw.Append('\\').Append(text[_pos + 1]);
                    value.Append(text[_pos + 1]);
                    _pos += 2;
                    continue;
                }

                raw.Append(text[_pos]);
                value.Append(text[_pos]);
                _pos++;
            }

            if (_pos >= text.Length)
            {
                throw new FormatException("unterminated string literal");
            }

            _pos++;
            return new LiteralArg(JsonValue.Create(value.ToString()), raw.ToString());
        }

        private char Peek() => _pos < text.Length ? text[_pos] : '\0';

        private void Expect(char c)
        {
            if (Peek() != c)
            {
                throw new FormatException($"expected '{c}' at position {_pos} in '{text}'");
            }

            _pos++;
        }

        public void SkipSpaces()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos]))
            {
                _pos++;
            }
        }
    }
}
