using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>Goes to the Next of the first rule that matches, or to Default: JSONPath comparison rules or JSONata Conditions.</summary>
internal sealed class ChoiceState : StateNode
{
    public static readonly HashSet<string> JsonPathFields = ["Type", "Assign", "Comment", "QueryLanguage", "InputPath", "OutputPath", "Choices", "Default"];
    public static readonly HashSet<string> JsonataFields = ["Type", "Assign", "Comment", "QueryLanguage", "Output", "Choices", "Default"];

    public override StateType Type => StateType.Choice;

    public override bool HasNextOrEnd => false;

    public ChoiceRule[] Choices { get; set; } = [];

    public JsonataChoice[] JsonataChoices { get; set; } = [];

    public string? Default { get; set; }

    /// <summary>The rules' Assign, one per rule (null where a rule has none).</summary>
    public AssignTemplate?[] ChoiceAssigns { get; set; } = [];

    public override IEnumerable<AssignTemplate> AllAssigns => base.AllAssigns.Concat(ChoiceAssigns.OfType<AssignTemplate>());

    public override IEnumerable<(string Target, string Field)> Transitions =>
        (Default is null ? [] : new[] { (Default, "Default") })
        .Concat(Choices.Select(c => c.Next).Concat(JsonataChoices.Select(c => c.Next)).OfType<string>().Select(next => (next, "Choices[].Next")));
}

/// <summary>A Choice rule of a JSONata state: a Condition that must evaluate to a boolean.</summary>
internal sealed class JsonataChoice
{
    public required JsonataTemplate Condition { get; init; }

    public required string Next { get; init; }

    public JsonataTemplate? Output { get; init; }
}

public sealed partial class StateMachineDefinition
{
    private void ParseChoice(ChoiceState state, JsonObject obj, string where)
    {
        state.Default = Str(obj, "Default", where, false);
        if (obj["Choices"] is not JsonArray choices || choices.Count == 0)
        {
            _errors.Add($"{where}: Choices must be a non-empty array.");
            return;
        }

        state.Choices = [.. choices.Select((c, i) => ParseRule(c, $"{where}: Choices[{i}]", topLevel: true))];
    }

    private ChoiceRule ParseRule(JsonNode? node, string where, bool topLevel)
    {
        if (node is not JsonObject obj)
        {
            _errors.Add($"{where} must be an object.");
            return new ChoiceRule { Operator = "IsPresent", Operand = JsonValue.Create(false) };
        }

        var next = Str(obj, "Next", where, false);
        if (topLevel && next is null)
        {
            _errors.Add($"{where}: missing Next.");
        }
        else if (!topLevel && next is not null)
        {
            _errors.Add($"{where}: Next is only allowed on top-level choice rules.");
        }

        foreach (var key in obj.Select(p => p.Key).Where(k => k is not ("Next" or "Comment" or "Variable" or "And" or "Or" or "Not")
                     && !(topLevel && k == "Assign") && !ChoiceRule.Comparators.Contains(k) && !ChoiceRule.Comparators.Contains(k.EndsWith("Path", StringComparison.Ordinal) ? k[..^4] : k)
                     && !ChoiceRule.Tests.Contains(k) && k is not ("StringMatches")))
        {
            _errors.Add($"{where}: unknown field '{key}'.");
        }

        if (obj["And"] is JsonArray and)
        {
            return new ChoiceRule { Next = next, And = [.. and.Select((r, i) => ParseRule(r, $"{where}.And[{i}]", false))] };
        }

        if (obj["Or"] is JsonArray or)
        {
            return new ChoiceRule { Next = next, Or = [.. or.Select((r, i) => ParseRule(r, $"{where}.Or[{i}]", false))] };
        }

        if (obj.ContainsKey("Not"))
        {
            return new ChoiceRule { Next = next, Not = ParseRule(obj["Not"], $"{where}.Not", false) };
        }

        var variable = Path(obj, "Variable", where, definite: false);
        if (variable is null)
        {
            _errors.Add($"{where}: missing Variable (or And / Or / Not).");
        }

        var operators = obj.Select(p => p.Key).Where(k => k is not ("Next" or "Comment" or "Variable" or "Assign")).ToList();
        if (operators.Count != 1)
        {
            _errors.Add($"{where}: needs exactly one comparison operator, found {operators.Count}.");
            return new ChoiceRule { Next = next, Variable = variable, Operator = "IsPresent", Operand = JsonValue.Create(false) };
        }

        var op = operators[0];
        var operand = obj[op];
        var kind = operand?.GetValueKind();
        if (ChoiceRule.Tests.Contains(op))
        {
            if (kind is not (JsonValueKind.True or JsonValueKind.False))
            {
                _errors.Add($"{where}: {op} takes true or false.");
            }

            return new ChoiceRule { Next = next, Variable = variable, Operator = op, Operand = operand?.DeepClone() };
        }

        if (op.EndsWith("Path", StringComparison.Ordinal) && op != "StringMatchesPath")
        {
            var operandPath = Path(obj, op, where, definite: false);
            return new ChoiceRule { Next = next, Variable = variable, Operator = op[..^4], OperandPath = operandPath };
        }

        var expected = op switch
        {
            _ when op.StartsWith("String", StringComparison.Ordinal) || op.StartsWith("Timestamp", StringComparison.Ordinal) => JsonValueKind.String,
            _ when op.StartsWith("Numeric", StringComparison.Ordinal) => JsonValueKind.Number,
            _ => JsonValueKind.True,
        };
        var ok = expected == JsonValueKind.True ? kind is JsonValueKind.True or JsonValueKind.False : kind == expected;
        if (!ok)
        {
            _errors.Add($"{where}: {op} takes {(expected == JsonValueKind.True ? "a boolean" : expected == JsonValueKind.String ? "a string" : "a number")}.");
        }
        else if (op.StartsWith("Timestamp", StringComparison.Ordinal) && !ChoiceRule.TryParseTimestamp(operand!.GetValue<string>(), out _))
        {
            _errors.Add($"{where}: {op} '{operand}' is not an RFC 3339 timestamp.");
        }

        return new ChoiceRule { Next = next, Variable = variable, Operator = op, Operand = operand?.DeepClone() };
    }

    private void ParseJsonataChoice(ChoiceState state, JsonObject obj, string where)
    {
        state.Default = Str(obj, "Default", where, false);
        if (obj["Choices"] is not JsonArray choices || choices.Count == 0)
        {
            _errors.Add($"{where}: Choices must be a non-empty array.");
            return;
        }

        var rules = new List<JsonataChoice>();
        for (var i = 0; i < choices.Count; i++)
        {
            var w = $"{where}: Choices[{i}]";
            if (choices[i] is not JsonObject c)
            {
                _errors.Add($"{w} must be an object.");
                continue;
            }

            foreach (var key in c.Select(p => p.Key).Where(k => k is not ("Condition" or "Next" or "Comment" or "Output" or "Assign")))
            {
                _errors.Add(key is "Variable" or "And" or "Or" or "Not" || ChoiceRule.Comparators.Contains(key) || ChoiceRule.Tests.Contains(key)
                    ? $"{w}: '{key}' is a JSONPath choice rule; a JSONata Choice rule is \"Condition\": \"{{% boolean expression %}}\"."
                    : $"{w}: unknown field '{key}'.");
            }

            var next = Str(c, "Next", w, true);
            if (!c.TryGetPropertyValue("Condition", out var condition))
            {
                _errors.Add($"{w}: missing Condition.");
                continue;
            }

            if (!(Json.TryGetString(condition, out var text) && JsonataTemplate.IsExpressionText(text)) && condition?.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
            {
                _errors.Add($"{w}: Condition must be a JSONata expression \"{{% … %}}\" or a boolean.");
            }

            rules.Add(new JsonataChoice
            {
                Condition = JsonataTemplate.Compile(condition, $"{w}: Condition", _errors),
                Next = next ?? "",
                Output = Jsonata(c, "Output", w),
            });
        }

        state.JsonataChoices = [.. rules];
    }
}
