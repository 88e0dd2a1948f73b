using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Writeback.StepFunctions.Local.Journal;
using Writeback.Testing;
using Xunit.Abstractions;

namespace Writeback.StepFunctions.Local.Tests.Journal;

/// <summary>
/// An engine that stops mid-execution and a new one on the same journal: the new one carries the execution on from its
/// last completed top-level state, its history going on where it stopped, its name still taken. Each "process" is an
/// engine with its own journal; closing the first journal is the process going away (nothing it does after is kept).
/// </summary>
public sealed class DurableExecutionTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private const string ThreeSteps = """
        {"StartAt":"First","States":{
          "First":{"Type":"Pass","Result":{"n":1},"Next":"Hold"},
          "Hold":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"hold","Payload.$":"$"},"OutputPath":"$.Payload","Next":"Last"},
          "Last":{"Type":"Pass","End":true}}}
        """;

    private const string MapOfFive = """
        {"StartAt":"Items","States":{
          "Items":{"Type":"Pass","Result":{"items":[0,1,2,3,4]},"Next":"Each"},
          "Each":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":1,"End":true,
            "ItemProcessor":{"StartAt":"Work","States":{
              "Work":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"work","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}}}}}
        """;

    [Fact]
    public async Task A_restored_engine_resumes_a_running_execution_at_its_checkpoint_and_finishes_it_with_one_ordered_history()
    {
        var name = Name();
        var held = new TaskCompletionSource();
        var first = await StartProcessAsync(new DelegateLambdaInvoker().Add("hold", (_, _) => { held.TrySetResult(); return new TaskCompletionSource<LambdaInvocationResult>().Task; }));
        var execution = first.Engine.StartExecution(first.Machine(ThreeSteps), "{}", name);
        await held.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var before = execution.History;
        await first.Journal.DurableAsync();
        await first.Journal.DisposeAsync();

        var clock = Stopwatch.StartNew();
        var second = await StartProcessAsync(new DelegateLambdaInvoker().Add("hold", payload => """{"held":"no more"}"""));
        var resumed = Assert.Single(await second.Engine.RestoreAsync(CancellationToken.None), e => e.Name == name);
        await resumed.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"restored and finished in {clock.ElapsedMilliseconds} ms");

        Assert.Equal(ExecutionStatus.Succeeded, resumed.Status);
        Assert.Equal("""{"held":"no more"}""", resumed.OutputJson);
        var history = resumed.History;
        // What was kept before the stop is the start of the history, unchanged; ids go on from there.
        Assert.Equal(before.Select(e => (e.Id, e.Type)), history.Take(before.Count).Select(e => (e.Id, e.Type)));
        Assert.Equal(Enumerable.Range(1, history.Count).Select(i => (long)i), history.Select(e => e.Id));
        Assert.All(history, e => Assert.InRange(e.PreviousEventId, 0, e.Id - 1));
        Assert.Equal(1, history.Count(e => e.Type == "PassStateEntered" && (string?)e.Details!["name"] == "First"));
        Assert.Equal(2, history.Count(e => e.Type == "TaskStateEntered" && (string?)e.Details!["name"] == "Hold"));
        Assert.Equal(1, history.Count(e => e.Type == "ExecutionStarted"));
        Assert.DoesNotContain(history, e => e.Type == "ExecutionRedriven");
        Assert.Equal(0, resumed.RedriveCount);
        Assert.Equal("ExecutionSucceeded", history[^1].Type);

        await second.Journal.DisposeAsync();
        var third = await StartProcessAsync(new DelegateLambdaInvoker());
        var kept = Assert.Single(await third.Journal.LoadAsync(CancellationToken.None), e => e.Name == name);
        Assert.Equal(ExecutionStatus.Succeeded, kept.Status);
        Assert.Equal(history.Select(e => (e.Id, e.PreviousEventId, e.Type)), kept.History.Select(e => (e.Id, e.PreviousEventId, e.Type)));
        await third.Journal.DisposeAsync();
    }

    [Fact]
    public async Task A_restored_map_runs_only_the_iterations_that_had_not_succeeded()
    {
        var name = Name();
        var stuck = new TaskCompletionSource();
        var first = await StartProcessAsync(new DelegateLambdaInvoker().Add("work", (payload, _) =>
        {
            if (payload == "3")
            {
                stuck.TrySetResult();
                return new TaskCompletionSource<LambdaInvocationResult>().Task;
            }

            return Task.FromResult(LambdaInvocationResult.Success($$"""{"item":{{payload}},"run":1}"""));
        }));
        first.Engine.StartExecution(first.Machine(MapOfFive), "{}", name);
        await stuck.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await first.Journal.DurableAsync();
        await first.Journal.DisposeAsync();

        var invoked = new ConcurrentBag<string>();
        var second = await StartProcessAsync(new DelegateLambdaInvoker().Add("work", payload =>
        {
            invoked.Add(payload);
            return $$"""{"item":{{payload}},"run":2}""";
        }));
        var resumed = Assert.Single(await second.Engine.RestoreAsync(CancellationToken.None), e => e.Name == name);
        await resumed.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ExecutionStatus.Succeeded, resumed.Status);
        Assert.Equal(["3", "4"], invoked.Order());
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""[{"item":0,"run":1},{"item":1,"run":1},{"item":2,"run":1},{"item":3,"run":2},{"item":4,"run":2}]"""),
            JsonNode.Parse(resumed.OutputJson!)));
        Assert.Equal(1, resumed.History.Count(e => e.Type == "PassStateEntered"));
        Assert.Equal(Enumerable.Range(1, resumed.History.Count).Select(i => (long)i), resumed.History.Select(e => e.Id));
        await second.Journal.DisposeAsync();
    }

    [Fact]
    public async Task Names_stay_taken_across_a_restart_the_same_start_while_running_is_the_same_execution_and_after_it_closed_is_refused()
    {
        var name = Name();
        var first = await StartProcessAsync(new DelegateLambdaInvoker().Add("hold", (_, _) => new TaskCompletionSource<LambdaInvocationResult>().Task));
        first.Engine.StartExecution(first.Machine(ThreeSteps), """{"batch":"b1"}""", name);
        await first.Journal.DurableAsync();
        await first.Journal.DisposeAsync();

        var release = new TaskCompletionSource<LambdaInvocationResult>();
        var second = await StartProcessAsync(new DelegateLambdaInvoker().Add("hold", (_, _) => release.Task));
        var resumed = Assert.Single(await second.Engine.RestoreAsync(CancellationToken.None), e => e.Name == name);
        var machine = second.Machine(ThreeSteps);

        Assert.Same(resumed, second.Engine.StartExecution(machine, """{"batch":"b1"}""", name));
        Assert.Equal("ExecutionAlreadyExists", Assert.Throws<StepFunctionsApiException>(() => second.Engine.StartExecution(machine, """{"batch":"other"}""", name)).ErrorCode);

        release.SetResult(LambdaInvocationResult.Success("{}"));
        await resumed.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        await second.Journal.DisposeAsync();

        var third = await StartProcessAsync(new DelegateLambdaInvoker());
        Assert.DoesNotContain(await third.Engine.RestoreAsync(CancellationToken.None), e => e.Name == name);
        Assert.Equal("ExecutionAlreadyExists", Assert.Throws<StepFunctionsApiException>(() => third.Engine.StartExecution(third.Machine(ThreeSteps), """{"batch":"b1"}""", name)).ErrorCode);
        await third.Journal.DisposeAsync();
    }

    [Fact]
    public async Task Restored_executions_list_in_the_order_they_started_and_a_failed_one_can_be_redriven()
    {
        var fails = true;
        var first = await StartProcessAsync(new DelegateLambdaInvoker().Add("hold", (_, _) => Task.FromResult(fails
            ? LambdaInvocationResult.Failure("Test.Failed", "first run")
            : LambdaInvocationResult.Success("""{"ok":true}"""))));
        var machine = first.Machine(ThreeSteps);
        var names = Enumerable.Range(0, 3).Select(_ => Name()).ToList();
        foreach (var name in names)
        {
            await first.Engine.StartExecution(machine, "{}", name).Completion;
        }

        var listed = first.Engine.ListExecutions(machine.Arn).Select(e => e.Name).ToList();
        await first.Journal.DisposeAsync();

        fails = false;
        var second = await StartProcessAsync(new DelegateLambdaInvoker().Add("hold", _ => """{"ok":true}"""));
        Assert.DoesNotContain(await second.Engine.RestoreAsync(CancellationToken.None), e => names.Contains(e.Name));
        var restored = second.Engine.ListExecutions(machine.Arn);
        Assert.Equal(listed, restored.Select(e => e.Name).Where(listed.Contains));
        Assert.All(restored.Where(e => names.Contains(e.Name)), e => Assert.Equal(ExecutionStatus.Failed, e.Status));

        var redriven = second.Engine.RedriveExecution(second.Machine(ThreeSteps).ExecutionArn(names[0]));
        await redriven.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((ExecutionStatus.Succeeded, 1), (redriven.Status, redriven.RedriveCount));
        Assert.Equal("ExecutionRedriven", redriven.History.Single(e => e.Type == "ExecutionRedriven").Type);
        Assert.Equal(1, redriven.History.Count(e => e.Type == "PassStateEntered" && (string?)e.Details!["name"] == "First"));
        await second.Journal.DisposeAsync();
    }

    [Fact]
    public async Task A_restored_engine_resumes_with_the_workflow_variables_assigned_before_the_stop()
    {
        const string assignThenHold = """
            {"StartAt":"First","States":{
              "First":{"Type":"Pass","Assign":{"n":7,"who.$":"$.who"},"Next":"Hold"},
              "Hold":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"hold","Payload":{}},"Next":"Last"},
              "Last":{"Type":"Pass","Parameters":{"n.$":"$n","who.$":"$who"},"End":true}}}
            """;
        var name = Name();
        var held = new TaskCompletionSource();
        var first = await StartProcessAsync(new DelegateLambdaInvoker().Add("hold", (_, _) => { held.TrySetResult(); return new TaskCompletionSource<LambdaInvocationResult>().Task; }));
        first.Engine.StartExecution(first.Machine(assignThenHold), """{"who":"ada"}""", name);
        await held.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await first.Journal.DurableAsync();
        await first.Journal.DisposeAsync();

        var second = await StartProcessAsync(new DelegateLambdaInvoker().Add("hold", _ => "{}"));
        var resumed = Assert.Single(await second.Engine.RestoreAsync(CancellationToken.None), e => e.Name == name);
        await resumed.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(resumed.Status == ExecutionStatus.Succeeded, resumed.Cause);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"n":7,"who":"ada"}"""), JsonNode.Parse(resumed.OutputJson!)), resumed.OutputJson);
        Assert.Equal(1, resumed.History.Count(e => e.Type == "PassStateEntered" && (string?)e.Details!["name"] == "First"));
        await second.Journal.DisposeAsync();
    }

    private static string Name() => "e-" + Guid.NewGuid().ToString("N")[..12];

    private async Task<Process> StartProcessAsync(ILambdaInvoker invoker)
    {
        var journal = await PostgresJournal.OpenAsync(database.ConnectionString, "test", output.WriteLine, CancellationToken.None);
        return new Process(new StepFunctionsEngine(new StepFunctionsEngineOptions { LambdaInvoker = invoker, Journal = journal }), journal);
    }

    /// <summary>One life of a host: its engine and its journal.</summary>
    private sealed record Process(StepFunctionsEngine Engine, PostgresJournal Journal)
    {
        public StateMachine Machine(string definition) => Engine.CreateStateMachine("durable", definition);
    }
}
