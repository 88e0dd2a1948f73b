using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>StartExecution's rules (names, idempotency), statuses and the history.</summary>
public sealed class ExecutionTests
{
    /// <summary>A machine whose only Task blocks until the test releases it, so an execution stays RUNNING.</summary>
    private static (StepFunctionsEngine Engine, StateMachine Machine, TaskCompletionSource Release) Blocking()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var invoker = Functions().Add("f", async (p, ct) =>
        {
            await release.Task.WaitAsync(ct);
            return Ok(p);
        });
        var engine = Engine(invoker);
        var machine = engine.CreateStateMachine("blocking", """{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","End":true}}}""");
        return (engine, machine, release);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("batch/2026")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void An_execution_name_outside_1_to_80_of_0_9_A_Z_a_z_dash_underscore_is_refused(string name)
    {
        var engine = Engine();
        var machine = engine.CreateStateMachine("m", Pass());
        var e = Assert.Throws<StepFunctionsApiException>(() => engine.StartExecution(machine, "{}", name));
        Assert.Equal("InvalidName", e.ErrorCode);
    }

    [Fact]
    public async Task The_same_name_and_input_while_running_returns_the_running_execution()
    {
        var (engine, machine, release) = Blocking();
        var first = engine.StartExecution(machine, """{"a":1}""", "batch-1");
        var second = engine.StartExecution(machine, """{ "a" : 1 }""", "batch-1");
        Assert.Same(first, second);
        release.SetResult();
        await first.Completion;
        Assert.Equal(ExecutionStatus.Succeeded, first.Status);
    }

    [Fact]
    public async Task The_same_name_with_a_different_input_while_running_is_ExecutionAlreadyExists()
    {
        var (engine, machine, release) = Blocking();
        var first = engine.StartExecution(machine, """{"a":1}""", "batch-1");
        var e = Assert.Throws<StepFunctionsApiException>(() => engine.StartExecution(machine, """{"a":2}""", "batch-1"));
        Assert.Equal("ExecutionAlreadyExists", e.ErrorCode);
        release.SetResult();
        await first.Completion;
    }

    [Fact]
    public async Task The_same_name_after_the_execution_closed_is_ExecutionAlreadyExists()
    {
        var engine = Engine();
        var machine = engine.CreateStateMachine("m", Pass());
        await engine.RunAsync(machine, "{}", "batch-1");
        var e = Assert.Throws<StepFunctionsApiException>(() => engine.StartExecution(machine, "{}", "batch-1"));
        Assert.Equal("ExecutionAlreadyExists", e.ErrorCode);
    }

    [Fact]
    public void An_input_that_is_not_JSON_is_refused()
    {
        var engine = Engine();
        var machine = engine.CreateStateMachine("m", Pass());
        Assert.Equal("InvalidExecutionInput", Assert.Throws<StepFunctionsApiException>(() => engine.StartExecution(machine, "{nope")).ErrorCode);
    }

    [Fact]
    public async Task Stop_aborts_a_running_execution()
    {
        var (engine, machine, _) = Blocking();
        var execution = engine.StartExecution(machine, "{}", "to-stop");
        execution.Stop("Operator.Stop", "no longer needed");
        await execution.Completion;
        Assert.Equal("ABORTED", execution.StatusName);
        Assert.Equal("ExecutionAborted", execution.History[^1].Type);
    }

    [Fact]
    public async Task DescribeExecution_finds_an_execution_by_arn()
    {
        var engine = Engine();
        var machine = engine.CreateStateMachine("m", Pass());
        var execution = await engine.RunAsync(machine, "{}", "x");
        Assert.Same(execution, engine.DescribeExecution("arn:aws:states:us-east-1:000000000000:execution:m:x"));
    }

    [Fact]
    public async Task The_execution_TimeoutSeconds_closes_it_as_TIMED_OUT()
    {
        var definition = """{"TimeoutSeconds":60,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}""";
        var execution = await Run(definition);
        Assert.Equal(ExecutionStatus.TimedOut, execution.Status);
        Assert.Equal(StatesErrors.Timeout, execution.Error);
        Assert.Equal("ExecutionTimedOut", execution.History[^1].Type);
    }

    [Fact]
    public async Task History_events_are_numbered_chained_and_timestamped()
    {
        var definition = """{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"W"},"W":{"Type":"Wait","Seconds":10,"End":true}}}""";
        var execution = await Run(definition, """{"x":1}""");
        var history = execution.History;
        Assert.Equal(["ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"], history.Select(e => e.Type));
        Assert.Equal(Enumerable.Range(1, history.Count).Select(i => (long)i), history.Select(e => e.Id));
        Assert.Equal(Enumerable.Range(0, history.Count).Select(i => (long)i), history.Select(e => e.PreviousEventId));
        Assert.Equal(TimeSpan.FromSeconds(10), history[^1].Timestamp - history[0].Timestamp);
        var json = history[1].ToJson();
        Assert.Equal("A", json["stateEnteredEventDetails"]!["name"]!.GetValue<string>());
        Assert.Equal("""{"x":1}""", json["stateEnteredEventDetails"]!["input"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_plain_function_ARN_records_LambdaFunction_events()
    {
        var definition = """{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","End":true}}}""";
        var execution = await Run(definition, "{}", Functions().Add("f", _ => "{}"));
        Assert.Equal(["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"],
            execution.History.Select(e => e.Type));
    }

    [Fact]
    public async Task History_serializes_like_GetExecutionHistory()
    {
        var execution = await Run(Pass());
        var json = HistoryEvent.ToJson(execution.History);
        var first = json["events"]![0]!;
        Assert.Equal("ExecutionStarted", first["type"]!.GetValue<string>());
        Assert.Equal(0, first["previousEventId"]!.GetValue<long>());
        Assert.NotNull(first["executionStartedEventDetails"]);
        Assert.Equal("2026-01-01T00:00:00.000Z", first["timestamp"]!.GetValue<string>());
        Assert.NotNull(JsonNode.Parse(json.ToJsonString()));
    }
}
