using System.Text.Json.Nodes;

namespace Writeback.StepFunctions.Tests;

/// <summary>What loading a definition checks about Assign: where it may appear, variable names, and scopes.</summary>
public sealed class DefinitionVariablesTests
{
    private static IReadOnlyList<string> Errors(string states, string startAt = "A", bool jsonata = false)
    {
        var machine = new JsonObject { ["StartAt"] = startAt, ["States"] = JsonNode.Parse(states) };
        if (jsonata)
        {
            machine["QueryLanguage"] = "JSONata";
        }

        return StateMachineDefinition.Validate(machine.ToJsonString());
    }

    private static void Refused(IReadOnlyList<string> errors, params string[] fragments) =>
        Assert.True(errors.Any(e => fragments.All(f => e.Contains(f, StringComparison.Ordinal))),
            $"no error containing [{string.Join(", ", fragments)}] in:\n{string.Join("\n", errors)}");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Assign_is_accepted_on_Pass_Task_Choice_Wait_Parallel_and_Map_states_and_on_Choice_rules_and_catchers(bool jsonata)
    {
        var assign = jsonata ? """{"v":"{% $states.input %}"}""" : """{"v.$":"$"}""";
        var rule = jsonata ? """{"Condition":"{% true %}","Next":"W"}""" : """{"Variable":"$.x","IsPresent":true,"Next":"W"}""";
        var choiceRule = JsonNode.Parse(rule)!.AsObject();
        choiceRule["Assign"] = JsonNode.Parse(assign);
        var states = $$$$"""
            {"A":{"Type":"Pass","Assign":{{{{assign}}}},"Next":"T"},
             "T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","Assign":{{{{assign}}}},
                  "Catch":[{"ErrorEquals":["States.ALL"],"Assign":{{{{assign}}}},"Next":"C"}],"Next":"C"},
             "C":{"Type":"Choice","Assign":{{{{assign}}}},"Choices":[{{{{choiceRule.ToJsonString()}}}}],"Default":"W"},
             "W":{"Type":"Wait","Seconds":1,"Assign":{{{{assign}}}},"Next":"P"},
             "P":{"Type":"Parallel","Assign":{{{{assign}}}},"Branches":[{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}],"Next":"M"},
             "M":{"Type":"Map","Assign":{{{{assign}}}},"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Succeed"}}},"End":true}}
            """;
        Assert.Empty(Errors(states, jsonata: jsonata));
    }

    [Theory]
    [InlineData("Succeed", false)]
    [InlineData("Fail", false)]
    [InlineData("Succeed", true)]
    [InlineData("Fail", true)]
    public void Assign_is_refused_on_Succeed_and_Fail_states(string type, bool jsonata)
    {
        Refused(Errors($$$$"""{"A":{"Type":"{{{{type}}}}","Assign":{"v":1}}}""", jsonata: jsonata), "State 'A'", "unknown field 'Assign'");
    }

    [Theory]
    [InlineData("price")]
    [InlineData("x_1")]
    [InlineData("_private")]
    [InlineData("ñandú")]
    [InlineData("価格")]
    public void A_variable_name_that_is_a_Unicode_identifier_is_accepted(string name)
    {
        Assert.Empty(Errors($$$$"""{"A":{"Type":"Pass","Assign":{"{{{{name}}}}":1},"End":true}}"""));
    }

    [Theory]
    [InlineData("1x")]
    [InlineData("a-b")]
    [InlineData("a b")]
    [InlineData("-x")]
    [InlineData("states")]
    public void A_variable_name_that_is_not_a_Unicode_identifier_or_is_reserved_is_refused(string name)
    {
        Refused(Errors($$$$"""{"A":{"Type":"Pass","Assign":{"{{{{name}}}}":1},"End":true}}"""), "State 'A'", $"'{name}' is not a valid variable name");
    }

    [Fact]
    public void A_variable_name_has_at_most_80_characters()
    {
        Assert.Empty(Errors($$$$"""{"A":{"Type":"Pass","Assign":{"{{{{new string('v', 80)}}}}":1},"End":true}}"""));
        Refused(Errors($$$$"""{"A":{"Type":"Pass","Assign":{"{{{{new string('v', 81)}}}}":1},"End":true}}"""), "at most 80 characters");
    }

    [Fact]
    public void A_JSONPath_Assign_naming_a_variable_twice_is_refused()
    {
        Refused(Errors("""{"A":{"Type":"Pass","Assign":{"v":1,"v.$":"$"},"End":true}}"""), "variable 'v' is assigned more than once");
    }

    [Fact]
    public void A_JSONata_Assign_key_ending_in_dot_dollar_is_refused()
    {
        Refused(Errors("""{"A":{"Type":"Pass","Assign":{"v.$":"$"},"End":true}}""", jsonata: true), "State 'A'", "ends in '.$'");
    }

    [Fact]
    public void Assign_must_be_an_object()
    {
        Refused(Errors("""{"A":{"Type":"Pass","Assign":[1],"End":true}}"""), "State 'A'", "Assign must be an object");
    }

    [Fact]
    public void A_nested_Choice_rule_cannot_Assign()
    {
        Refused(Errors("""
            {"A":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.x","IsPresent":true,"Assign":{"v":1}},"Next":"B"}],"Default":"B"},
             "B":{"Type":"Succeed"}}
            """), "Choices[0].Not", "unknown field 'Assign'");
    }

    [Fact]
    public void A_Map_iteration_cannot_assign_a_variable_the_outer_scope_assigns()
    {
        Refused(Errors("""
            {"A":{"Type":"Pass","Assign":{"total":0},"Next":"M"},
             "M":{"Type":"Map","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Assign":{"total":1},"End":true}}},"End":true}}
            """), "State 'I'", "variable 'total' is assigned in an outer scope");
    }

    [Fact]
    public void A_Parallel_branch_cannot_assign_a_variable_its_Parallel_state_assigns_in_a_catcher()
    {
        Refused(Errors("""
            {"P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","Assign":{"err":1},"End":true}}}],
                  "Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"err.$":"$.Error"},"Next":"Z"}],"End":true},
             "Z":{"Type":"Succeed"}}
            """, startAt: "P"), "State 'B'", "variable 'err' is assigned in an outer scope");
    }

    [Fact]
    public void A_nested_Map_cannot_assign_a_variable_of_the_iteration_around_it()
    {
        Refused(Errors("""
            {"M":{"Type":"Map","ItemProcessor":{"StartAt":"O","States":{
               "O":{"Type":"Pass","Assign":{"row":1},"Next":"N"},
               "N":{"Type":"Map","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","Assign":{"row":2},"End":true}}},"End":true}}},"End":true}}
            """, startAt: "M"), "State 'I'", "variable 'row'");
    }

    [Fact]
    public void Sibling_Parallel_branches_may_assign_the_same_name_each_in_its_own_scope()
    {
        Assert.Empty(Errors("""
            {"P":{"Type":"Parallel","Branches":[
               {"StartAt":"B1","States":{"B1":{"Type":"Pass","Assign":{"mine":1},"End":true}}},
               {"StartAt":"B2","States":{"B2":{"Type":"Pass","Assign":{"mine":2},"End":true}}}],"End":true}}
            """, startAt: "P"));
    }

    [Fact]
    public void ResultPath_cannot_be_a_variable()
    {
        Refused(Errors("""{"A":{"Type":"Pass","ResultPath":"$v","End":true}}"""), "State 'A'", "ResultPath '$v' cannot be a variable");
        Refused(Errors("""
            {"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$v.error","Next":"B"}],"End":true},
             "B":{"Type":"Succeed"}}
            """), "Catch[0]", "cannot be a variable");
    }

    [Fact]
    public void A_variable_path_with_an_invalid_name_is_refused()
    {
        Refused(Errors("""{"A":{"Type":"Pass","Parameters":{"x.$":"$1abc"},"End":true}}"""), "State 'A'", "not a valid variable name");
    }
}
