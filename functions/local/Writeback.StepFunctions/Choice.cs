using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>One Choice rule: a comparison on a Variable, or And / Or / Not over nested rules.</summary>
internal sealed class ChoiceRule
{
    internal static readonly string[] Comparators =
    [
        "StringEquals", "StringLessThan", "StringGreaterThan", "StringLessThanEquals", "StringGreaterThanEquals",
        "NumericEquals", "NumericLessThan", "NumericGreaterThan", "NumericLessThanEquals", "NumericGreaterThanEquals",
        "BooleanEquals",
        "TimestampEquals", "TimestampLessThan", "TimestampGreaterThan", "TimestampLessThanEquals", "TimestampGreaterThanEquals",
    ];

    internal static readonly string[] Tests = ["IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"];

    public string? Next { get; init; }
    public JsonPath? Variable { get; init; }
    public string? Operator { get; init; }
    public JsonNode? Operand { get; init; }
    public JsonPath? OperandPath { get; init; }
    public ChoiceRule[]? And { get; init; }
    public ChoiceRule[]? Or { get; init; }
    public ChoiceRule? Not { get; init; }

    public bool Evaluate(DataScope scope)
    {
        if (And is not null)
        {
            return And.All(r => r.Evaluate(scope));
        }

        if (Or is not null)
        {
            return Or.Any(r => r.Evaluate(scope));
        }

        if (Not is not null)
        {
            return !Not.Evaluate(scope);
        }

        var present = scope.TryResolve(Variable!, out var value);
        if (Operator == "IsPresent")
        {
            return present == Operand!.GetValue<bool>();
        }

        if (!present)
        {
            throw StatesException.Runtime($"Invalid path '{Variable!.Text}': the choice state's condition path references an invalid value.");
        }

        if (Operator!.StartsWith("Is", StringComparison.Ordinal))
        {
            var expected = Operand!.GetValue<bool>();
            var kind = value?.GetValueKind() ?? JsonValueKind.Null;
            var actual = Operator switch
            {
                "IsNull" => kind == JsonValueKind.Null,
                "IsNumeric" => kind == JsonValueKind.Number,
                "IsString" => kind == JsonValueKind.String,
                "IsBoolean" => kind is JsonValueKind.True or JsonValueKind.False,
                "IsTimestamp" => Json.TryGetString(value, out var s) && TryParseTimestamp(s, out _),
                _ => false,
            };
            return actual == expected;
        }

        var operand = Operand;
        if (OperandPath is not null && !scope.TryResolve(OperandPath, out operand))
        {
            throw StatesException.Runtime($"Invalid path '{OperandPath.Text}': the choice state's condition path references an invalid value.");
        }

        if (Operator == "StringMatches")
        {
            return Json.TryGetString(value, out var text) && Json.TryGetString(operand, out var pattern) && Glob(text, pattern);
        }

        if (Operator.StartsWith("String", StringComparison.Ordinal))
        {
            return Json.TryGetString(value, out var l) && Json.TryGetString(operand, out var r) && Compare(Operator["String".Length..], string.CompareOrdinal(l, r));
        }

        if (Operator.StartsWith("Numeric", StringComparison.Ordinal))
        {
            return Json.TryGetNumber(value, out var l) && Json.TryGetNumber(operand, out var r) && Compare(Operator["Numeric".Length..], l.CompareTo(r));
        }

        if (Operator.StartsWith("Timestamp", StringComparison.Ordinal))
        {
            return Json.TryGetString(value, out var ls) && Json.TryGetString(operand, out var rs)
                && TryParseTimestamp(ls, out var l) && TryParseTimestamp(rs, out var r)
                && Compare(Operator["Timestamp".Length..], l.CompareTo(r));
        }

        // BooleanEquals
        var lk = value?.GetValueKind();
        var rk = operand?.GetValueKind();
        return lk is JsonValueKind.True or JsonValueKind.False && lk == rk;
    }

    private static bool Compare(string relation, int comparison) => relation switch
    {
        "Equals" => comparison == 0,
        "LessThan" => comparison < 0,
        "GreaterThan" => comparison > 0,
        "LessThanEquals" => comparison <= 0,
        "GreaterThanEquals" => comparison >= 0,
        _ => false,
    };

    /// <summary>StringMatches: <c>*</c> matches any run of characters; <c>\*</c> and <c>\\</c> are literal.</summary>
    internal static bool Glob(string text, string pattern)
    {
        var tokens = new List<(char C, bool Star)>();
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '\\' && i + 1 < pattern.Length)
            {
                tokens.Add((pattern[++i], false));
            }
            else
            {
                tokens.Add((pattern[i], pattern[i] == '*'));
            }
        }

        // Classic two-pointer wildcard match with backtracking to the last star.
        int t = 0, p = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < tokens.Count && !tokens[p].Star && tokens[p].C == text[t])
            {
                t++;
                p++;
            }
            else if (p < tokens.Count && tokens[p].Star)
            {
                starP = p++;
                starT = t;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                t = ++starT;
            }
            else
            {
                return false;
            }
        }

        while (p < tokens.Count && tokens[p].Star)
        {
            p++;
        }

        return p == tokens.Count;
    }

    /// <summary>RFC 3339 with a 'T', seconds and an offset or 'Z', as the service requires.</summary>
    internal static bool TryParseTimestamp(string text, out DateTimeOffset value)
    {
        value = default;
        if (text.Length < 20 || text[10] is not ('T' or 't'))
        {
            return false;
        }

        var last = text[^1];
        var hasOffset = last is 'Z' or 'z' || (text.Length > 6 && text[^3] == ':' && text[^6] is '+' or '-');
        return hasOffset && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out value);
    }
}
