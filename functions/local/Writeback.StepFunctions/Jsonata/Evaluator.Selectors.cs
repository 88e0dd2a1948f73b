namespace Writeback.StepFunctions.Jsonata;

/// <summary>What one path step selects: a field by name (mapped over arrays), <c>*</c> and <c>**</c>.</summary>
internal sealed partial class Evaluator
{
    internal static object? Lookup(object? input, string key)
    {
        if (input is JList list)
        {
            var result = JList.NewSequence();
            foreach (var item in list)
            {
                var res = Lookup(item, key);
                if (res is JList arr)
                {
                    result.AddRange(arr);
                }
                else if (res is not null)
                {
                    result.Add(res);
                }
            }

            return result;
        }

        return input is JObject o ? o.GetValueOrDefault(key) : null;
    }

    private static JList EvaluateWildcard(object? input)
    {
        var results = JList.NewSequence();
        if (input is JList { OuterWrapper: true, Count: > 0 } wrapper)
        {
            input = wrapper[0];
        }

        if (input is JObject or JList)
        {
            foreach (var value in input is JObject o ? o.Values.ToList() : (JList)input)
            {
                if (value is JList arr)
                {
                    var flat = new JList();
                    Flatten(arr, flat);
                    results = Library.Append(results, flat) as JList ?? results;
                }
                else
                {
                    results.Add(value);
                }
            }
        }

        return results;
    }

    private static void Flatten(object? value, JList into)
    {
        if (value is JList l)
        {
            foreach (var v in l)
            {
                Flatten(v, into);
            }
        }
        else
        {
            into.Add(value);
        }
    }

    private static object? EvaluateDescendants(object? input)
    {
        if (input is null)
        {
            return null;
        }

        var results = JList.NewSequence();
        RecurseDescendants(input, results);
        return results.Count == 1 ? results[0] : results;
    }

    private static void RecurseDescendants(object? input, JList results)
    {
        if (input is JList l)
        {
            foreach (var m in l)
            {
                RecurseDescendants(m, results);
            }

            return;
        }

        results.Add(input);
        if (input is JObject o)
        {
            foreach (var v in o.Values)
            {
                RecurseDescendants(v, results);
            }
        }
    }
}
