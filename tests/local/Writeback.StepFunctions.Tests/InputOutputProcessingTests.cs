using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>InputPath → Parameters → (task) → ResultSelector → ResultPath → OutputPath, and the context object.</summary>
public sealed class InputOutputProcessingTests
{
    [Fact]
    public async Task InputPath_selects_the_part_of_the_input_the_state_sees()
    {
        JsonEqual("""{"x":1}""", await Output(Pass("""{"InputPath":"$.a"}"""), """{"a":{"x":1},"b":2}"""));
    }

    [Fact]
    public async Task A_null_InputPath_gives_the_state_an_empty_object()
    {
        JsonEqual("{}", await Output(Pass("""{"InputPath":null}"""), """{"a":1}"""));
    }

    [Fact]
    public async Task Parameters_copy_literals_and_resolve_dollar_keys()
    {
        JsonEqual("""{"fixed":"v","from":1,"nested":{"deep":[1,2]}}""",
            await Output(Pass("""{"Parameters":{"fixed":"v","from.$":"$.a","nested":{"deep.$":"$.list"}}}"""), """{"a":1,"list":[1,2]}"""));
    }

    [Fact]
    public async Task A_Parameters_path_that_does_not_exist_is_a_States_Runtime_error()
    {
        var execution = await Failed(Pass("""{"Parameters":{"x.$":"$.missing"}}"""));
        Assert.Equal(StatesErrors.Runtime, execution.Error);
    }

    [Fact]
    public async Task Pass_Result_replaces_the_input_at_ResultPath()
    {
        JsonEqual("""{"a":1,"r":{"x":2}}""", await Output(Pass("""{"Result":{"x":2},"ResultPath":"$.r"}"""), """{"a":1}"""));
    }

    [Fact]
    public async Task ResultPath_creates_missing_parents()
    {
        JsonEqual("""{"a":1,"b":{"c":{"d":"r"}}}""", await Output(Pass("""{"Result":"r","ResultPath":"$.b.c.d"}"""), """{"a":1}"""));
    }

    [Fact]
    public async Task A_null_ResultPath_discards_the_result_and_passes_the_input_through()
    {
        JsonEqual("""{"a":1}""", await Output(Pass("""{"Result":"r","ResultPath":null}"""), """{"a":1}"""));
    }

    [Fact]
    public async Task ResultPath_on_an_input_that_is_not_an_object_is_a_States_Runtime_error()
    {
        var execution = await Failed(Pass("""{"Result":"r","ResultPath":"$.x"}"""), "\"text\"");
        Assert.Equal(StatesErrors.Runtime, execution.Error);
    }

    [Fact]
    public async Task OutputPath_selects_the_part_of_the_output_passed_on()
    {
        JsonEqual("2", await Output(Pass("""{"OutputPath":"$.b"}"""), """{"a":1,"b":2}"""));
    }

    [Fact]
    public async Task A_null_OutputPath_passes_on_an_empty_object()
    {
        JsonEqual("{}", await Output(Pass("""{"OutputPath":null}"""), """{"a":1}"""));
    }

    [Fact]
    public async Task ResultSelector_shapes_a_task_result_before_ResultPath()
    {
        var invoker = Functions().Add("f", _ => """{"big":"x","keep":7}""");
        var definition = """
            {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f",
              "ResultSelector":{"kept.$":"$.keep","constant":1},"ResultPath":"$.r","End":true}}}
            """;
        JsonEqual("""{"in":0,"r":{"kept":7,"constant":1}}""", await Output(definition, """{"in":0}""", invoker));
    }

    [Fact]
    public async Task Wildcard_and_filter_paths_select_lists()
    {
        JsonEqual("""{"names":["a","b"],"big":[{"n":"b","v":5}]}""",
            await Output(Pass("""{"Parameters":{"names.$":"$.items[*].n","big.$":"$.items[?(@.v > 3)]"}}"""),
                """{"items":[{"n":"a","v":1},{"n":"b","v":5}]}"""));
    }

    [Fact]
    public async Task The_context_object_exposes_execution_state_and_state_machine()
    {
        var engine = Engine();
        var machine = engine.CreateStateMachine("ctx", Pass("""{"Parameters":{"name.$":"$$.Execution.Name","input.$":"$$.Execution.Input.a","state.$":"$$.State.Name","entered.$":"$$.State.EnteredTime","retry.$":"$$.State.RetryCount","machine.$":"$$.StateMachine.Name","id.$":"$$.Execution.Id"}}"""));
        var execution = await engine.RunAsync(machine, """{"a":5}""", "run-1");
        var output = JsonNode.Parse(execution.OutputJson!)!;
        Assert.Equal("run-1", output["name"]!.GetValue<string>());
        Assert.Equal(5, output["input"]!.GetValue<int>());
        Assert.Equal("P", output["state"]!.GetValue<string>());
        Assert.Equal("2026-01-01T00:00:00.000Z", output["entered"]!.GetValue<string>());
        Assert.Equal(0, output["retry"]!.GetValue<int>());
        Assert.Equal("ctx", output["machine"]!.GetValue<string>());
        Assert.Equal("arn:aws:states:us-east-1:000000000000:execution:ctx:run-1", output["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Succeed_applies_InputPath_and_OutputPath()
    {
        var definition = """{"StartAt":"S","States":{"S":{"Type":"Succeed","InputPath":"$.a","OutputPath":"$.b"}}}""";
        JsonEqual("2", await Output(definition, """{"a":{"b":2}}"""));
    }
}
