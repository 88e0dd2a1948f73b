using System.Globalization;
using System.Text;

namespace Writeback.StepFunctions.Jsonata;

/// <summary>The string functions that take a pattern: $match, $contains, $replace and $split, over regexes or matcher functions.</summary>
internal static partial class Library
{
    /// <summary>One match of a regex from a position, in the shape the reference's matcher functions return.</summary>
    public static JObject? RegexMatch(JsRegex regex, string s, int from)
    {
        if (from > s.Length)
        {
            return null;
        }

        var m = regex.Regex.Match(s, from);
        if (!m.Success)
        {
            return null;
        }

        var groups = new JList();
        for (var g = 1; g < m.Groups.Count; g++)
        {
            groups.Add(m.Groups[g].Success ? m.Groups[g].Value : null);
        }

        return new JObject
        {
            ["match"] = m.Value,
            ["start"] = (double)m.Index,
            ["end"] = (double)(m.Index + m.Length),
            ["groups"] = groups,
        };
    }

    /// <summary>All matches of a matcher; a built-in regex is run directly, a user function through its next() chain.</summary>
    private static List<JObject> Matches(CallContext ctx, JFunc matcher, string s, int limit)
    {
        var result = new List<JObject>();
        if (matcher is RegexFunc rf)
        {
            var from = 0;
            while (result.Count < limit)
            {
                var m = RegexMatch(rf.Regex, s, from);
                if (m is null)
                {
                    break;
                }

                if ((string)m["match"]! == "")
                {
                    throw new JsonataException("D1004", value: rf.Regex.Source);
                }

                result.Add(m);
                from = (int)(double)m["end"]!;
            }

            return result;
        }

        var match = ctx.Call(matcher, s);
        while (match is not null && result.Count < limit)
        {
            if (match is not JObject o || o.GetValueOrDefault("start") is not double || o.GetValueOrDefault("match") is not string)
            {
                throw new JsonataException("T1010");
            }

            result.Add(o);
            match = o.GetValueOrDefault("next") is JFunc next ? ctx.Call(next) : null;
        }

        return result;
    }

    private static JList? Match(CallContext ctx, string? s, JFunc regex, object? limit)
    {
        if (s is null)
        {
            return null;
        }

        if (limit is double l && l < 0)
        {
            throw new JsonataException("D3040", value: l);
        }

        var result = new JList { Sequence = true };
        foreach (var m in Matches(ctx, regex, s, limit is double n ? (int)n : int.MaxValue))
        {
            result.Add(new JObject { ["match"] = m["match"], ["index"] = m["start"], ["groups"] = m["groups"] });
        }

        return result;
    }

    private static bool? Contains(CallContext ctx, string? s, object? token)
    {
        if (s is null)
        {
            return null;
        }

        return token switch
        {
            null => null,
            string t => s.Contains(t, StringComparison.Ordinal),
            _ => Matches(ctx, (JFunc)token, s, 1).Count > 0,
        };
    }

    private static string? Replace(CallContext ctx, string? s, object? pattern, object? replacement, object? limit)
    {
        if (s is null)
        {
            return null;
        }

        if (pattern is "")
        {
            throw new JsonataException("D3010", value: pattern);
        }

        if (limit is double l && l < 0)
        {
            throw new JsonataException("D3011", value: l);
        }

        var max = limit is double n ? (int)n : int.MaxValue;
        var sb = new StringBuilder();
        var position = 0;
        if (pattern is string p)
        {
            var count = 0;
            var index = s.IndexOf(p, StringComparison.Ordinal);
            while (index >= 0 && count < max)
            {
                sb.Append(s, position, index - position).Append((string)replacement!);
                position = index + p.Length;
                count++;
                index = s.IndexOf(p, position, StringComparison.Ordinal);
            }

            return sb.Append(s, position, s.Length - position).ToString();
        }

        foreach (var m in Matches(ctx, (JFunc)pattern!, s, max))
        {
            var start = (int)(double)m["start"]!;
            sb.Append(s, position, start - position);
            var with = replacement is string r ? Substitute(r, m) : ctx.Call((JFunc)replacement!, m);
            if (with is not string w)
            {
                throw new JsonataException("D3012", value: with);
            }

            sb.Append(w);
            position = start + ((string)m["match"]!).Length;
        }

        return sb.Append(s, position, s.Length - position).ToString();
    }

    /// <summary>$0 is the match, $1… the groups (as many digits as there are groups), $$ a dollar sign.</summary>
    private static string Substitute(string replacement, JObject match)
    {
        var groups = (JList)match["groups"]!;
        var sb = new StringBuilder();
        var position = 0;
        var index = replacement.IndexOf('$', position);
        while (index >= 0 && position < replacement.Length)
        {
            sb.Append(replacement, position, index - position);
            position = index + 1;
            var c = position < replacement.Length ? replacement[position] : '\0';
            if (c == '$')
            {
                sb.Append('$');
                position++;
            }
            else if (c == '0')
            {
                sb.Append((string)match["match"]!);
                position++;
            }
            else
            {
                var maxDigits = groups.Count == 0 ? 1 : (int)Math.Floor(Math.Log10(groups.Count)) + 1;
                var digits = ParseLeadingInt(replacement, position, maxDigits);
                if (maxDigits > 1 && digits > groups.Count)
                {
                    digits = ParseLeadingInt(replacement, position, maxDigits - 1);
                }

                if (digits is { } g)
                {
                    if (groups.Count > 0 && g - 1 < groups.Count && g >= 1 && groups[g - 1] is string sub)
                    {
                        sb.Append(sub);
                    }

                    position += g.ToString(CultureInfo.InvariantCulture).Length;
                }
                else
                {
                    sb.Append('$');
                }
            }

            index = replacement.IndexOf('$', position);
        }

        return sb.Append(replacement, position, replacement.Length - position).ToString();
    }

    private static int? ParseLeadingInt(string s, int start, int maxDigits)
    {
        var end = start;
        while (end < s.Length && end - start < maxDigits && char.IsAsciiDigit(s[end]))
        {
            end++;
        }

        return end == start ? null : int.Parse(s.AsSpan(start, end - start), CultureInfo.InvariantCulture);
    }

    private static JList? Split(CallContext ctx, string? s, object? separator, object? limit)
    {
        if (s is null)
        {
            return null;
        }

        if (limit is double l && l < 0)
        {
            throw new JsonataException("D3020", value: l);
        }

        var max = limit is double n ? (int)n : int.MaxValue;
        var result = new JList();
        if (max == 0)
        {
            return result;
        }

        if (separator is string sep)
        {
            var parts = sep.Length == 0 ? s.Select(c => c.ToString()) : s.Split(sep);
            foreach (var part in parts.Take(max))
            {
                result.Add(part);
            }

            return result;
        }

        var position = 0;
        foreach (var m in Matches(ctx, (JFunc)separator!, s, max))
        {
            var start = (int)(double)m["start"]!;
            result.Add(s[position..start]);
            position = (int)(double)m["end"]!;
        }

        if (result.Count < max)
        {
            result.Add(s[position..]);
        }

        return result;
    }
}
