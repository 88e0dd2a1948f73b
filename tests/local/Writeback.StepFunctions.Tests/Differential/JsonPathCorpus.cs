using System.Globalization;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions.Tests.Differential;

/// <summary>One generated case: a definition, the input it runs on, and the features it uses (for the exclusion list).</summary>
internal sealed record CorpusCase(string Name, JsonObject Definition, JsonObject Input, IReadOnlySet<string> Features);

/// <summary>
/// A deterministic corpus of JSONPath state machines for the differential test: chains of Pass (Result, Parameters,
/// intrinsics), Choice, Wait 0 s, Map, Parallel and error handling (Retry and Catch over Fail states in a Parallel),
/// with InputPath, Parameters, ResultSelector, ResultPath and OutputPath, ending in End, Succeed or Fail. Only what
/// aws-local-stepfunctions runs: no Task (it would call Lambda), no context object beyond the Map item.
/// </summary>
internal sealed class JsonPathCorpus
{
    private static readonly string[] Strings = ["alpha", "beta", "a,b,c", "x y z", "Gamma-7"];
    private static readonly string[] ErrorNames = ["Custom.Error", "MyError", "States.TaskFailed", "Other.Error"];

    /// <summary>Intrinsic calls that are valid over every generated input (xs has 3 or more items), with the feature each exercises.</summary>
    private static readonly (string Feature, string Expression)[] Intrinsics =
    [
        ("States.Format", "States.Format('n={} s={}', $.n, $.s)"),
        ("States.Format", "States.Format('flag {}', $.b)"),
        ("States.JsonToString", "States.JsonToString($.obj)"),
        ("States.StringToJson", "States.StringToJson(States.JsonToString($.obj))"),
        ("States.Array", "States.Array($.n, $.s, $.b)"),
        ("States.ArrayLength", "States.ArrayLength($.xs)"),
        ("States.ArrayContains", "States.ArrayContains($.xs, $.n)"),
        ("States.ArrayRange", "States.ArrayRange(1, 9, 2)"),
        ("States.ArrayGetItem", "States.ArrayGetItem($.xs, 0)"),
        ("States.ArrayUnique", "States.ArrayUnique($.xs)"),
        ("States.ArrayPartition", "States.ArrayPartition($.xs, 2)"),
        ("States.MathAdd", "States.MathAdd($.n, 3)"),
        ("States.MathAdd", "States.MathAdd($.n, -2)"),
        ("States.MathAdd.Nested", "States.MathAdd(States.ArrayLength($.xs), -10)"),
        ("States.StringSplit", "States.StringSplit($.s, ',')"),
        ("States.Base64Encode", "States.Base64Encode($.s)"),
        ("States.Base64Decode", "States.Base64Decode(States.Base64Encode($.s))"),
        ("States.Hash", "States.Hash($.s, 'SHA-256')"),
        ("States.Hash", "States.Hash($.s, 'MD5')"),
        ("States.JsonMerge", "States.JsonMerge($.obj, $.obj2, false)"),
    ];

    private static readonly string[] Paths = ["$.n", "$.s", "$.b", "$.xs", "$.obj", "$.obj.a", "$.obj.nested.c", "$.items[0].v", "$.xs[1:3]", "$.items[*].id", "$"];

    private readonly Random _random;
    private readonly HashSet<string> _features = new(StringComparer.Ordinal);
    private JsonObject _states = [];
    private int _counter;

    private JsonPathCorpus(int seed) => _random = new Random(seed);

    public static IReadOnlyList<CorpusCase> Generate(int seed, int count)
    {
        var corpus = new JsonPathCorpus(seed);
        return [.. Enumerable.Range(0, count).Select(corpus.Case)];
    }

    private CorpusCase Case(int index)
    {
        _features.Clear();
        _states = [];
        _counter = 0;
        var steps = _random.Next(1, 5);
        var next = Terminal();
        for (var i = 0; i < steps; i++)
        {
            next = Step(next, last: i == 0);
        }

        var definition = new JsonObject { ["Comment"] = $"case {index}", ["StartAt"] = next, ["States"] = _states };
        return new CorpusCase($"case-{index:D3}", definition, Input(), _features.ToHashSet(StringComparer.Ordinal));
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private bool Chance(int percent) => _random.Next(100) < percent;

    private string Name(string kind) => $"{kind}{++_counter}";

    private JsonObject Input()
    {
        // At least three items, so the slice $.xs[1:3] always selects something (what an empty slice yields is not compared).
        var xs = new JsonArray();
        for (var i = _random.Next(3, 7); i > 0; i--)
        {
            xs.Add(_random.Next(-3, 10));
        }

        var items = new JsonArray();
        for (var i = _random.Next(1, 5); i > 0; i--)
        {
            items.Add(new JsonObject { ["id"] = $"i{i}", ["v"] = _random.Next(0, 50) });
        }

        return new JsonObject
        {
            ["n"] = _random.Next(-5, 21),
            ["m"] = _random.Next(0, 11),
            ["s"] = Pick(Strings),
            ["b"] = Chance(50),
            ["zero"] = 0,
            ["xs"] = xs,
            ["obj"] = new JsonObject { ["a"] = _random.Next(0, 9), ["b"] = Pick(Strings), ["nested"] = new JsonObject { ["c"] = Chance(50) } },
            ["obj2"] = new JsonObject { ["a"] = "replaced", ["extra"] = _random.Next(0, 9) },
            ["items"] = items,
            ["ts"] = string.Create(CultureInfo.InvariantCulture, $"2026-01-{_random.Next(1, 28):D2}T00:00:00Z"),
        };
    }

    /// <summary>The end of the chain: End on the last state (null), a Succeed state, or a Fail state.</summary>
    private string? Terminal()
    {
        switch (_random.Next(6))
        {
            case 0:
                _features.Add("Succeed");
                return Add(Name("Done"), new JsonObject { ["Type"] = "Succeed" });
            case 1:
                _features.Add("Fail");
                return Add(Name("Boom"), new JsonObject { ["Type"] = "Fail", ["Error"] = Pick(ErrorNames), ["Cause"] = "generated failure" });
            default:
                return null;
        }
    }

    /// <summary>A step that continues to <paramref name="next"/> (null: this step ends the execution).</summary>
    private string Step(string? next, bool last) => _random.Next(8) switch
    {
        0 => PassResult(next, last),
        1 or 2 => PassParameters(next, last),
        3 => Choice(next),
        4 => Wait(next),
        5 => Map(next, last),
        6 => Parallel(next, last),
        _ => Caught(next),
    };

    private string Add(string name, JsonObject state)
    {
        _states[name] = state;
        return name;
    }

    private static JsonObject Continue(JsonObject state, string? next)
    {
        if (next is null)
        {
            state["End"] = true;
        }
        else
        {
            state["Next"] = next;
        }

        return state;
    }

    private string ResultPath() => _random.Next(10) switch
    {
        0 => "$",
        1 => "$.obj.r" + _counter,
        _ => "$.r" + _counter,
    };

    /// <summary>OutputPath only on the last step, where what it keeps is not read by a later state.</summary>
    private void MaybeOutputPath(JsonObject state, bool last)
    {
        if (last && Chance(25))
        {
            _features.Add("OutputPath");
            state["OutputPath"] = Pick((string[])["$.obj", "$.xs", "$.n"]);
        }
    }

    private string PassResult(string? next, bool last)
    {
        _features.Add("Pass.Result");
        var state = new JsonObject { ["Type"] = "Pass", ["Result"] = RandomJson(2) };
        switch (_random.Next(5))
        {
            case 0:
                _features.Add("ResultPath.null");
                state["ResultPath"] = null;
                break;
            case 1:
                break;
            default:
                state["ResultPath"] = ResultPath();
                break;
        }

        if (state["ResultPath"] is JsonValue v && v.GetValue<string>() == "$")
        {
            // A replaced input would leave later paths nothing to read; keep it for the last step only.
            state["ResultPath"] = last ? "$" : "$.r" + _counter;
        }

        if (!state.ContainsKey("ResultPath") && !last)
        {
            state["ResultPath"] = "$.r" + _counter;
        }

        MaybeOutputPath(state, last);
        return Add(Name("Result"), Continue(state, next));
    }

    private string PassParameters(string? next, bool last)
    {
        _features.Add("Parameters");
        var parameters = new JsonObject();
        for (var i = _random.Next(1, 5); i > 0; i--)
        {
            switch (_random.Next(3))
            {
                case 0:
                    parameters[$"k{i}"] = RandomJson(1);
                    break;
                case 1:
                    parameters[$"p{i}.$"] = Pick(Paths);
                    break;
                default:
                    var (feature, expression) = Pick(Intrinsics);
                    _features.Add(feature);
                    parameters[$"f{i}.$"] = expression;
                    break;
            }
        }

        if (Chance(20))
        {
            parameters["nested"] = new JsonObject { ["inner.$"] = "$.obj.b", ["fixed"] = 1 };
        }

        var state = new JsonObject { ["Type"] = "Pass" };
        if (Chance(20))
        {
            // InputPath narrows what Parameters reads; ResultPath still merges into the whole state input.
            _features.Add("InputPath");
            state["InputPath"] = "$.obj";
            parameters = new JsonObject { ["a.$"] = "$.a", ["nestedC.$"] = "$.nested.c", ["all.$"] = "$" };
        }

        state["Parameters"] = parameters;
        state["ResultPath"] = last && Chance(30) ? "$" : ResultPath() is "$" ? "$.r" + _counter : "$.p" + _counter;
        MaybeOutputPath(state, last);
        return Add(Name("Params"), Continue(state, next));
    }

    private string Choice(string? next)
    {
        _features.Add("Choice");
        var key = "$.branch" + _counter;
        var a = Add(Name("BranchA"), Continue(new JsonObject { ["Type"] = "Pass", ["Result"] = "A", ["ResultPath"] = key }, next));
        var d = Add(Name("BranchD"), Continue(new JsonObject { ["Type"] = "Pass", ["Result"] = "D", ["ResultPath"] = key }, next));
        var choices = new JsonArray();
        var first = Rule(2);
        first["Next"] = a;
        choices.Add(first);
        if (Chance(60))
        {
            // A second rule gets its own target; a target no rule names would be an unreachable state.
            var second = Rule(2);
            second["Next"] = Add(Name("BranchB"), Continue(new JsonObject { ["Type"] = "Pass", ["Result"] = "B", ["ResultPath"] = key }, next));
            choices.Add(second);
        }

        var state = new JsonObject { ["Type"] = "Choice", ["Choices"] = choices, ["Default"] = d };
        return Add(Name("Choose"), state);
    }

    private JsonObject Rule(int depth)
    {
        if (depth > 0 && Chance(25))
        {
            _features.Add("Choice.Compound");
            return _random.Next(3) switch
            {
                0 => new JsonObject { ["And"] = new JsonArray(Rule(depth - 1), Rule(depth - 1)) },
                1 => new JsonObject { ["Or"] = new JsonArray(Rule(depth - 1), Rule(depth - 1)) },
                _ => new JsonObject { ["Not"] = Rule(depth - 1) },
            };
        }

        return _random.Next(11) switch
        {
            0 => new JsonObject { ["Variable"] = "$.n", ["NumericGreaterThan"] = _random.Next(-5, 21) },
            1 => new JsonObject { ["Variable"] = "$.n", ["NumericEquals"] = _random.Next(-5, 21) },
            2 => new JsonObject { ["Variable"] = "$.n", ["NumericLessThanEqualsPath"] = "$.m" },
            3 => new JsonObject { ["Variable"] = "$.s", ["StringEquals"] = Pick(Strings) },
            4 => new JsonObject { ["Variable"] = "$.s", ["StringMatches"] = Pick((string[])["a*", "*c", "*y*", "Gamma-?"]) },
            5 => new JsonObject { ["Variable"] = "$.b", ["BooleanEquals"] = Chance(50) },
            6 => new JsonObject { ["Variable"] = "$.missing", ["IsPresent"] = Chance(50) },
            7 => new JsonObject { ["Variable"] = "$.n", ["IsNumeric"] = true },
            8 => new JsonObject { ["Variable"] = "$.ts", ["TimestampLessThan"] = "2026-01-15T00:00:00Z" },
            9 => new JsonObject { ["Variable"] = "$.s", ["StringGreaterThanEquals"] = Pick(Strings) },
            _ => new JsonObject { ["Variable"] = "$.obj.a", ["NumericLessThan"] = _random.Next(0, 9) },
        };
    }

    private string Wait(string? next)
    {
        _features.Add("Wait");
        var state = new JsonObject { ["Type"] = "Wait" };
        if (Chance(50))
        {
            state["Seconds"] = 0;
        }
        else
        {
            _features.Add("Wait.SecondsPath");
            state["SecondsPath"] = "$.zero";
        }

        return Add(Name("Pause"), Continue(state, next));
    }

    private string Map(string? next, bool last)
    {
        _features.Add("Map");
        var overItems = Chance(50);
        var inner = Name("Item");
        var processorStates = new JsonObject();
        var state = new JsonObject { ["Type"] = "Map", ["ItemsPath"] = overItems ? "$.items" : "$.xs", ["MaxConcurrency"] = _random.Next(0, 3) };
        if (Chance(50))
        {
            _features.Add("Map.ItemSelector");
            state["ItemSelector"] = new JsonObject { ["value.$"] = "$$.Map.Item.Value", ["index.$"] = "$$.Map.Item.Index", ["n.$"] = "$.n" };
            processorStates[inner] = new JsonObject { ["Type"] = "Pass", ["Parameters"] = new JsonObject { ["at.$"] = "$.index", ["item.$"] = "$.value", ["n.$"] = "$.n" }, ["End"] = true };
        }
        else if (overItems)
        {
            processorStates[inner] = new JsonObject { ["Type"] = "Pass", ["Parameters"] = new JsonObject { ["id.$"] = "$.id", ["twice.$"] = "States.MathAdd($.v, $.v)" }, ["End"] = true };
        }
        else
        {
            processorStates[inner] = new JsonObject { ["Type"] = "Pass", ["Parameters"] = new JsonObject { ["x.$"] = "$", ["s.$"] = "States.Format('item {}', $)" }, ["End"] = true };
        }

        state["ItemProcessor"] = new JsonObject { ["ProcessorConfig"] = new JsonObject { ["Mode"] = "INLINE" }, ["StartAt"] = inner, ["States"] = processorStates };
        if (Chance(30))
        {
            _features.Add("ResultSelector");
            state["ResultSelector"] = new JsonObject { ["count.$"] = "States.ArrayLength($)", ["first.$"] = "$[0]" };
        }

        state["ResultPath"] = "$.mapped" + _counter;
        MaybeOutputPath(state, last);
        return Add(Name("Each"), Continue(state, next));
    }

    private string Parallel(string? next, bool last)
    {
        _features.Add("Parallel");
        var branches = new JsonArray();
        for (var i = _random.Next(1, 4); i > 0; i--)
        {
            var name = Name("Leg");
            var leg = Chance(50)
                ? new JsonObject { ["Type"] = "Pass", ["Result"] = RandomJson(1), ["End"] = true }
                : new JsonObject { ["Type"] = "Pass", ["Parameters"] = new JsonObject { ["leg"] = i, ["p.$"] = Pick(Paths) }, ["End"] = true };
            branches.Add(new JsonObject { ["StartAt"] = name, ["States"] = new JsonObject { [name] = leg } });
        }

        var state = new JsonObject { ["Type"] = "Parallel", ["Branches"] = branches, ["ResultPath"] = "$.par" + _counter };
        if (Chance(30))
        {
            _features.Add("ResultSelector");
            state["ResultSelector"] = new JsonObject { ["first.$"] = "$[0]", ["legs.$"] = "States.ArrayLength($)" };
        }

        MaybeOutputPath(state, last);
        return Add(Name("Fork"), Continue(state, next));
    }

    /// <summary>A Parallel whose one branch fails with a named error; Retry re-runs it, Catch (if one matches) recovers.</summary>
    private string Caught(string? next)
    {
        _features.Add("Catch");
        var error = Pick(ErrorNames);
        var fail = Name("Broken");
        var state = new JsonObject
        {
            ["Type"] = "Parallel",
            ["Branches"] = new JsonArray(new JsonObject
            {
                ["StartAt"] = fail,
                ["States"] = new JsonObject { [fail] = new JsonObject { ["Type"] = "Fail", ["Error"] = error, ["Cause"] = "broke " + _counter } },
            }),
            ["ResultPath"] = "$.par" + _counter,
        };
        if (Chance(40))
        {
            _features.Add("Retry");
            state["Retry"] = new JsonArray(new JsonObject
            {
                ["ErrorEquals"] = new JsonArray(Chance(50) ? error : "States.ALL"),
                ["MaxAttempts"] = _random.Next(1, 3),
                ["IntervalSeconds"] = 1,
            });
        }

        var handler = Add(Name("Recover"), Continue(new JsonObject { ["Type"] = "Pass", ["Result"] = "recovered", ["ResultPath"] = "$.recovered" + _counter }, next));
        var matcher = _random.Next(4) switch
        {
            0 => "States.ALL",
            1 => Pick(ErrorNames),
            _ => error,
        };
        var catcher = new JsonObject { ["ErrorEquals"] = new JsonArray(matcher), ["Next"] = handler };
        switch (_random.Next(3))
        {
            case 0:
                break;
            case 1:
                catcher["ResultPath"] = "$.caught" + _counter;
                break;
            default:
                _features.Add("Catch.ResultPath.null");
                catcher["ResultPath"] = null;
                break;
        }

        state["Catch"] = new JsonArray(catcher);
        // The branch always fails, so the normal transition is never taken; it still has to name a state.
        state["Next"] = handler;
        return Add(Name("Guard"), state);
    }

    private JsonNode? RandomJson(int depth) => _random.Next(depth > 0 ? 7 : 5) switch
    {
        0 => _random.Next(-100, 100),
        1 => Pick(Strings),
        2 => Chance(50),
        3 => null,
        4 => Math.Round(_random.NextDouble() * 10, 2),
        5 => new JsonArray(RandomJson(depth - 1), RandomJson(depth - 1)),
        _ => new JsonObject { ["x"] = RandomJson(depth - 1), ["y"] = RandomJson(depth - 1) },
    };
}
