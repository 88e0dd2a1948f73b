using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>Workflow variables while an execution runs: Assign, $name references, scopes, size limits, history, redrive.</summary>
public sealed class VariablesTests
{
    private static string Machine(string states, string startAt = "A", bool jsonata = false)
    {
        var machine = new JsonObject { ["StartAt"] = startAt, ["States"] = JsonNode.Parse(states) };
        if (jsonata)
        {
            machine["QueryLanguage"] = "JSONata";
        }

        return machine.ToJsonString();
    }

    [Fact]
    public async Task A_variable_a_state_assigns_is_read_by_a_later_state_as_a_dollar_name_path()
    {
        var output = await Output(Machine("""
            {"A":{"Type":"Pass","Assign":{"price.$":"$.price","currency":"EUR"},"Next":"B"},
             "B":{"Type":"Pass","Parameters":{"p.$":"$price","c.$":"$currency","in.$":"$"},"End":true}}
            """), """{"price":12.5}""");
        JsonEqual("""{"p":12.5,"c":"EUR","in":{"price":12.5}}""", output);
    }

    [Fact]
    public async Task A_JSONPath_Pass_state_assigns_from_its_result_which_is_Result_or_Parameters_when_it_has_them()
    {
        var output = await Output(Machine("""
            {"A":{"Type":"Pass","Result":{"r":1},"Assign":{"fromResult.$":"$.r"},"Next":"B"},
             "B":{"Type":"Pass","Parameters":{"p.$":"$.r"},"Assign":{"fromParameters.$":"$.p"},"ResultPath":"$.kept","Next":"C"},
             "C":{"Type":"Pass","Parameters":{"a.$":"$fromResult","b.$":"$fromParameters"},"End":true}}
            """));
        JsonEqual("""{"a":1,"b":1}""", output);
    }

    [Fact]
    public async Task A_variable_path_selects_inside_the_variable_value()
    {
        var output = await Output(Machine("""
            {"A":{"Type":"Pass","Assign":{"order.$":"$"},"Next":"B"},
             "B":{"Type":"Pass","Parameters":{"first.$":"$order.items[0].sku","skus.$":"$order.items[*].sku"},"End":true}}
            """), """{"items":[{"sku":"a"},{"sku":"b"}]}""");
        JsonEqual("""{"first":"a","skus":["a","b"]}""", output);
    }

    [Fact]
    public async Task All_assignments_of_one_Assign_see_the_values_the_variables_had_on_entry_in_JSONata()
    {
        // The documentation's example: starting with $x = 3 and $a = 6, {"x": $a, "nextX": $x} ends with x = 6, nextX = 3.
        var output = await Output(Machine("""
            {"A":{"Type":"Pass","Assign":{"x":3,"a":6},"Next":"B"},
             "B":{"Type":"Pass","Assign":{"x":"{% $a %}","nextX":"{% $x %}"},"Next":"C"},
             "C":{"Type":"Pass","Output":{"x":"{% $x %}","nextX":"{% $nextX %}"},"End":true}}
            """, jsonata: true));
        JsonEqual("""{"x":6,"nextX":3}""", output);
    }

    [Fact]
    public async Task All_assignments_of_one_Assign_see_the_values_the_variables_had_on_entry_in_JSONPath()
    {
        var output = await Output(Machine("""
            {"A":{"Type":"Pass","Assign":{"x":3,"a":6},"Next":"B"},
             "B":{"Type":"Pass","Assign":{"x.$":"$a","nextX.$":"$x"},"Next":"C"},
             "C":{"Type":"Pass","Parameters":{"x.$":"$x","nextX.$":"$nextX"},"End":true}}
            """));
        JsonEqual("""{"x":6,"nextX":3}""", output);
    }

    [Fact]
    public async Task The_assigning_states_own_Output_still_sees_the_values_from_its_entry()
    {
        var output = await Output(Machine("""
            {"A":{"Type":"Pass","Assign":{"n":1},"Next":"B"},
             "B":{"Type":"Pass","Assign":{"n":"{% $n + 1 %}"},"Output":{"seen":"{% $n %}"},"Next":"C"},
             "C":{"Type":"Pass","Output":{"before":"{% $states.input.seen %}","now":"{% $n %}"},"End":true}}
            """, jsonata: true));
        JsonEqual("""{"before":1,"now":2}""", output);
    }

    [Fact]
    public async Task A_JSONPath_Task_assigns_from_its_result_after_ResultSelector_and_before_ResultPath()
    {
        var invoker = Functions().Add("f", _ => """{"n":41,"noise":true}""");
        var output = await Output(Machine("""
            {"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f",
                  "ResultSelector":{"answer.$":"$.n"},"ResultPath":"$.task","Assign":{"selected.$":"$","answer.$":"$.answer"},"Next":"B"},
             "B":{"Type":"Pass","Parameters":{"selected.$":"$selected","answer.$":"$answer","input.$":"$"},"End":true}}
            """), """{"id":1}""", invoker);
        JsonEqual("""{"selected":{"answer":41},"answer":41,"input":{"id":1,"task":{"answer":41}}}""", output);
    }

    [Fact]
    public async Task A_JSONata_Task_assigns_from_states_result_and_states_input()
    {
        var invoker = Functions().Add("f", _ => """{"n":41}""");
        var output = await Output(Machine("""
            {"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"FunctionName":"f","Payload":{}},
                  "Assign":{"answer":"{% $states.result.Payload.n + 1 %}","id":"{% $states.input.id %}"},"Output":{},"Next":"B"},
             "B":{"Type":"Pass","Output":{"answer":"{% $answer %}","id":"{% $id %}"},"End":true}}
            """, jsonata: true), """{"id":"b-1"}""", invoker);
        JsonEqual("""{"answer":42,"id":"b-1"}""", output);
    }

    [Fact]
    public async Task A_Choice_rule_Assign_applies_when_its_rule_matches_and_the_state_Assign_when_Default_is_taken()
    {
        var definition = Machine("""
            {"A":{"Type":"Choice","Assign":{"path":"default"},"Choices":[
                   {"Variable":"$.n","NumericGreaterThan":10,"Assign":{"path":"big","n.$":"$.n"},"Next":"B"}],"Default":"B"},
             "B":{"Type":"Pass","Parameters":{"path.$":"$path"},"End":true}}
            """);
        JsonEqual("""{"path":"big"}""", await Output(definition, """{"n":11}"""));
        JsonEqual("""{"path":"default"}""", await Output(definition, """{"n":1}"""));
    }

    [Fact]
    public async Task A_matching_Choice_rule_without_Assign_assigns_nothing_even_when_the_state_has_an_Assign()
    {
        var output = await Output(Machine("""
            {"A":{"Type":"Choice","Assign":{"path":"default"},"Choices":[{"Variable":"$.n","IsPresent":true,"Next":"B"}],"Default":"B"},
             "B":{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $exists($path) %}","End":true}}
            """), """{"n":1}""");
        JsonEqual("false", output);
    }

    [Fact]
    public async Task A_JSONata_Choice_rule_Assign_applies_when_its_Condition_holds()
    {
        var output = await Output(Machine("""
            {"A":{"Type":"Choice","Choices":[{"Condition":"{% $states.input.n > 10 %}","Assign":{"size":"big"},"Next":"B"}],
                  "Default":"B","Assign":{"size":"small"}},
             "B":{"Type":"Pass","Output":"{% $size %}","End":true}}
            """, jsonata: true), """{"n":12}""");
        JsonEqual("\"big\"", output);
    }

    [Fact]
    public async Task A_Wait_state_assigns_from_its_input()
    {
        var output = await Output(Machine("""
            {"A":{"Type":"Wait","Seconds":5,"Assign":{"waited.$":"$.w"},"Next":"B"},
             "B":{"Type":"Pass","Parameters":{"waited.$":"$waited"},"End":true}}
            """), """{"w":"yes"}""");
        JsonEqual("""{"waited":"yes"}""", output);
    }

    [Fact]
    public async Task Intrinsic_functions_take_variables_as_arguments()
    {
        var output = await Output(Machine("""
            {"A":{"Type":"Pass","Assign":{"count":3,"xs":[1,2]},"Next":"B"},
             "B":{"Type":"Pass","Parameters":{"s.$":"States.Format('{} items', $count)","n.$":"States.MathAdd(States.ArrayLength($xs), $count)"},"End":true}}
            """));
        JsonEqual("""{"s":"3 items","n":5}""", output);
    }

    [Fact]
    public async Task Variables_are_readable_in_InputPath_OutputPath_ItemsPath_and_a_Choice_Variable()
    {
        var output = await Output(Machine("""
            {"A":{"Type":"Pass","Assign":{"cfg":{"items":[1,2],"go":true}},"Next":"B"},
             "B":{"Type":"Choice","Choices":[{"Variable":"$cfg.go","BooleanEquals":true,"Next":"C"}],"Default":"Stop"},
             "C":{"Type":"Pass","InputPath":"$cfg","OutputPath":"$cfg.items","Next":"D"},
             "D":{"Type":"Map","ItemsPath":"$cfg.items","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true},
             "Stop":{"Type":"Fail"}}
            """));
        JsonEqual("[1,2]", output);
    }

    [Fact]
    public async Task A_Fail_state_takes_its_ErrorPath_and_CausePath_from_variables()
    {
        var execution = await Failed(Machine("""
            {"A":{"Type":"Pass","Assign":{"problem":{"code":"Order.Invalid","why":"no lines"}},"Next":"F"},
             "F":{"Type":"Fail","ErrorPath":"$problem.code","CausePath":"$problem.why"}}
            """));
        Assert.Equal(("Order.Invalid", "no lines"), (execution.Error, execution.Cause));
    }

    [Fact]
    public async Task A_retried_task_assigns_from_the_attempt_that_succeeded()
    {
        var calls = 0;
        var invoker = Functions().Add("f", _ => ++calls == 1 ? throw new InvalidOperationException("first attempt fails") : """{"attempt":2}""");
        var output = await Output(Machine("""
            {"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","Assign":{"attempt.$":"$.attempt"},
                  "Retry":[{"ErrorEquals":["Lambda.Unknown"],"IntervalSeconds":1,"MaxAttempts":1}],"Next":"B"},
             "B":{"Type":"Pass","Parameters":{"attempt.$":"$attempt"},"End":true}}
            """), "{}", invoker);
        JsonEqual("""{"attempt":2}""", output);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task A_JSONPath_Map_assigns_from_its_results_after_ResultSelector()
    {
        var output = await Output(Machine("""
            {"M":{"Type":"Map","ItemsPath":"$.xs","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},
                  "ResultSelector":{"n.$":"States.ArrayLength($)"},"Assign":{"count.$":"$.n"},"ResultPath":null,"Next":"B"},
             "B":{"Type":"Pass","Parameters":{"count.$":"$count","input.$":"$"},"End":true}}
            """, startAt: "M"), """{"xs":[1,2,3]}""");
        JsonEqual("""{"count":3,"input":{"xs":[1,2,3]}}""", output);
    }

    [Fact]
    public async Task A_variable_that_was_never_assigned_is_a_path_that_matches_nothing()
    {
        var execution = await Failed(Machine("""{"A":{"Type":"Pass","Parameters":{"x.$":"$missing"},"End":true}}"""));
        Assert.Equal(StatesErrors.Runtime, execution.Error);
        Assert.Contains("$missing", execution.Cause, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Map_iteration_reads_the_outer_scopes_variables_in_ItemSelector_and_in_its_states()
    {
        var output = await Output(Machine("""
            {"A":{"Type":"Pass","Assign":{"rate":2},"Next":"M"},
             "M":{"Type":"Map","ItemsPath":"$.xs","ItemSelector":{"x.$":"$$.Map.Item.Value","rate.$":"$rate"},
                  "ItemProcessor":{"StartAt":"I","States":{
                    "I":{"Type":"Pass","Parameters":{"x.$":"$.x","rate.$":"$.rate","again.$":"$rate"},"End":true}}},"End":true}}
            """), """{"xs":[1,2]}""");
        JsonEqual("""[{"x":1,"rate":2,"again":2},{"x":2,"rate":2,"again":2}]""", output);
    }

    [Fact]
    public async Task Each_Map_iteration_has_its_own_scope_and_its_variables_end_with_it()
    {
        var output = await Output(Machine("""
            {"M":{"Type":"Map","Items":"{% $states.input.xs %}",
                  "ItemProcessor":{"StartAt":"Keep","States":{
                    "Keep":{"Type":"Pass","Assign":{"mine":"{% $states.input %}"},"Next":"Read"},
                    "Read":{"Type":"Pass","Output":"{% $mine %}","End":true}}},"Next":"After"},
             "After":{"Type":"Pass","Output":{"results":"{% $states.input %}","leaked":"{% $exists($mine) %}"},"End":true}}
            """, startAt: "M", jsonata: true), """{"xs":[1,2,3]}""");
        JsonEqual("""{"results":[1,2,3],"leaked":false}""", output);
    }

    [Fact]
    public async Task A_Parallel_branch_reads_outer_variables_and_its_own_stay_inside_it()
    {
        var output = await Output(Machine("""
            {"A":{"Type":"Pass","Assign":{"outer":"o"},"Next":"P"},
             "P":{"Type":"Parallel","Branches":[
                   {"StartAt":"B1","States":{"B1":{"Type":"Pass","Assign":{"inner":"i1"},"Next":"B2"},
                                             "B2":{"Type":"Pass","Output":["{% $outer %}","{% $inner %}"],"End":true}}},
                   {"StartAt":"C1","States":{"C1":{"Type":"Pass","Assign":{"inner":"i2"},"Next":"C2"},
                                             "C2":{"Type":"Pass","Output":["{% $outer %}","{% $inner %}"],"End":true}}}],
                  "Assign":{"count":"{% $count($states.result) %}"},"Next":"After"},
             "After":{"Type":"Pass","Output":{"r":"{% $states.input %}","count":"{% $count %}","leaked":"{% $exists($inner) %}"},"End":true}}
            """, jsonata: true));
        JsonEqual("""{"r":[["o","i1"],["o","i2"]],"count":2,"leaked":false}""", output);
    }

    [Fact]
    public async Task A_catchers_Assign_writes_the_scope_of_the_state_that_caught_with_the_error_output()
    {
        var output = await Output(Machine("""
            {"M":{"Type":"Map","ItemsPath":"$.xs","Assign":{"outcome":"ok"},
                  "ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Fail","Error":"Item.Bad","Cause":"no"}}},
                  "Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"outcome":"caught","error.$":"$.Error"},"ResultPath":null,"Next":"After"}],"End":true},
             "After":{"Type":"Pass","Parameters":{"outcome.$":"$outcome","error.$":"$error"},"End":true}}
            """, startAt: "M"), """{"xs":[1]}""");
        JsonEqual("""{"outcome":"caught","error":"Item.Bad"}""", output);
    }

    [Fact]
    public async Task A_catcher_without_Assign_leaves_the_variables_as_they_were()
    {
        var output = await Output(Machine("""
            {"A":{"Type":"Pass","Assign":{"v":"before"},"Next":"T"},
             "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"FunctionName":"nope","Payload":{}},
                  "Assign":{"v":"task"},"Catch":[{"ErrorEquals":["States.ALL"],"Next":"After"}],"End":true},
             "After":{"Type":"Pass","Output":{"v":"{% $v %}","error":"{% $states.input.Error %}"},"End":true}}
            """, jsonata: true), "{}", Functions());
        JsonEqual("""{"v":"before","error":"Lambda.ResourceNotFoundException"}""", output);
    }

    [Fact]
    public async Task A_JSONata_catchers_Assign_sees_states_errorOutput()
    {
        var output = await Output(Machine("""
            {"F":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Fail","Error":"E.1","Cause":"why"}}}],
                  "Catch":[{"ErrorEquals":["E.1"],"Assign":{"why":"{% $states.errorOutput.Cause %}"},"Next":"After"}],"End":true},
             "After":{"Type":"Pass","Output":"{% $why %}","End":true}}
            """, startAt: "F", jsonata: true));
        JsonEqual("\"why\"", output);
    }

    [Fact]
    public async Task The_StateExited_event_carries_the_assigned_variables_serialized_and_not_truncated()
    {
        var execution = await Run(Machine("""{"A":{"Type":"Pass","Assign":{"n":1,"o":{"k":[true]}},"End":true}}"""));
        var exited = execution.History.Single(e => e.Type == "PassStateExited");
        JsonEqual("""{"n":"1","o":"{\"k\":[true]}"}""", exited.Details!["assignedVariables"]);
        JsonEqual("""{"truncated":false}""", exited.Details["assignedVariablesDetails"]);
        JsonEqual("""{"name":"A","output":"{}","assignedVariables":{"n":"1","o":"{\"k\":[true]}"},"assignedVariablesDetails":{"truncated":false}}""",
            execution.History.Single(e => e.Type == "PassStateExited").ToJson()["stateExitedEventDetails"]);
    }

    [Fact]
    public async Task The_StateExited_event_shows_assigned_variables_up_to_the_history_payload_limit_and_says_it_truncated_the_rest()
    {
        var engine = Engine(payloadLimit: 1000);
        var machine = engine.CreateStateMachine("m", Machine("""
            {"A":{"Type":"Pass","Assign":{"first":"{% $join([1..600].('x')) %}","second":"{% $join([1..600].('y')) %}"},"Output":{},"Next":"B"},
             "B":{"Type":"Pass","Output":"{% $length($first) + $length($second) %}","End":true}}
            """, jsonata: true));
        var execution = await engine.RunAsync(machine, "{}");

        Assert.Equal("1200", execution.OutputJson);
        var exited = execution.History.First(e => e.Type == "PassStateExited").Details!;
        Assert.Equal(["first"], exited["assignedVariables"]!.AsObject().Select(p => p.Key));
        JsonEqual("""{"truncated":true}""", exited["assignedVariablesDetails"]);
    }

    [Fact]
    public async Task A_state_without_Assign_records_no_assigned_variables()
    {
        var execution = await Run(Pass());
        Assert.False(execution.History.Single(e => e.Type == "PassStateExited").Details!.ContainsKey("assignedVariables"));
    }

    private static string Big(int bytes) => new('x', bytes - 2); // a JSON string of exactly `bytes` UTF-8 bytes with its quotes

    /// <summary>Runs with a 4 MiB payload limit, so that the input can carry values larger than one variable may hold.</summary>
    private static async Task<Execution> RunLarge(string definition, string input)
    {
        var engine = Engine(payloadLimit: 4 * 1024 * 1024);
        return await engine.RunAsync(engine.CreateStateMachine("large", definition), input);
    }

    [Fact]
    public async Task A_variable_larger_than_256_KiB_fails_the_execution_with_States_Runtime()
    {
        var definition = Machine("""{"A":{"Type":"Pass","Assign":{"big.$":"$.s"},"OutputPath":null,"End":true}}""");
        var fits = await RunLarge(definition, new JsonObject { ["s"] = Big(256 * 1024) }.ToJsonString());
        var over = await RunLarge(definition, new JsonObject { ["s"] = Big((256 * 1024) + 1) }.ToJsonString());
        Assert.Equal(ExecutionStatus.Succeeded, fits.Status);
        Assert.Equal((ExecutionStatus.Failed, StatesErrors.Runtime), (over.Status, over.Error));
        Assert.Contains("variable 'big' is 262145 bytes", over.Cause, StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_Assign_larger_than_256_KiB_in_all_fails_with_States_Runtime_even_when_each_variable_fits()
    {
        var execution = await RunLarge(Machine("""{"A":{"Type":"Pass","Assign":{"a.$":"$.s","b.$":"$.s"},"OutputPath":null,"End":true}}"""),
            new JsonObject { ["s"] = Big(150 * 1024) }.ToJsonString());
        Assert.Equal((ExecutionStatus.Failed, StatesErrors.Runtime), (execution.Status, execution.Error));
        Assert.Contains("in all", execution.Cause, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_variables_of_one_execution_together_may_not_exceed_10_MiB()
    {
        // 41 states each keep a 250 KiB variable, so the 41st passes 10 MiB. Each copies the previous state's
        // variable and outputs {}, so only the first state's input carries the value.
        var states = new JsonObject();
        for (var i = 0; i < 41; i++)
        {
            var assign = new JsonObject { [$"v{i}.$"] = i == 0 ? "$.s" : $"$v{i - 1}" };
            states[$"S{i}"] = new JsonObject { ["Type"] = "Pass", ["Assign"] = assign, ["OutputPath"] = null, ["Next"] = i == 40 ? "Done" : $"S{i + 1}" };
        }

        states["Done"] = new JsonObject { ["Type"] = "Succeed" };
        var definition = new JsonObject { ["StartAt"] = "S0", ["States"] = states }.ToJsonString();
        var execution = await Failed(definition, new JsonObject { ["s"] = Big(250 * 1024) }.ToJsonString());
        Assert.Equal(StatesErrors.Runtime, execution.Error);
        Assert.Contains("State 'S40'", execution.Cause, StringComparison.Ordinal);
        Assert.Contains("limit of an execution", execution.Cause, StringComparison.Ordinal);
        Assert.Equal(40, execution.History.Count(e => e.Type == "PassStateExited"));
    }

    [Fact]
    public async Task A_variable_size_failure_is_States_Runtime_which_no_catcher_catches()
    {
        var execution = await Failed(Machine("""
            {"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","Assign":{"a.$":"$.s","b.$":"$.s"},
                  "Catch":[{"ErrorEquals":["States.ALL"],"Next":"B"}],"End":true},
             "B":{"Type":"Succeed"}}
            """), "{}", Functions().Add("f", _ => new JsonObject { ["s"] = Big(200 * 1024) }.ToJsonString()));
        Assert.Equal(StatesErrors.Runtime, execution.Error);
        Assert.DoesNotContain(execution.History, e => e.Type == "SucceedStateEntered");
    }

    [Fact]
    public async Task A_redriven_execution_resumes_with_the_variables_it_had_when_it_entered_the_failed_state()
    {
        var calls = 0;
        var engine = Engine(Functions().Add("flaky", _ => ++calls == 1 ? throw new InvalidOperationException("first call fails") : "{}"));
        var machine = engine.CreateStateMachine("m", Machine("""
            {"A":{"Type":"Pass","Assign":{"n":1},"Next":"B"},
             "B":{"Type":"Pass","Assign":{"n":"{% $n + 1 %}"},"Next":"T"},
             "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"FunctionName":"flaky","Payload":{}},
                  "Output":{"n":"{% $n %}"},"End":true}}
            """, jsonata: true));
        var execution = await engine.RunAsync(machine, "{}", "vars-1");
        Assert.Equal(StatesErrors.LambdaUnknown, execution.Error);

        await engine.RedriveExecution(execution.Arn).Completion;

        // B did not run again (n would be 3): the redrive re-entered T with the variables T was first entered with.
        Assert.True(execution.Status == ExecutionStatus.Succeeded, execution.Cause);
        JsonEqual("""{"n":2}""", JsonNode.Parse(execution.OutputJson!));
    }

    [Fact]
    public async Task A_redrive_that_resumes_at_a_Map_reads_the_variables_assigned_before_it()
    {
        var engine = Engine();
        var machine = engine.CreateStateMachine("m", Machine("""
            {"A":{"Type":"Pass","Assign":{"factor":10},"Next":"M"},
             "M":{"Type":"Map","Items":"{% $states.input.xs %}","MaxConcurrency":1,
                  "ItemProcessor":{"StartAt":"Check","States":{
                    "Check":{"Type":"Choice","Choices":[{"Condition":"{% $states.input = 2 and $states.context.Execution.RedriveCount = 0 %}","Next":"Boom"}],"Default":"Times"},
                    "Boom":{"Type":"Fail","Error":"Item.Failed"},
                    "Times":{"Type":"Pass","Output":"{% $states.input * $factor %}","End":true}}},"End":true}}
            """, jsonata: true));
        var execution = await engine.RunAsync(machine, """{"xs":[1,2,3]}""", "vars-2");
        Assert.Equal("Item.Failed", execution.Error);

        await engine.RedriveExecution(execution.Arn).Completion;

        Assert.True(execution.Status == ExecutionStatus.Succeeded, execution.Cause);
        JsonEqual("[10,20,30]", JsonNode.Parse(execution.OutputJson!));
        Assert.Single(execution.History, e => e.Type == "PassStateEntered" && (string?)e.Details!["name"] == "A");
    }
}
