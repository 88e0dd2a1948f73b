using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions.Jsonata;

/// <summary>JSON null; C# null stands for JSONata's <c>undefined</c> (no value), which JSON cannot spell.</summary>
public sealed class JNull
{
    public static readonly JNull Value = new();

    private JNull()
    {
    }
}

/// <summary>
/// An array or a sequence. JSONata flattens sequences (results of path steps) but keeps arrays the expression built;
/// the flags carry that distinction the way the reference implementation marks its arrays.
/// </summary>
public sealed class JList : List<object?>
{
    public JList()
    {
    }

    public JList(IEnumerable<object?> items) : base(items)
    {
    }

    public bool Sequence { get; set; }

    public bool KeepSingleton { get; set; }

    /// <summary>Built by an array constructor, so a path step does not flatten it.</summary>
    public bool Cons { get; set; }

    /// <summary>The whole input was an array; <c>$</c> and a wildcard see the array, not its wrapper.</summary>
    public bool OuterWrapper { get; set; }

    /// <summary>A stream of variable-binding tuples (paths with <c>@</c>, <c>#</c> or <c>%</c>).</summary>
    public bool TupleStream { get; set; }

    public static JList NewSequence() => new() { Sequence = true };

    /// <summary>A sequence of one item; as in the reference, an undefined item is kept, so a path over no input still evaluates its variables.</summary>
    public static JList NewSequence(object? item)
    {
        var s = NewSequence();
        s.Add(item);
        return s;
    }
}

/// <summary>A JSON object; keys keep their insertion order, as in JavaScript.</summary>
public sealed class JObject : OrderedDictionary<string, object?>
{
    public JObject() : base(StringComparer.Ordinal)
    {
    }
}

/// <summary>The bindings of one tuple in a tuple stream: <c>@</c> is the context, the rest are focus/index/ancestor variables.</summary>
internal sealed class JTuple : Dictionary<string, object?>
{
    public JTuple() : base(StringComparer.Ordinal)
    {
    }

    public JTuple(JTuple other) : base(other, StringComparer.Ordinal)
    {
    }
}

/// <summary>Conversions, JSON text and the JavaScript number and equality rules the language inherits.</summary>
public static class Values
{
    public static object? FromJson(JsonNode? node) => node switch
    {
        null => JNull.Value,
        JsonObject o => FromObject(o),
        JsonArray a => new JList(a.Select(FromJson)),
        JsonValue v => FromValue(v),
        _ => throw new InvalidOperationException("unknown JSON node"),
    };

    private static JObject FromObject(JsonObject o)
    {
        var result = new JObject();
        foreach (var (k, v) in o)
        {
            result[k] = FromJson(v);
        }

        return result;
    }

    private static object FromValue(JsonValue v)
    {
        switch (v.GetValueKind())
        {
            case JsonValueKind.String:
                return v.GetValue<string>();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.Null:
                return JNull.Value;
            default:
                if (v.TryGetValue<double>(out var d))
                {
                    return d;
                }

                return double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture);
        }
    }

    /// <summary>JSON for a value; undefined is C# null, and functions turn into empty strings as in <c>$string</c>.</summary>
    public static JsonNode? ToJson(object? value) => value switch
    {
        null or JNull => null,
        bool b => JsonValue.Create(b),
        double d => double.IsFinite(d) ? JsonValue.Create(d) : throw new JsonataException("D1001", value: d),
        string s => JsonValue.Create(s),
        JList l => new JsonArray([.. l.Select(ToJson)]),
        JObject o => ToJsonObject(o),
        JFunc => JsonValue.Create(""),
        JTuple t => ToJson(t.GetValueOrDefault("@")),
        _ => throw new InvalidOperationException("unknown JSONata value " + value.GetType().Name),
    };

    private static JsonObject ToJsonObject(JObject o)
    {
        var result = new JsonObject();
        foreach (var (k, v) in o)
        {
            if (v is not null)
            {
                result[k] = ToJson(v);
            }
        }

        return result;
    }

    public static bool IsNumber(object? v) => v is double d && double.IsFinite(d);

    public static bool IsArrayOfStrings(object? v) => v is JList l && l.All(x => x is string);

    public static bool IsArrayOfNumbers(object? v) => v is JList l && l.All(x => x is double);

    public static bool IsInteger(object? v) => v is double d && double.IsFinite(d) && Math.Floor(d) == d;

    public static bool DeepEqual(object? a, object? b)
    {
        if (a is null || b is null)
        {
            return a is null && b is null;
        }

        switch (a)
        {
            case double x:
                return b is double y && x == y;
            case string s:
                return b is string t && string.Equals(s, t, StringComparison.Ordinal);
            case bool p:
                return b is bool q && p == q;
            case JNull:
                return b is JNull;
            case JList l:
                return b is JList m && l.Count == m.Count && l.Zip(m).All(z => DeepEqual(z.First, z.Second));
            case JObject o:
                if (b is not JObject o2 || o.Count != o2.Count)
                {
                    return false;
                }

                foreach (var (k, v) in o)
                {
                    if (!o2.TryGetValue(k, out var w) || !DeepEqual(v, w))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return ReferenceEquals(a, b);
        }
    }

    /// <summary>JavaScript's Number.prototype.toString: the shortest digits that round-trip, exponent outside 1e-7 … 1e21.</summary>
    public static string FormatNumber(double d)
    {
        if (d == 0)
        {
            return "0";
        }

        if (double.IsNaN(d))
        {
            return "NaN";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "Infinity" : "-Infinity";
        }

        var shortest = d.ToString("R", CultureInfo.InvariantCulture);
        var negative = shortest.StartsWith('-');
        if (negative)
        {
            shortest = shortest[1..];
        }

        var exponent = 0;
        var e = shortest.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(shortest[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            shortest = shortest[..e];
        }

        var dot = shortest.IndexOf('.', StringComparison.Ordinal);
        var intPart = dot < 0 ? shortest : shortest[..dot];
        var fracPart = dot < 0 ? "" : shortest[(dot + 1)..];
        var digits = (intPart + fracPart).TrimStart('0');
        var leadingZeros = (intPart + fracPart).Length - digits.Length;
        digits = digits.TrimEnd('0');
        var n = intPart.Length - leadingZeros + exponent; // value = 0.digits × 10^n
        var k = digits.Length;
        var sb = new StringBuilder();
        if (negative)
        {
            sb.Append('-');
        }

        if (k <= n && n <= 21)
        {
            sb.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            sb.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            sb.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            sb.Append(digits[0]);
            if (k > 1)
            {
                sb.Append('.').Append(digits, 1, k - 1);
            }

            sb.Append('e').Append(n - 1 >= 0 ? "+" : "-").Append(Math.Abs(n - 1).ToString(CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    /// <summary>Number(x.toPrecision(15)): what <c>$string</c> prints, hiding binary rounding noise.</summary>
    public static double Precision15(double d) =>
        double.IsFinite(d) ? double.Parse(d.ToString("E14", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : d;

    /// <summary>JSON.stringify with JSONata's replacer (numbers to 15 significant digits, functions as "").</summary>
    public static string Stringify(object? value, bool pretty)
    {
        var sb = new StringBuilder();
        Write(sb, value, pretty, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value, bool pretty, int depth)
    {
        switch (value)
        {
            case null or JNull:
                sb.Append("null");
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case double d:
                // Integers print exactly; other numbers to 15 significant digits, hiding binary rounding noise.
                sb.Append(!double.IsFinite(d) ? throw new JsonataException("D1001", value: d) : FormatNumber(Math.Floor(d) == d ? d : Precision15(d)));
                break;
            case string s:
                Quote(sb, s);
                break;
            case JFunc:
                sb.Append("\"\"");
                break;
            case JList l:
                if (l.Count == 0)
                {
                    sb.Append("[]");
                    break;
                }

                sb.Append('[');
                for (var i = 0; i < l.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',');
                    }

                    NewLine(sb, pretty, depth + 1);
                    Write(sb, l[i], pretty, depth + 1);
                }

                NewLine(sb, pretty, depth);
                sb.Append(']');
                break;
            case JObject o:
                var first = true;
                sb.Append('{');
                foreach (var (k, v) in o)
                {
                    if (v is null)
                    {
                        continue;
                    }

                    if (!first)
                    {
                        sb.Append(',');
                    }

                    first = false;
                    NewLine(sb, pretty, depth + 1);
                    Quote(sb, k);
                    sb.Append(pretty ? ": " : ":");
                    Write(sb, v, pretty, depth + 1);
                }

                if (!first)
                {
                    NewLine(sb, pretty, depth);
                }

                sb.Append('}');
                break;
            case JTuple t:
                Write(sb, t.GetValueOrDefault("@"), pretty, depth);
                break;
            default:
                sb.Append("null");
                break;
        }
    }

    private static void NewLine(StringBuilder sb, bool pretty, int depth)
    {
        if (pretty)
        {
            sb.Append('\n').Append(' ', 2 * depth);
        }
    }

    public static void Quote(StringBuilder sb, string s)
    {
        sb.Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    var lone = (char.IsHighSurrogate(c) && (i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1])))
                        || (char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(s[i - 1])));
                    if (c < 0x20 || lone)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }
}
