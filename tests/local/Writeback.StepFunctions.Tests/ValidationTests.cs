using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>What the engine refuses when a definition loads; every error names the state (and the feature).</summary>
public sealed class ValidationTests
{
    private static void Refused(string definition, params string[] fragments)
    {
        var errors = StateMachineDefinition.Validate(definition);
        Assert.True(errors.Any(e => fragments.All(f => e.Contains(f, StringComparison.Ordinal))),
            $"no error containing [{string.Join(", ", fragments)}] in:\n{string.Join("\n", errors)}");
    }

    [Fact]
    public void A_valid_definition_has_no_errors()
    {
        Assert.Empty(StateMachineDefinition.Validate(Pass()));
    }

    [Fact]
    public void An_unknown_field_is_refused_naming_the_state()
    {
        Refused("""{"StartAt":"A","States":{"A":{"Type":"Pass","Nxt":"B","End":true}}}""", "State 'A'", "unknown field 'Nxt'");
    }

    [Fact]
    public void A_missing_StartAt_is_refused()
    {
        Refused("""{"States":{"A":{"Type":"Pass","End":true}}}""", "missing StartAt");
    }

    [Fact]
    public void A_missing_Type_is_refused()
    {
        Refused("""{"StartAt":"A","States":{"A":{"End":true}}}""", "State 'A'", "missing Type");
    }

    [Fact]
    public void A_state_without_Next_or_End_is_refused()
    {
        Refused("""{"StartAt":"A","States":{"A":{"Type":"Pass"}}}""", "State 'A'", "missing Next");
    }

    [Fact]
    public void A_Next_to_an_unknown_state_is_refused()
    {
        Refused("""{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}""", "State 'A'", "'Nowhere' is not a state");
    }

    [Fact]
    public void An_unreachable_state_is_refused()
    {
        Refused("""{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"Orphan":{"Type":"Pass","End":true}}}""", "State 'Orphan'", "unreachable");
    }

    [Fact]
    public void A_bad_path_is_refused()
    {
        Refused(Pass("""{"InputPath":"a.b"}"""), "State 'P'", "InputPath", "not a valid JSONPath");
        Refused(Pass("""{"Parameters":{"x.$":"$.a["}}"""), "State 'P'", "x.$");
    }

    [Fact]
    public void A_ResultPath_with_a_wildcard_is_refused()
    {
        Refused(Pass("""{"ResultPath":"$.a[*]"}"""), "State 'P'", "ResultPath", "reference path");
    }

    [Fact]
    public void A_QueryLanguage_other_than_JSONPath_or_JSONata_is_refused()
    {
        Refused("""{"QueryLanguage":"XPath","StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}""", "The state machine", "QueryLanguage 'XPath'");
        Refused("""{"StartAt":"A","States":{"A":{"Type":"Pass","QueryLanguage":"jsonata","End":true}}}""", "State 'A'", "is not JSONPath or JSONata");
    }

    [Fact]
    public void A_JSONata_field_in_a_JSONPath_state_is_refused()
    {
        Refused(Pass("""{"Output":{"a":1}}"""), "State 'P'", "Output");
    }

    [Fact]
    public void A_Distributed_Map_s_errors_and_its_fields_on_an_inline_Map_name_the_state()
    {
        Refused("""
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject"},
              "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},"End":true}}}
            """, "State 'M'", "ItemReader: needs Parameters");
        Refused("""
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemBatcher":{"MaxItemsPerBatch":5},
              "ItemProcessor":{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},"End":true}}}
            """, "State 'M'", "ItemBatcher belongs to a Distributed Map");
    }

    [Fact]
    public void An_activity_is_refused()
    {
        Refused("""{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:us-east-1:000000000000:activity:work","End":true}}}""", "State 'T'", "activities");
    }

    [Fact]
    public void Sync_and_waitForTaskToken_integrations_are_refused()
    {
        Refused("""{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::ecs:runTask.sync","End":true}}}""", "State 'T'", ".sync");
        Refused("""{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"f"},"End":true}}}""", "State 'T'", ".waitForTaskToken");
    }

    [Fact]
    public void An_unsubstituted_placeholder_is_refused()
    {
        Refused("""{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"${PrepareFunctionArn}"},"End":true}}}""", "State 'T'", "placeholder");
    }

    [Fact]
    public void A_Choice_rule_without_an_operator_is_refused()
    {
        Refused("""{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","Next":"D"}]},"D":{"Type":"Succeed"}}}""", "State 'C'", "exactly one comparison operator");
    }

    [Fact]
    public void States_ALL_that_is_not_last_is_refused()
    {
        Refused("""
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f",
              "Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["E"]}],"End":true}}}
            """, "State 'T'", "States.ALL");
    }

    [Fact]
    public void A_nested_state_error_names_the_nested_state()
    {
        Refused("""
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"Inner","States":{"Inner":{"Type":"Pass"}}},"End":true}}}
            """, "State 'Inner'", "missing Next");
    }

    [Fact]
    public void Duplicate_state_names_across_branches_are_refused()
    {
        Refused("""
            {"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
              {"StartAt":"X","States":{"X":{"Type":"Pass","End":true}}},
              {"StartAt":"X","States":{"X":{"Type":"Pass","End":true}}}],"End":true}}}
            """, "State 'X'", "unique");
    }

    [Fact]
    public void HeartbeatSeconds_must_be_below_TimeoutSeconds()
    {
        Refused("""{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","TimeoutSeconds":10,"HeartbeatSeconds":10,"End":true}}}""", "State 'T'", "HeartbeatSeconds");
    }

    [Fact]
    public void Loading_an_invalid_definition_throws_with_every_error()
    {
        var e = Assert.Throws<InvalidDefinitionException>(() => StateMachineDefinition.Parse("""{"StartAt":"A","States":{"A":{"Type":"Pass"},"B":{"Type":"Nope"}}}"""));
        Assert.True(e.Errors.Count >= 2);
    }
}
