using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>Choice rules: every comparison operator, its Path variant, And/Or/Not, the Is* tests and StringMatches.</summary>
public sealed class ChoiceTests
{
    /// <summary>A Choice that goes to Yes when <paramref name="rule"/> holds and to No (its Default) otherwise.</summary>
    private static async Task<bool> Holds(string rule, string input)
    {
        var definition = """
            {"StartAt":"C","States":{
              "C":{"Type":"Choice","Choices":[RULE],"Default":"No"},
              "Yes":{"Type":"Pass","Result":true,"End":true},
              "No":{"Type":"Pass","Result":false,"End":true}}}
            """.Replace("RULE", rule[..^1] + ""","Next":"Yes"}""", StringComparison.Ordinal);
        return (await Output(definition, input))!.GetValue<bool>();
    }

    [Theory]
    [InlineData("StringEquals", "\"b\"", "b", true)]
    [InlineData("StringEquals", "\"b\"", "c", false)]
    [InlineData("StringLessThan", "\"b\"", "c", true)]
    [InlineData("StringGreaterThan", "\"b\"", "a", true)]
    [InlineData("StringLessThanEquals", "\"b\"", "b", true)]
    [InlineData("StringGreaterThanEquals", "\"b\"", "c", false)]
    public async Task String_comparisons_compare_ordinally(string op, string value, string operand, bool expected)
    {
        Assert.Equal(expected, await Holds($$"""{"Variable":"$.v","{{op}}":"{{operand}}"}""", $$"""{"v":{{value}}}"""));
    }

    [Theory]
    [InlineData("NumericEquals", 5, 5, true)]
    [InlineData("NumericEquals", 5.0, 5, true)]
    [InlineData("NumericLessThan", 4, 5, true)]
    [InlineData("NumericGreaterThan", 4, 5, false)]
    [InlineData("NumericLessThanEquals", 5, 5, true)]
    [InlineData("NumericGreaterThanEquals", 6, 5, true)]
    public async Task Numeric_comparisons_compare_values(string op, double value, double operand, bool expected)
    {
        Assert.Equal(expected, await Holds($$"""{"Variable":"$.v","{{op}}":{{operand}}}""", $$"""{"v":{{value}}}"""));
    }

    [Theory]
    [InlineData("TimestampEquals", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00", true)]
    [InlineData("TimestampLessThan", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", true)]
    [InlineData("TimestampGreaterThan", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", false)]
    [InlineData("TimestampLessThanEquals", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", true)]
    [InlineData("TimestampGreaterThanEquals", "2026-01-03T00:00:00Z", "2026-01-02T00:00:00Z", true)]
    public async Task Timestamp_comparisons_compare_instants(string op, string value, string operand, bool expected)
    {
        Assert.Equal(expected, await Holds($$"""{"Variable":"$.v","{{op}}":"{{operand}}"}""", $$"""{"v":"{{value}}"}"""));
    }

    [Fact]
    public async Task BooleanEquals_matches_booleans_only()
    {
        Assert.True(await Holds("""{"Variable":"$.v","BooleanEquals":true}""", """{"v":true}"""));
        Assert.False(await Holds("""{"Variable":"$.v","BooleanEquals":true}""", """{"v":"true"}"""));
    }

    [Theory]
    [InlineData("StringEqualsPath", "\"x\"", "\"x\"", true)]
    [InlineData("StringLessThanPath", "\"a\"", "\"b\"", true)]
    [InlineData("StringGreaterThanPath", "\"a\"", "\"b\"", false)]
    [InlineData("StringLessThanEqualsPath", "\"b\"", "\"b\"", true)]
    [InlineData("StringGreaterThanEqualsPath", "\"c\"", "\"b\"", true)]
    [InlineData("NumericEqualsPath", "3", "3", true)]
    [InlineData("NumericLessThanPath", "2", "3", true)]
    [InlineData("NumericGreaterThanPath", "2", "3", false)]
    [InlineData("NumericLessThanEqualsPath", "3", "3", true)]
    [InlineData("NumericGreaterThanEqualsPath", "4", "3", true)]
    [InlineData("BooleanEqualsPath", "false", "false", true)]
    [InlineData("TimestampEqualsPath", "\"2026-01-01T00:00:00Z\"", "\"2026-01-01T00:00:00Z\"", true)]
    [InlineData("TimestampLessThanPath", "\"2026-01-01T00:00:00Z\"", "\"2026-01-02T00:00:00Z\"", true)]
    [InlineData("TimestampGreaterThanPath", "\"2026-01-01T00:00:00Z\"", "\"2026-01-02T00:00:00Z\"", false)]
    [InlineData("TimestampLessThanEqualsPath", "\"2026-01-02T00:00:00Z\"", "\"2026-01-02T00:00:00Z\"", true)]
    [InlineData("TimestampGreaterThanEqualsPath", "\"2026-01-03T00:00:00Z\"", "\"2026-01-02T00:00:00Z\"", true)]
    public async Task Path_variants_compare_against_another_value_in_the_input(string op, string value, string other, bool expected)
    {
        Assert.Equal(expected, await Holds($$"""{"Variable":"$.v","{{op}}":"$.other"}""", $$"""{"v":{{value}},"other":{{other}}}"""));
    }

    [Fact]
    public async Task A_comparison_on_a_value_of_another_type_is_false_not_an_error()
    {
        Assert.False(await Holds("""{"Variable":"$.v","NumericEquals":1}""", """{"v":"1"}"""));
    }

    [Fact]
    public async Task And_Or_and_Not_combine_rules()
    {
        const string input = """{"a":1,"b":"x"}""";
        Assert.True(await Holds("""{"And":[{"Variable":"$.a","NumericEquals":1},{"Variable":"$.b","StringEquals":"x"}]}""", input));
        Assert.False(await Holds("""{"And":[{"Variable":"$.a","NumericEquals":1},{"Variable":"$.b","StringEquals":"y"}]}""", input));
        Assert.True(await Holds("""{"Or":[{"Variable":"$.a","NumericEquals":2},{"Variable":"$.b","StringEquals":"x"}]}""", input));
        Assert.True(await Holds("""{"Not":{"Variable":"$.b","StringEquals":"y"}}""", input));
    }

    [Theory]
    [InlineData("IsNull", "null", true)]
    [InlineData("IsNull", "0", false)]
    [InlineData("IsNumeric", "1.5", true)]
    [InlineData("IsNumeric", "\"1\"", false)]
    [InlineData("IsString", "\"s\"", true)]
    [InlineData("IsBoolean", "false", true)]
    [InlineData("IsTimestamp", "\"2026-01-01T00:00:00Z\"", true)]
    [InlineData("IsTimestamp", "\"2026-01-01\"", false)]
    public async Task Type_tests_check_the_value_kind(string test, string value, bool expected)
    {
        Assert.Equal(expected, await Holds($$"""{"Variable":"$.v","{{test}}":true}""", $$"""{"v":{{value}}}"""));
    }

    [Fact]
    public async Task IsPresent_tells_a_missing_field_from_a_present_one()
    {
        Assert.False(await Holds("""{"Variable":"$.missing","IsPresent":true}""", "{}"));
        Assert.True(await Holds("""{"Variable":"$.missing","IsPresent":false}""", "{}"));
    }

    [Fact]
    public async Task A_missing_variable_in_a_comparison_is_a_States_Runtime_error()
    {
        var definition = """{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.missing","StringEquals":"x","Next":"D"}],"Default":"D"},"D":{"Type":"Succeed"}}}""";
        var execution = await Failed(definition);
        Assert.Equal(StatesErrors.Runtime, execution.Error);
    }

    [Theory]
    [InlineData("log-*.txt", "log-2026.txt", true)]
    [InlineData("*.log", "a.txt", false)]
    [InlineData("a\\\\*b", "a*b", true)]
    [InlineData("a\\\\*b", "axxb", false)]
    [InlineData("*", "", true)]
    public async Task StringMatches_treats_star_as_a_wildcard_and_backslash_star_as_a_literal(string pattern, string value, bool expected)
    {
        Assert.Equal(expected, await Holds($$"""{"Variable":"$.v","StringMatches":"{{pattern}}"}""", $$"""{"v":"{{value}}"}"""));
    }

    [Fact]
    public async Task No_matching_rule_and_no_Default_fails_with_States_NoChoiceMatched()
    {
        var definition = """{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.v","NumericEquals":1,"Next":"D"}]},"D":{"Type":"Succeed"}}}""";
        var execution = await Failed(definition, """{"v":2}""");
        Assert.Equal(StatesErrors.NoChoiceMatched, execution.Error);
    }

    [Fact]
    public async Task The_documentation_example_routes_by_value_and_range()
    {
        // From the Choice state page of the AWS documentation.
        var definition = """
            {"StartAt":"ChoiceStateX","States":{
              "ChoiceStateX":{"Type":"Choice","Choices":[
                {"Not":{"Variable":"$.type","StringEquals":"Private"},"Next":"Public"},
                {"Variable":"$.value","NumericEquals":0,"Next":"ValueIsZero"},
                {"And":[{"Variable":"$.value","NumericGreaterThanEquals":20},{"Variable":"$.value","NumericLessThan":30}],"Next":"ValueInTwenties"}],
                "Default":"DefaultState"},
              "Public":{"Type":"Pass","Result":"Public","End":true},
              "ValueIsZero":{"Type":"Pass","Result":"ValueIsZero","End":true},
              "ValueInTwenties":{"Type":"Pass","Result":"ValueInTwenties","End":true},
              "DefaultState":{"Type":"Fail","Error":"DefaultStateError","Cause":"No Matches!"}}}
            """;
        Assert.Equal("Public", (await Output(definition, """{"type":"Public","value":0}"""))!.GetValue<string>());
        Assert.Equal("ValueIsZero", (await Output(definition, """{"type":"Private","value":0}"""))!.GetValue<string>());
        Assert.Equal("ValueInTwenties", (await Output(definition, """{"type":"Private","value":25}"""))!.GetValue<string>());
        Assert.Equal("DefaultStateError", (await Failed(definition, """{"type":"Private","value":40}""")).Error);
    }
}
