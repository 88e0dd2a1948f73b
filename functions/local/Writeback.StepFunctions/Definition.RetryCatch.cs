using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>Retry and Catch of a Task, Parallel or Map state.</summary>
public sealed partial class StateMachineDefinition
{
    private Retrier[] ParseRetry(JsonObject obj, string where)
    {
        if (!obj.ContainsKey("Retry"))
        {
            return [];
        }

        if (obj["Retry"] is not JsonArray array)
        {
            _errors.Add($"{where}: Retry must be an array.");
            return [];
        }

        var result = new List<Retrier>();
        for (var i = 0; i < array.Count; i++)
        {
            var w = $"{where}: Retry[{i}]";
            if (array[i] is not JsonObject r)
            {
                _errors.Add($"{w} must be an object.");
                continue;
            }

            foreach (var key in r.Select(p => p.Key).Where(k => k is not ("ErrorEquals" or "IntervalSeconds" or "MaxAttempts" or "BackoffRate" or "MaxDelaySeconds" or "JitterStrategy" or "Comment")))
            {
                _errors.Add($"{w}: unknown field '{key}'.");
            }

            var errors = ErrorEquals(r, w, isLast: i == array.Count - 1);
            var interval = r["IntervalSeconds"] is { } iv ? (Json.TryGetInteger(iv, out var ivs) && ivs >= 1 ? ivs : Bad<long>($"{w}: IntervalSeconds must be a positive integer.")) : 1;
            var attempts = r["MaxAttempts"] is { } ma ? (Json.TryGetInteger(ma, out var mas) && mas >= 0 ? mas : Bad<long>($"{w}: MaxAttempts must be a non-negative integer.")) : 3;
            var backoff = r["BackoffRate"] is { } br ? (Json.TryGetNumber(br, out var brs) && brs >= 1.0 ? brs : Bad<double>($"{w}: BackoffRate must be a number of at least 1.0.")) : 2.0;
            double? maxDelay = r["MaxDelaySeconds"] is { } md ? (Json.TryGetInteger(md, out var mds) && mds >= 1 ? mds : Bad<long>($"{w}: MaxDelaySeconds must be a positive integer.")) : null;
            var jitter = Str(r, "JitterStrategy", w, false);
            if (jitter is not (null or "FULL" or "NONE"))
            {
                _errors.Add($"{w}: JitterStrategy must be FULL or NONE.");
            }

            result.Add(new Retrier
            {
                ErrorEquals = errors,
                IntervalSeconds = interval,
                MaxAttempts = (int)Math.Min(attempts, 99999999),
                BackoffRate = backoff,
                MaxDelaySeconds = maxDelay,
                FullJitter = jitter == "FULL",
            });
        }

        return [.. result];
    }

    /// <param name="jsonata">A JSONata state's catchers shape the output with Output; ResultPath is JSONPath's.</param>
    private Catcher[] ParseCatch(JsonObject obj, string where, bool jsonata = false)
    {
        if (!obj.ContainsKey("Catch"))
        {
            return [];
        }

        if (obj["Catch"] is not JsonArray array)
        {
            _errors.Add($"{where}: Catch must be an array.");
            return [];
        }

        var result = new List<Catcher>();
        for (var i = 0; i < array.Count; i++)
        {
            var w = $"{where}: Catch[{i}]";
            if (array[i] is not JsonObject c)
            {
                _errors.Add($"{w} must be an object.");
                continue;
            }

            foreach (var key in c.Select(p => p.Key).Where(k => k is not ("ErrorEquals" or "Next" or "Comment" or "Assign") && k != (jsonata ? "Output" : "ResultPath")))
            {
                _errors.Add(jsonata && key == "ResultPath"
                    ? $"{w}: ResultPath is a JSONPath field; in a JSONata state a catcher shapes the state output with Output (default: the error output)."
                    : $"{w}: unknown field '{key}'.");
            }

            result.Add(new Catcher
            {
                ErrorEquals = ErrorEquals(c, w, isLast: i == array.Count - 1),
                Next = Str(c, "Next", w, true) ?? "",
                ResultPath = jsonata ? StateNode.Root : OptionalPath(c, "ResultPath", w, definite: true),
                Output = jsonata ? Jsonata(c, "Output", w) : null,
            });
        }

        return [.. result];
    }

    private string[] ErrorEquals(JsonObject obj, string where, bool isLast)
    {
        if (obj["ErrorEquals"] is not JsonArray array || array.Count == 0 || !array.All(e => Json.TryGetString(e, out _)))
        {
            _errors.Add($"{where}: ErrorEquals must be a non-empty array of error names.");
            return [];
        }

        var names = array.Select(e => e!.GetValue<string>()).ToArray();
        if (names.Contains(StatesErrors.All) && (names.Length > 1 || !isLast))
        {
            _errors.Add($"{where}: States.ALL must appear alone, in the last retrier or catcher.");
        }

        return names;
    }
}
