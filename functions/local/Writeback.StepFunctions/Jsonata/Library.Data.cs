using System.Globalization;
using System.Text;

namespace Writeback.StepFunctions.Jsonata;

/// <summary>Array, object and higher-order functions.</summary>
internal static partial class Library
{
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
