using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>A parsed intrinsic function call such as <c>States.Format('{} items', $.count)</c>.</summary>
internal sealed partial class IntrinsicCall
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
}
