using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests.DistributedMap;

/// <summary>Distributed Map: child executions, their ARNs and histories, concurrency, tolerated failures, redrive.</summary>
public sealed class DistributedMapTests : IDisposable
{
    private readonly DistributedKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private static string Items(int count, Func<int, string>? item = null) => "[" + string.Join(',', Enumerable.Range(0, count).Select(item ?? (i => i.ToString()))) + "]";

    [Fact]
    public async Task Each_item_runs_as_a_child_execution_and_the_outputs_keep_the_item_order()
    {
        JsonEqual("[1,2,3]", await _kit.Output(DistributedKit.Map("\"ItemsPath\":\"$.items\""), """{"items":[1,2,3]}"""));
    }

    [Fact]
    public async Task A_standard_child_execution_has_its_own_execution_ARN_under_the_machine_and_label_and_its_own_history()
    {
        var execution = await _kit.Run(DistributedKit.Map("\"Label\":\"shards\""), "[1,2]");
        var run = Assert.Single(_kit.Engine.ListMapRuns(execution.Arn));
        Assert.StartsWith("arn:aws:states:us-east-1:000000000000:mapRun:machine/shards:", run.Arn, StringComparison.Ordinal);
        Assert.Equal("arn:aws:states:us-east-1:000000000000:stateMachine:machine/shards", run.StateMachineArn);
        Assert.Equal(2, run.Children.Count);
        foreach (var child in run.Children)
        {
            Assert.Equal($"arn:aws:states:us-east-1:000000000000:execution:machine/shards:{child.Name}", child.Arn);
            Assert.True(Guid.TryParse(child.Name, out _), child.Name);
            Assert.Equal(["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"], child.History.Select(e => e.Type));
            Assert.Same(child, _kit.Engine.DescribeExecution(child.Arn));
        }
    }

    [Fact]
    public async Task An_express_child_execution_has_an_express_ARN()
    {
        var execution = await _kit.Run(DistributedKit.Map("", executionType: "EXPRESS"), "[1]");
        var child = Assert.Single(Assert.Single(_kit.Engine.ListMapRuns(execution.Arn)).Children);
        Assert.Equal($"arn:aws:states:us-east-1:000000000000:express:machine/M:{child.Name}", child.Arn);
    }

    [Fact]
    public async Task The_label_defaults_to_the_state_name()
    {
        var execution = await _kit.Run(DistributedKit.Map(""), "[1]");
        Assert.Contains(":mapRun:machine/M:", Assert.Single(_kit.Engine.ListMapRuns(execution.Arn)).Arn, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_parent_history_holds_the_Map_Run_and_not_one_event_per_item()
    {
        var execution = await _kit.Run(DistributedKit.Map("\"ResultPath\":null"), Items(5000));
        Assert.True(execution.Status == ExecutionStatus.Succeeded, $"{execution.Error}: {execution.Cause}");
        Assert.Equal(["ExecutionStarted", "MapStateEntered", "MapRunStarted", "MapRunSucceeded", "MapStateExited", "ExecutionSucceeded"], execution.History.Select(e => e.Type));
        var started = execution.History.Single(e => e.Type == "MapRunStarted").ToJson();
        Assert.Equal(_kit.Engine.ListMapRuns(execution.Arn)[0].Arn, started["mapRunStartedEventDetails"]!["mapRunArn"]!.GetValue<string>());
    }

    [Fact]
    public async Task Twenty_thousand_items_run_far_beyond_the_inline_Map_s_history_ceiling()
    {
        var execution = await _kit.Run(DistributedKit.Map("\"ResultPath\":null,\"MaxConcurrency\":1000"), Items(20_000));
        Assert.True(execution.Status == ExecutionStatus.Succeeded, $"{execution.Error}: {execution.Cause}");
        Assert.Equal(6, execution.History.Count);
        Assert.Equal(20_000, _kit.Engine.ListMapRuns(execution.Arn)[0].ItemCounts.Succeeded);
    }

    [Fact]
    public async Task A_child_execution_s_context_is_its_own_not_the_parent_s()
    {
        var processor = """{"StartAt":"Ctx","States":{"Ctx":{"Type":"Pass","Parameters":{"id.$":"$$.Execution.Id","machine.$":"$$.StateMachine.Id","input.$":"$$.Execution.Input"},"End":true}}}""";
        var execution = await _kit.Run(DistributedKit.Map("", processor), "[7]");
        var child = Assert.Single(_kit.Engine.ListMapRuns(execution.Arn)[0].Children);
        JsonEqual($$"""[{"id":"{{child.Arn}}","machine":"arn:aws:states:us-east-1:000000000000:stateMachine:machine/M","input":7}]""", JsonNode.Parse(execution.OutputJson!));
    }

    [Fact]
    public async Task ItemSelector_shapes_each_item_with_the_Map_context_and_the_state_input()
    {
        var output = await _kit.Output(DistributedKit.Map("""
            "ItemsPath":"$.items","ItemSelector":{"index.$":"$$.Map.Item.Index","value.$":"$$.Map.Item.Value","shared.$":"$.shared"}
            """), """{"items":["a","b"],"shared":7}""");
        JsonEqual("""[{"index":0,"value":"a","shared":7},{"index":1,"value":"b","shared":7}]""", output);
    }

    [Fact]
    public async Task MaxConcurrency_bounds_the_child_executions_in_flight()
    {
        var inFlight = 0;
        var max = 0;
        var invoker = Functions().Add("f", async (payload, ct) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            int seen;
            while ((seen = max) < now && Interlocked.CompareExchange(ref max, now, seen) != seen)
            {
            }

            for (var i = 0; i < 20; i++)
            {
                await Task.Yield();
            }

            Interlocked.Decrement(ref inFlight);
            return Ok(payload);
        });
        using var kit = new DistributedKit(invoker);
        var processor = """{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","End":true}}}""";
        await kit.Output(DistributedKit.Map("\"MaxConcurrency\":3", processor), Items(60));
        Assert.InRange(max, 1, 3);
    }

    [Fact]
    public async Task Unbounded_MaxConcurrency_runs_more_than_the_inline_cap_of_40_children_at_once()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = 0;
        var invoker = Functions().Add("f", async (_, ct) =>
        {
            if (Interlocked.Increment(ref inFlight) == 200)
            {
                gate.TrySetResult();
            }

            // Every call waits until 200 are in flight at once: only a run beyond 40 at a time gets there.
            await gate.Task.WaitAsync(ct);
            return Ok("{}");
        });
        using var kit = new DistributedKit(invoker);
        var processor = """{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","End":true}}}""";
        await kit.Output(DistributedKit.Map("\"MaxConcurrency\":0,\"ResultPath\":null", processor), Items(200));
        Assert.Equal(200, inFlight);
    }

    [Fact]
    public async Task Without_a_tolerance_one_failed_child_fails_the_Map_with_States_ExceedToleratedFailureThreshold()
    {
        var execution = await _kit.Failed(DistributedKit.Map("\"MaxConcurrency\":1", DistributedKit.FailWhenAsked()), """[{},{"fail":true},{}]""");
        Assert.Equal(StatesErrors.ExceedToleratedFailureThreshold, execution.Error);
        Assert.Contains("Item.Failed", execution.Cause, StringComparison.Ordinal);
        Assert.Contains(execution.History, e => e.Type == "MapRunFailed");
        var run = _kit.Engine.ListMapRuns(execution.Arn)[0];
        Assert.Equal(MapRunStatus.Failed, run.Status);
        Assert.Equal(1, run.ItemCounts.Failed);
        Assert.Equal(1, run.ItemCounts.Pending);
    }

    [Fact]
    public async Task States_ExceedToleratedFailureThreshold_can_be_caught()
    {
        var definition = JsonNode.Parse(DistributedKit.Map("\"ItemsPath\":\"$.items\"", DistributedKit.FailWhenAsked()))!;
        definition["States"]!["M"]!["Catch"] = JsonNode.Parse("""[{"ErrorEquals":["States.ExceedToleratedFailureThreshold"],"ResultPath":"$.error","Next":"Caught"}]""");
        definition["States"]!["M"]!.AsObject().Remove("End");
        definition["States"]!["M"]!["Next"] = "Caught";
        definition["States"]!["Caught"] = JsonNode.Parse("""{"Type":"Pass","End":true}""");
        var output = await _kit.Output(definition.ToJsonString(), """{"items":[{"fail":true}]}""");
        Assert.Equal(StatesErrors.ExceedToleratedFailureThreshold, output!["error"]!["Error"]!.GetValue<string>());
    }

    [Fact]
    public async Task ToleratedFailureCount_lets_that_many_items_fail_and_the_Map_succeeds_with_their_errors()
    {
        var output = await _kit.Output(DistributedKit.Map("\"ToleratedFailureCount\":2", DistributedKit.FailWhenAsked()), """[{"fail":true},{"n":1},{"fail":true}]""");
        var results = output!.AsArray();
        Assert.Equal("FAILED", results[0]!["Status"]!.GetValue<string>());
        Assert.Equal("Item.Failed", results[0]!["Error"]!.GetValue<string>());
        JsonEqual("""{"n":1}""", results[1]);
        Assert.Equal("FAILED", results[2]!["Status"]!.GetValue<string>());
    }

    [Fact]
    public async Task One_failure_more_than_ToleratedFailureCount_fails_the_Map()
    {
        var execution = await _kit.Failed(DistributedKit.Map("\"ToleratedFailureCount\":1", DistributedKit.FailWhenAsked()), """[{"fail":true},{"n":1},{"fail":true}]""");
        Assert.Equal(StatesErrors.ExceedToleratedFailureThreshold, execution.Error);
    }

    [Fact]
    public async Task ToleratedFailurePercentage_is_a_share_of_all_items()
    {
        var items = Items(10, i => i < 3 ? """{"fail":true}""" : "{}");
        await _kit.Output(DistributedKit.Map("\"ToleratedFailurePercentage\":30", DistributedKit.FailWhenAsked()), items);
        using var other = new DistributedKit();
        var execution = await other.Failed(DistributedKit.Map("\"ToleratedFailurePercentage\":29.9", DistributedKit.FailWhenAsked()), items);
        Assert.Equal(StatesErrors.ExceedToleratedFailureThreshold, execution.Error);
    }

    [Fact]
    public async Task ToleratedFailureCountPath_and_ToleratedFailurePercentagePath_read_the_thresholds_from_the_input()
    {
        var input = """{"items":[{"fail":true},{}],"count":1,"pct":10}""";
        await _kit.Output(DistributedKit.Map("\"ItemsPath\":\"$.items\",\"ToleratedFailureCountPath\":\"$.count\",\"ResultPath\":null", DistributedKit.FailWhenAsked()), input);
        using var other = new DistributedKit();
        var execution = await other.Failed(DistributedKit.Map("\"ItemsPath\":\"$.items\",\"ToleratedFailurePercentagePath\":\"$.pct\"", DistributedKit.FailWhenAsked()), input);
        Assert.Equal(StatesErrors.ExceedToleratedFailureThreshold, execution.Error);
    }

    [Fact]
    public async Task A_child_input_over_256_KiB_fails_the_Map_with_States_DataLimitExceeded()
    {
        // Each child's input holds the 150 KiB pad twice: the execution's input fits, the child's does not.
        var pad = new string('x', 150 * 1024);
        var definition = DistributedKit.Map("\"ItemsPath\":\"$.items\",\"ItemSelector\":{\"a.$\":\"$.pad\",\"b.$\":\"$.pad\"}");
        var execution = await _kit.Failed(definition, $$"""{"items":[1],"pad":"{{pad}}"}""");
        Assert.Equal(StatesErrors.DataLimitExceeded, execution.Error);
    }

    [Fact]
    public async Task Redrive_runs_only_the_child_executions_that_failed_and_redrives_them_under_their_own_ARNs()
    {
        var definition = DistributedKit.Map("\"MaxConcurrency\":1,\"ToleratedFailureCount\":0", DistributedKit.FailWhenAsked(onlyFirstRun: true));
        var execution = await _kit.Failed(definition, """[{"n":0},{"fail":true},{"n":2},{"n":3}]""");
        var run = _kit.Engine.ListMapRuns(execution.Arn)[0];
        var first = run.Children[0];
        var failed = run.Children[1];
        Assert.Equal(ExecutionStatus.Failed, failed.Status);

        _kit.Engine.RedriveExecution(execution.Arn);
        await execution.Completion;

        Assert.True(execution.Status == ExecutionStatus.Succeeded, $"{execution.Error}: {execution.Cause}");
        Assert.Same(run, Assert.Single(_kit.Engine.ListMapRuns(execution.Arn)));
        Assert.Equal(1, run.RedriveCount);
        Assert.Equal(0, first.RedriveCount);
        Assert.Equal(1, failed.RedriveCount);
        Assert.Equal(ExecutionStatus.Succeeded, failed.Status);
        Assert.Equal(4, run.Children.Count);
        Assert.Contains(execution.History, e => e.Type == "MapRunRedriven");
        JsonEqual("""[{"n":0},{"fail":true},{"n":2},{"n":3}]""", JsonNode.Parse(execution.OutputJson!));
    }

    [Fact]
    public async Task Redrive_of_an_express_Map_Run_starts_new_children_for_the_failed_items()
    {
        var definition = DistributedKit.Map("\"MaxConcurrency\":1", DistributedKit.FailWhenAsked(onlyFirstRun: false), executionType: "EXPRESS");
        var execution = await _kit.Failed(definition, """[{"n":0},{"fail":true}]""");
        var run = _kit.Engine.ListMapRuns(execution.Arn)[0];
        var failed = run.Children[1];
        var succeeded = run.Children[0];

        _kit.Engine.RedriveExecution(execution.Arn);
        await execution.Completion;

        Assert.Equal(ExecutionStatus.Failed, execution.Status);
        Assert.Same(succeeded, run.Children[0]);
        Assert.NotEqual(failed.Arn, run.Children[1].Arn);
    }

    [Fact]
    public async Task DescribeMapRun_counts_items_and_child_executions()
    {
        var definition = DistributedKit.Map("\"ItemBatcher\":{\"MaxItemsPerBatch\":2},\"ToleratedFailurePercentage\":100,\"MaxConcurrency\":5",
            """{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.Items[0]","NumericEquals":0,"Next":"Boom"}],"Default":"Ok"},"Boom":{"Type":"Fail","Error":"E"},"Ok":{"Type":"Pass","End":true}}}""");
        var execution = await _kit.Run(definition, Items(5));
        var run = _kit.Engine.DescribeMapRun(_kit.Engine.ListMapRuns(execution.Arn)[0].Arn);
        Assert.Equal(MapRunStatus.Succeeded, run.Status);
        Assert.Equal(new MapRunCounts(0, 0, 3, 2, 0, 0, 5, 0), run.ItemCounts);
        Assert.Equal(new MapRunCounts(0, 0, 2, 1, 0, 0, 3, 0), run.ExecutionCounts);
        Assert.Equal(5, run.MaxConcurrency);
        Assert.Equal(100, run.ToleratedFailurePercentage);
        Assert.Equal(execution.Arn, run.ExecutionArn);
    }

    [Fact]
    public void DescribeMapRun_of_an_unknown_ARN_is_ResourceNotFound()
    {
        var e = Assert.Throws<StepFunctionsApiException>(() => _kit.Engine.DescribeMapRun("arn:aws:states:us-east-1:000000000000:mapRun:machine/M:nope"));
        Assert.Equal("ResourceNotFound", e.ErrorCode);
    }
}
