using System.Globalization;
using System.Text;

namespace Writeback.StepFunctions.Jsonata;

/// <summary>The JSONata function library, and the helpers the evaluator shares with it.</summary>
internal static partial class Library
{
    private static object? Arg(List<object?> args, int i) => i < args.Count ? args[i] : null;

    public static Frame CreateStaticFrame()
    {
        var frame = new Frame(null);
        foreach (var f in All())
        {
            frame.Bind(f.Name, f);
        }

        return frame;
    }

    private static IEnumerable<NativeFunc> All()
    {
        yield return new("sum", "<a<n>:n>", (_, a) => Arg(a, 0) is JList l ? l.Sum(x => (double)x!) : null);
        yield return new("count", "<a:n>", (_, a) => Arg(a, 0) is JList l ? (double)l.Count : 0d);
        yield return new("max", "<a<n>:n>", (_, a) => Arg(a, 0) is JList { Count: > 0 } l ? l.Max(x => (double)x!) : null);
        yield return new("min", "<a<n>:n>", (_, a) => Arg(a, 0) is JList { Count: > 0 } l ? l.Min(x => (double)x!) : null);
        yield return new("average", "<a<n>:n>", (_, a) => Arg(a, 0) is JList { Count: > 0 } l ? l.Average(x => (double)x!) : null);
        yield return new("string", "<x-b?:s>", (_, a) => Arg(a, 0) is null ? null : String(Arg(a, 0), Arg(a, 1) is true), arity: 1);
        yield return new("substring", "<s-nn?:s>", (_, a) => Substring(Arg(a, 0) as string, Arg(a, 1), Arg(a, 2)));
        yield return new("substringBefore", "<s-s:s>", (_, a) => Arg(a, 0) is string s ? Arg(a, 1) is string c && s.IndexOf(c, StringComparison.Ordinal) is >= 0 and var i ? s[..i] : s : null);
        yield return new("substringAfter", "<s-s:s>", (_, a) => Arg(a, 0) is string s ? Arg(a, 1) is string c && s.IndexOf(c, StringComparison.Ordinal) is >= 0 and var i ? s[(i + c.Length)..] : s : null);
        yield return new("lowercase", "<s-:s>", (_, a) => (Arg(a, 0) as string)?.ToLowerInvariant());
        yield return new("uppercase", "<s-:s>", (_, a) => (Arg(a, 0) as string)?.ToUpperInvariant());
        yield return new("length", "<s-:n>", (_, a) => Arg(a, 0) is string s ? (double)CodePoints(s).Count : null);
        yield return new("trim", "<s-:s>", (_, a) => Arg(a, 0) is string s ? string.Join(' ', s.Split([' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)) : null);
        yield return new("pad", "<s-ns?:s>", (_, a) => Pad(Arg(a, 0) as string, (double)Arg(a, 1)!, Arg(a, 2) as string));
        yield return new("match", "<s-f<s:o>n?:a<o>>", (ctx, a) => Match(ctx, Arg(a, 0) as string, (JFunc)Arg(a, 1)!, Arg(a, 2)));
        yield return new("contains", "<s-(sf):b>", (ctx, a) => Contains(ctx, Arg(a, 0) as string, Arg(a, 1)));
        yield return new("replace", "<s-(sf)(sf)n?:s>", (ctx, a) => Replace(ctx, Arg(a, 0) as string, Arg(a, 1), Arg(a, 2), Arg(a, 3)));
        yield return new("split", "<s-(sf)n?:a<s>>", (ctx, a) => Split(ctx, Arg(a, 0) as string, Arg(a, 1), Arg(a, 2)));
        yield return new("join", "<a<s>s?:s>", (_, a) => Arg(a, 0) is JList l ? string.Join(Arg(a, 1) as string ?? "", l.Select(x => (string)x!)) : null);
        yield return new("formatNumber", "<n-so?:s>", (_, a) => Pictures.FormatNumber(Arg(a, 0), Arg(a, 1) as string, Arg(a, 2) as JObject));
        yield return new("formatBase", "<n-n?:s>", (_, a) => FormatBase(Arg(a, 0), Arg(a, 1)));
        yield return new("formatInteger", "<n-s:s>", (_, a) => Pictures.FormatInteger(Arg(a, 0), Arg(a, 1) as string));
        yield return new("parseInteger", "<s-s:n>", (_, a) => Pictures.ParseInteger(Arg(a, 0) as string, Arg(a, 1) as string));
        yield return new("number", "<(nsb)-:n>", (_, a) => Number(Arg(a, 0)));
        yield return new("floor", "<n-:n>", (_, a) => Arg(a, 0) is double d ? Math.Floor(d) : null);
        yield return new("ceil", "<n-:n>", (_, a) => Arg(a, 0) is double d ? Math.Ceiling(d) : null);
        yield return new("round", "<n-n?:n>", (_, a) => Arg(a, 0) is double d ? Round(d, Arg(a, 1) is double p ? (int)p : 0) : null);
        yield return new("abs", "<n-:n>", (_, a) => Arg(a, 0) is double d ? Math.Abs(d) : null);
        yield return new("sqrt", "<n-:n>", (_, a) => Arg(a, 0) is double d ? d < 0 ? throw new JsonataException("D3060", value: d) : Math.Sqrt(d) : null);
        yield return new("power", "<n-n:n>", (_, a) => Power(Arg(a, 0), Arg(a, 1)));
        yield return new("random", "<n?:n>", (ctx, a) => Arg(a, 0) is double seed ? new Random((int)seed).NextDouble() : RandomDraws.NextDouble(ctx.Env.Randomness));
        yield return new("boolean", "<x-:b>", (_, a) => Boolean(Arg(a, 0)));
        yield return new("not", "<x-:b>", (_, a) => Arg(a, 0) is null ? null : Boolean(Arg(a, 0)) != true);
        yield return new("map", "<af>", (ctx, a) => Map(ctx, Arg(a, 0) as JList, (JFunc)Arg(a, 1)!));
        yield return new("zip", "<a+>", (_, a) => Zip(a));
        yield return new("filter", "<af>", (ctx, a) => Filter(ctx, Arg(a, 0) as JList, (JFunc)Arg(a, 1)!));
        yield return new("single", "<af?>", (ctx, a) => Single(ctx, Arg(a, 0) as JList, Arg(a, 1) as JFunc));
        yield return new("reduce", "<afj?:j>", (ctx, a) => Reduce(ctx, Arg(a, 0) as JList, (JFunc)Arg(a, 1)!, Arg(a, 2)));
        yield return new("sift", "<o-f?:o>", (ctx, a) => Sift(ctx, Arg(a, 0) as JObject, (JFunc)Arg(a, 1)!));
        yield return new("keys", "<x-:a<s>>", (_, a) => Keys(Arg(a, 0)));
        yield return new("lookup", "<x-s:x>", (_, a) => Evaluator.Lookup(Arg(a, 0), (string)Arg(a, 1)!));
        yield return new("append", "<xx:a>", (_, a) => Append(Arg(a, 0), Arg(a, 1)));
        yield return new("exists", "<x:b>", (_, a) => Arg(a, 0) is not null);
        yield return new("spread", "<x-:a<o>>", (_, a) => Spread(Arg(a, 0)));
        yield return new("merge", "<a<o>:o>", (_, a) => Merge(Arg(a, 0) as JList));
        yield return new("reverse", "<a:a>", (_, a) => Arg(a, 0) is JList l ? l.Count <= 1 ? l : new JList(Enumerable.Reverse(l)) : null);
        yield return new("each", "<o-f:a>", (ctx, a) => Each(ctx, Arg(a, 0) as JObject, (JFunc)Arg(a, 1)!));
        yield return new("error", "<s?:x>", (_, a) => throw new JsonataException("D3137", value: Arg(a, 0) as string ?? "$error() function evaluated"));
        yield return new("assert", "<bs?:x>", (_, a) => Arg(a, 0) is false ? throw new JsonataException("D3141", value: Arg(a, 1) as string ?? "$assert() statement failed") : null);
        yield return new("type", "<x:s>", (_, a) => TypeOf(Arg(a, 0)));
        yield return new("sort", "<af?:a>", (ctx, a) => Sort(ctx, Arg(a, 0) as JList, Arg(a, 1) as JFunc));
        yield return new("shuffle", "<a:a>", (ctx, a) => Arg(a, 0) is JList l ? RandomDraws.Shuffle(l, ctx.Env.Randomness) : null);
        yield return new("distinct", "<x:x>", (_, a) => Distinct(Arg(a, 0)));
        yield return new("base64encode", "<s-:s>", (_, a) => Arg(a, 0) is string s ? Convert.ToBase64String(Encoding.Latin1.GetBytes(s)) : null);
        yield return new("base64decode", "<s-:s>", (_, a) => Arg(a, 0) is string s ? Encoding.Latin1.GetString(Convert.FromBase64String(s)) : null);
        yield return new("encodeUrlComponent", "<s-:s>", (_, a) => UrlCoding.EncodeComponent(Arg(a, 0) as string, "encodeUrlComponent"));
        yield return new("encodeUrl", "<s-:s>", (_, a) => UrlCoding.Encode(Arg(a, 0) as string));
        yield return new("decodeUrlComponent", "<s-:s>", (_, a) => UrlCoding.Decode(Arg(a, 0) as string, "decodeUrlComponent", component: true));
        yield return new("decodeUrl", "<s-:s>", (_, a) => UrlCoding.Decode(Arg(a, 0) as string, "decodeUrl", component: false));
        yield return new("toMillis", "<s-s?:n>", (ctx, a) => Dates.ToMillis(Arg(a, 0) as string, Arg(a, 1) as string, ctx.Env.Timestamp));
        yield return new("fromMillis", "<n-s?s?:s>", (_, a) => Dates.FromMillis(Arg(a, 0), Arg(a, 1) as string, Arg(a, 2) as string));
        yield return new("clone", "<(oa)-:o>", (_, a) => Arg(a, 0) is null ? null : Values.FromJson(System.Text.Json.Nodes.JsonNode.Parse(String(Arg(a, 0), false))));
        yield return new("now", "<s?s?:s>", (ctx, a) => Dates.FromMillis((double)ctx.Env.Timestamp.ToUnixTimeMilliseconds(), Arg(a, 0) as string, Arg(a, 1) as string));
        yield return new("millis", "<:n>", (ctx, _) => (double)ctx.Env.Timestamp.ToUnixTimeMilliseconds());
        foreach (var f in StepFunctionsAdditions())
        {
            yield return f;
        }
    }

    public static bool? Boolean(object? arg)
    {
        switch (arg)
        {
            case null:
                return null;
            case JList l:
                if (l.Count == 1)
                {
                    return Boolean(l[0]);
                }

                return l.Count > 1 && l.Any(x => Boolean(x) == true);
            case string s:
                return s.Length > 0;
            case double d:
                return d != 0;
            case bool b:
                return b;
            case JObject o:
                return o.Count > 0;
            default:
                return false;
        }
    }

    public static string String(object? arg, bool pretty = false)
    {
        switch (arg)
        {
            case string s:
                return s;
            case JFunc:
                return "";
            case double d when !double.IsFinite(d):
                throw new JsonataException("D3001", value: d);
            case JList { OuterWrapper: true } wrapper:
                return Values.Stringify(wrapper[0], pretty);
            default:
                return Values.Stringify(arg, pretty);
        }
    }

    public static object? Append(object? a, object? b)
    {
        if (a is null)
        {
            return b;
        }

        if (b is null)
        {
            return a;
        }

        var result = new JList();
        if (a is JList la)
        {
            result.AddRange(la);
        }
        else
        {
            result.Add(a);
        }

        if (b is JList lb)
        {
            result.AddRange(lb);
        }
        else
        {
            result.Add(b);
        }

        return result;
    }

    public static string TypeOf(object? v) => v switch
    {
        null => null!,
        JNull => "null",
        double => "number",
        string => "string",
        bool => "boolean",
        JList => "array",
        JFunc => "function",
        _ => "object",
    };

    public static List<int> CodePoints(string s)
    {
        var result = new List<int>();
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result.Add(char.ConvertToUtf32(s[i], s[i + 1]));
                i++;
            }
            else
            {
                result.Add(s[i]);
            }
        }

        return result;
    }

    private static string FromCodePoints(IEnumerable<int> cps)
    {
        var sb = new StringBuilder();
        foreach (var cp in cps)
        {
            if (cp > 0xFFFF)
            {
                sb.Append(char.ConvertFromUtf32(cp));
            }
            else
            {
                sb.Append((char)cp);
            }
        }

        return sb.ToString();
    }

    private static string? Substring(string? s, object? start, object? length)
    {
        if (s is null)
        {
            return null;
        }

        var cps = CodePoints(s);
        var len = cps.Count;
        var st = (double)start!;
        if (st < 0)
        {
            st = Math.Max(0, len + st);
        }

        if (length is double l)
        {
            if (l <= 0)
            {
                return "";
            }

            var end = Math.Min(len, st + l);
            return st >= len ? "" : FromCodePoints(cps.Skip((int)st).Take((int)(end - st)));
        }

        return st >= len ? "" : FromCodePoints(cps.Skip((int)st));
    }

    private static string? Pad(string? s, double width, string? ch)
    {
        if (s is null)
        {
            return null;
        }

        ch = string.IsNullOrEmpty(ch) ? " " : ch;
        var cps = CodePoints(s);
        var padLength = (int)Math.Abs(width) - cps.Count;
        if (padLength <= 0)
        {
            return s;
        }

        var chars = CodePoints(ch);
        var padding = FromCodePoints(Enumerable.Range(0, padLength).Select(i => chars[i % chars.Count]));
        return width > 0 ? s + padding : padding + s;
    }

    private static string? FormatBase(object? value, object? radix)
    {
        if (value is not double d)
        {
            return null;
        }

        var r = radix is double rd ? (int)rd : 10;
        if (r < 2 || r > 36)
        {
            throw new JsonataException("D3100", value: (double)r);
        }

        var n = (long)Round(d, 0);
        var negative = n < 0;
        n = Math.Abs(n);
        var sb = new StringBuilder();
        do
        {
            sb.Insert(0, "0123456789abcdefghijklmnopqrstuvwxyz"[(int)(n % r)]);
            n /= r;
        }
        while (n > 0);
        return (negative ? "-" : "") + sb;
    }

    private static object? Number(object? arg)
    {
        switch (arg)
        {
            case null:
                return null;
            case double d:
                return d;
            case bool b:
                return b ? 1d : 0d;
            case string s when DecimalNumber().IsMatch(s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v):
                return v;
            case string s when s.Length > 2 && s[0] == '0' && s[1] is 'x' or 'X' or 'o' or 'O' or 'b' or 'B' && RadixNumber().IsMatch(s):
                var radix = s[1] is 'x' or 'X' ? 16 : s[1] is 'o' or 'O' ? 8 : 2;
                return (double)Convert.ToInt64(s[2..], radix);
            default:
                throw new JsonataException("D3030", value: arg, index: 1);
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?$")]
    private static partial System.Text.RegularExpressions.Regex DecimalNumber();

    [System.Text.RegularExpressions.GeneratedRegex(@"^(0[xX][0-9A-Fa-f]+|0[oO][0-7]+|0[bB][0-1]+)$")]
    private static partial System.Text.RegularExpressions.Regex RadixNumber();

    /// <summary>Round half to even at a decimal precision, shifting the decimal point in the text as the reference does.</summary>
    public static double Round(double arg, int precision)
    {
        var value = precision != 0 ? Shift(arg, precision) : arg;
        var result = Math.Floor(value + 0.5);
        if (Math.Abs(result - value) == 0.5 && Math.Abs(result % 2) == 1)
        {
            result -= 1;
        }

        if (precision != 0)
        {
            result = Shift(result, -precision);
        }

        return result == 0 ? 0 : result;
    }

    private static double Shift(double v, int places)
    {
        var text = Values.FormatNumber(v);
        var e = text.IndexOf('e', StringComparison.Ordinal);
        var mantissa = e < 0 ? text : text[..e];
        var exponent = e < 0 ? 0 : int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return double.Parse(mantissa + "e" + (exponent + places).ToString(CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private static double? Power(object? b, object? e)
    {
        if (b is not double x)
        {
            return null;
        }

        var r = Math.Pow(x, (double)e!);
        if (!double.IsFinite(r))
        {
            throw new JsonataException("D3061", value: x);
        }

        return r;
    }
}
