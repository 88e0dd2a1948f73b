using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>RedriveExecution as the service defines it: same ARN and input, resume at the state that did not succeed.</summary>
public sealed class RedriveTests
{
    /// <summary>
    /// Before → Map over three items, one at a time; the item 2 iteration fails until the execution has been redriven
    /// (the context object's RedriveCount tells). Each iteration's result records the RedriveCount it ran under.
    /// </summary>
    private const string MapFailingOnFirstRun = """
        {"StartAt":"Before","States":{
          "Before":{"Type":"Pass","Result":{"items":[1,2,3]},"Next":"Each"},
          "Each":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":1,"End":true,
            "ItemProcessor":{"StartAt":"Check","States":{
              "Check":{"Type":"Choice","Choices":[{"And":[{"Variable":"$","NumericEquals":2},{"Variable":"$$.Execution.RedriveCount","NumericEquals":0}],"Next":"Boom"}],"Default":"Done"},
              "Boom":{"Type":"Fail","Error":"Item.Failed","Cause":"item 2 fails on the first run"},
              "Done":{"Type":"Pass","Parameters":{"item.$":"$","ranInRedrive.$":"$$.Execution.RedriveCount"},"End":true}}}}}}
        """;

    [Fact]
    public async Task A_redriven_map_runs_only_the_iterations_that_did_not_succeed_and_keeps_the_others_results()
    {
        var engine = Engine();
        var machine = engine.CreateStateMachine("m", MapFailingOnFirstRun);
        var execution = await engine.RunAsync(machine, "{}", "batch-1");
        Assert.Equal(ExecutionStatus.Failed, execution.Status);
        var firstRunEvents = execution.History.Count;

        var redriven = engine.RedriveExecution(execution.Arn);
        await redriven.Completion;

        Assert.Same(execution, redriven);
        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);
        Assert.Equal(1, execution.RedriveCount);
        JsonEqual("""[{"item":1,"ranInRedrive":0},{"item":2,"ranInRedrive":1},{"item":3,"ranInRedrive":1}]""", JsonNode.Parse(execution.OutputJson!));
        var after = execution.History.Skip(firstRunEvents).ToList();
        Assert.Equal("ExecutionRedriven", after[0].Type);
        Assert.Equal(firstRunEvents + 1, after[0].Id);
        Assert.Equal(firstRunEvents, after[0].PreviousEventId);
        Assert.Equal(1, (int)after[0].Details!["redriveCount"]!);
        // Resumed at the Map, not at Before; and only items 2 and 3 (indices 1 and 2) ran again.
        Assert.DoesNotContain(after, e => e.Type == "PassStateEntered" && (string?)e.Details!["name"] == "Before");
        Assert.Equal("MapStateEntered", after[1].Type);
        Assert.Equal([1, 2], after.Where(e => e.Type == "MapIterationStarted").Select(e => (int)e.Details!["index"]!));
        Assert.Equal("ExecutionSucceeded", after[^1].Type);
    }

    [Fact]
    public async Task A_redrive_resumes_at_the_failed_state_with_the_input_it_was_entered_with()
    {
        var definition = """
            {"StartAt":"Shape","States":{
              "Shape":{"Type":"Pass","Parameters":{"n.$":"$.n","seen.$":"$$.Execution.RedriveCount"},"Next":"Gate"},
              "Gate":{"Type":"Choice","Choices":[{"Variable":"$$.Execution.RedriveCount","NumericEquals":0,"Next":"Stop"}],"Default":"Ok"},
              "Stop":{"Type":"Fail","Error":"First.Run"},
              "Ok":{"Type":"Pass","End":true}}}
            """;
        var engine = Engine();
        var machine = engine.CreateStateMachine("m", definition);
        var execution = await engine.RunAsync(machine, """{"n":7}""", "resume-1");
        Assert.Equal("First.Run", execution.Error);

        await engine.RedriveExecution(execution.Arn).Completion;

        // The Fail state is what failed, so the redrive re-enters it and fails again: Shape and Gate do not run again.
        Assert.Equal(ExecutionStatus.Failed, execution.Status);
        Assert.Equal(1, execution.History.Count(e => e.Type == "PassStateEntered" && (string?)e.Details!["name"] == "Shape"));
        Assert.Equal(2, execution.History.Count(e => e.Type == "FailStateEntered"));
        Assert.Equal("""{"n":7,"seen":0}""", (string?)execution.History.Last(e => e.Type == "FailStateEntered").Details!["input"]);
    }

    [Fact]
    public async Task A_succeeded_execution_is_not_redrivable()
    {
        var engine = Engine();
        var execution = await engine.RunAsync(engine.CreateStateMachine("m", Pass()), "{}", "done-1");

        var e = Assert.Throws<StepFunctionsApiException>(() => engine.RedriveExecution(execution.Arn));

        Assert.Equal("ExecutionNotRedrivable", e.ErrorCode);
        Assert.Equal(0, execution.RedriveCount);
    }

    [Fact]
    public async Task An_aborted_execution_redriven_resumes_at_the_state_it_was_stopped_in()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var invoker = Functions().Add("f", async (p, ct) =>
        {
            Interlocked.Increment(ref calls);
            await release.Task.WaitAsync(ct);
            return Ok(p);
        });
        var engine = Engine(invoker);
        var machine = engine.CreateStateMachine("m", """
            {"StartAt":"First","States":{"First":{"Type":"Pass","Next":"T"},"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","End":true}}}
            """);
        var execution = engine.StartExecution(machine, """{"k":1}""", "stop-1");
        // The function itself has been entered, not only its history event written: a stop that lands between the two
        // would never call it, and the count below would miss the aborted call.
        while (Volatile.Read(ref calls) == 0)
        {
            await Task.Delay(10);
        }

        execution.Stop("Operator.Stop", "stopped by the test");
        await execution.Completion;
        Assert.Equal(ExecutionStatus.Aborted, execution.Status);
        release.SetResult();

        await engine.RedriveExecution(execution.Arn).Completion;

        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);
        Assert.Null(execution.Error);
        Assert.Equal("""{"k":1}""", execution.OutputJson);
        Assert.Equal(2, calls);
        Assert.Equal(1, execution.History.Count(e => e.Type == "PassStateEntered"));
        Assert.Equal(2, execution.History.Count(e => e.Type == "TaskStateEntered"));
    }
}
