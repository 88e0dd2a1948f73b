using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>JSONata states: QueryLanguage, {% %} fields, $states, States.QueryEvaluationError and the JSONPath fields refused.</summary>
public sealed class JsonataStateTests
{
    /// <summary>A JSONata machine whose only state is <paramref name="state"/> (a JSON object), named S.</summary>
    private static string Machine(string state) =>
        new JsonObject { ["QueryLanguage"] = "JSONata", ["StartAt"] = "S", ["States"] = new JsonObject { ["S"] = JsonNode.Parse(state) } }.ToJsonString();

    [Fact]
    public async Task A_Pass_state_outputs_its_Output_evaluated_over_states_input()
    {
        var output = await Output(Machine("""{"Type":"Pass","Output":{"total":"{% $sum($states.input.xs) %}","kept":"literal"},"End":true}"""), """{"xs":[1,2,3]}""");
        JsonEqual("""{"total":6,"kept":"literal"}""", output);
    }

    [Fact]
    public async Task A_state_without_Output_passes_its_input_on()
    {
        JsonEqual("""{"a":1}""", await Output(Machine("""{"Type":"Pass","End":true}"""), """{"a":1}"""));
    }

    [Fact]
    public async Task Output_may_be_one_expression_of_any_type()
    {
        JsonEqual("[2,4]", await Output(Machine("""{"Type":"Pass","Output":"{% $states.input.xs.($ * 2) %}","End":true}"""), """{"xs":[1,2]}"""));
    }

    [Fact]
    public async Task A_string_that_is_not_wholly_an_expression_is_literal()
    {
        JsonEqual("""{"s":"x {% 1 %}"}""", await Output(Machine("""{"Type":"Pass","Output":{"s":"x {% 1 %}"},"End":true}""")));
    }

    [Fact]
    public async Task Arguments_shape_the_task_input_and_Output_sees_states_result()
    {
        string? received = null;
        var invoker = Functions().Add("f", p => { received = p; return """{"n":41}"""; });
        var output = await Output(Machine("""
            {"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
             "Arguments":{"FunctionName":"f","Payload":{"id":"{% $states.input.id %}"}},
             "Output":{"answer":"{% $states.result.Payload.n + 1 %}","id":"{% $states.input.id %}"},"End":true}
            """), """{"id":"b-1"}""", invoker);
        JsonEqual("""{"id":"b-1"}""", JsonNode.Parse(received!));
        JsonEqual("""{"answer":42,"id":"b-1"}""", output);
    }

    [Fact]
    public async Task A_task_without_Output_outputs_its_result()
    {
        var output = await Output(Machine("""{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","End":true}"""), "{}", Functions().Add("f", _ => "[1]"));
        JsonEqual("[1]", output);
    }

    [Fact]
    public async Task Choice_takes_the_first_rule_whose_Condition_is_true()
    {
        var definition = """
            {"QueryLanguage":"JSONata","StartAt":"C","States":{
              "C":{"Type":"Choice","Choices":[
                {"Condition":"{% $states.input.n > 10 %}","Next":"Big"},
                {"Condition":"{% $states.input.n > 5 %}","Next":"Medium"}],"Default":"Small"},
              "Big":{"Type":"Pass","Output":"big","End":true},
              "Medium":{"Type":"Pass","Output":"medium","End":true},
              "Small":{"Type":"Pass","Output":"small","End":true}}}
            """;
        Assert.Equal("medium", (await Output(definition, """{"n":7}"""))!.GetValue<string>());
        Assert.Equal("small", (await Output(definition, """{"n":1}"""))!.GetValue<string>());
    }

    [Fact]
    public async Task A_Condition_that_is_not_a_boolean_is_a_QueryEvaluationError()
    {
        // A Default to a terminal state: a Choice that can only loop to itself has no terminal state, which the service refuses.
        var e = await Failed("""
            {"QueryLanguage":"JSONata","StartAt":"S","States":{
              "S":{"Type":"Choice","Choices":[{"Condition":"{% $states.input.n %}","Next":"S"}],"Default":"Done"},
              "Done":{"Type":"Succeed"}}}
            """, """{"n":1}""");
        Assert.Equal(StatesErrors.QueryEvaluationError, e.Error);
    }

    [Fact]
    public async Task An_Output_expression_that_yields_undefined_is_a_QueryEvaluationError()
    {
        var e = await Failed(Machine("""{"Type":"Pass","Output":"{% $states.input.missing %}","End":true}"""));
        Assert.Equal(StatesErrors.QueryEvaluationError, e.Error);
        Assert.Contains("undefined", e.Cause, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_undefined_value_inside_an_object_leaves_its_key_out()
    {
        JsonEqual("""{"a":1}""", await Output(Machine("""{"Type":"Pass","Output":{"a":1,"b":"{% $states.input.missing %}"},"End":true}""")));
    }

    [Fact]
    public async Task An_expression_that_fails_is_a_QueryEvaluationError_a_Catch_can_handle_with_states_errorOutput()
    {
        var definition = """
            {"QueryLanguage":"JSONata","StartAt":"T","States":{
              "T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","Arguments":"{% $number('x') %}",
                   "Catch":[{"ErrorEquals":["States.QueryEvaluationError"],"Next":"Handled","Output":{"error":"{% $states.errorOutput.Error %}","was":"{% $states.input.k %}"}}],"End":true},
              "Handled":{"Type":"Succeed"}}}
            """;
        JsonEqual("""{"error":"States.QueryEvaluationError","was":"v"}""", await Output(definition, """{"k":"v"}""", Functions().Add("f", _ => "1")));
    }

    [Fact]
    public async Task A_catcher_without_Output_outputs_the_error_output()
    {
        var definition = """
            {"QueryLanguage":"JSONata","StartAt":"F","States":{
              "F":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Done"}],"End":true},
              "Done":{"Type":"Succeed"}}}
            """;
        var invoker = Functions().Add("f", (_, _) => Task.FromResult(LambdaInvocationResult.Failure("Boom", "it broke")));
        JsonEqual("""{"Error":"Boom","Cause":"it broke"}""", await Output(definition, "{}", invoker));
    }

    [Fact]
    public async Task Map_iterates_over_Items_with_ItemSelector_seeing_states_context_Map_Item()
    {
        var output = await Output(Machine("""
            {"Type":"Map","Items":"{% $states.input.shards %}","MaxConcurrency":"{% 2 %}",
             "ItemSelector":{"index":"{% $states.context.Map.Item.Index %}","shard":"{% $states.context.Map.Item.Value %}","batch":"{% $states.input.batch %}"},
             "ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.input.batch & '/' & $states.input.shard & '#' & $states.input.index %}","End":true}}},
             "End":true}
            """), """{"batch":"b","shards":["x","y"]}""");
        JsonEqual("""["b/x#0","b/y#1"]""", output);
    }

    [Fact]
    public async Task Map_Items_that_are_not_an_array_is_a_QueryEvaluationError()
    {
        var e = await Failed(Machine("""{"Type":"Map","Items":"{% 'nope' %}","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Succeed"}}},"End":true}"""));
        Assert.Equal(StatesErrors.QueryEvaluationError, e.Error);
    }

    [Fact]
    public async Task Parallel_gives_each_branch_its_Arguments()
    {
        var output = await Output(Machine("""
            {"Type":"Parallel","Arguments":{"v":"{% $states.input.v * 10 %}"},
             "Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},{"StartAt":"B","States":{"B":{"Type":"Pass","Output":"{% $states.input.v + 1 %}","End":true}}}],
             "Output":"{% $states.result[1] %}","End":true}
            """), """{"v":2}""");
        JsonEqual("21", output);
    }

    [Fact]
    public async Task Wait_Seconds_from_an_expression_waits_that_long_on_the_clock()
    {
        var clock = new VirtualClock(Start);
        await Output(Machine("""{"Type":"Wait","Seconds":"{% $states.input.s * 60 %}","End":true}"""), """{"s":2}""", clock: clock);
        Assert.Equal(Start.AddMinutes(2), clock.GetUtcNow());
    }

    [Fact]
    public async Task Wait_Timestamp_from_an_expression_waits_until_it()
    {
        var clock = new VirtualClock(Start);
        await Output(Machine("""{"Type":"Wait","Timestamp":"{% $states.input.at %}","End":true}"""), """{"at":"2026-01-01T01:00:00Z"}""", clock: clock);
        Assert.Equal(Start.AddHours(1), clock.GetUtcNow());
    }

    [Fact]
    public async Task TimeoutSeconds_from_an_expression_times_the_task_out()
    {
        var clock = new VirtualClock(Start);
        var invoker = Functions().Add("slow", async (_, ct) => { await clock.SleepAsync(TimeSpan.FromMinutes(5), ct); return Ok("1"); });
        var e = await Failed(Machine("""{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:slow","TimeoutSeconds":"{% $states.input.t %}","End":true}"""),
            """{"t":30}""", invoker, clock);
        Assert.Equal(StatesErrors.Timeout, e.Error);
    }

    [Fact]
    public async Task Fail_Error_and_Cause_may_be_expressions()
    {
        var e = await Failed(Machine("""{"Type":"Fail","Error":"{% 'Bad.' & $states.input.kind %}","Cause":"{% 'item ' & $string($states.input.n) %}"}"""), """{"kind":"Input","n":3}""");
        Assert.Equal("Bad.Input", e.Error);
        Assert.Equal("item 3", e.Cause);
    }

    [Fact]
    public async Task States_context_holds_the_execution_and_the_state()
    {
        var output = await Output(Machine("""{"Type":"Pass","Output":{"state":"{% $states.context.State.Name %}","input":"{% $states.context.Execution.Input.a %}"},"End":true}"""), """{"a":5}""");
        JsonEqual("""{"state":"S","input":5}""", output);
    }

    [Fact]
    public async Task A_JSONata_state_runs_inside_a_JSONPath_machine()
    {
        var definition = """
            {"StartAt":"P","States":{
              "P":{"Type":"Pass","Parameters":{"x.$":"$.a"},"Next":"J"},
              "J":{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.input.x + 1 %}","End":true}}}
            """;
        JsonEqual("2", await Output(definition, """{"a":1}"""));
    }

    [Fact]
    public void A_JSONPath_state_is_refused_in_a_JSONata_machine()
    {
        var errors = StateMachineDefinition.Validate(Machine("""{"Type":"Pass","QueryLanguage":"JSONPath","End":true}"""));
        Assert.Contains(errors, e => e.Contains("QueryLanguage JSONPath is not allowed", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Parameters", "{}")]
    [InlineData("InputPath", "\"$\"")]
    [InlineData("ResultPath", "\"$.r\"")]
    [InlineData("ResultSelector", "{}")]
    [InlineData("OutputPath", "\"$\"")]
    public void A_JSONPath_only_field_in_a_JSONata_state_is_refused(string field, string value)
    {
        var errors = StateMachineDefinition.Validate(Machine($$"""{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","{{field}}":{{value}},"End":true}"""));
        Assert.Contains(errors, e => e.Contains($"'{field}' is a JSONPath field", StringComparison.Ordinal));
    }

    [Fact]
    public void A_dollar_key_in_a_JSONata_state_is_refused()
    {
        var errors = StateMachineDefinition.Validate(Machine("""{"Type":"Pass","Output":{"x.$":"$.a"},"End":true}"""));
        Assert.Contains(errors, e => e.Contains("'x.$' ends in '.$'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_catcher_ResultPath_in_a_JSONata_state_is_refused()
    {
        var errors = StateMachineDefinition.Validate(Machine("""
            {"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.e","Next":"S"}],"End":true}
            """));
        Assert.Contains(errors, e => e.Contains("ResultPath is a JSONPath field", StringComparison.Ordinal));
    }

    [Fact]
    public void A_JSONPath_choice_rule_in_a_JSONata_state_is_refused()
    {
        var errors = StateMachineDefinition.Validate(Machine("""{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Next":"S"}]}"""));
        Assert.Contains(errors, e => e.Contains("'Variable' is a JSONPath choice rule", StringComparison.Ordinal));
    }

    [Fact]
    public void An_expression_that_does_not_parse_is_refused_at_load()
    {
        var errors = StateMachineDefinition.Validate(Machine("""{"Type":"Pass","Output":"{% $states.input. %}","End":true}"""));
        Assert.Contains(errors, e => e.Contains("does not parse", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("$states.input.a ?? 1", "??")]
    [InlineData("$states.input.a ?: 1", "?:")]
    public void Operators_newer_than_the_services_JSONata_2_0_6_are_refused(string expression, string op)
    {
        var errors = StateMachineDefinition.Validate(Machine($$"""{"Type":"Pass","Output":"{% {{expression}} %}","End":true}"""));
        Assert.Contains(errors, e => e.Contains($"{op} came in JSONata 2.1.0", StringComparison.Ordinal));
    }

    /// <summary>
    /// The AWS guide's JSONPath-to-JSONata conversion example ("Transforming data with JSONata"), less its variable
    /// (VariablesGuideExamplesTests runs it with $customerName): a literal, an expression, and a string that looks like
    /// a path but is not evaluated.
    /// </summary>
    [Fact]
    public async Task The_guides_conversion_example_builds_the_same_Arguments_as_its_JSONPath_original()
    {
        string? jsonata = null, jsonPath = null;
        var invoker = Functions().Add("f", p => { if (jsonata is null) { jsonata = p; } else { jsonPath = p; } return "{}"; });
        await Output(Machine("""
            {"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f",
             "Arguments":{"static":"Hello","title":"{% $states.input.title %}","not-evaluated":"$customerName"},"End":true}
            """), """{"title":"Doctor"}""", invoker);
        await Output("""
            {"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f",
             "Parameters":{"static":"Hello","title.$":"$.title","not-evaluated":"$customerName"},"End":true}}}
            """, """{"title":"Doctor"}""", invoker);
        JsonEqual("""{"static":"Hello","title":"Doctor","not-evaluated":"$customerName"}""", JsonNode.Parse(jsonata!));
        JsonEqual(jsonPath!, JsonNode.Parse(jsonata!));
    }

    [Fact]
    public async Task The_Step_Functions_functions_partition_range_hash_and_parse_are_available()
    {
        var output = await Output(Machine("""
            {"Type":"Pass","Output":{"p":"{% $partition([1,2,3,4,5], 2) %}","r":"{% $range(0, 10, 5) %}","h":"{% $hash('abc', 'SHA-256') %}","j":"{% $parse('{\"a\":[1]}') %}"},"End":true}
            """));
        JsonEqual("""{"p":[[1,2],[3,4],[5]],"r":[0,5,10],"h":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","j":{"a":[1]}}""", output);
    }

    [Fact]
    public async Task Eval_is_not_available()
    {
        var e = await Failed(Machine("""{"Type":"Pass","Output":"{% $eval('1') %}","End":true}"""));
        Assert.Equal(StatesErrors.QueryEvaluationError, e.Error);
    }
}
