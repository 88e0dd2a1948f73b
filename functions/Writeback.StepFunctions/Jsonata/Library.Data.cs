using System.Globalization;
using System.Text;

namespace Writeback.StepFunctions.Jsonata;

/// <summary>Regular-expression, array, object and higher-order functions.</summary>
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

    private static JList? Map(CallContext ctx, JList? arr, JFunc f)
    {
        if (arr is null)
        {
            return null;
        }

        var result = JList.NewSequence();
        for (var i = 0; i < arr.Count; i++)
        {
            var r = ctx.CallWithArity(f, arr[i], (double)i, arr);
            if (r is not null)
            {
                result.Add(r);
            }
        }

        return result;
    }

    private static JList? Filter(CallContext ctx, JList? arr, JFunc f)
    {
        if (arr is null)
        {
            return null;
        }

        var result = JList.NewSequence();
        for (var i = 0; i < arr.Count; i++)
        {
            if (Boolean(ctx.CallWithArity(f, arr[i], (double)i, arr)) == true)
            {
                result.Add(arr[i]);
            }
        }

        return result;
    }

    private static object? Single(CallContext ctx, JList? arr, JFunc? f)
    {
        if (arr is null)
        {
            return null;
        }

        object? found = null;
        var hasFound = false;
        for (var i = 0; i < arr.Count; i++)
        {
            if (f is null || Boolean(ctx.CallWithArity(f, arr[i], (double)i, arr)) == true)
            {
                if (hasFound)
                {
                    throw new JsonataException("D3138");
                }

                found = arr[i];
                hasFound = true;
            }
        }

        return hasFound ? found : throw new JsonataException("D3139");
    }

    private static object? Reduce(CallContext ctx, JList? arr, JFunc f, object? init)
    {
        if (arr is null)
        {
            return null;
        }

        var arity = f.Arity;
        if (arity < 2)
        {
            throw new JsonataException("D3050", index: 1);
        }

        int index;
        object? result;
        if (init is null && arr.Count > 0)
        {
            result = arr[0];
            index = 1;
        }
        else
        {
            result = init;
            index = 0;
        }

        for (; index < arr.Count; index++)
        {
            var args = new List<object?> { result, arr[index] };
            if (arity >= 3)
            {
                args.Add((double)index);
            }

            if (arity >= 4)
            {
                args.Add(arr);
            }

            result = ctx.Call(f, [.. args]);
        }

        return result;
    }

    private static JList Zip(List<object?> args)
    {
        var arrays = args.Select(a => a as JList ?? []).ToList();
        var result = new JList();
        var length = arrays.Count == 0 ? 0 : arrays.Min(a => a.Count);
        for (var i = 0; i < length; i++)
        {
            result.Add(new JList(arrays.Select(a => a[i])));
        }

        return result;
    }

    private static JObject? Sift(CallContext ctx, JObject? obj, JFunc f)
    {
        if (obj is null)
        {
            return null;
        }

        var result = new JObject();
        foreach (var (k, v) in obj)
        {
            if (Boolean(ctx.CallWithArity(f, v, k, obj)) == true)
            {
                result[k] = v;
            }
        }

        return result.Count == 0 ? null : result;
    }

    private static JList? Each(CallContext ctx, JObject? obj, JFunc f)
    {
        if (obj is null)
        {
            return null;
        }

        var result = JList.NewSequence();
        foreach (var (k, v) in obj)
        {
            var r = ctx.CallWithArity(f, v, k, obj);
            if (r is not null)
            {
                result.Add(r);
            }
        }

        return result;
    }

    private static JList? Keys(object? arg)
    {
        var result = JList.NewSequence();
        if (arg is JList l)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in l)
            {
                if (item is JObject o)
                {
                    foreach (var k in o.Keys)
                    {
                        if (seen.Add(k))
                        {
                            result.Add(k);
                        }
                    }
                }
            }
        }
        else if (arg is JObject o)
        {
            foreach (var k in o.Keys)
            {
                result.Add(k);
            }
        }

        return result.Count == 0 ? null : result;
    }

    private static object? Spread(object? arg)
    {
        if (arg is JList l)
        {
            var result = JList.NewSequence();
            foreach (var item in l)
            {
                result = Append(result, Spread(item)) as JList ?? result;
            }

            return result;
        }

        if (arg is JObject o)
        {
            var result = JList.NewSequence();
            foreach (var (k, v) in o)
            {
                result.Add(new JObject { [k] = v });
            }

            return result;
        }

        return arg;
    }

    private static JObject? Merge(JList? arr)
    {
        if (arr is null)
        {
            return null;
        }

        var result = new JObject();
        foreach (var item in arr)
        {
            foreach (var (k, v) in (JObject)item!)
            {
                result[k] = v;
            }
        }

        return result;
    }

    private static JList? Sort(CallContext ctx, JList? arr, JFunc? comparator)
    {
        if (arr is null)
        {
            return null;
        }

        if (arr.Count <= 1)
        {
            return arr;
        }

        Func<object?, object?, bool> greater;
        if (comparator is null)
        {
            if (Values.IsArrayOfNumbers(arr))
            {
                greater = (a, b) => (double)a! > (double)b!;
            }
            else if (Values.IsArrayOfStrings(arr))
            {
                greater = (a, b) => string.CompareOrdinal((string)a!, (string)b!) > 0;
            }
            else
            {
                throw new JsonataException("D3070", index: 1);
            }
        }
        else
        {
            greater = (a, b) => Boolean(ctx.Call(comparator, a, b)) == true;
        }

        return new JList(MergeSort([.. arr], greater));
    }

    /// <summary>A stable merge sort driven by "a sorts after b", the comparator contract of the reference.</summary>
    public static List<object?> MergeSort(List<object?> items, Func<object?, object?, bool> greater)
    {
        if (items.Count <= 1)
        {
            return items;
        }

        var middle = items.Count / 2;
        var left = MergeSort(items[..middle], greater);
        var right = MergeSort(items[middle..], greater);
        var merged = new List<object?>(items.Count);
        int i = 0, j = 0;
        while (i < left.Count && j < right.Count)
        {
            if (greater(left[i], right[j]))
            {
                merged.Add(right[j++]);
            }
            else
            {
                merged.Add(left[i++]);
            }
        }

        merged.AddRange(left.Skip(i));
        merged.AddRange(right.Skip(j));
        return merged;
    }

    private static object? Distinct(object? arg)
    {
        if (arg is not JList l)
        {
            return arg;
        }

        if (l.Count <= 1)
        {
            return l;
        }

        var result = new JList { Sequence = l.Sequence };
        foreach (var item in l)
        {
            if (!result.Any(x => Values.DeepEqual(x, item)))
            {
                result.Add(item);
            }
        }

        return result;
    }
}
